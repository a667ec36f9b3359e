//! Extraction: proposals of the organisations, places and relations a report states, each relation
//! with a quote verified verbatim against the text, linked to the entities already in the graph, for
//! a curator to review (`innograph extract`, the `extract` query, the `/review` page).
//!
//! The default extractor is offline and deterministic: a gazetteer of known names ([`Gazetteer`]) and
//! rules for the forms reports use ([`rules`]). Whatever produced a proposal, [`verify`] is the one
//! gate: a relation whose quote is not in the text, whose kind does not fit its ends or whose ends are
//! not proposed is dropped, with the reason.

mod evaluate;
mod gazetteer;
pub mod llm;
pub mod normalize;
mod rules;

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{Value, json};

use crate::model::{Basis, Document, Entity, EntityKind, Evidence, Relation, RelationKind};

pub use evaluate::{Evaluation, Score, evaluate_leave_one_out};
pub use gazetteer::Gazetteer;

/// The report to extract from, with the metadata its document record will carry.
#[derive(Clone, Debug)]
pub struct Report {
    pub id: String,
    pub title: String,
    pub publisher: Option<String>,
    pub date: Option<String>,
    /// The reporting region as written (绍兴市, 新昌县 …): where things the report presents as its own lie.
    pub region: Option<String>,
    pub text: String,
}

/// Whether a proposed entity is one the graph already has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Resolved to an entity of the graph, given by its id.
    Existing,
    /// Not in the graph: a proposed id, kind and name.
    New,
}

/// A proposed entity.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EntityProposal {
    pub id: String,
    pub kind: EntityKind,
    pub name: String,
    /// Other names the text uses for it.
    pub aliases: Vec<String>,
    pub status: Status,
    pub confidence: f64,
    /// What produced it (a rule's name).
    pub rule: String,
    /// Byte offset of its first mention in the text.
    pub offset: usize,
}

/// A proposed relation with its evidence.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RelationProposal {
    pub kind: RelationKind,
    pub source: String,
    pub target: String,
    /// Verbatim span of the text; `[…]` may elide within one line.
    pub quote: String,
    pub basis: Basis,
    pub confidence: f64,
    pub rule: String,
}

/// A proposal the gate refused, and why.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Dropped {
    pub what: String,
    pub why: String,
}

/// What an extraction proposes.
#[derive(Clone, Debug, Serialize)]
pub struct Proposals {
    pub document: Document,
    #[serde(skip)]
    pub text: String,
    pub entities: Vec<EntityProposal>,
    pub relations: Vec<RelationProposal>,
    pub dropped: Vec<Dropped>,
}

/// Proposals before the gate: what rules (or a model) produced.
#[derive(Clone, Debug, Default)]
pub struct Raw {
    pub entities: Vec<EntityProposal>,
    pub relations: Vec<RelationProposal>,
    /// What was refused before the gate (a model's name not in the text, an unknown kind …).
    pub dropped: Vec<Dropped>,
}

impl Raw {
    /// Both sets of proposals.
    pub fn merge(mut self, other: Raw) -> Raw {
        self.entities.extend(other.entities);
        self.relations.extend(other.relations);
        self.dropped.extend(other.dropped);
        self
    }
}

/// Extracts proposals from `report` with the offline rules, linking names to `gazetteer`.
pub fn extract(report: &Report, gazetteer: &Gazetteer) -> Proposals {
    let raw = rules::extract(
        &report.text,
        report.region.as_deref(),
        report.publisher.as_deref(),
        gazetteer,
    );
    verify(report, raw)
}

/// [`extract`], with a model's proposals added (and gated alike).
pub fn extract_with_model(
    report: &Report,
    gazetteer: &Gazetteer,
    config: &llm::LlmConfig,
) -> Result<Proposals, String> {
    let rules = rules::extract(
        &report.text,
        report.region.as_deref(),
        report.publisher.as_deref(),
        gazetteer,
    );
    let model = llm::propose(report, gazetteer, config)?;
    Ok(verify(report, rules.merge(model)))
}

/// The document record a report becomes.
pub fn document_of(report: &Report) -> Document {
    Document {
        id: report.id.clone(),
        title: report.title.clone(),
        title_en: None,
        publisher: report.publisher.clone(),
        date: report.date.clone(),
        region: report.region.clone(),
        index_no: None,
        file: format!("sources/{}.txt", report.id),
        reference: false,
    }
}

/// The gate every proposal passes: known kinds fitting their ends, ends that are proposed, quotes
/// verbatim in the text, one proposal per entity id and per relation.
pub fn verify(report: &Report, raw: Raw) -> Proposals {
    let mut dropped = raw.dropped;
    let mut entities: BTreeMap<String, EntityProposal> = BTreeMap::new();
    for entity in raw.entities {
        if !crate::model::is_valid_id(&entity.id) {
            dropped.push(Dropped {
                what: format!("entity «{}»", entity.name),
                why: format!("`{}` is not a valid id", entity.id),
            });
            continue;
        }
        match entities.get_mut(&entity.id) {
            Some(kept) => {
                kept.confidence = kept.confidence.max(entity.confidence);
                for alias in std::iter::once(entity.name).chain(entity.aliases) {
                    if alias != kept.name && !kept.aliases.contains(&alias) {
                        kept.aliases.push(alias);
                    }
                }
            }
            None => {
                entities.insert(entity.id.clone(), entity);
            }
        }
    }
    let mut seen: BTreeSet<(String, RelationKind, String)> = BTreeSet::new();
    let mut relations = Vec::new();
    for relation in raw.relations {
        let label = format!("{} {} {}", relation.source, relation.kind, relation.target);
        let why = (|| {
            let source = entities
                .get(&relation.source)
                .ok_or("its source is not proposed")?;
            let target = entities
                .get(&relation.target)
                .ok_or("its target is not proposed")?;
            if relation.source == relation.target {
                return Err("it ties an entity to itself".to_owned().into());
            }
            if !crate::model::quote_occurs_in(&relation.quote, &report.text) {
                return Err(format!("its quote «{}» is not in the text", relation.quote).into());
            }
            let model = |p: &EntityProposal| Entity::new(p.id.clone(), p.kind, p.name.clone());
            let as_relation = Relation {
                kind: relation.kind,
                source: relation.source.clone(),
                target: relation.target.clone(),
                year: None,
                evidence: Vec::new(),
            };
            let problems =
                crate::validate::check_relation_ends(&as_relation, &model(source), &model(target));
            if let Some(problem) = problems.into_iter().next() {
                return Err(problem.into());
            }
            Ok::<(), Box<str>>(())
        })();
        if let Err(why) = why {
            dropped.push(Dropped {
                what: label,
                why: why.to_string(),
            });
            continue;
        }
        let key = (
            relation.source.clone(),
            relation.kind,
            relation.target.clone(),
        );
        let reverse = (
            relation.target.clone(),
            relation.kind,
            relation.source.clone(),
        );
        if seen.contains(&key) || (relation.kind.is_symmetric() && seen.contains(&reverse)) {
            continue;
        }
        seen.insert(key);
        relations.push(relation);
    }
    // Only entities something points to, or that are new, are worth a curator's look.
    let mut entities: Vec<EntityProposal> = entities.into_values().collect();
    entities.sort_by_key(|e| e.offset);
    Proposals {
        document: document_of(report),
        text: report.text.clone(),
        entities,
        relations,
        dropped,
    }
}

impl Proposals {
    /// The proposals as JSON Lines in the import format: the document (with its text), then entity
    /// lines, then relation lines. Proposal-only fields (`status`, `confidence`, `rule`) ride along;
    /// importers ignore them, and skip the lines of `existing` entities, which only say which entity
    /// of the graph the relations mean.
    pub fn to_jsonl(&self) -> String {
        let mut out = String::new();
        let mut push = |value: Value| {
            out.push_str(&value.to_string());
            out.push('\n');
        };
        let d = &self.document;
        push(json!({
            "type": "document", "id": d.id, "title": d.title, "publisher": d.publisher, "date": d.date,
            "region": d.region, "file": d.file, "reference": false, "text": self.text,
        }));
        for e in &self.entities {
            let mut line = json!({
                "type": "entity", "id": e.id, "kind": e.kind.as_str(), "name": e.name,
                "status": e.status, "confidence": e.confidence, "rule": e.rule,
            });
            if !e.aliases.is_empty() {
                line["aliases"] = json!(e.aliases);
            }
            push(line);
        }
        for r in &self.relations {
            push(json!({
                "type": "relation", "kind": r.kind.as_str(), "source": r.source, "target": r.target,
                "evidence": [{ "document": d.id, "quote": r.quote, "basis": r.basis.as_str() }],
                "confidence": r.confidence, "rule": r.rule,
            }));
        }
        out
    }

    /// The relations as model records (evidence citing the report).
    pub fn model_relations(&self) -> Vec<Relation> {
        self.relations
            .iter()
            .map(|r| Relation {
                kind: r.kind,
                source: r.source.clone(),
                target: r.target.clone(),
                year: None,
                evidence: vec![Evidence {
                    document: self.document.id.clone(),
                    quote: r.quote.clone(),
                    basis: r.basis,
                }],
            })
            .collect()
    }
}

/// Reads a report file: UTF-8 (a BOM is dropped); anything else is refused, naming what it looks like.
pub fn read_text(bytes: Vec<u8>) -> Result<String, String> {
    let bytes = bytes
        .strip_prefix(b"\xEF\xBB\xBF".as_slice())
        .map(<[u8]>::to_vec)
        .unwrap_or(bytes);
    match String::from_utf8(bytes) {
        Ok(text) => Ok(text),
        Err(error) => {
            let bytes = error.as_bytes();
            let seen = if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
                "UTF-16 (it starts with a UTF-16 byte-order mark)"
            } else if looks_like_gb(bytes) {
                "GBK/GB18030 (its bytes pair up as GB2312 Chinese characters)"
            } else {
                "not UTF-8"
            };
            Err(format!(
                "the report is {seen}, byte {} is not UTF-8; convert it first, e.g. `iconv -f GB18030 -t UTF-8`",
                error.utf8_error().valid_up_to()
            ))
        }
    }
}

/// Whether most high bytes come in GB2312-shaped pairs (lead 0xB0–0xF7, trail 0xA1–0xFE).
fn looks_like_gb(bytes: &[u8]) -> bool {
    let (mut pairs, mut high) = (0usize, 0usize);
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] >= 0x80 {
            high += 1;
            if i + 1 < bytes.len()
                && (0xB0..=0xF7).contains(&bytes[i])
                && (0xA1..=0xFE).contains(&bytes[i + 1])
            {
                pairs += 1;
                high += 1;
                i += 2;
                continue;
            }
        }
        i += 1;
    }
    high > 0 && pairs * 2 * 10 >= high * 8
}
