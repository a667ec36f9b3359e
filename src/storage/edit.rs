//! Editing the graph: every write the API offers, validated by the seed's rules against the current
//! graph, with optimistic concurrency (versions) and a change-log entry that says who, when, before
//! and after. The GraphQL mutations are thin wrappers over these functions.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::db::{Db, DbError};
use crate::model::{
    Entity, EntityKind, Evidence, Relation, RelationKind, parse_relation_id, quote_occurs_in,
};
use crate::store::{ChangeRecord, StoreError, Write};
use crate::validate::{check_entity, check_relation};

/// Why an edit was refused.
#[derive(Debug, thiserror::Error)]
pub enum EditError {
    /// The input breaks a rule of the graph (the message says which).
    #[error("{0}")]
    Invalid(String),
    #[error("no {what} has id `{id}`")]
    NotFound { what: &'static str, id: String },
    #[error("`{id}` already exists")]
    Exists { id: String },
    #[error(
        "`{id}` is at version {current}, not the expected {expected}: reload it and apply the change again"
    )]
    Conflict {
        id: String,
        expected: u64,
        current: u64,
    },
    #[error("internal error: {0}")]
    Internal(String),
    /// The disk refused the write; nothing was applied, reads go on.
    #[error("{0}")]
    Unavailable(String),
    /// A replicated node could not get the write into its change log; reads go on.
    #[error("{0}")]
    LogUnavailable(String),
}

impl From<DbError> for EditError {
    fn from(error: DbError) -> EditError {
        match error {
            DbError::Invalid(message) => EditError::Invalid(message),
            DbError::Exists { id } => EditError::Exists { id },
            DbError::Unavailable(message) => EditError::Unavailable(message),
            DbError::LogUnavailable(message) => EditError::LogUnavailable(message),
            DbError::Store(StoreError::Conflict {
                id,
                expected,
                current,
            }) => EditError::Conflict {
                id,
                expected,
                current,
            },
            DbError::Store(StoreError::Rejected(message)) => EditError::Invalid(message),
            DbError::Store(StoreError::Sled(sled::Error::Io(io))) => {
                EditError::Unavailable(format!(
                    "the data directory could not be read or written ({io}); retry once the disk is writable again"
                ))
            }
            DbError::Store(other) => EditError::Internal(other.to_string()),
        }
    }
}

impl From<StoreError> for EditError {
    fn from(error: StoreError) -> EditError {
        EditError::from(DbError::Store(error))
    }
}

/// Who is editing: the name of their token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor(pub String);

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn change(
    actor: &Actor,
    operation: &str,
    subjects: Vec<String>,
    before: Vec<Value>,
    after: Vec<Value>,
) -> ChangeRecord {
    ChangeRecord {
        id: 0,
        at: now(),
        actor: actor.0.clone(),
        operation: operation.to_owned(),
        subjects,
        before,
        after,
    }
}

fn to_json<T: serde::Serialize>(value: Option<&T>) -> Value {
    value.map_or(Value::Null, |v| {
        serde_json::to_value(v).unwrap_or(Value::Null)
    })
}

/// Refuses an entity that breaks a rule on its own. Whether its names clash with another entity's is
/// judged by `Db`'s write, under the write lock, against the graph as it will be.
fn check_new_entity(entity: &Entity) -> Result<(), EditError> {
    let problems = check_entity(entity);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(EditError::Invalid(problems.join("; ")))
    }
}

/// Refuses a relation that breaks a rule: evidence quotes must be verbatim in stored documents,
/// endpoints must exist, LOCATED_IN must point to a district or platform.
fn check_new_relation(db: &Db, relation: &Relation) -> Result<(), EditError> {
    check_new_relation_in_place(db, relation)?;
    let index = db.read();
    for end in [&relation.source, &relation.target] {
        if !index.contains(end) {
            return Err(EditError::NotFound {
                what: "entity",
                id: end.clone(),
            });
        }
    }
    if relation.kind == RelationKind::LocatedIn
        && let Some(target) = index.entity(&relation.target)
        && !matches!(target.kind, EntityKind::District | EntityKind::Platform)
    {
        return Err(EditError::Invalid(format!(
            "LOCATED_IN must point to a DISTRICT or PLATFORM, not a {}",
            target.kind
        )));
    }
    if relation.kind.is_symmetric()
        && index
            .relation(&relation.target, relation.kind, &relation.source)
            .is_some()
    {
        return Err(EditError::Invalid(format!(
            "{} is stored once: `{}` already exists",
            relation.kind,
            crate::model::relation_id(&relation.target, relation.kind, &relation.source)
        )));
    }
    Ok(())
}

/// Creates an entity. Returns its version.
pub fn create_entity(db: &Db, actor: &Actor, entity: Entity) -> Result<u64, EditError> {
    if db.read().contains(&entity.id) {
        return Err(EditError::Exists { id: entity.id });
    }
    check_new_entity(&entity)?;
    let id = entity.id.clone();
    let record = change(
        actor,
        "createEntity",
        vec![id.clone()],
        vec![Value::Null],
        vec![to_json(Some(&entity))],
    );
    db.apply_change(
        vec![Write::PutEntity(entity)],
        std::slice::from_ref(&id),
        &[],
        std::slice::from_ref(&id),
        record,
    )?;
    Ok(db.store().version(&id)?)
}

/// Replaces an entity's fields (its id stays), if it is at `expected` version. Returns the new version.
pub fn update_entity(
    db: &Db,
    actor: &Actor,
    expected: u64,
    entity: Entity,
) -> Result<u64, EditError> {
    let before = db
        .store()
        .entity(&entity.id)?
        .ok_or_else(|| EditError::NotFound {
            what: "entity",
            id: entity.id.clone(),
        })?;
    check_new_entity(&entity)?;
    let id = entity.id.clone();
    let record = change(
        actor,
        "updateEntity",
        vec![id.clone()],
        vec![to_json(Some(&before))],
        vec![to_json(Some(&entity))],
    );
    db.apply_change(
        vec![Write::PutEntity(entity)],
        &[],
        &[(id.clone(), expected)],
        std::slice::from_ref(&id),
        record,
    )?;
    Ok(db.store().version(&id)?)
}

/// Deletes an entity and every relation touching it, if it is at `expected` version. The change
/// records the entity and each of those relations, so that `revert` can bring all of them back.
pub fn delete_entity(db: &Db, actor: &Actor, id: &str, expected: u64) -> Result<(), EditError> {
    let before = db.store().entity(id)?.ok_or_else(|| EditError::NotFound {
        what: "entity",
        id: id.to_owned(),
    })?;
    let touching: Vec<Relation> = {
        let views = db.read().relations_of(
            id,
            crate::graph::Step::new(crate::graph::KindSet::ALL, crate::graph::Direction::Both),
        );
        db.full_relations(&views)?
    };
    let mut subjects = vec![id.to_owned()];
    let mut befores = vec![to_json(Some(&before))];
    for relation in &touching {
        subjects.push(relation.id());
        befores.push(to_json(Some(relation)));
    }
    let afters = vec![Value::Null; subjects.len()];
    let record = change(actor, "deleteEntity", subjects.clone(), befores, afters);
    db.apply_change(
        vec![Write::DeleteEntity(id.to_owned())],
        &[],
        &[(id.to_owned(), expected)],
        &subjects,
        record,
    )?;
    Ok(())
}

/// Merges `merged` into `survivor`: the merged entity's names become aliases of the survivor, its
/// relations move to the survivor (evidence joined where the survivor already has the same relation,
/// ties between the two dropped), it is deleted, and its id resolves to the survivor from then on.
pub fn merge_entities(
    db: &Db,
    actor: &Actor,
    survivor: &str,
    merged: &str,
    expected: (u64, u64),
) -> Result<(), EditError> {
    if survivor == merged {
        return Err(EditError::Invalid(
            "an entity cannot be merged into itself".to_owned(),
        ));
    }
    let keep = db
        .store()
        .entity(survivor)?
        .ok_or_else(|| EditError::NotFound {
            what: "entity",
            id: survivor.to_owned(),
        })?;
    let gone = db
        .store()
        .entity(merged)?
        .ok_or_else(|| EditError::NotFound {
            what: "entity",
            id: merged.to_owned(),
        })?;
    if keep.kind != gone.kind {
        return Err(EditError::Invalid(format!(
            "`{merged}` is a {} and `{survivor}` a {}: only duplicates of one kind are merged (fix the kind with updateEntity first if one is wrong)",
            gone.kind, keep.kind
        )));
    }
    let mut kept = keep.clone();
    for name in std::iter::once(&gone.name).chain(&gone.aliases) {
        if !kept.names().any(|n| n == name) {
            kept.aliases.push(name.clone());
        }
    }
    let all = crate::graph::Step::new(crate::graph::KindSet::ALL, crate::graph::Direction::Both);
    let moving: Vec<Relation> = {
        let views = db.read().relations_of(merged, all);
        db.full_relations(&views)?
    };
    let mut subjects = vec![survivor.to_owned(), merged.to_owned()];
    let mut befores = vec![to_json(Some(&keep)), to_json(Some(&gone))];
    let mut afters = vec![to_json(Some(&kept)), Value::Null];
    let mut puts: Vec<Relation> = Vec::new();
    for relation in &moving {
        subjects.push(relation.id());
        befores.push(to_json(Some(relation)));
        afters.push(Value::Null);
        let mut moved = relation.clone();
        if moved.source == merged {
            moved.source = survivor.to_owned();
        }
        if moved.target == merged {
            moved.target = survivor.to_owned();
        }
        if moved.source == moved.target {
            continue;
        }
        let existing = match puts.iter().position(|r| r.id() == moved.id()) {
            Some(i) => Some(puts.remove(i)),
            None => db
                .store()
                .relation(&moved.source, moved.kind, &moved.target)?,
        };
        if let Some(existing) = existing {
            for evidence in existing.evidence.into_iter().rev() {
                if !moved.evidence.contains(&evidence) {
                    moved.evidence.insert(0, evidence);
                }
            }
            moved.year = existing.year.or(moved.year);
        }
        puts.push(moved);
    }
    for relation in &puts {
        let id = relation.id();
        if !subjects.contains(&id) {
            let before = parse_relation_id(&id)
                .map(|(s, k, t)| db.store().relation(s, k, t))
                .transpose()?
                .flatten();
            subjects.push(id.clone());
            befores.push(to_json(before.as_ref()));
            afters.push(to_json(Some(relation)));
        } else if let Some(i) = subjects.iter().position(|s| *s == id) {
            afters[i] = to_json(Some(relation));
        }
    }
    let mut writes = vec![
        Write::DeleteEntity(merged.to_owned()),
        Write::PutEntity(kept),
    ];
    writes.extend(puts.into_iter().map(Write::PutRelation));
    writes.push(Write::PutRedirect {
        from: merged.to_owned(),
        to: survivor.to_owned(),
    });
    let record = change(actor, "mergeEntities", subjects.clone(), befores, afters);
    let expected = [
        (survivor.to_owned(), expected.0),
        (merged.to_owned(), expected.1),
    ];
    db.apply_change(writes, &[], &expected, &subjects, record)?;
    Ok(())
}

/// Most records one `importBatch` may hold unless configured otherwise.
pub const MAX_BATCH_RECORDS: usize = 10_000;

/// Imports a batch in the JSON Lines format (documents, entities, relations), validated like the
/// seed (relations may cite documents and entities already stored), all or nothing, as one change;
/// at most `cap` records. Returns (documents, entities, relations) written.
pub fn import_batch(
    db: &Db,
    actor: &Actor,
    jsonl: &str,
    cap: usize,
) -> Result<(usize, usize, usize), EditError> {
    let mut seed = crate::interchange::read_jsonl("batch", jsonl.as_bytes(), |_| {});
    let records = seed.documents.len() + seed.entities.len() + seed.relations.len();
    if records > cap {
        return Err(EditError::Invalid(format!(
            "the batch holds {records} records, above the cap of {cap}; split it, or use `innograph import`"
        )));
    }
    let batch_documents: Vec<String> = seed.documents.iter().map(|(_, d)| d.id.clone()).collect();
    // Stored documents, so that quotes may cite them.
    let stored: Vec<std::sync::Arc<crate::model::Document>> =
        db.read().documents().cloned().collect();
    for document in stored.iter().filter(|d| !batch_documents.contains(&d.id)) {
        let text = db.store().document_text(&document.id)?.unwrap_or_default();
        seed.add_stored_document(document, format!("stored:{}", document.id), text);
    }
    // Stored entities the batch's relations point to, so that they count as endpoints.
    let known: Vec<Entity> = {
        let index = db.read();
        seed.foreign_ends()
            .into_iter()
            .filter_map(|id| index.entity(id).map(|e| (**e).clone()))
            .collect()
    };
    let report = crate::validate::validate_seed_with(&seed, &known);
    let Some(graph) = report.graph else {
        let errors: Vec<String> = report.errors().take(20).map(ToString::to_string).collect();
        return Err(EditError::Invalid(errors.join("\n")));
    };
    let mut writes = Vec::new();
    let (mut subjects, mut befores, mut afters) = (Vec::new(), Vec::new(), Vec::new());
    let new_documents: Vec<(crate::model::Document, String)> = graph
        .documents
        .into_iter()
        .filter(|(d, _)| batch_documents.contains(&d.id))
        .map(|(d, text)| {
            (
                crate::model::Document {
                    file: format!("sources/{}.txt", d.id),
                    ..d
                },
                text,
            )
        })
        .collect();
    for (document, text) in &new_documents {
        writes.push(Write::PutDocument {
            document: document.clone(),
            text: text.clone(),
        });
    }
    // An import creates, or updates what it names with the version it updates: a record that
    // re-declares a stored one without `expectedVersion` is refused rather than silently replacing it.
    let (mut creates, mut expected) = (Vec::new(), Vec::new());
    let mut judge = |id: String, stored: bool| -> Result<(), EditError> {
        match (stored, seed.expected_versions.get(&id)) {
            (false, _) => creates.push(id),
            (true, Some(&version)) => expected.push((id, version)),
            (true, None) => {
                return Err(EditError::Invalid(format!(
                    "`{id}` already exists: an import only creates records, or updates one whose line gives the version it updates (`\"expectedVersion\": N`)"
                )));
            }
        }
        Ok(())
    };
    for entity in &graph.entities {
        let before = db.store().entity(&entity.id)?;
        judge(entity.id.clone(), before.is_some())?;
        subjects.push(entity.id.clone());
        befores.push(to_json(before.as_ref()));
        afters.push(to_json(Some(entity)));
        writes.push(Write::PutEntity(entity.clone()));
    }
    for relation in &graph.relations {
        let before = db
            .store()
            .relation(&relation.source, relation.kind, &relation.target)?;
        judge(relation.id(), before.is_some())?;
        subjects.push(relation.id());
        befores.push(to_json(before.as_ref()));
        afters.push(to_json(Some(relation)));
        writes.push(Write::PutRelation(relation.clone()));
    }
    let record = change(actor, "importBatch", subjects.clone(), befores, afters);
    db.apply_change(writes, &creates, &expected, &subjects, record)?;
    Ok((
        new_documents.len(),
        graph.entities.len(),
        graph.relations.len(),
    ))
}

/// Undoes a change: every record it touched goes back to how it was before, provided none has
/// changed since (otherwise revert the later changes first). The revert is itself a change.
pub fn revert(db: &Db, actor: &Actor, change_id: u64) -> Result<u64, EditError> {
    let original = db
        .store()
        .change(change_id)?
        .ok_or_else(|| EditError::NotFound {
            what: "change",
            id: change_id.to_string(),
        })?;
    let mut writes = Vec::new();
    let mut now_values = Vec::new();
    // Entities first when restoring (relations need their ends), relations first when removing.
    let mut restores = Vec::new();
    let mut removals = Vec::new();
    for (i, subject) in original.subjects.iter().enumerate() {
        let is_relation = subject.contains('/');
        let current = if is_relation {
            parse_relation_id(subject)
                .map(|(s, k, t)| db.store().relation(s, k, t))
                .transpose()?
                .flatten()
                .map(|r| to_json(Some(&r)))
                .unwrap_or(Value::Null)
        } else {
            to_json(db.store().entity(subject)?.as_ref())
        };
        let after = original.after.get(i).cloned().unwrap_or(Value::Null);
        if current != after {
            return Err(EditError::Invalid(format!(
                "`{subject}` has changed since change {change_id}; revert the later changes first"
            )));
        }
        now_values.push(current);
        let before = original.before.get(i).cloned().unwrap_or(Value::Null);
        let bad = |e: serde_json::Error| {
            EditError::Internal(format!(
                "change {change_id} holds an unreadable record: {e}"
            ))
        };
        match (before.is_null(), is_relation) {
            (true, false) => removals.push(Write::DeleteEntity(subject.clone())),
            (true, true) => {
                if let Some((source, kind, target)) = parse_relation_id(subject) {
                    removals.insert(
                        0,
                        Write::DeleteRelation {
                            source: source.to_owned(),
                            kind,
                            target: target.to_owned(),
                        },
                    );
                }
            }
            (false, false) => restores.insert(
                0,
                Write::PutEntity(serde_json::from_value(before).map_err(bad)?),
            ),
            (false, true) => restores.push(Write::PutRelation(
                serde_json::from_value(before).map_err(bad)?,
            )),
        }
    }
    writes.extend(removals);
    writes.extend(restores);
    let record = change(
        actor,
        &format!("revert {change_id}"),
        original.subjects.clone(),
        now_values,
        original.before.clone(),
    );
    Ok(db.apply_change(writes, &[], &[], &original.subjects, record)?)
}

/// Creates a relation (evidence required). Returns its version.
pub fn create_relation(db: &Db, actor: &Actor, relation: Relation) -> Result<u64, EditError> {
    let id = relation.id();
    if db
        .read()
        .relation(&relation.source, relation.kind, &relation.target)
        .is_some()
    {
        return Err(EditError::Exists { id });
    }
    check_new_relation(db, &relation)?;
    let record = change(
        actor,
        "createRelation",
        vec![id.clone()],
        vec![Value::Null],
        vec![to_json(Some(&relation))],
    );
    db.apply_change(
        vec![Write::PutRelation(relation)],
        std::slice::from_ref(&id),
        &[],
        std::slice::from_ref(&id),
        record,
    )?;
    Ok(db.store().version(&id)?)
}

/// The stored relation with this id.
fn stored_relation(db: &Db, id: &str) -> Result<Relation, EditError> {
    let not_found = || EditError::NotFound {
        what: "relation",
        id: id.to_owned(),
    };
    let (source, kind, target) = parse_relation_id(id).ok_or_else(not_found)?;
    db.store()
        .relation(source, kind, target)?
        .ok_or_else(not_found)
}

/// Sets a relation's year, if it is at `expected` version. Returns the new version.
pub fn update_relation(
    db: &Db,
    actor: &Actor,
    id: &str,
    expected: u64,
    year: Option<i32>,
) -> Result<u64, EditError> {
    replace_relation(db, actor, "updateRelation", id, expected, |relation| {
        relation.year = year
    })
}

/// Adds evidence to a relation, if it is at `expected` version. Returns the new version.
pub fn add_evidence(
    db: &Db,
    actor: &Actor,
    id: &str,
    expected: u64,
    evidence: Evidence,
) -> Result<u64, EditError> {
    replace_relation(db, actor, "addEvidence", id, expected, |relation| {
        relation.evidence.push(evidence)
    })
}

/// Changes a stored relation with `edit`, checks the result, and writes it as one change.
fn replace_relation(
    db: &Db,
    actor: &Actor,
    operation: &str,
    id: &str,
    expected: u64,
    edit: impl FnOnce(&mut Relation),
) -> Result<u64, EditError> {
    let before = stored_relation(db, id)?;
    let mut after = before.clone();
    edit(&mut after);
    check_new_relation_in_place(db, &after)?;
    let record = change(
        actor,
        operation,
        vec![id.to_owned()],
        vec![to_json(Some(&before))],
        vec![to_json(Some(&after))],
    );
    db.apply_change(
        vec![Write::PutRelation(after)],
        &[],
        &[(id.to_owned(), expected)],
        &[id.to_owned()],
        record,
    )?;
    Ok(db.store().version(id)?)
}

/// Deletes a relation, if it is at `expected` version.
pub fn delete_relation(db: &Db, actor: &Actor, id: &str, expected: u64) -> Result<(), EditError> {
    let before = stored_relation(db, id)?;
    let write = Write::DeleteRelation {
        source: before.source.clone(),
        kind: before.kind,
        target: before.target.clone(),
    };
    let record = change(
        actor,
        "deleteRelation",
        vec![id.to_owned()],
        vec![to_json(Some(&before))],
        vec![Value::Null],
    );
    db.apply_change(
        vec![write],
        &[],
        &[(id.to_owned(), expected)],
        &[id.to_owned()],
        record,
    )?;
    Ok(())
}

/// The rules for a relation that already exists (no duplicate check).
fn check_new_relation_in_place(db: &Db, relation: &Relation) -> Result<(), EditError> {
    let texts: Vec<(String, Option<String>)> = relation
        .evidence
        .iter()
        .map(|e| Ok((e.document.clone(), db.store().document_text(&e.document)?)))
        .collect::<Result<_, StoreError>>()?;
    let problems = check_relation(relation, |document, quote| {
        texts
            .iter()
            .find(|(d, _)| d == document)
            .and_then(|(_, text)| text.as_deref())
            .map(|t| quote_occurs_in(quote, t))
    });
    if problems.is_empty() {
        Ok(())
    } else {
        Err(EditError::Invalid(problems.join("; ")))
    }
}

/// The change log, oldest first: changes after `after`, at most `limit`; with `subject`, only the
/// changes that touched that entity or relation.
pub fn changes(
    db: &Db,
    after: u64,
    limit: usize,
    subject: Option<&str>,
) -> Result<Vec<ChangeRecord>, EditError> {
    let mut out = Vec::new();
    let mut cursor = after;
    loop {
        let batch = db.store().changes_after(cursor, 256)?;
        let Some(last) = batch.last() else { break };
        cursor = last.id;
        for record in batch {
            if subject.is_none_or(|s| record.subjects.iter().any(|x| x == s)) {
                out.push(record);
                if out.len() >= limit {
                    return Ok(out);
                }
            }
        }
    }
    Ok(out)
}

/// A summary of a change record for clients.
pub fn describe(record: &ChangeRecord) -> Value {
    json!({
        "id": record.id,
        "at": record.at,
        "actor": record.actor,
        "operation": record.operation,
        "subjects": record.subjects,
        "before": record.before,
        "after": record.after,
    })
}
