//! Synthetic innovation ecosystems for benchmarks and scale tests: a full district hierarchy, the kind
//! mix of a national graph, power-law degrees (preferential attachment), institutes with two or three
//! co-builders, a location for everything, and evidence quoting synthetic documents.
//!
//! Deterministic: the same parameters give the same graph, byte for byte.

use std::collections::HashSet;

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

/// Generates a graph. Relation quotes are lines of the synthetic documents, so the result validates.
pub fn generate(params: Params) -> GraphData {
    let mut rng = Rng(params.seed ^ 0x5eed_1e55_0f1a_7e00);
    let mut entities: Vec<Entity> = Vec::with_capacity(params.entities);
    let mut relations: Vec<Relation> = Vec::new();
    let mut seen: HashSet<(u32, RelationKind, u32)> = HashSet::new();
    let documents = params.entities.div_ceil(ENTITIES_PER_DOCUMENT).max(1);
    let mut lines: Vec<Vec<String>> = vec![Vec::new(); documents];

    // Districts: provinces, prefecture cities, counties; about 3,000 at a million entities.
    let (provinces, cities, counties) = district_shape(params.entities);
    let mut leaf_districts: Vec<u32> = Vec::new();
    for p in 0..provinces {
        let province_code = format!("{:02}0000", 11 + p);
        let province = push_district(&mut entities, &province_code, DistrictLevel::Province);
        for c in 0..cities {
            let city_code = format!("{:02}{:02}00", 11 + p, 1 + c);
            let city = push_district(&mut entities, &city_code, DistrictLevel::PrefectureCity);
            let row = format!("{city_code}\tcity {city_code}\tPREFECTURE_CITY\t{province_code}");
            add(
                &mut relations,
                &mut seen,
                &mut lines,
                &entities,
                city,
                RelationKind::LocatedIn,
                province,
                row,
            );
            for k in 0..counties {
                let county_code = format!("{:02}{:02}{:02}", 11 + p, 1 + c, 1 + k);
                let county = push_district(&mut entities, &county_code, DistrictLevel::County);
                let row = format!("{county_code}\tcounty {county_code}\tCOUNTY\t{city_code}");
                add(
                    &mut relations,
                    &mut seen,
                    &mut lines,
                    &entities,
                    county,
                    RelationKind::LocatedIn,
                    city,
                    row,
                );
                leaf_districts.push(county);
            }
        }
    }

    // Other entities, by kind mix; each located in a county (popular counties attract more).
    let mut by_kind: Vec<(EntityKind, Vec<u32>)> =
        MIX.iter().map(|&(k, _)| (k, Vec::new())).collect();
    let mut located_targets: Vec<u32> = leaf_districts.clone();
    while entities.len() < params.entities {
        let roll = rng.below(1000) as u32;
        let mut acc = 0;
        let slot = MIX.iter().position(|&(_, share)| {
            acc += share;
            roll < acc
        });
        let slot = slot.unwrap_or(0);
        let kind = MIX[slot].0;
        let id = entities.len() as u32;
        entities.push(entity(id, kind));
        by_kind[slot].1.push(id);
        let county = located_targets[rng.below(located_targets.len())];
        // Organisations are located in a district; programmes apply to one.
        let (relation, verb) = if kind.layer() == crate::model::Layer::Policy {
            (RelationKind::AppliesTo, "适用于")
        } else {
            (RelationKind::LocatedIn, "位于")
        };
        let sentence = format!(
            "{} {verb} {}",
            entities[id as usize].name, entities[county as usize].name
        );
        add(
            &mut relations,
            &mut seen,
            &mut lines,
            &entities,
            id,
            relation,
            county,
            sentence,
        );
        located_targets.push(county);
    }
    let of = |kind: EntityKind| -> &Vec<u32> {
        &by_kind
            .iter()
            .find(|(k, _)| *k == kind)
            .expect("every kind")
            .1
    };
    let universities = of(EntityKind::University).clone();
    let governments = of(EntityKind::Government).clone();
    let enterprises = of(EntityKind::Enterprise).clone();
    let institutes = of(EntityKind::ResearchInstitute).clone();
    let labs = of(EntityKind::Lab).clone();
    let alliances = of(EntityKind::Alliance).clone();
    let platforms = of(EntityKind::Platform).clone();
    let initiatives = of(EntityKind::Program).clone();

    // Preferential attachment: a pool holding each entity once per relation it has.
    let mut pool: Vec<u32> = relations.iter().map(|r| index_of(&r.target)).collect();
    let pick = |rng: &mut Rng,
                candidates: &[u32],
                pool: &[u32],
                kind: EntityKind,
                entities: &[Entity]|
     -> Option<u32> {
        if candidates.is_empty() {
            return None;
        }
        // Half the time follow popularity, half the time uniformly: a heavy tail without starving anyone.
        if rng.chance(0.5) && !pool.is_empty() {
            for _ in 0..8 {
                let candidate = pool[rng.below(pool.len())];
                if entities[candidate as usize].kind == kind {
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
            if let Some(builder) = pick(&mut rng, list, &pool, kind, &entities) {
                let sentence = format!(
                    "{} 由 {} 联合共建",
                    entities[institute as usize].name, entities[builder as usize].name
                );
                if add(
                    &mut relations,
                    &mut seen,
                    &mut lines,
                    &entities,
                    institute,
                    RelationKind::CoBuiltBy,
                    builder,
                    sentence,
                ) {
                    pool.push(builder);
                }
            }
        }
    }
    for &lab in &labs {
        if let Some(base) = pick(
            &mut rng,
            &institutes,
            &pool,
            EntityKind::ResearchInstitute,
            &entities,
        ) {
            let sentence = format!(
                "{} 依托 {} 建设",
                entities[lab as usize].name, entities[base as usize].name
            );
            if add(
                &mut relations,
                &mut seen,
                &mut lines,
                &entities,
                lab,
                RelationKind::ReliesOn,
                base,
                sentence,
            ) {
                pool.push(base);
            }
        }
    }
    // Fill up to the requested number of relations with a mix of the other kinds.
    let target = (params.entities as f64 * params.relations_per_entity) as usize;
    let mut attempts = 0usize;
    while relations.len() < target && attempts < target * 4 {
        attempts += 1;
        let (kind, sources, targets, target_kind, verb) = match rng.below(6) {
            0 => (
                RelationKind::CooperatesWith,
                &enterprises,
                &enterprises,
                EntityKind::Enterprise,
                "与",
            ),
            1 => (
                RelationKind::CooperatesWith,
                &enterprises,
                &universities,
                EntityKind::University,
                "与",
            ),
            2 => (
                RelationKind::MemberOf,
                &enterprises,
                &alliances,
                EntityKind::Alliance,
                "加入",
            ),
            3 => (
                RelationKind::ResponsibleFor,
                &governments,
                &initiatives,
                EntityKind::Program,
                "牵头",
            ),
            4 => (
                RelationKind::PartOf,
                &institutes,
                &platforms,
                EntityKind::Platform,
                "属于",
            ),
            _ => (
                RelationKind::Supports,
                &governments,
                &platforms,
                EntityKind::Platform,
                "支持",
            ),
        };
        if sources.is_empty() {
            continue;
        }
        let source = sources[rng.below(sources.len())];
        let Some(other) = pick(&mut rng, targets, &pool, target_kind, &entities) else {
            continue;
        };
        let sentence = format!(
            "{} {verb} {}",
            entities[source as usize].name, entities[other as usize].name
        );
        if add(
            &mut relations,
            &mut seen,
            &mut lines,
            &entities,
            source,
            kind,
            other,
            sentence,
        ) {
            pool.push(other);
            pool.push(source);
        }
    }

    let documents = lines
        .into_iter()
        .enumerate()
        .map(|(i, lines)| {
            let document = Document {
                id: format!("synthetic-{i:05}"),
                title: format!("合成文档 {i}"),
                title_en: Some(format!("Synthetic document {i}")),
                publisher: Some("innograph generator".to_owned()),
                date: Some(format!("{}", 2015 + i % 10)),
                region: None,
                index_no: None,
                file: format!("sources/synthetic-{i:05}.txt"),
                reference: false,
            };
            let mut text = lines.join("\n");
            text.push('\n');
            (document, text)
        })
        .collect();
    GraphData {
        documents,
        entities,
        relations,
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

fn push_district(entities: &mut Vec<Entity>, code: &str, level: DistrictLevel) -> u32 {
    let id = entities.len() as u32;
    let mut district = entity(id, EntityKind::District);
    district.name = format!("区划{code}");
    district.district_code = Some(code.to_owned());
    district.district_level = Some(level);
    entities.push(district);
    id
}

fn entity(index: u32, kind: EntityKind) -> Entity {
    let prefix = kind.as_str().to_ascii_lowercase().replace('_', "-");
    let mut entity = Entity::new(
        format!("{prefix}-{index:07}"),
        kind,
        format!("{}{index}", chinese(kind)),
    );
    entity.name_en = Some(format!(
        "Synthetic {} {index}",
        kind.as_str().to_ascii_lowercase()
    ));
    entity
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

fn index_of(id: &str) -> u32 {
    id.rsplit('-')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

/// Adds a relation unless it exists already; its evidence is `sentence`, written into the document of
/// the source entity's block. Returns whether it was added.
#[allow(clippy::too_many_arguments)]
fn add(
    relations: &mut Vec<Relation>,
    seen: &mut HashSet<(u32, RelationKind, u32)>,
    lines: &mut [Vec<String>],
    entities: &[Entity],
    source: u32,
    kind: RelationKind,
    target: u32,
    sentence: String,
) -> bool {
    if source == target || !seen.insert((source, kind, target)) {
        return false;
    }
    if kind.is_symmetric() && seen.contains(&(target, kind, source)) {
        return false;
    }
    let document = (source as usize / ENTITIES_PER_DOCUMENT).min(lines.len() - 1);
    let quote = format!("{}。", sentence);
    lines[document].push(quote.clone());
    relations.push(Relation {
        kind,
        source: entities[source as usize].id.clone(),
        target: entities[target as usize].id.clone(),
        year: None,
        evidence: vec![Evidence {
            document: format!("synthetic-{document:05}"),
            quote,
            basis: crate::model::Basis::Stated,
        }],
    });
    true
}

#[cfg(test)]
mod tests {
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
