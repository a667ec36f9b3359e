//! Durable storage in sled: the only module that imports sled.
//!
//! Layout (format [`FORMAT`]), designed for a million entities and five million relations:
//!
//! | tree        | key          | value                                                        |
//! |-------------|--------------|--------------------------------------------------------------|
//! | `meta`      | `format`     | the format string, checked on open                           |
//! | `meta`      | `generation` | u64 big-endian: advanced by every change of the records (absent: 0) |
//! | `meta`      | `log:…`      | a replicated node's place in its log: `log:applied-sequence` (u64 big-endian, set in the transaction of each change applied from the log), `log:stream`, `log:change-offset` (text) |
//! | `documents` | document id  | postcard [`Document`]                                        |
//! | `texts`     | document id  | the document's UTF-8 text                                    |
//! | `entities`  | entity id    | postcard [`EntityRecord`]: the entity and its outgoing relations |
//! | `versions`  | entity or relation id | u64 version, big-endian (absent: 0)                |
//! | `changes`   | change id, u64 big-endian | JSON [`ChangeRecord`]: who, when, before, after |
//! | `tokens`    | SHA-256 of a token, hex | JSON [`TokenRecord`]: name and role            |
//! | `redirects` | merged entity id | the id of the entity it was merged into                  |
//! | `undo`      | tree tag + key | while an import runs: the record before it (`0` absent, `1` + bytes) |
//!
//! Relations live inside their source entity's record, so the store has one key per entity rather than
//! one per edge: loading is one sequential pass and a write touches one record. Traversal is never
//! served from here; the store is read once at start-up to build the index and then for point lookups
//! (evidence of a relation, the text of a document).
//!
//! Every [`Store::apply`] is one sled transaction over all trees followed by a flush: when it returns
//! `Ok`, the whole batch is on disk, and after a crash either all of it or none of it is.
//!
//! [`Store::import`] is for batches too large for one transaction (a million entities): it writes
//! chunks of [`IMPORT_CHUNK`] records, each one transaction that also saves the records it replaces in
//! the `undo` tree, between setting and clearing the `meta` key [`IMPORT_MARKER`]. A failed import
//! puts every saved record back before returning its error; an import cut short by a crash is undone
//! the next time the store is opened. Either way the store ends as it was before the import began.
//!
//! The store's **generation** ([`Store::generation`]) is advanced in the same transaction as every
//! write, when an import begins (before its first chunk) and when one is undone: two states of the
//! records with the same generation are the same state, so a copy of the index tagged with the
//! generation it was made at (the index snapshot) can be checked against the store without reading
//! the records.

use std::path::Path;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};
use sled::Transactional;
use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};

use crate::model::{Document, Entity, Relation, RelationKind};

/// The on-disk format this build reads and writes. Bump it whenever a record's shape changes, or
/// when older builds must no longer write to a store.
///
/// 3 adds the `generation` counter. Records are unchanged, and a store of format 2 is upgraded in
/// place on open (generation 0), but a build that reads format 2 writes without advancing the
/// generation: were it allowed to open the store, an index snapshot written before would look
/// current and hide its writes. So the format string changes, and older builds refuse the store.
pub const FORMAT: &str = "innograph-store/3";

/// The format a store of this build's is upgraded from on open.
const UPGRADABLE_FORMAT: &str = "innograph-store/2";

/// The `meta` key of the store's generation.
const GENERATION: &str = "generation";

/// The `meta` key of the sequence of the last change of the replicated log the store applied.
pub const APPLIED_SEQUENCE: &str = "log:applied-sequence";

/// The first element of a [`Store::dump`].
const DUMP_MAGIC: &str = "innograph-dump/1";

/// The trees of a [`Store::dump`]: each tree's name and its records (key, value).
type DumpedTrees = Vec<(String, Vec<(Vec<u8>, Vec<u8>)>)>;

/// Entity records written per transaction by [`Store::import`]: enough that the cost of a transaction
/// vanishes, few enough that its buffered writes stay a few megabytes.
pub const IMPORT_CHUNK: usize = 4096;

/// Records the start-up scan hands from its reading thread to its decoding thread at a time.
const SCAN_CHUNK: usize = 1024;

/// The `meta` key that is present while an import is being written (its undo log is incomplete).
pub const IMPORT_MARKER: &str = "import-in-progress";

/// The marker's value when the import began on an empty store: undoing it empties the store.
const IMPORT_FRESH: &[u8] = b"fresh";

/// Tags of the trees an import writes, as the first byte of an `undo` key.
const UNDO_DOCUMENTS: u8 = b'd';
const UNDO_TEXTS: u8 = b't';
const UNDO_ENTITIES: u8 = b'e';

/// Errors from the store; none of them carries a secret or user data beyond ids.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("cannot open the data directory {path}: {source}")]
    Open { path: String, source: sled::Error },
    #[error(
        "it is in use by a running innograph server (or another innograph command{}); stop it \
         first, or ask the server instead (its /api/export exports the graph over HTTP)",
        holder.map(|pid| format!(", process {pid}")).unwrap_or_default()
    )]
    InUse { path: String, holder: Option<u32> },
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
/// Serialisable, because a replicated node publishes its writes to the change log
/// (`crate::replicate`) and every node applies them from there.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
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

/// A relation as the index needs it, borrowed from the stored bytes: decoding it allocates only the
/// list of evidence.
#[derive(Debug, Deserialize)]
pub struct RelationRef<'a> {
    pub kind: RelationKind,
    pub source: &'a str,
    pub target: &'a str,
    pub year: Option<i32>,
    #[serde(borrow)]
    pub evidence: Vec<EvidenceRef<'a>>,
}

/// Evidence as stored, borrowed.
#[derive(Debug, Deserialize)]
pub struct EvidenceRef<'a> {
    pub document: &'a str,
    pub quote: &'a str,
    pub basis: crate::model::Basis,
}

/// What [`Store::scan`] yields: every document, then every entity record (an entity record may hold
/// relations but no entity only while an import is being undone, never after `open`).
pub enum Scanned<'a> {
    Document(Document),
    Record(Option<Entity>, &'a [RelationRef<'a>]),
}

/// [`EntityRecord`] with borrowed relations (same encoding).
#[derive(Deserialize)]
struct EntityRecordRef<'a> {
    entity: Option<Entity>,
    #[serde(borrow)]
    relations: Vec<RelationRef<'a>>,
}

/// The sled database of one data directory.
pub struct Store {
    db: sled::Db,
    meta: sled::Tree,
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
    /// While an import runs: tree tag + key → the value before the import.
    undo: sled::Tree,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, checking its format.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        let path = dir.display().to_string();
        let db = open_with_lock_retry(dir).map_err(|source| match source {
            sled::Error::Io(io) if is_lock_contention(&io) => StoreError::InUse {
                path: path.clone(),
                holder: lock_holder(dir),
            },
            source => StoreError::Open {
                path: path.clone(),
                source,
            },
        })?;
        let meta = db.open_tree("meta")?;
        match meta.get("format")? {
            Some(found) if found.as_ref() == UPGRADABLE_FORMAT.as_bytes() => {
                meta.insert("format", FORMAT)?;
                db.flush()?;
                tracing::info!("{path}: upgraded from {UPGRADABLE_FORMAT} to {FORMAT}");
            }
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
        let store = Store {
            documents: db.open_tree("documents")?,
            texts: db.open_tree("texts")?,
            entities: db.open_tree("entities")?,
            versions: db.open_tree("versions")?,
            changes: db.open_tree("changes")?,
            tokens: db.open_tree("tokens")?,
            redirects: db.open_tree("redirects")?,
            undo: db.open_tree("undo")?,
            meta,
            db,
        };
        if store.meta.contains_key(IMPORT_MARKER)? {
            let restored = store.roll_back_import()?;
            tracing::warn!(
                "{path}: an import was cut short; {restored} records were restored to what they were before it"
            );
        }
        Ok(store)
    }

    /// Writes documents, entities and relations (each replacing the record with the same id, entities
    /// keeping relations not in the batch), all or nothing, in chunks of [`IMPORT_CHUNK`] entity
    /// records so that memory stays flat however large the batch. Relations are grouped by source, so
    /// each entity record is read and written once. Reports progress as records written.
    ///
    /// Every relation's source must be an entity of the batch or of the store; its target is not
    /// checked here (the caller checks the whole graph).
    pub fn import(
        &self,
        documents: &[(Document, String)],
        entities: &[Entity],
        relations: &[Relation],
        progress: &dyn Fn(u64),
    ) -> Result<(), StoreError> {
        // Into an empty store, undoing means emptying it again: no undo log is kept, and chunks are
        // written as plain batches.
        let fresh = self.is_empty();
        self.begin_import(fresh)?;
        let written = if fresh {
            self.import_fresh(documents, entities, relations, progress)
        } else {
            self.import_chunks(documents, entities, relations, progress)
        };
        match written {
            Ok(()) => self.end_import(),
            Err(error) => match self.roll_back_import() {
                Ok(_) => Err(error),
                Err(undo) => Err(StoreError::Rejected(format!(
                    "{error}; undoing the import's first chunks failed too ({undo}): they will be \
                     undone when the data directory is next opened"
                ))),
            },
        }
    }

    /// [`Store::import`] of a batch too large to hold in memory: whatever `write` hands the
    /// [`ImportWriter`] (documents, entities and relations, in any order) is written in chunks as it
    /// comes. All or nothing as well: when `write` fails, or returns `false` beside its result,
    /// everything it wrote is undone.
    pub fn import_streamed<T, E: From<StoreError>>(
        &self,
        write: impl FnOnce(&mut ImportWriter<'_>) -> Result<(T, bool), E>,
    ) -> Result<T, E> {
        let fresh = self.is_empty();
        self.begin_import(fresh)?;
        let mut writer = ImportWriter {
            store: self,
            fresh,
            entities: Vec::new(),
            relations: Vec::new(),
        };
        let written = write(&mut writer).and_then(|(outcome, keep)| match keep {
            true => writer.flush().map(|()| (outcome, true)).map_err(E::from),
            false => Ok((outcome, false)),
        });
        match written {
            Ok((outcome, true)) => {
                self.end_import()?;
                Ok(outcome)
            }
            Ok((outcome, false)) => {
                self.roll_back_import()?;
                Ok(outcome)
            }
            Err(error) => {
                if let Err(undo) = self.roll_back_import() {
                    tracing::error!(
                        "undoing a failed import failed ({undo}): it will be undone when the data \
                         directory is next opened"
                    );
                }
                Err(error)
            }
        }
    }

    /// Clears an earlier import's leftover undo log (an import that finished but was cut off before
    /// its cleanup), marks an import as in progress and advances the generation, before any record
    /// changes.
    fn begin_import(&self, fresh: bool) -> Result<(), StoreError> {
        // A replicated node's records come from its change log only: an import beside it would
        // make this node differ from every other.
        if let Some(stream) = self.log_meta("stream")? {
            return Err(StoreError::Rejected(format!(
                "this data directory follows the change log `{stream}` (serve --replicate): import through the API (the importBatch mutation of a running node) so that every node gets the records"
            )));
        }
        self.undo.clear()?;
        self.meta
            .insert(IMPORT_MARKER, if fresh { IMPORT_FRESH } else { &[] })?;
        self.advance_generation()?;
        self.db.flush()?;
        Ok(())
    }

    /// The store's generation: advanced by every change of the records (0 for a store that never
    /// counted).
    pub fn generation(&self) -> Result<u64, StoreError> {
        Ok(self.meta.get(GENERATION)?.map_or(0, |bytes| be_u64(&bytes)))
    }

    /// Advances the generation outside a transaction (imports, undoing them); not flushed.
    fn advance_generation(&self) -> Result<(), StoreError> {
        let next = self.generation()? + 1;
        self.meta.insert(GENERATION, &next.to_be_bytes())?;
        Ok(())
    }

    /// Makes an import's writes durable, then drops its marker and undo log.
    fn end_import(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        self.meta.remove(IMPORT_MARKER)?;
        self.db.flush()?;
        self.undo.clear()?;
        Ok(())
    }

    /// Writes documents with their texts, saving what they replace unless the store is `fresh`.
    fn import_documents(
        &self,
        fresh: bool,
        documents: &[(Document, String)],
    ) -> Result<(), StoreError> {
        if fresh {
            let (mut document_batch, mut text_batch) =
                (sled::Batch::default(), sled::Batch::default());
            for (document, text) in documents {
                document_batch.insert(document.id.as_bytes(), encode(document).map_err(aborted)?);
                text_batch.insert(document.id.as_bytes(), text.as_bytes());
            }
            self.documents.apply_batch(document_batch)?;
            self.texts.apply_batch(text_batch)?;
            return Ok(());
        }
        let trees = (&self.documents, &self.texts, &self.undo);
        let outcome = trees.transaction(|(tx_documents, tx_texts, undo)| {
            for (document, text) in documents {
                let key = document.id.as_bytes();
                save_undo(undo, UNDO_DOCUMENTS, key, tx_documents.get(key)?)?;
                save_undo(undo, UNDO_TEXTS, key, tx_texts.get(key)?)?;
                tx_documents.insert(key, encode(document)?)?;
                tx_texts.insert(key, text.as_bytes())?;
            }
            Ok(())
        });
        transaction_result(outcome)
    }

    /// Reads, changes and writes back the entity records `keys` (`change` gets each key's position
    /// and its record, empty when there is none), as one batch; unless the store was `fresh`, as one
    /// transaction that first saves, in the undo log, what each record was before the import.
    fn rewrite_records(
        &self,
        fresh: bool,
        keys: &[&str],
        change: impl Fn(usize, &mut EntityRecord),
    ) -> Result<(), StoreError> {
        let changed = |position: usize, key: &[u8], before: Option<&[u8]>| {
            let mut record: EntityRecord = match before {
                Some(bytes) => decode("entities", key, bytes)?,
                None => EntityRecord::default(),
            };
            change(position, &mut record);
            Ok::<_, StoreError>(record)
        };
        if fresh {
            let mut batch = sled::Batch::default();
            for (position, key) in keys.iter().enumerate() {
                let key = key.as_bytes();
                let before = self.entities.get(key)?;
                let record = changed(position, key, before.as_deref())?;
                batch.insert(key, encode(&record).map_err(aborted)?);
            }
            self.entities.apply_batch(batch)?;
            return Ok(());
        }
        let trees = (&self.entities, &self.undo);
        let outcome = trees.transaction(|(tx_entities, undo)| {
            for (position, key) in keys.iter().enumerate() {
                let key = key.as_bytes();
                let before = tx_entities.get(key)?;
                let record = changed(position, key, before.as_deref())
                    .map_err(ConflictableTransactionError::Abort)?;
                // A record written by an earlier chunk of this import keeps its first saved value.
                if undo.get(undo_key(UNDO_ENTITIES, key))?.is_none() {
                    save_undo(undo, UNDO_ENTITIES, key, before)?;
                }
                tx_entities.insert(key, encode(&record)?)?;
            }
            Ok(())
        });
        transaction_result(outcome)
    }

    fn import_chunks(
        &self,
        documents: &[(Document, String)],
        entities: &[Entity],
        relations: &[Relation],
        progress: &dyn Fn(u64),
    ) -> Result<(), StoreError> {
        self.import_documents(false, documents)?;
        let (ids, entity_of, relations_of) = group_by_source(entities, relations);
        let mut written = 0u64;
        for chunk in ids.chunks(IMPORT_CHUNK) {
            let trees = (&self.entities, &self.undo);
            let outcome = trees.transaction(|(tx_entities, undo)| {
                for id in chunk {
                    let key = id.as_bytes();
                    let before = tx_entities.get(key)?;
                    let mut record: EntityRecord = match &before {
                        Some(bytes) => decode("entities", key, bytes)
                            .map_err(ConflictableTransactionError::Abort)?,
                        None => EntityRecord::default(),
                    };
                    save_undo(undo, UNDO_ENTITIES, key, before)?;
                    if let Some(entity) = entity_of.get(id) {
                        record.entity = Some((*entity).clone());
                    }
                    for relation in relations_of.get(id).into_iter().flatten() {
                        if record.entity.is_none() {
                            return abort(format!(
                                "relation `{}`: source entity does not exist",
                                relation.id()
                            ));
                        }
                        put_relation(&mut record, relation);
                    }
                    tx_entities.insert(key, encode(&record)?)?;
                }
                Ok(())
            });
            transaction_result(outcome)?;
            written += chunk.len() as u64;
            progress(written);
        }
        Ok(())
    }

    /// [`Store::import`] into an empty store: nothing to save for undoing, so each chunk is one sled
    /// batch per tree, written without reading.
    fn import_fresh(
        &self,
        documents: &[(Document, String)],
        entities: &[Entity],
        relations: &[Relation],
        progress: &dyn Fn(u64),
    ) -> Result<(), StoreError> {
        self.import_documents(true, documents)?;
        let (ids, entity_of, relations_of) = group_by_source(entities, relations);
        let mut written = 0u64;
        for chunk in ids.chunks(IMPORT_CHUNK) {
            let mut batch = sled::Batch::default();
            for id in chunk {
                let Some(entity) = entity_of.get(id) else {
                    let relation = relations_of.get(id).and_then(|r| r.first());
                    return Err(StoreError::Rejected(format!(
                        "relation `{}`: source entity does not exist",
                        relation.map_or_else(|| (*id).to_owned(), |r| r.id())
                    )));
                };
                let record = EntityRecord {
                    entity: Some((*entity).clone()),
                    relations: relations_of
                        .get(id)
                        .map(|r| r.iter().map(|&r| r.clone()).collect())
                        .unwrap_or_default(),
                };
                batch.insert(id.as_bytes(), encode(&record).map_err(aborted)?);
            }
            self.entities.apply_batch(batch)?;
            written += chunk.len() as u64;
            progress(written);
        }
        Ok(())
    }

    /// Puts back every record the `undo` tree saved (or, after an import into an empty store, empties
    /// it again), then clears the import marker. Returns how many records were restored or removed.
    fn roll_back_import(&self) -> Result<usize, StoreError> {
        if self.meta.get(IMPORT_MARKER)?.as_deref() == Some(IMPORT_FRESH) {
            let removed = self.entities.len() + self.documents.len();
            for tree in [&self.documents, &self.texts, &self.entities] {
                tree.clear()?;
            }
            self.advance_generation()?;
            self.db.flush()?;
            self.meta.remove(IMPORT_MARKER)?;
            self.db.flush()?;
            return Ok(removed);
        }
        let mut restored = 0;
        for item in self.undo.iter() {
            let (key, value) = item?;
            let (tree, id) = match key.split_first() {
                Some((&UNDO_DOCUMENTS, id)) => (&self.documents, id),
                Some((&UNDO_TEXTS, id)) => (&self.texts, id),
                Some((&UNDO_ENTITIES, id)) => (&self.entities, id),
                _ => {
                    return Err(StoreError::Corrupt {
                        tree: "undo",
                        key: String::from_utf8_lossy(&key).into_owned(),
                        detail: "unknown tree tag".to_owned(),
                    });
                }
            };
            match value.split_first() {
                Some((1, before)) => {
                    tree.insert(id, before)?;
                }
                _ => {
                    tree.remove(id)?;
                }
            }
            restored += 1;
        }
        self.advance_generation()?;
        self.db.flush()?;
        self.meta.remove(IMPORT_MARKER)?;
        self.db.flush()?;
        self.undo.clear()?;
        Ok(restored)
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
            &self.meta,
        );
        let outcome = trees.transaction(|(documents, texts, entities, redirects, meta)| {
            let trees = RecordTrees {
                documents,
                texts,
                entities,
                redirects,
            };
            writes
                .iter()
                .try_for_each(|write| apply_one(write, &trees))?;
            advance_generation(meta)
        });
        self.commit(outcome)
    }

    /// Turns a transaction's outcome into a result and, when it succeeded, flushes it to disk.
    fn commit(&self, outcome: Result<(), TransactionError<StoreError>>) -> Result<(), StoreError> {
        transaction_result(outcome)?;
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
        self.apply_change_at(writes, expected, bump, change, None)
    }

    /// [`Store::apply_change`] for a change read from the replicated log: the change keeps the id it
    /// carries (derived from its log sequence, the same on every node), and the `meta` key
    /// [`APPLIED_SEQUENCE`] is set to `sequence` in the same transaction, so that a node restarts
    /// from the change after the last one it made durable.
    ///
    /// With a `sequence`, the transaction is not flushed here: the change is already durable in the
    /// log, and after a crash the node applies again every entry after the last sequence that reached
    /// its disk (sled recovers a prefix of its transactions). The applier flushes once it has caught
    /// up ([`Store::flush`]).
    pub fn apply_change_at(
        &self,
        writes: &[Write],
        expected: &[(String, u64)],
        bump: &[String],
        change: ChangeRecord,
        sequence: Option<u64>,
    ) -> Result<u64, StoreError> {
        let trees = (
            &self.redirects,
            &self.documents,
            &self.texts,
            &self.entities,
            &self.versions,
            &self.changes,
            &self.meta,
        );
        let outcome = trees.transaction(
            |(redirects, documents, texts, entities, versions, changes, meta)| {
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
                if let Some(sequence) = sequence {
                    meta.insert(APPLIED_SEQUENCE, &sequence.to_be_bytes())?;
                }
                advance_generation(meta)
            },
        );
        if sequence.is_some() {
            transaction_result(outcome)?;
        } else {
            self.commit(outcome)?;
        }
        Ok(change.id)
    }

    /// Makes every write so far durable.
    pub fn flush(&self) -> Result<(), StoreError> {
        self.db.flush()?;
        Ok(())
    }

    /// The sequence of the last change of the replicated log this store applied (absent: the store
    /// never followed a log).
    pub fn applied_sequence(&self) -> Result<Option<u64>, StoreError> {
        Ok(self.meta.get(APPLIED_SEQUENCE)?.map(|bytes| be_u64(&bytes)))
    }

    /// Records that the log's entry `sequence` was applied without changing any record (an entry
    /// every node refuses alike, or the log's first entry); durable at the next flush.
    pub fn set_applied_sequence(&self, sequence: u64) -> Result<(), StoreError> {
        self.meta
            .insert(APPLIED_SEQUENCE, &sequence.to_be_bytes())?;
        Ok(())
    }

    /// A `meta` value of the replication (see `crate::replicate`), as text.
    pub fn log_meta(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .meta
            .get(format!("log:{key}"))?
            .map(|bytes| String::from_utf8_lossy(&bytes).into_owned()))
    }

    /// Records that this store follows the log `stream` from its genesis snapshot `genesis`, whose
    /// highest change id was `change_offset`, and flushes (with whatever was written before).
    pub fn follow_log(
        &self,
        stream: &str,
        genesis: &str,
        change_offset: u64,
    ) -> Result<(), StoreError> {
        for (key, value) in [
            ("stream", stream.to_owned()),
            ("genesis", genesis.to_owned()),
            ("change-offset", change_offset.to_string()),
        ] {
            self.meta.insert(format!("log:{key}"), value.as_bytes())?;
        }
        self.db.flush()?;
        Ok(())
    }

    /// The highest change id in the store (0: none).
    pub fn last_change_id(&self) -> Result<u64, StoreError> {
        Ok(self.changes.last()?.map_or(0, |(key, _)| be_u64(&key)))
    }

    /// Every record of the store but its tokens (each node keeps its own) and a running import's undo
    /// log (there is none when a dump is taken: the caller holds the write lock), as one byte string:
    /// the snapshot a node joining a replicated log starts from ([`Store::restore`]).
    pub fn dump(&self) -> Result<Vec<u8>, StoreError> {
        let mut trees: DumpedTrees = Vec::new();
        for (name, tree) in self.dumped_trees() {
            let mut records = Vec::new();
            for item in tree.iter() {
                let (key, value) = item?;
                records.push((key.to_vec(), value.to_vec()));
            }
            trees.push((name.to_owned(), records));
        }
        postcard::to_stdvec(&(DUMP_MAGIC, FORMAT, trees))
            .map_err(|error| StoreError::Rejected(format!("cannot encode the dump: {error}")))
    }

    /// Fills an empty store from a [`Store::dump`], in one transaction per tree, and flushes.
    pub fn restore(&self, bytes: &[u8]) -> Result<(), StoreError> {
        type Dump = (String, String, DumpedTrees);
        let (magic, format, trees): Dump = postcard::from_bytes(bytes).map_err(|error| {
            StoreError::Rejected(format!("the snapshot is not a store dump: {error}"))
        })?;
        if magic != DUMP_MAGIC || format != FORMAT {
            return Err(StoreError::Rejected(format!(
                "the snapshot is `{magic}` of store format `{format}`; this build reads `{DUMP_MAGIC}` of `{FORMAT}`"
            )));
        }
        if !self.entities.is_empty() || !self.documents.is_empty() {
            return Err(StoreError::Rejected(
                "a snapshot is restored only into an empty data directory".to_owned(),
            ));
        }
        let by_name: FxHashMap<&str, &sled::Tree> = self.dumped_trees().into_iter().collect();
        for (name, records) in &trees {
            let Some(tree) = by_name.get(name.as_str()) else {
                return Err(StoreError::Rejected(format!(
                    "the snapshot has an unknown tree `{name}`"
                )));
            };
            let mut batch = sled::Batch::default();
            for (key, value) in records {
                batch.insert(key.as_slice(), value.as_slice());
            }
            tree.apply_batch(batch)?;
        }
        self.db.flush()?;
        Ok(())
    }

    fn dumped_trees(&self) -> [(&'static str, &sled::Tree); 7] {
        [
            ("meta", &self.meta),
            ("documents", &self.documents),
            ("texts", &self.texts),
            ("entities", &self.entities),
            ("versions", &self.versions),
            ("changes", &self.changes),
            ("redirects", &self.redirects),
        ]
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

    /// Reads every document, then every entity record with its relations borrowed (no copy of ids or
    /// quotes): the start-up pass that builds the index, in one sequential scan.
    pub fn scan(&self, mut visit: impl FnMut(Scanned<'_>)) -> Result<(), StoreError> {
        for item in self.documents.iter() {
            let (key, value) = item?;
            visit(Scanned::Document(decode("documents", &key, &value)?));
        }
        // sled's iteration (page walks, copies) runs on a second thread while this one decodes and
        // visits: on a million records the two halves take about as long as each other.
        std::thread::scope(|scope| {
            let (sender, receiver) =
                std::sync::mpsc::sync_channel::<Vec<(sled::IVec, sled::IVec)>>(8);
            let reader = scope.spawn(move || -> Result<(), StoreError> {
                let mut chunk = Vec::with_capacity(SCAN_CHUNK);
                for item in self.entities.iter() {
                    chunk.push(item?);
                    if chunk.len() == SCAN_CHUNK
                        && sender
                            .send(std::mem::replace(
                                &mut chunk,
                                Vec::with_capacity(SCAN_CHUNK),
                            ))
                            .is_err()
                    {
                        return Ok(());
                    }
                }
                let _ = sender.send(chunk);
                Ok(())
            });
            for chunk in receiver {
                for (key, value) in chunk {
                    let decoded: EntityRecordRef<'_> = decode("entities", &key, &value)?;
                    visit(Scanned::Record(decoded.entity, &decoded.relations));
                }
            }
            reader.join().unwrap_or_else(|_| {
                Err(StoreError::Rejected(
                    "the store's reader thread panicked".into(),
                ))
            })
        })
    }

    /// Every stored document (without its text).
    pub fn snapshot_documents(&self) -> Result<Vec<Document>, StoreError> {
        self.documents
            .iter()
            .map(|item| {
                let (key, value) = item?;
                decode("documents", &key, &value)
            })
            .collect()
    }

    /// Reads every record, owned: for exports and for checking the index against the store.
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
/// What [`Store::import_streamed`] hands its caller: takes entities and relations one by one and
/// writes them in chunks (relations grouped by source, so that each record of a chunk is read and
/// written once).
pub struct ImportWriter<'a> {
    store: &'a Store,
    fresh: bool,
    entities: Vec<Entity>,
    relations: Vec<Relation>,
}

/// Relations per chunk of a streamed import.
const RELATION_CHUNK: usize = 4 * IMPORT_CHUNK;

impl ImportWriter<'_> {
    /// Writes documents with their texts.
    pub fn documents(&mut self, documents: &[(Document, String)]) -> Result<(), StoreError> {
        self.store.import_documents(self.fresh, documents)
    }

    /// Writes an entity (keeping the relations its record has).
    pub fn entity(&mut self, entity: Entity) -> Result<(), StoreError> {
        self.entities.push(entity);
        if self.entities.len() >= IMPORT_CHUNK {
            self.flush_entities()?;
        }
        Ok(())
    }

    /// Writes a relation into its source's record (replacing one of the same kind and target).
    pub fn relation(&mut self, relation: Relation) -> Result<(), StoreError> {
        self.relations.push(relation);
        if self.relations.len() >= RELATION_CHUNK {
            self.flush_relations()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<(), StoreError> {
        self.flush_entities()?;
        self.flush_relations()
    }

    fn flush_entities(&mut self) -> Result<(), StoreError> {
        let entities = std::mem::take(&mut self.entities);
        let keys: Vec<&str> = entities.iter().map(|e| e.id.as_str()).collect();
        self.store.rewrite_records(self.fresh, &keys, |i, record| {
            record.entity = Some(entities[i].clone());
        })
    }

    fn flush_relations(&mut self) -> Result<(), StoreError> {
        let mut relations = std::mem::take(&mut self.relations);
        relations.sort_by(|a, b| a.source.cmp(&b.source));
        let groups: Vec<&[Relation]> = relations.chunk_by(|a, b| a.source == b.source).collect();
        let keys: Vec<&str> = groups.iter().map(|g| g[0].source.as_str()).collect();
        self.store.rewrite_records(self.fresh, &keys, |i, record| {
            for relation in groups[i] {
                put_relation(record, relation);
            }
        })
    }
}

fn is_lock_contention(error: &std::io::Error) -> bool {
    error.kind() == std::io::ErrorKind::WouldBlock
        || error.to_string().contains("could not acquire lock")
}

/// Opens sled, waiting for the directory's lock: up to five seconds while it is held by this process
/// (a previous handle releases it only when its background threads stop) or by a process that cannot
/// be told, a quarter of a second while another process holds it (a running server does not let go;
/// a process that is just exiting does at once).
fn open_with_lock_retry(dir: &Path) -> Result<sled::Db, sled::Error> {
    let config = sled::Config::new()
        .path(dir)
        .cache_capacity(256 * 1024 * 1024);
    let mut attempts = 0;
    loop {
        match config.open() {
            Err(sled::Error::Io(error)) if is_lock_contention(&error) => {
                let other_process = lock_holder(dir).is_some_and(|pid| pid != std::process::id());
                if attempts >= if other_process { 5 } else { 100 } {
                    return Err(sled::Error::Io(error));
                }
                attempts += 1;
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            other => return other,
        }
    }
}

/// The process holding the lock on sled's file in `dir` (`dir/db`, locked with flock), as
/// `/proc/locks` tells it; `None` where there is no such file or it names none.
fn lock_holder(dir: &Path) -> Option<u32> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        let file = std::fs::metadata(dir.join("db")).ok()?;
        let (inode, dev) = (file.ino(), file.dev());
        // The kernel's major and minor numbers, as glibc's gnu_dev_major/minor decode them.
        let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
        let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
        let device = format!("{major:02x}:{minor:02x}:{inode}");
        let locks = std::fs::read_to_string("/proc/locks").ok()?;
        // `1: FLOCK  ADVISORY  WRITE 25050 fe:00:5619794 0 EOF`; waiters have `->` after the number.
        locks
            .lines()
            .filter(|line| !line.contains("->"))
            .map(|line| line.split_whitespace().collect::<Vec<_>>())
            .find(|fields| {
                fields.get(1) == Some(&"FLOCK") && fields.get(5) == Some(&device.as_str())
            })
            .and_then(|fields| fields.get(4)?.parse().ok())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = dir;
        None
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
            put_relation(&mut record, relation);
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

/// Entities by id and relations by source, for an import to write each entity record once; and every
/// id that has a record to write, in key order (so that sled appends to its pages rather than
/// splitting them at random).
#[allow(clippy::type_complexity)]
fn group_by_source<'a>(
    entities: &'a [Entity],
    relations: &'a [Relation],
) -> (
    Vec<&'a str>,
    FxHashMap<&'a str, &'a Entity>,
    FxHashMap<&'a str, Vec<&'a Relation>>,
) {
    let entity_of: FxHashMap<&str, &Entity> = entities.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut relations_of: FxHashMap<&str, Vec<&Relation>> = FxHashMap::default();
    for relation in relations {
        relations_of
            .entry(relation.source.as_str())
            .or_default()
            .push(relation);
    }
    let mut ids: Vec<&str> = entity_of
        .keys()
        .chain(relations_of.keys())
        .copied()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    (ids, entity_of, relations_of)
}

fn aborted(error: ConflictableTransactionError<StoreError>) -> StoreError {
    match error {
        ConflictableTransactionError::Abort(error) => error,
        ConflictableTransactionError::Storage(error) => error.into(),
        ConflictableTransactionError::Conflict => {
            StoreError::Rejected("conflicting transaction".to_owned())
        }
    }
}

/// Inserts a relation into its source's record, replacing the one with the same kind and target.
fn put_relation(record: &mut EntityRecord, relation: &Relation) {
    match record
        .relations
        .iter_mut()
        .find(|r| r.kind == relation.kind && r.target == relation.target)
    {
        Some(existing) => *existing = relation.clone(),
        None => record.relations.push(relation.clone()),
    }
}

/// The key under which the undo log keeps `key` of `tree`.
fn undo_key(tree: u8, key: &[u8]) -> Vec<u8> {
    let mut undo_key = Vec::with_capacity(key.len() + 1);
    undo_key.push(tree);
    undo_key.extend_from_slice(key);
    undo_key
}

/// Saves, in an import's undo log, the value a key held before the import (`None`: absent).
fn save_undo(
    undo: &TransactionalTree,
    tree: u8,
    key: &[u8],
    before: Option<sled::IVec>,
) -> TxResult<()> {
    let undo_key = undo_key(tree, key);
    let value = match before {
        None => vec![0],
        Some(bytes) => {
            let mut value = Vec::with_capacity(bytes.len() + 1);
            value.push(1);
            value.extend_from_slice(&bytes);
            value
        }
    };
    undo.insert(undo_key, value)?;
    Ok(())
}

fn transaction_result<T>(
    outcome: Result<T, TransactionError<StoreError>>,
) -> Result<T, StoreError> {
    match outcome {
        Ok(value) => Ok(value),
        Err(TransactionError::Abort(error)) => Err(error),
        Err(TransactionError::Storage(error)) => Err(error.into()),
    }
}

/// Advances the store's generation inside a transaction.
fn advance_generation(meta: &TransactionalTree) -> TxResult<()> {
    let next = meta.get(GENERATION)?.map_or(0, |bytes| be_u64(&bytes)) + 1;
    meta.insert(GENERATION, &next.to_be_bytes())?;
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

fn decode<'a, T: Deserialize<'a>>(
    tree: &'static str,
    key: &[u8],
    bytes: &'a [u8],
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
                basis: crate::model::Basis::Stated,
            }],
        }
    }

    /// A store in `dir` holding entities `a` and `b` and the relation `a → b`.
    fn store_with_a_to_b(dir: &Path) -> Store {
        let store = Store::open(dir).unwrap();
        store
            .apply(&[
                Write::PutEntity(entity("a")),
                Write::PutEntity(entity("b")),
                Write::PutRelation(relation("a", "b")),
            ])
            .unwrap();
        store
    }

    #[test]
    fn writes_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        {
            assert!(Store::open(dir.path()).unwrap().is_empty());
            store_with_a_to_b(dir.path());
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
        let store = store_with_a_to_b(dir.path());
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

    /// A store holding `a → b`, and an import batch that renames `a`, adds more than one chunk of
    /// entities and (sorted last, so that earlier chunks are already written) a relation from an
    /// entity that does not exist.
    fn store_and_failing_import(dir: &Path) -> (Store, Vec<Entity>, Vec<Relation>) {
        let store = store_with_a_to_b(dir);
        let mut renamed = entity("a");
        renamed.name = "新名".to_owned();
        let mut entities = vec![renamed];
        entities.extend((0..IMPORT_CHUNK + 10).map(|i| entity(&format!("n{i:05}"))));
        let relations = vec![relation("a", "n00001"), relation("zz-missing", "a")];
        (store, entities, relations)
    }

    #[test]
    fn a_failed_import_restores_every_chunk_already_written() {
        let dir = tempfile::tempdir().unwrap();
        let (store, entities, relations) = store_and_failing_import(dir.path());
        let before = store.snapshot().unwrap();
        let written = std::cell::Cell::new(0);
        let err = store
            .import(&[], &entities, &relations, &|n| written.set(n))
            .unwrap_err()
            .to_string();
        assert!(err.contains("zz-missing"), "{err}");
        assert!(
            written.get() >= IMPORT_CHUNK as u64,
            "a chunk was written first"
        );
        let after = store.snapshot().unwrap();
        assert_eq!(after.entities, before.entities);
        assert_eq!(after.relations, before.relations);
        assert!(!store.meta.contains_key(IMPORT_MARKER).unwrap());
        assert!(store.undo.is_empty());
    }

    #[test]
    fn an_import_cut_short_is_undone_when_the_store_is_next_opened() {
        let dir = tempfile::tempdir().unwrap();
        let before = {
            let (store, entities, relations) = store_and_failing_import(dir.path());
            let before = store.snapshot().unwrap();
            // What `import` does up to a crash: the marker, then chunks, and no clean-up.
            store.meta.insert(IMPORT_MARKER, &[]).unwrap();
            store
                .import_chunks(&[], &entities, &relations[..1], &|_| {})
                .unwrap();
            store.db.flush().unwrap();
            assert_ne!(store.snapshot().unwrap().entities, before.entities);
            before
        };
        let store = Store::open(dir.path()).unwrap();
        let after = store.snapshot().unwrap();
        assert_eq!(after.entities, before.entities);
        assert_eq!(after.relations, before.relations);
        assert!(!store.meta.contains_key(IMPORT_MARKER).unwrap());
    }

    #[test]
    fn a_failed_or_cut_short_import_into_an_empty_store_leaves_it_empty() {
        let dir = tempfile::tempdir().unwrap();
        let entities: Vec<Entity> = (0..IMPORT_CHUNK + 10)
            .map(|i| entity(&format!("n{i:05}")))
            .collect();
        let relations = [
            relation("n00001", "n00002"),
            relation("zz-missing", "n00001"),
        ];
        {
            let store = Store::open(dir.path()).unwrap();
            let err = store
                .import(&[], &entities, &relations, &|_| {})
                .unwrap_err()
                .to_string();
            assert!(err.contains("zz-missing"), "{err}");
            assert!(store.is_empty());
            // Cut short: the marker of a fresh import, chunks written, no clean-up.
            store.meta.insert(IMPORT_MARKER, IMPORT_FRESH).unwrap();
            store
                .import_fresh(&[], &entities, &relations[..1], &|_| {})
                .unwrap();
            store.db.flush().unwrap();
            assert!(!store.is_empty());
        }
        let store = Store::open(dir.path()).unwrap();
        assert!(store.is_empty());
        assert!(!store.meta.contains_key(IMPORT_MARKER).unwrap());
    }

    #[test]
    fn an_import_merges_relations_into_existing_records() {
        let dir = tempfile::tempdir().unwrap();
        let store = store_with_a_to_b(dir.path());
        let mut newer = relation("a", "b");
        newer.year = Some(2024);
        store
            .import(
                &[],
                &[entity("c")],
                &[newer.clone(), relation("a", "c"), relation("c", "a")],
                &|_| {},
            )
            .unwrap();
        let mut relations = store.snapshot().unwrap().relations;
        relations.sort_by_key(Relation::id);
        assert_eq!(relations, [newer, relation("a", "c"), relation("c", "a")]);
        assert_eq!(store.entity("a").unwrap(), Some(entity("a")));
        assert!(store.undo.is_empty());
    }

    #[test]
    fn every_change_of_the_records_advances_the_generation() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.generation().unwrap(), 0);
        store
            .import(&[], &[entity("a"), entity("b")], &[], &|_| {})
            .unwrap();
        let imported = store.generation().unwrap();
        assert!(imported > 0);
        store.apply(&[Write::PutEntity(entity("c"))]).unwrap();
        assert_eq!(store.generation().unwrap(), imported + 1);
        let change = ChangeRecord {
            id: 0,
            at: 0,
            actor: "test".to_owned(),
            operation: "createEntity".to_owned(),
            subjects: vec!["d".to_owned()],
            before: Vec::new(),
            after: Vec::new(),
        };
        store
            .apply_change(&[Write::PutEntity(entity("d"))], &[], &[], change)
            .unwrap();
        assert_eq!(store.generation().unwrap(), imported + 2);
        // A refused batch changes nothing, the generation included.
        let refused = store.apply(&[Write::PutRelation(relation("x", "a"))]);
        assert!(refused.is_err());
        assert_eq!(store.generation().unwrap(), imported + 2);
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.generation().unwrap(), imported + 2);
    }

    #[test]
    fn a_store_of_the_previous_format_is_upgraded_with_generation_zero() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::open(dir.path()).unwrap();
            db.open_tree("meta")
                .unwrap()
                .insert("format", UPGRADABLE_FORMAT)
                .unwrap();
            db.flush().unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(store.generation().unwrap(), 0);
        assert_eq!(
            store.meta.get("format").unwrap().as_deref(),
            Some(FORMAT.as_bytes())
        );
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

    #[test]
    fn a_dump_restores_every_record_and_a_logged_change_records_its_sequence() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        store.apply(&[Write::PutEntity(entity("a"))]).unwrap();
        let change = ChangeRecord {
            id: 41,
            at: 7,
            actor: "test".to_owned(),
            operation: "createEntity".to_owned(),
            subjects: vec!["b".to_owned()],
            before: Vec::new(),
            after: Vec::new(),
        };
        let id = store
            .apply_change_at(
                &[Write::PutEntity(entity("b"))],
                &[],
                &["b".to_owned()],
                change,
                Some(12),
            )
            .unwrap();
        assert_eq!(id, 41, "a logged change keeps the id it carries");
        assert_eq!(store.applied_sequence().unwrap(), Some(12));
        assert_eq!(store.last_change_id().unwrap(), 41);
        let dump = store.dump().unwrap();

        let other = tempfile::tempdir().unwrap();
        let restored = Store::open(other.path()).unwrap();
        restored.restore(&dump).unwrap();
        for id in ["a", "b"] {
            assert_eq!(restored.entity(id).unwrap(), store.entity(id).unwrap());
        }
        assert_eq!(restored.version("b").unwrap(), 1);
        assert_eq!(restored.change(41).unwrap(), store.change(41).unwrap());
        assert_eq!(restored.applied_sequence().unwrap(), Some(12));
        // Into a store that holds records, or from bytes that are not a dump: refused.
        assert!(matches!(
            restored.restore(&dump),
            Err(StoreError::Rejected(_))
        ));
        let empty = tempfile::tempdir().unwrap();
        let fresh = Store::open(empty.path()).unwrap();
        assert!(matches!(
            fresh.restore(b"not a dump"),
            Err(StoreError::Rejected(_))
        ));
        // A store that follows a log refuses an import beside it.
        restored.follow_log("log", "genesis", 0).unwrap();
        let refused = restored.import(&[], &[entity("c")], &[], &|_| {});
        assert!(
            matches!(refused, Err(StoreError::Rejected(m)) if m.contains("follows the change log"))
        );
    }
}
