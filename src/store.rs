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
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, checking its format.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.display().to_string();
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(256 * 1024 * 1024)
            .open()
            .map_err(|source| StoreError::Open {
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
            db,
        })
    }

    /// Whether the store holds no document and no entity (a new data directory).
    pub fn is_empty(&self) -> bool {
        self.documents.is_empty() && self.entities.is_empty()
    }

    /// Applies every write or none, then flushes to disk before returning.
    pub fn apply(&self, writes: &[Write]) -> Result<(), StoreError> {
        let outcome = (&self.documents, &self.texts, &self.entities).transaction(
            |(documents, texts, entities)| {
                for write in writes {
                    apply_one(write, documents, texts, entities)?;
                }
                Ok(())
            },
        );
        match outcome {
            Ok(()) => {}
            Err(TransactionError::Abort(error)) => return Err(error),
            Err(TransactionError::Storage(error)) => return Err(error.into()),
        }
        self.db.flush()?;
        Ok(())
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

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

fn apply_one(
    write: &Write,
    documents: &TransactionalTree,
    texts: &TransactionalTree,
    entities: &TransactionalTree,
) -> TxResult<()> {
    match write {
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
        Entity {
            id: id.to_owned(),
            kind: EntityKind::Lab,
            name: format!("实验室{id}"),
            name_en: None,
            aliases: vec![],
            description: None,
            established: None,
            legal_form: None,
            area: None,
            focus: vec![],
            district_code: None,
            district_level: None,
        }
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
