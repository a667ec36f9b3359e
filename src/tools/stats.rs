//! The coverage report of a seed: per document, which entities it mentions and which relations it
//! supports, with counts by kind. Printed by `innograph stats`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::{EntityKind, RelationKind};
use crate::validate::GraphData;

/// What one document contributes to the graph.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct DocumentCoverage {
    /// Ids of entities whose name or an alias occurs in the document's text.
    pub mentioned: Vec<String>,
    /// Ids of relations with evidence from the document.
    pub supported: Vec<String>,
    pub mentioned_by_kind: BTreeMap<EntityKind, usize>,
    pub supported_by_kind: BTreeMap<RelationKind, usize>,
}

/// Coverage of every document, by document id.
pub fn coverage(graph: &GraphData) -> BTreeMap<String, DocumentCoverage> {
    let mut out: BTreeMap<String, DocumentCoverage> = BTreeMap::new();
    for (document, text) in &graph.documents {
        let coverage = out.entry(document.id.clone()).or_default();
        for entity in &graph.entities {
            if entity
                .names()
                .any(|name| name.chars().count() >= 2 && text.contains(name))
            {
                coverage.mentioned.push(entity.id.clone());
                *coverage.mentioned_by_kind.entry(entity.kind).or_default() += 1;
            }
        }
    }
    for relation in &graph.relations {
        let mut cited: Vec<&str> = relation
            .evidence
            .iter()
            .map(|e| e.document.as_str())
            .collect();
        cited.dedup();
        for document in cited {
            if let Some(coverage) = out.get_mut(document) {
                coverage.supported.push(relation.id());
                *coverage.supported_by_kind.entry(relation.kind).or_default() += 1;
            }
        }
    }
    out
}

/// The report as text: a summary table, then each document's entities and relations.
pub fn coverage_report(graph: &GraphData) -> String {
    let coverage = coverage(graph);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} documents, {} entities, {} relations\n",
        graph.documents.len(),
        graph.entities.len(),
        graph.relations.len()
    );
    let mut by_kind: BTreeMap<EntityKind, usize> = BTreeMap::new();
    for entity in &graph.entities {
        *by_kind.entry(entity.kind).or_default() += 1;
    }
    let _ = writeln!(out, "entities by kind:");
    for (kind, count) in &by_kind {
        let _ = writeln!(out, "  {kind:<20} {count}");
    }
    let mut relations_by_kind: BTreeMap<RelationKind, usize> = BTreeMap::new();
    for relation in &graph.relations {
        *relations_by_kind.entry(relation.kind).or_default() += 1;
    }
    let _ = writeln!(out, "relations by kind:");
    for (kind, count) in &relations_by_kind {
        let _ = writeln!(out, "  {kind:<20} {count}");
    }
    for (document, text) in &graph.documents {
        let Some(c) = coverage.get(&document.id) else {
            continue;
        };
        let _ = writeln!(
            out,
            "\n== {} ({}, {})",
            document.id, document.title, document.file
        );
        let _ = writeln!(out, "   {} characters", text.chars().count());
        let kinds: Vec<String> = c
            .mentioned_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "   mentions {} entities: {}",
            c.mentioned.len(),
            kinds.join(", ")
        );
        let kinds: Vec<String> = c
            .supported_by_kind
            .iter()
            .map(|(k, n)| format!("{k} {n}"))
            .collect();
        let _ = writeln!(
            out,
            "   supports {} relations: {}",
            c.supported.len(),
            kinds.join(", ")
        );
        for id in &c.mentioned {
            let _ = writeln!(out, "   entity   {id}");
        }
        for id in &c.supported {
            let _ = writeln!(out, "   relation {id}");
        }
    }
    out
}
