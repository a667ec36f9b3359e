//! Synthetic innovation ecosystems for benchmarks and scale tests: a full district hierarchy, the kind
//! mix of a national graph, power-law degrees (preferential attachment), institutes with two or three
//! co-builders, a location for everything, and evidence quoting synthetic documents.
//!
//! Deterministic: the same parameters give the same graph, byte for byte.

use std::io::{self, Write};

use rustc_hash::FxHashSet;

use crate::interchange;
use crate::model::{DistrictLevel, Document, Entity, EntityKind, Evidence, Relation, RelationKind};
use crate::validate::GraphData;

/// What to generate.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Entities in total, districts included.
    pub entities: usize,
    /// Relations per entity, on average (the district hierarchy included).
    pub relations_per_entity: f64,
    pub seed: u64,
}

/// SplitMix64: small, fast, and good enough for synthetic data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

/// The kind mix of non-district entities, in parts per thousand.
const MIX: [(EntityKind, u32); 9] = [
    (EntityKind::Enterprise, 470),
    (EntityKind::ResearchInstitute, 140),
    (EntityKind::Program, 120),
    (EntityKind::Lab, 80),
    (EntityKind::Platform, 80),
    (EntityKind::Government, 50),
    (EntityKind::University, 30),
    (EntityKind::Alliance, 20),
    (EntityKind::Facility, 10),
];

/// How many entities one synthetic document covers.
const ENTITIES_PER_DOCUMENT: usize = 2_000;

/// A generated graph, compact: an entity is its index (its id, name and record follow from its kind
/// and index), a relation is (source, kind, target) (its quote follows from those). A million
/// entities and five million relations take about 70 MB; [`Synthetic::write_jsonl`] writes the
/// JSON Lines export from it record by record.
pub struct Synthetic {
    kinds: Vec<EntityKind>,
    /// Code and level of each district; districts are the first entities.
    districts: Vec<(String, DistrictLevel)>,
    /// In the order generated, which is the order of the quotes within each document.
    relations: Vec<(u32, RelationKind, u32)>,
    documents: usize,
}

/// Generates a graph. Relation quotes are lines of the synthetic documents, so the result validates.
pub fn generate(params: Params) -> GraphData {
    Synthetic::generate(params).graph()
}

impl Synthetic {
    /// Generates a graph (deterministic in `params`).
    pub fn generate(params: Params) -> Synthetic {
        let mut rng = Rng(params.seed ^ 0x5eed_1e55_0f1a_7e00);
        let mut graph = Synthetic {
            kinds: Vec::with_capacity(params.entities),
            districts: Vec::new(),
            relations: Vec::new(),
            documents: params.entities.div_ceil(ENTITIES_PER_DOCUMENT).max(1),
        };
        let mut seen: FxHashSet<(u32, RelationKind, u32)> = FxHashSet::default();

        // Districts: provinces, prefecture cities, counties; about 3,000 at a million entities.
        let (provinces, cities, counties) = district_shape(params.entities);
        let mut leaf_districts: Vec<u32> = Vec::new();
        for p in 0..provinces {
            let province_code = format!("{:02}0000", 11 + p);
            let province = graph.push_district(province_code, DistrictLevel::Province);
            for c in 0..cities {
                let city_code = format!("{:02}{:02}00", 11 + p, 1 + c);
                let city = graph.push_district(city_code, DistrictLevel::PrefectureCity);
                graph.add(&mut seen, city, RelationKind::LocatedIn, province);
                for k in 0..counties {
                    let county_code = format!("{:02}{:02}{:02}", 11 + p, 1 + c, 1 + k);
                    let county = graph.push_district(county_code, DistrictLevel::County);
                    graph.add(&mut seen, county, RelationKind::LocatedIn, city);
                    leaf_districts.push(county);
                }
            }
        }

        // Other entities, by kind mix; each located in a county (popular counties attract more).
        let mut by_kind: Vec<(EntityKind, Vec<u32>)> =
            MIX.iter().map(|&(k, _)| (k, Vec::new())).collect();
        let mut located_targets: Vec<u32> = leaf_districts.clone();
        while graph.kinds.len() < params.entities {
            let roll = rng.below(1000) as u32;
            let mut acc = 0;
            let slot = MIX.iter().position(|&(_, share)| {
                acc += share;
                roll < acc
            });
            let slot = slot.unwrap_or(0);
            let kind = MIX[slot].0;
            let id = graph.kinds.len() as u32;
            graph.kinds.push(kind);
            by_kind[slot].1.push(id);
            let county = located_targets[rng.below(located_targets.len())];
            // Organisations are located in a district; programmes apply to one.
            let relation = if kind.layer() == crate::model::Layer::Policy {
                RelationKind::AppliesTo
            } else {
                RelationKind::LocatedIn
            };
            graph.add(&mut seen, id, relation, county);
            located_targets.push(county);
        }
        let of = |kind: EntityKind| -> Vec<u32> {
            by_kind
                .iter()
                .find(|(k, _)| *k == kind)
                .map(|(_, ids)| ids.clone())
                .unwrap_or_default()
        };
        let universities = of(EntityKind::University);
        let governments = of(EntityKind::Government);
        let enterprises = of(EntityKind::Enterprise);
        let institutes = of(EntityKind::ResearchInstitute);
        let labs = of(EntityKind::Lab);
        let alliances = of(EntityKind::Alliance);
        let platforms = of(EntityKind::Platform);
        let initiatives = of(EntityKind::Program);
        drop(by_kind);

        // Preferential attachment: a pool holding each entity once per relation it has.
        let mut pool: Vec<u32> = graph.relations.iter().map(|r| r.2).collect();
        let pick = |rng: &mut Rng,
                    candidates: &[u32],
                    pool: &[u32],
                    kind: EntityKind,
                    kinds: &[EntityKind]|
         -> Option<u32> {
            if candidates.is_empty() {
                return None;
            }
            // Half the time follow popularity, half the time uniformly: a heavy tail without starving anyone.
            if rng.chance(0.5) && !pool.is_empty() {
                for _ in 0..8 {
                    let candidate = pool[rng.below(pool.len())];
                    if kinds[candidate as usize] == kind {
                        return Some(candidate);
                    }
                }
            }
            Some(candidates[rng.below(candidates.len())])
        };
        for &institute in &institutes {
            let builders = 2 + rng.below(2);
            for _ in 0..builders {
                let kind = [
                    EntityKind::University,
                    EntityKind::Government,
                    EntityKind::Enterprise,
                ][rng.below(3)];
                let list = match kind {
                    EntityKind::University => &universities,
                    EntityKind::Government => &governments,
                    _ => &enterprises,
                };
                if let Some(builder) = pick(&mut rng, list, &pool, kind, &graph.kinds)
                    && graph.add(&mut seen, institute, RelationKind::CoBuiltBy, builder)
                {
                    pool.push(builder);
                }
            }
        }
        for &lab in &labs {
            if let Some(base) = pick(
                &mut rng,
                &institutes,
                &pool,
                EntityKind::ResearchInstitute,
                &graph.kinds,
            ) && graph.add(&mut seen, lab, RelationKind::ReliesOn, base)
            {
                pool.push(base);
            }
        }
        // Fill up to the requested number of relations with a mix of the other kinds.
        let target = (params.entities as f64 * params.relations_per_entity) as usize;
        let mut attempts = 0usize;
        while graph.relations.len() < target && attempts < target * 4 {
            attempts += 1;
            let (kind, sources, targets, target_kind) = match rng.below(6) {
                0 => (
                    RelationKind::CooperatesWith,
                    &enterprises,
                    &enterprises,
                    EntityKind::Enterprise,
                ),
                1 => (
                    RelationKind::CooperatesWith,
                    &enterprises,
                    &universities,
                    EntityKind::University,
                ),
                2 => (
                    RelationKind::MemberOf,
                    &enterprises,
                    &alliances,
                    EntityKind::Alliance,
                ),
                3 => (
                    RelationKind::ResponsibleFor,
                    &governments,
                    &initiatives,
                    EntityKind::Program,
                ),
                4 => (
                    RelationKind::PartOf,
                    &institutes,
                    &platforms,
                    EntityKind::Platform,
                ),
                _ => (
                    RelationKind::Supports,
                    &governments,
                    &platforms,
                    EntityKind::Platform,
                ),
            };
            if sources.is_empty() {
                continue;
            }
            let source = sources[rng.below(sources.len())];
            let Some(other) = pick(&mut rng, targets, &pool, target_kind, &graph.kinds) else {
                continue;
            };
            if graph.add(&mut seen, source, kind, other) {
                pool.push(other);
                pool.push(source);
            }
        }
        graph
    }

    /// The whole graph as records: entities in index order, relations in the order generated.
    pub fn graph(&self) -> GraphData {
        GraphData {
            documents: self
                .texts()
                .enumerate()
                .map(|(i, text)| (document(i), text))
                .collect(),
            entities: (0..self.kinds.len() as u32)
                .map(|i| self.entity(i))
                .collect(),
            relations: self.relations.iter().map(|&r| self.relation(r)).collect(),
        }
    }

    /// Writes the graph as [`interchange`](crate::interchange) JSON Lines, exactly the bytes the
    /// export of [`Synthetic::graph`], sorted, would give, holding one record at a time. Returns
    /// (documents, entities, relations) written.
    pub fn write_jsonl(mut self, out: &mut dyn Write) -> io::Result<(usize, usize, usize)> {
        let counts = (self.documents, self.kinds.len(), self.relations.len());
        for (i, text) in self.texts().enumerate() {
            interchange::write_document_line(out, &document(i), &text)?;
        }
        // The export's order is by id; ids are `{kind}-{index:07}`, so no id is a prefix of
        // another and relation ids `SOURCE/KIND/TARGET` order as (source id, kind, target id).
        let mut by_id: Vec<u32> = (0..self.kinds.len() as u32).collect();
        by_id.sort_by_cached_key(|&i| self.id(i));
        let mut rank = vec![0u32; by_id.len()];
        for (position, &i) in by_id.iter().enumerate() {
            rank[i as usize] = position as u32;
        }
        for &i in &by_id {
            interchange::write_entity_line(out, &self.entity(i))?;
        }
        drop(by_id);
        let mut relations = std::mem::take(&mut self.relations);
        relations.sort_unstable_by_key(|&(source, kind, target)| {
            (rank[source as usize], kind.as_str(), rank[target as usize])
        });
        for &relation in &relations {
            interchange::write_relation_line(out, &self.relation(relation))?;
        }
        Ok(counts)
    }

    fn push_district(&mut self, code: String, level: DistrictLevel) -> u32 {
        let id = self.kinds.len() as u32;
        self.kinds.push(EntityKind::District);
        self.districts.push((code, level));
        id
    }

    /// Adds a relation unless it exists already. Returns whether it was added.
    fn add(
        &mut self,
        seen: &mut FxHashSet<(u32, RelationKind, u32)>,
        source: u32,
        kind: RelationKind,
        target: u32,
    ) -> bool {
        if source == target || !seen.insert((source, kind, target)) {
            return false;
        }
        if kind.is_symmetric() && seen.contains(&(target, kind, source)) {
            return false;
        }
        self.relations.push((source, kind, target));
        true
    }

    /// Each document's text, one at a time: the quotes of the relations whose source is in its
    /// block of entities, one a line, in the order generated.
    fn texts(&self) -> impl Iterator<Item = String> + '_ {
        // Relations ordered by document, stably (a counting sort): 4 bytes a relation.
        let mut starts = vec![0usize; self.documents + 1];
        for &(source, _, _) in &self.relations {
            starts[self.document_of(source) + 1] += 1;
        }
        for i in 1..starts.len() {
            starts[i] += starts[i - 1];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; self.relations.len()];
        for (i, &(source, _, _)) in self.relations.iter().enumerate() {
            let slot = &mut next[self.document_of(source)];
            order[*slot] = i as u32;
            *slot += 1;
        }
        (0..self.documents).map(move |document| {
            let mut text = String::new();
            for &i in &order[starts[document]..starts[document + 1]] {
                text.push_str(&self.quote(self.relations[i as usize]));
                text.push('\n');
            }
            if text.is_empty() {
                text.push('\n');
            }
            text
        })
    }

    fn document_of(&self, source: u32) -> usize {
        (source as usize / ENTITIES_PER_DOCUMENT).min(self.documents - 1)
    }

    fn id(&self, index: u32) -> String {
        let kind = self.kinds[index as usize];
        let prefix = kind.as_str().to_ascii_lowercase().replace('_', "-");
        format!("{prefix}-{index:07}")
    }

    fn name(&self, index: u32) -> String {
        match self.districts.get(index as usize) {
            Some((code, _)) => format!("区划{code}"),
            None => format!("{}{index}", chinese(self.kinds[index as usize])),
        }
    }

    fn entity(&self, index: u32) -> Entity {
        let kind = self.kinds[index as usize];
        let mut entity = Entity::new(self.id(index), kind, self.name(index));
        entity.name_en = Some(format!(
            "Synthetic {} {index}",
            kind.as_str().to_ascii_lowercase()
        ));
        if let Some((code, level)) = self.districts.get(index as usize) {
            entity.district_code = Some(code.clone());
            entity.district_level = Some(*level);
        }
        entity
    }

    /// The line of a document that states the relation.
    fn quote(&self, (source, kind, target): (u32, RelationKind, u32)) -> String {
        let sentence = match (self.districts.get(source as usize), kind) {
            // A district's location is a row of the division-code table.
            (Some((code, level)), _) => {
                let (word, level) = match level {
                    DistrictLevel::PrefectureCity => ("city", "PREFECTURE_CITY"),
                    _ => ("county", "COUNTY"),
                };
                let parent = self.districts.get(target as usize).map_or("", |d| &d.0);
                format!("{code}\t{word} {code}\t{level}\t{parent}")
            }
            (None, RelationKind::CoBuiltBy) => {
                format!("{} 由 {} 联合共建", self.name(source), self.name(target))
            }
            (None, RelationKind::ReliesOn) => {
                format!("{} 依托 {} 建设", self.name(source), self.name(target))
            }
            (None, kind) => {
                let verb = match kind {
                    RelationKind::AppliesTo => "适用于",
                    RelationKind::LocatedIn => "位于",
                    RelationKind::CooperatesWith => "与",
                    RelationKind::MemberOf => "加入",
                    RelationKind::ResponsibleFor => "牵头",
                    RelationKind::PartOf => "属于",
                    _ => "支持",
                };
                format!("{} {verb} {}", self.name(source), self.name(target))
            }
        };
        format!("{sentence}。")
    }

    fn relation(&self, relation: (u32, RelationKind, u32)) -> Relation {
        let (source, kind, target) = relation;
        Relation {
            kind,
            source: self.id(source),
            target: self.id(target),
            year: None,
            evidence: vec![Evidence {
                document: format!("synthetic-{:05}", self.document_of(source)),
                quote: self.quote(relation),
                basis: crate::model::Basis::Stated,
            }],
        }
    }
}

/// The `i`th synthetic document.
fn document(i: usize) -> Document {
    Document {
        id: format!("synthetic-{i:05}"),
        title: format!("合成文档 {i}"),
        title_en: Some(format!("Synthetic document {i}")),
        publisher: Some("innograph generator".to_owned()),
        date: Some(format!("{}", 2015 + i % 10)),
        region: None,
        index_no: None,
        file: format!("sources/synthetic-{i:05}.txt"),
        reference: false,
    }
}

/// Provinces, cities per province and counties per city for a graph of `entities`.
fn district_shape(entities: usize) -> (usize, usize, usize) {
    match entities {
        0..=2_000 => (2, 3, 4),
        2_001..=20_000 => (10, 6, 6),
        20_001..=200_000 => (34, 8, 6),
        _ => (34, 10, 8),
    }
}

fn chinese(kind: EntityKind) -> &'static str {
    match kind {
        EntityKind::University => "大学",
        EntityKind::ResearchInstitute => "研究院",
        EntityKind::Lab => "实验室",
        EntityKind::Enterprise => "企业",
        EntityKind::Government => "政府部门",
        EntityKind::District => "区划",
        EntityKind::Platform => "平台",
        EntityKind::Facility => "装置",
        EntityKind::Alliance => "联盟",
        EntityKind::Program => "计划",
        EntityKind::Policy => "政策",
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn small_graphs_are_deterministic_connected_to_districts_and_sized() {
        let params = Params {
            entities: 3_000,
            relations_per_entity: 5.0,
            seed: 7,
        };
        let a = generate(params);
        let b = generate(params);
        assert_eq!(a, b);
        assert_eq!(a.entities.len(), 3_000);
        let relations = a.relations.len() as f64;
        assert!(
            (relations / 3_000.0 - 5.0).abs() < 0.5,
            "{relations} relations"
        );
        let located: HashSet<&str> = a
            .relations
            .iter()
            .filter(|r| matches!(r.kind, RelationKind::LocatedIn | RelationKind::AppliesTo))
            .map(|r| r.source.as_str())
            .collect();
        let provinces = a
            .entities
            .iter()
            .filter(|e| e.district_level == Some(DistrictLevel::Province))
            .count();
        assert_eq!(
            located.len(),
            a.entities.len() - provinces,
            "everything but provinces is located (or, in the policy layer, applies to a place)"
        );
        let institutes_with_builders: HashSet<&str> = a
            .relations
            .iter()
            .filter(|r| r.kind == RelationKind::CoBuiltBy)
            .map(|r| r.source.as_str())
            .collect();
        let institutes = a
            .entities
            .iter()
            .filter(|e| e.kind == EntityKind::ResearchInstitute)
            .count();
        assert_eq!(institutes_with_builders.len(), institutes);
    }

    #[test]
    fn the_streamed_export_is_the_sorted_export_of_the_graph_and_deterministic() {
        for (entities, seed) in [(1, 3), (2_500, 7), (25_000, 42)] {
            let params = Params {
                entities,
                relations_per_entity: 5.0,
                seed,
            };
            let mut graph = generate(params);
            graph.sort();
            let mut exported = Vec::new();
            interchange::export(&graph, interchange::Format::JsonLines, &mut exported)
                .expect("export");
            let streamed = |params| {
                let mut bytes = Vec::new();
                Synthetic::generate(params)
                    .write_jsonl(&mut bytes)
                    .expect("write");
                bytes
            };
            let first = streamed(params);
            assert!(first == exported, "{entities} entities, seed {seed}");
            assert!(first == streamed(params), "same seed, same bytes");
        }
    }

    #[test]
    fn a_generated_graph_validates() {
        let graph = generate(Params {
            entities: 500,
            relations_per_entity: 4.0,
            seed: 1,
        });
        let texts: std::collections::HashMap<&str, &str> = graph
            .documents
            .iter()
            .map(|(d, t)| (d.id.as_str(), t.as_str()))
            .collect();
        for relation in &graph.relations {
            let problems = crate::validate::check_relation(relation, |id, quote| {
                texts
                    .get(id)
                    .map(|text| crate::model::quote_occurs_in(quote, text))
            });
            assert!(problems.is_empty(), "{problems:?}");
        }
        let located: Vec<(usize, Entity)> = graph.entities.iter().cloned().enumerate().collect();
        let related: Vec<(usize, Relation)> = graph.relations.iter().cloned().enumerate().collect();
        let problems = crate::validate::check_graph(&located, &related, &[]);
        assert!(
            problems.is_empty(),
            "{:?}",
            problems.iter().take(5).map(|p| &p.1).collect::<Vec<_>>()
        );
    }
}
