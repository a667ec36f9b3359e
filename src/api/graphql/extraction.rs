//! The `extract` query: the same proposals as `innograph extract`, for the review page and clients.

use std::sync::{Arc, Mutex};

use async_graphql::{Context, InputObject, Result, SimpleObject};

use super::types::{Basis, EntityKind, RelationKind};
use super::{db, user_error};
use crate::extract;

/// The metadata of the report to extract from.
#[derive(InputObject, Clone, Debug)]
pub struct DocumentInput {
    /// The id its document record gets (ASCII kebab-case, e.g. `ningbo-2024`).
    pub id: String,
    pub title: String,
    pub publisher: Option<String>,
    /// YYYY, YYYY-MM or YYYY-MM-DD.
    pub date: Option<String>,
    /// The reporting region as written (宁波市, 新昌县 …).
    pub region: Option<String>,
}

/// What an extraction proposes; nothing is written.
#[derive(SimpleObject)]
pub struct Proposals {
    pub entities: Vec<EntityProposal>,
    pub relations: Vec<RelationProposal>,
    /// What the gate refused, and why.
    pub dropped: Vec<DroppedProposal>,
    /// The proposals as JSON Lines in the import format (document with its text, entity lines,
    /// relation lines), ready for `importBatch` once reviewed.
    pub jsonl: String,
}

/// A proposed entity.
#[derive(SimpleObject)]
pub struct EntityProposal {
    /// The graph's id when `existing`; a proposed id when new.
    pub id: String,
    pub kind: EntityKind,
    pub name: String,
    pub aliases: Vec<String>,
    /// `existing` (resolved to an entity of the graph) or `new`.
    pub status: String,
    pub confidence: f64,
    /// What produced it.
    pub rule: String,
    /// Character offset of its first mention in the text.
    pub offset: usize,
    /// For a new entity: the id of an existing entity whose name or alias is the same once folded, if
    /// any (a likely duplicate).
    pub duplicate_of: Option<String>,
}

/// A proposed relation with its evidence quote (verbatim in the text).
#[derive(SimpleObject)]
pub struct RelationProposal {
    pub kind: RelationKind,
    pub source: String,
    pub target: String,
    pub quote: String,
    pub basis: Basis,
    pub confidence: f64,
    pub rule: String,
}

/// A proposal the gate refused.
#[derive(SimpleObject)]
pub struct DroppedProposal {
    pub what: String,
    pub why: String,
}

/// The gazetteer of the current graph, kept until the graph changes.
#[derive(Default)]
pub struct GazetteerCache(Mutex<Option<(u64, Arc<extract::Gazetteer>)>>);

/// Longest report `extract` takes, in characters.
pub const MAX_EXTRACT_CHARS: usize = 200_000;

pub fn run(ctx: &Context<'_>, text: String, document: DocumentInput) -> Result<Proposals> {
    let characters = text.chars().count();
    if characters > MAX_EXTRACT_CHARS {
        return Err(user_error(
            "BAD_USER_INPUT",
            format!(
                "`text` has {characters} characters, above the limit of {MAX_EXTRACT_CHARS}; split the report"
            ),
        ));
    }
    if !crate::model::is_valid_id(&document.id) {
        return Err(user_error(
            "BAD_USER_INPUT",
            format!(
                "`document.id` `{}` is not a lowercase ASCII kebab-case slug (like `ningbo-2024`)",
                document.id
            ),
        ));
    }
    if let Some(date) = &document.date
        && !crate::model::is_valid_date(date)
    {
        return Err(user_error(
            "BAD_USER_INPUT",
            format!("`document.date` `{date}` is not YYYY, YYYY-MM or YYYY-MM-DD"),
        ));
    }
    let db = db(ctx)?;
    if db.read().document(&document.id).is_some() {
        return Err(user_error(
            "ALREADY_EXISTS",
            format!(
                "`document.id`: a document `{}` is already in the graph; choose another id",
                document.id
            ),
        ));
    }
    let gazetteer = {
        let cache = ctx.data::<GazetteerCache>()?;
        let mut cached = cache
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let index = db.read();
        match cached.as_ref() {
            Some((generation, gazetteer)) if *generation == index.generation() => gazetteer.clone(),
            _ => {
                let gazetteer = Arc::new(extract::Gazetteer::of_index(&index));
                *cached = Some((index.generation(), gazetteer.clone()));
                gazetteer
            }
        }
    };
    let report = extract::Report {
        id: document.id,
        title: document.title,
        publisher: document.publisher,
        date: document.date,
        region: document.region,
        text,
    };
    let proposals = extract::extract(&report, &gazetteer);
    let char_offset = |byte: usize| report.text[..byte.min(report.text.len())].chars().count();
    Ok(Proposals {
        jsonl: proposals.to_jsonl(),
        entities: proposals
            .entities
            .iter()
            .map(|e| EntityProposal {
                duplicate_of: (e.status == extract::Status::New)
                    .then(|| {
                        std::iter::once(&e.name)
                            .chain(&e.aliases)
                            .find_map(|n| gazetteer.lookup(n).filter(|k| k.existing))
                            .map(|k| k.id.clone())
                    })
                    .flatten(),
                id: e.id.clone(),
                kind: e.kind.into(),
                name: e.name.clone(),
                aliases: e.aliases.clone(),
                status: match e.status {
                    extract::Status::Existing => "existing".to_owned(),
                    extract::Status::New => "new".to_owned(),
                },
                confidence: e.confidence,
                rule: e.rule.clone(),
                offset: char_offset(e.offset),
            })
            .collect(),
        relations: proposals
            .relations
            .iter()
            .map(|r| RelationProposal {
                kind: r.kind.into(),
                source: r.source.clone(),
                target: r.target.clone(),
                quote: r.quote.clone(),
                basis: r.basis.into(),
                confidence: r.confidence,
                rule: r.rule.clone(),
            })
            .collect(),
        dropped: proposals
            .dropped
            .into_iter()
            .map(|d| DroppedProposal {
                what: d.what,
                why: d.why,
            })
            .collect(),
    })
}
