//! Leave-one-out evaluation over a seed: each source report is extracted with the graph built from the
//! others (entities only that report cites are held out), and the proposals are compared with the
//! curated entities and relations that cite it.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::time::{Duration, Instant};

use super::normalize::key;
use super::{Gazetteer, Report, Status, extract};
use crate::model::{Entity, EntityKind, Layer, RelationKind};
use crate::validate::GraphData;

/// Counts for precision and recall.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Score {
    /// Curated records the report supports.
    pub expected: usize,
    /// Proposals.
    pub proposed: usize,
    /// Proposals that match a curated record.
    pub correct: usize,
    /// Curated records some proposal matches.
    pub found: usize,
}

impl Score {
    pub fn precision(&self) -> f64 {
        ratio(self.correct, self.proposed)
    }

    pub fn recall(&self) -> f64 {
        ratio(self.found, self.expected)
    }

    fn add(&mut self, other: Score) {
        self.expected += other.expected;
        self.proposed += other.proposed;
        self.correct += other.correct;
        self.found += other.found;
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 { 0.0 } else { a as f64 / b as f64 }
}

/// The result of a leave-one-out run.
#[derive(Clone, Debug, Default)]
pub struct Evaluation {
    pub entities: BTreeMap<EntityKind, Score>,
    pub relations: BTreeMap<RelationKind, Score>,
    /// Proposals of existing entities matched by name to a curated entity, and how many carry its id.
    pub resolved: (usize, usize),
    /// Relation proposals the gate dropped because their quote was not in the text (must be 0).
    pub invented_quotes: usize,
    pub characters: usize,
    pub elapsed: Duration,
    pub reports: Vec<String>,
}

impl Evaluation {
    /// The ecosystem layer's entities together.
    pub fn ecosystem_entities(&self) -> Score {
        let mut total = Score::default();
        for (kind, score) in &self.entities {
            if kind.layer() == Layer::Ecosystem {
                total.add(*score);
            }
        }
        total
    }

    /// The relation kinds the targets name, together.
    pub fn target_relations(&self) -> Score {
        let mut total = Score::default();
        for (kind, score) in &self.relations {
            if TARGET_RELATIONS.contains(kind) {
                total.add(*score);
            }
        }
        total
    }

    pub fn seconds_per_10k_chars(&self) -> f64 {
        self.elapsed.as_secs_f64() * 10_000.0 / self.characters.max(1) as f64
    }
}

/// The relation kinds issue 13's targets are about.
pub const TARGET_RELATIONS: [RelationKind; 7] = [
    RelationKind::CoBuiltBy,
    RelationKind::LocatedIn,
    RelationKind::Leads,
    RelationKind::ResponsibleFor,
    RelationKind::PartOf,
    RelationKind::ReliesOn,
    RelationKind::CooperatesWith,
];

impl fmt::Display for Evaluation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "leave-one-out over {} reports: {}",
            self.reports.len(),
            self.reports.join(", ")
        )?;
        writeln!(f, "| entities | expected | proposed | precision | recall |")?;
        writeln!(f, "|---|---:|---:|---:|---:|")?;
        let row = |f: &mut fmt::Formatter<'_>, name: &str, s: &Score| {
            writeln!(
                f,
                "| {name} | {} | {} | {:.0} % | {:.0} % |",
                s.expected,
                s.proposed,
                100.0 * s.precision(),
                100.0 * s.recall()
            )
        };
        for (kind, score) in &self.entities {
            row(f, kind.as_str(), score)?;
        }
        row(f, "**ECOSYSTEM layer**", &self.ecosystem_entities())?;
        writeln!(f)?;
        writeln!(
            f,
            "| relations | expected | proposed | precision | recall |"
        )?;
        writeln!(f, "|---|---:|---:|---:|---:|")?;
        for (kind, score) in &self.relations {
            row(f, kind.as_str(), score)?;
        }
        row(f, "**the seven target kinds**", &self.target_relations())?;
        writeln!(f)?;
        writeln!(
            f,
            "existing entities resolved to the right id: {} of {} ({:.0} %)",
            self.resolved.1,
            self.resolved.0,
            100.0 * ratio(self.resolved.1, self.resolved.0)
        )?;
        writeln!(
            f,
            "proposals with a quote not in the text: {}",
            self.invented_quotes
        )?;
        writeln!(
            f,
            "time: {:.3} s for {} characters ({:.3} s per 10,000 characters)",
            self.elapsed.as_secs_f64(),
            self.characters,
            self.seconds_per_10k_chars()
        )
    }
}

/// Runs the leave-one-out evaluation over every source report of `graph` (reference tables aside).
pub fn evaluate_leave_one_out(graph: &GraphData) -> Evaluation {
    let mut evaluation = Evaluation::default();
    let universities: &str = match graph.documents.iter().find(|(d, _)| d.id == "universities") {
        Some((_, text)) => text,
        None => Gazetteer::bundled_universities(),
    };
    for (document, text) in graph.documents.iter().filter(|(d, _)| !d.reference) {
        evaluation.reports.push(document.id.clone());
        let cites =
            |r: &crate::model::Relation| r.evidence.iter().any(|e| e.document == document.id);
        let elsewhere =
            |r: &crate::model::Relation| r.evidence.iter().any(|e| e.document != document.id);
        // Entities known from other reports or tables stay in the gazetteer; the rest are held out.
        let mut known_elsewhere: BTreeSet<&str> = BTreeSet::new();
        let mut cited: BTreeSet<&str> = BTreeSet::new();
        for relation in &graph.relations {
            if elsewhere(relation) {
                known_elsewhere.insert(&relation.source);
                known_elsewhere.insert(&relation.target);
            }
            if cites(relation) {
                cited.insert(&relation.source);
                cited.insert(&relation.target);
            }
        }
        let gazetteer = Gazetteer::new(
            graph
                .entities
                .iter()
                .filter(|e| known_elsewhere.contains(e.id.as_str())),
            universities,
        );
        let report = Report {
            id: document.id.clone(),
            title: document.title.clone(),
            publisher: document.publisher.clone(),
            date: document.date.clone(),
            region: document.region.clone(),
            text: text.clone(),
        };
        let started = Instant::now();
        let proposals = extract(&report, &gazetteer);
        evaluation.elapsed += started.elapsed();
        evaluation.characters += text.chars().count();
        evaluation.invented_quotes += proposals
            .dropped
            .iter()
            .filter(|d| d.why.contains("is not in the text"))
            .count();

        let expected: Vec<&Entity> = graph
            .entities
            .iter()
            .filter(|e| cited.contains(e.id.as_str()))
            .collect();
        let mut by_name: HashMap<String, &Entity> = HashMap::new();
        for entity in &expected {
            for name in entity.names() {
                by_name.entry(key(name)).or_insert(entity);
            }
        }
        // Each proposal's curated counterpart: the same id, else a shared name.
        let mut counterpart: HashMap<&str, &Entity> = HashMap::new();
        for proposal in &proposals.entities {
            let found = expected
                .iter()
                .find(|e| e.id == proposal.id)
                .copied()
                .or_else(|| {
                    std::iter::once(&proposal.name)
                        .chain(&proposal.aliases)
                        .find_map(|n| by_name.get(&key(n)).copied())
                });
            if let Some(entity) = found {
                counterpart.insert(&proposal.id, entity);
                if proposal.status == Status::Existing {
                    evaluation.resolved.0 += 1;
                    if proposal.id == entity.id {
                        evaluation.resolved.1 += 1;
                    }
                }
            }
        }
        let mut found_entities: BTreeSet<&str> = BTreeSet::new();
        for proposal in &proposals.entities {
            let score = evaluation.entities.entry(proposal.kind).or_default();
            score.proposed += 1;
            if let Some(entity) = counterpart.get(proposal.id.as_str())
                && entity.kind == proposal.kind
            {
                score.correct += 1;
                found_entities.insert(&entity.id);
            }
        }
        let debug = std::env::var_os("INNOGRAPH_EXTRACT_DEBUG").is_some();
        if debug {
            for proposal in &proposals.entities {
                let ok = counterpart
                    .get(proposal.id.as_str())
                    .is_some_and(|e| e.kind == proposal.kind);
                if !ok {
                    eprintln!(
                        "{} entity FALSE {} {}",
                        document.id, proposal.kind, proposal.name
                    );
                }
            }
            for entity in &expected {
                if !found_entities.contains(entity.id.as_str()) {
                    eprintln!(
                        "{} entity MISSED {} {}",
                        document.id, entity.kind, entity.name
                    );
                }
            }
        }
        for entity in &expected {
            let score = evaluation.entities.entry(entity.kind).or_default();
            score.expected += 1;
            if found_entities.contains(entity.id.as_str()) {
                score.found += 1;
            }
        }

        let expected_relations: BTreeSet<(&str, RelationKind, &str)> = graph
            .relations
            .iter()
            .filter(|r| cites(r))
            .map(|r| (r.source.as_str(), r.kind, r.target.as_str()))
            .collect();
        let mut found_relations: BTreeSet<(&str, RelationKind, &str)> = BTreeSet::new();
        for relation in &proposals.relations {
            let score = evaluation.relations.entry(relation.kind).or_default();
            score.proposed += 1;
            let (Some(source), Some(target)) = (
                counterpart.get(relation.source.as_str()),
                counterpart.get(relation.target.as_str()),
            ) else {
                if debug {
                    let name = |id: &str| {
                        proposals
                            .entities
                            .iter()
                            .find(|e| e.id == id)
                            .map_or(id.to_owned(), |e| e.name.clone())
                    };
                    eprintln!(
                        "{} relation FALSE* {} {} {} | {}",
                        document.id,
                        name(&relation.source),
                        relation.kind,
                        name(&relation.target),
                        relation.rule
                    );
                }
                continue;
            };
            let forward = (source.id.as_str(), relation.kind, target.id.as_str());
            let backward = (target.id.as_str(), relation.kind, source.id.as_str());
            let hit = if expected_relations.contains(&forward) {
                Some(forward)
            } else if relation.kind.is_symmetric() && expected_relations.contains(&backward) {
                Some(backward)
            } else {
                None
            };
            if let Some(hit) = hit {
                score.correct += 1;
                found_relations.insert(hit);
            } else if debug {
                eprintln!(
                    "{} relation FALSE {} {} {} | {}",
                    document.id, source.name, relation.kind, target.name, relation.rule
                );
            }
        }
        for relation in &expected_relations {
            if debug && !found_relations.contains(relation) {
                let name = |id: &str| {
                    graph
                        .entities
                        .iter()
                        .find(|e| e.id == id)
                        .map_or(id.to_owned(), |e| e.name.clone())
                };
                eprintln!(
                    "{} relation MISSED {} {} {}",
                    document.id,
                    name(relation.0),
                    relation.1,
                    name(relation.2)
                );
            }
            let score = evaluation.relations.entry(relation.1).or_default();
            score.expected += 1;
            if found_relations.contains(relation) {
                score.found += 1;
            }
        }
    }
    evaluation
}
