//! Durable storage in sled: the only module that imports sled.
//!
//! Layout (format [`FORMAT`]), designed for a million entities and five million relations:
//!
//! | tree        | key          | value                                                        |
//! |-------------|--------------|--------------------------------------------------------------|
//! | `meta`      | `format`     | the format string, checked on open                           |
//! | `documents` | document id  | postcard [`Document`]                                        |
//! | `texts`     | document id  | the document's UTF-8 text                                    |
//! | `entities`  | entity id    | postcard [`EntityRecord`]: the entity and its outgoing relations |
//! | `versions`  | entity or relation id | u64 version, big-endian (absent: 0)                |
//! | `changes`   | change id, u64 big-endian | JSON [`ChangeRecord`]: who, when, before, after |
//! | `tokens`    | SHA-256 of a token, hex | JSON [`TokenRecord`]: name and role            |
//!
//! Relations live inside their source entity's record, so the store has one key per entity rather than
//! one per edge: loading is one sequential pass and a write touches one record. Traversal is never
//! served from here; the store is read once at start-up to build the index and then for point lookups
//! (evidence of a relation, the text of a document).
//!
//! Every [`Store::apply`] is one sled transaction over all trees followed by a flush: when it returns
//! `Ok`, the whole batch is on disk, and after a crash either all of it or none of it is.

use std::path::Path;

use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::model::{Document, Entity, Relation, RelationKind};

/// The on-disk format this build reads and writes. Bump it whenever a record's shape changes.
pub const FORMAT: &str = "innograph-store/1";

/// Errors from the store; none of them carries a secret or user data beyond ids.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the data directory {path}: {source}")]
    Open { path: String, source: sled::Error },
    #[error(
        "the data directory {path} holds format `{found}`, but this build reads `{FORMAT}`; \
         export it with the build that wrote it, or start from an empty directory"
    )]
    FormatMismatch { path: String, found: String },
    #[error("storage failure: {0}")]
    Sled(#[from] sled::Error),
    #[error("corrupt record `{key}` in tree `{tree}`: {detail}")]
    Corrupt {
        tree: &'static str,
        key: String,
        detail: String,
    },
    #[error("write rejected: {0}")]
    Rejected(String),
    #[error(
        "`{id}` is at version {current}, not the expected {expected}: reload it and apply the change again"
    )]
    Conflict {
        id: String,
        expected: u64,
        current: u64,
    },
}

/// An entity as stored: the entity itself and every relation whose source it is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EntityRecord {
    pub entity: Option<Entity>,
    pub relations: Vec<Relation>,
}

/// One change to the store; a [`Store::apply`] takes a list of them and applies all or none.
#[derive(Clone, Debug, PartialEq)]
pub enum Write {
    PutDocument {
        document: Document,
        text: String,
    },
    /// Inserts or replaces an entity, keeping its outgoing relations.
    PutEntity(Entity),
    /// Removes an entity and its outgoing relations. Incoming relations must be deleted in the same batch.
    DeleteEntity(String),
    /// Inserts or replaces the relation with the same source, kind and target.
    PutRelation(Relation),
    DeleteRelation {
        source: String,
        kind: RelationKind,
        target: String,
    },
    /// After a merge: the id `from` resolves to the entity `to` from now on.
    PutRedirect {
        from: String,
        to: String,
    },
}

/// A recorded change: who made it, when, and the records before and after (JSON), for `history`,
/// `changes` and `revert`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeRecord {
    /// Assigned by the store: increasing, never reused.
    pub id: u64,
    /// Seconds since the Unix epoch.
    pub at: u64,
    /// Name of the token that made the change.
    pub actor: String,
    /// What was done, e.g. `createEntity`.
    pub operation: String,
    /// Ids of the entities and relations touched.
    pub subjects: Vec<String>,
    /// Each touched record before and after, as JSON (`null` when absent).
    pub before: Vec<serde_json::Value>,
    pub after: Vec<serde_json::Value>,
}

/// A write token as stored: only a hash of the secret is kept.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    pub name: String,
    pub role: String,
    pub created: u64,
}

/// Everything in the store, as read at start-up.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub documents: Vec<Document>,
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
}

/// The sled database of one data directory.
pub struct Store {
    db: sled::Db,
    documents: sled::Tree,
    texts: sled::Tree,
    entities: sled::Tree,
    /// Entity or relation id → version (u64, big-endian); absent means 0.
    versions: sled::Tree,
    /// Change id (u64, big-endian) → JSON [`ChangeRecord`].
    changes: sled::Tree,
    /// SHA-256 of a token (hex) → JSON [`TokenRecord`].
    tokens: sled::Tree,
    /// Id of a merged entity → id of the entity it was merged into.
    redirects: sled::Tree,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, checking its format.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.display().to_string();
        let db = open_with_lock_retry(dir).map_err(|source| StoreError::Open {
            path: path.clone(),
            source,
        })?;
        let meta = db.open_tree("meta")?;
        match meta.get("format")? {
            Some(found) if found.as_ref() != FORMAT.as_bytes() => {
                let found = String::from_utf8_lossy(&found).into_owned();
                return Err(StoreError::FormatMismatch { path, found });
            }
            Some(_) => {}
            None => {
                meta.insert("format", FORMAT)?;
                db.flush()?;
            }
        }
        Ok(Store {
            documents: db.open_tree("documents")?,
            texts: db.open_tree("texts")?,
            entities: db.open_tree("entities")?,
            versions: db.open_tree("versions")?,
            changes: db.open_tree("changes")?,
            tokens: db.open_tree("tokens")?,
            redirects: db.open_tree("redirects")?,
            db,
        })
    }

    /// Whether the store holds no document and no entity (a new data directory).
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty() && self.entities.is_empty()
    }

    /// Applies every write or none, then flushes to disk before returning.
    pub fn apply(&self, writes: &[Write]) -> Result<(), StoreError> {
        let trees = (
            &self.documents,
            &self.texts,
            &self.entities,
            &self.redirects,
        );
        let outcome = trees.transaction(|(documents, texts, entities, redirects)| {
            let trees = RecordTrees {
                documents,
                texts,
                entities,
                redirects,
            };
            writes.iter().try_for_each(|write| apply_one(write, &trees))
        });
        self.commit(outcome)
    }

    /// Turns a transaction's outcome into a result and, when it succeeded, flushes it to disk.
    fn commit(&self, outcome: Result<(), TransactionError<StoreError>>) -> Result<(), StoreError> {
        match outcome {
            Ok(()) => {}
            Err(TransactionError::Abort(error)) => return Err(error),
            Err(TransactionError::Storage(error)) => return Err(error.into()),
        }
        self.db.flush()?;
        Ok(())
    }

    /// Applies a batch as [`Store::apply`] does, and in the same transaction checks that each
    /// `(id, version)` in `expected` is the current version, bumps the version of every id in `bump`,
    /// and appends `change` to the change log (its id assigned here). Returns the change id.
    pub fn apply_change(
        &self,
        writes: &[Write],
        expected: &[(String, u64)],
        bump: &[String],
        mut change: ChangeRecord,
    ) -> Result<u64, StoreError> {
        // Ids start at 1, so that `since: 0` means "from the start".
        change.id = self.db.generate_id()? + 1;
        let trees = (
            &self.redirects,
            &self.documents,
            &self.texts,
            &self.entities,
            &self.versions,
            &self.changes,
        );
        let outcome = trees.transaction(
            |(redirects, documents, texts, entities, versions, changes)| {
                for (id, version) in expected {
                    let current = read_version(versions, id)?;
                    if current != *version {
                        return Err(ConflictableTransactionError::Abort(StoreError::Conflict {
                            id: id.clone(),
                            expected: *version,
                            current,
                        }));
                    }
                }
                let trees = RecordTrees {
                    documents,
                    texts,
                    entities,
                    redirects,
                };
                for write in writes {
                    apply_one(write, &trees)?;
                }
                for id in bump {
                    let next = read_version(versions, id)? + 1;
                    versions.insert(id.as_bytes(), &next.to_be_bytes())?;
                }
                let record = serde_json::to_vec(&change).map_err(|e| {
                    ConflictableTransactionError::Abort(StoreError::Rejected(e.to_string()))
                })?;
                changes.insert(&change.id.to_be_bytes(), record)?;
                Ok(())
            },
        );
        self.commit(outcome)?;
        Ok(change.id)
    }

    /// The entity a merged entity's id now resolves to, following merges of merges (at most 16).
    pub fn redirect(&self, id: &str) -> Result<Option<String>, StoreError> {
        let mut current: Option<String> = None;
        for _ in 0..16 {
            let key = current.as_deref().unwrap_or(id);
            match self.redirects.get(key)? {
                Some(to) => current = Some(String::from_utf8_lossy(&to).into_owned()),
                None => break,
            }
        }
        Ok(current)
    }

    /// The version of an entity or relation (0 when it was never changed through the API).
    pub fn version(&self, id: &str) -> Result<u64, StoreError> {
        Ok(self.versions.get(id)?.map_or(0, |v| be_u64(&v)))
    }

    /// Changes with ids above `after`, oldest first, at most `limit`.
    pub fn changes_after(&self, after: u64, limit: usize) -> Result<Vec<ChangeRecord>, StoreError> {
        let mut out = Vec::new();
        for item in self.changes.range((after + 1).to_be_bytes()..) {
            let (key, value) = item?;
            out.push(decode_json("changes", &key, &value)?);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    /// One change by id.
    pub fn change(&self, id: u64) -> Result<Option<ChangeRecord>, StoreError> {
        match self.changes.get(id.to_be_bytes())? {
            None => Ok(None),
            Some(value) => decode_json("changes", &id.to_be_bytes(), &value).map(Some),
        }
    }

    /// Stores a token's hash with its name and role, flushed.
    pub fn put_token(&self, hash: &str, token: &TokenRecord) -> Result<(), StoreError> {
        let value = serde_json::to_vec(token).map_err(|e| StoreError::Rejected(e.to_string()))?;
        self.tokens.insert(hash, value)?;
        self.db.flush()?;
        Ok(())
    }

    /// The token stored under a hash.
    pub fn token(&self, hash: &str) -> Result<Option<TokenRecord>, StoreError> {
        match self.tokens.get(hash)? {
            None => Ok(None),
            Some(value) => decode_json("tokens", hash.as_bytes(), &value).map(Some),
        }
    }

    /// Reads every record: the start-up pass that builds the index.
    pub fn snapshot(&self) -> Result<Snapshot, StoreError> {
        let mut snapshot = Snapshot::default();
        for item in self.documents.iter() {
            let (key, value) = item?;
            snapshot.documents.push(decode("documents", &key, &value)?);
        }
        for item in self.entities.iter() {
            let (key, value) = item?;
            let record: EntityRecord = decode("entities", &key, &value)?;
            if let Some(entity) = record.entity {
                snapshot.entities.push(entity);
            }
            snapshot.relations.extend(record.relations);
        }
        Ok(snapshot)
    }

    pub fn entity(&self, id: &str) -> Result<Option<Entity>, StoreError> {
        Ok(self.record(id)?.and_then(|r| r.entity))
    }

    /// The stored relation with this source, kind and target.
    pub fn relation(
        &self,
        source: &str,
        kind: RelationKind,
        target: &str,
    ) -> Result<Option<Relation>, StoreError> {
        let Some(record) = self.record(source)? else {
            return Ok(None);
        };
        Ok(record
            .relations
            .into_iter()
            .find(|r| r.kind == kind && r.target == target))
    }

    pub fn document_text(&self, id: &str) -> Result<Option<String>, StoreError> {
        match self.texts.get(id)? {
            None => Ok(None),
            Some(bytes) => {
                String::from_utf8(bytes.to_vec())
                    .map(Some)
                    .map_err(|e| StoreError::Corrupt {
                        tree: "texts",
                        key: id.to_owned(),
                        detail: e.to_string(),
                    })
            }
        }
    }

    fn record(&self, id: &str) -> Result<Option<EntityRecord>, StoreError> {
        match self.entities.get(id)? {
            None => Ok(None),
            Some(bytes) => decode("entities", id.as_bytes(), &bytes).map(Some),
        }
    }

    /// Bytes on disk, as sled reports them.
    pub fn size_on_disk(&self) -> Result<u64, StoreError> {
        Ok(self.db.size_on_disk()?)
    }
}

/// Whether sled failed to open only because another handle still holds the directory's lock (sled
/// wraps the OS error, so the kind may be `Other` with the OS error in the message).
fn is_lock_contention(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::WouldBlock
        || error.to_string().contains("could not acquire lock")
}

/// Opens sled, waiting up to five seconds for the directory's lock: a previous handle in the same
/// process (or a process that is just exiting) releases it only when its background threads stop.
fn open_with_lock_retry(dir: &Path) -> Result<sled::Db, sled::Error> {
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(256 * 1024 * 1024);
    let mut attempts = 0;
    loop {
        match config.open() {
            Err(sled::Error::Io(error)) if is_lock_contention(&error) && attempts < 100 => {
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

/// The trees a [`Write`] touches, inside one transaction.
struct RecordTrees<'a> {
    documents: &'a TransactionalTree,
    texts: &'a TransactionalTree,
    entities: &'a TransactionalTree,
    redirects: &'a TransactionalTree,
}

fn apply_one(write: &Write, trees: &RecordTrees<'_>) -> TxResult<()> {
    let RecordTrees {
        documents,
        texts,
        entities,
        redirects,
    } = *trees;
    match write {
        Write::PutRedirect { from, to } => {
            redirects.insert(from.as_bytes(), to.as_bytes())?;
        }
        Write::PutDocument { document, text } => {
            documents.insert(document.id.as_bytes(), encode(document)?)?;
            texts.insert(document.id.as_bytes(), text.as_bytes())?;
        }
        Write::PutEntity(entity) => {
            let mut record = tx_record(entities, &entity.id)?.unwrap_or_default();
            record.entity = Some(entity.clone());
            entities.insert(entity.id.as_bytes(), encode(&record)?)?;
        }
        Write::DeleteEntity(id) => {
            entities.remove(id.as_bytes())?;
        }
        Write::PutRelation(relation) => {
            let Some(mut record) =
                tx_record(entities, &relation.source)?.filter(|r| r.entity.is_some())
            else {
                return abort(format!(
                    "relation `{}`: source entity does not exist",
                    relation.id()
                ));
            };
            match record
                .relations
                .iter_mut()
                .find(|r| r.kind == relation.kind && r.target == relation.target)
            {
                Some(existing) => *existing = relation.clone(),
                None => record.relations.push(relation.clone()),
            }
            entities.insert(relation.source.as_bytes(), encode(&record)?)?;
        }
        Write::DeleteRelation {
            source,
            kind,
            target,
        } => {
            if let Some(mut record) = tx_record(entities, source)? {
                record
                    .relations
                    .retain(|r| !(r.kind == *kind && r.target == *target));
                entities.insert(source.as_bytes(), encode(&record)?)?;
            }
        }
    }
    Ok(())
}

fn read_version(versions: &TransactionalTree, id: &str) -> TxResult<u64> {
    Ok(versions.get(id.as_bytes())?.map_or(0, |v| be_u64(&v)))
}

fn be_u64(bytes: &[u8]) -> u64 {
    let mut buffer = [0u8; 8];
    let n = bytes.len().min(8);
    buffer[8 - n..].copy_from_slice(&bytes[bytes.len() - n..]);
    u64::from_be_bytes(buffer)
}

fn decode_json<T: for<'de> Deserialize<'de>>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    serde_json::from_slice(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).into_owned(),
        detail: e.to_string(),
    })
}

fn abort<T>(message: String) -> TxResult<T> {
    Err(ConflictableTransactionError::Abort(StoreError::Rejected(
        message,
    )))
}

fn tx_record(entities: &TransactionalTree, id: &str) -> TxResult<Option<EntityRecord>> {
    match entities.get(id.as_bytes())? {
        None => Ok(None),
        Some(bytes) => decode("entities", id.as_bytes(), &bytes)
            .map(Some)
            .map_err(ConflictableTransactionError::Abort),
    }
}

fn encode<T: Serialize>(value: &T) -> TxResult<Vec<u8>> {
    postcard::to_stdvec(value)
        .map_err(|e| ConflictableTransactionError::Abort(StoreError::Rejected(e.to_string())))
}

fn decode<T: for<'de> Deserialize<'de>>(
    tree: &'static str,
    key: &[u8],
    bytes: &[u8],
) -> Result<T, StoreError> {
    postcard::from_bytes(bytes).map_err(|e| StoreError::Corrupt {
        tree,
        key: String::from_utf8_lossy(key).into_owned(),
        detail: e.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{EntityKind, Evidence};

    fn entity(id: &str) -> Entity {
        Entity::new(id.to_owned(), EntityKind::Lab, format!("实验室{id}"))
    }

    fn relation(source: &str, target: &str) -> Relation {
        Relation {
            kind: RelationKind::CoBuiltBy,
            source: source.to_owned(),
            target: target.to_owned(),
            year: Some(2023),
            evidence: vec![Evidence {
                document: "d".to_owned(),
                quote: "q".to_owned(),
            }],
        }
    }

    #[test]
    fn writes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            let store = Store::open(dir.path()).unwrap();
            assert!(store.is_empty());
            store
                .apply(&[
                    Write::PutEntity(entity("a")),
                    Write::PutEntity(entity("b")),
                    Write::PutRelation(relation("a", "b")),
                ])
                .unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(!store.is_empty());
        let snapshot = store.snapshot().unwrap();
        assert_eq!(snapshot.entities, [entity("a"), entity("b")]);
        assert_eq!(snapshot.relations, [relation("a", "b")]);
        assert_eq!(
            store.relation("a", RelationKind::CoBuiltBy, "b").unwrap(),
            Some(relation("a", "b"))
        );
        assert_eq!(store.relation("a", RelationKind::Leads, "b").unwrap(), None);
    }

    #[test]
    fn a_failed_batch_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let result = store.apply(&[
            Write::PutEntity(entity("a")),
            Write::PutRelation(relation("missing", "a")),
        ]);
        let err = result.unwrap_err().to_string();
        assert!(err.contains("source entity does not exist"), "{err}");
        assert!(store.is_empty());
    }

    #[test]
    fn updating_an_entity_keeps_its_relations_and_deleting_removes_them() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store
            .apply(&[
                Write::PutEntity(entity("a")),
                Write::PutEntity(entity("b")),
                Write::PutRelation(relation("a", "b")),
            ])
            .unwrap();
        let mut renamed = entity("a");
        renamed.name = "新名".to_owned();
        store.apply(&[Write::PutEntity(renamed.clone())]).unwrap();
        assert_eq!(store.entity("a").unwrap(), Some(renamed));
        assert_eq!(store.snapshot().unwrap().relations.len(), 1);
        store
            .apply(&[Write::DeleteRelation {
                source: "a".into(),
                kind: RelationKind::CoBuiltBy,
                target: "b".into(),
            }])
            .unwrap();
        assert!(store.snapshot().unwrap().relations.is_empty());
        store.apply(&[Write::DeleteEntity("a".into())]).unwrap();
        assert_eq!(store.entity("a").unwrap(), None);
    }

    #[test]
    fn a_different_format_is_refused_with_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert("format", "innograph-store/0")
                .unwrap();
            db.flush().unwrap();
        }
        let err = Store::open(dir.path()).err().unwrap().to_string();
        assert!(err.contains("holds format `innograph-store/0`"), "{err}");
        assert!(err.contains(FORMAT), "{err}");
    }
}
