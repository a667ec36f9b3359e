//! The bundled seed: valid, evidenced, complete in the ways a test can check.

use std::collections::{BTreeMap, HashMap};

use innograph::model::{DistrictLevel, EntityKind, RelationKind};
use innograph::seed;
use innograph::validate::{GraphData, validate_seed};
use sha2::{Digest, Sha256};

fn bundled() -> GraphData {
    let report = validate_seed(&seed::parse(&seed::bundled()));
    let problems: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert!(
        report.graph.is_some(),
        "the bundled seed does not validate:\n{}",
        problems.join("\n")
    );
    report.graph.unwrap()
}

#[test]
fn validates_without_errors_or_warnings() {
    let report = validate_seed(&seed::parse(&seed::bundled()));
    let findings: Vec<String> = report.diagnostics.iter().map(ToString::to_string).collect();
    assert!(findings.is_empty(), "{}", findings.join("\n"));
}

#[test]
fn the_sources_are_the_published_texts_byte_for_byte() {
    let files = seed::bundled();
    let sums = String::from_utf8(files.files["sources/SHA256SUMS"].clone()).unwrap();
    let mut checked = 0;
    for line in sums.lines() {
        let (sum, name) = line.split_once("  ").expect("`SUM  NAME` lines");
        let bytes = &files.files[&format!("sources/{name}")];
        let actual: String = Sha256::digest(bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(actual, sum, "{name} differs from the published text");
        checked += 1;
    }
    assert_eq!(checked, 5);
}

#[test]
fn every_source_is_a_document_and_every_document_is_cited() {
    let graph = bundled();
    let mut cited: BTreeMap<&str, usize> = graph
        .documents
        .iter()
        .map(|(d, _)| (d.id.as_str(), 0))
        .collect();
    for relation in &graph.relations {
        for evidence in &relation.evidence {
            *cited.get_mut(evidence.document.as_str()).unwrap() += 1;
        }
    }
    assert_eq!(
        graph
            .documents
            .iter()
            .filter(|(d, _)| d.file.starts_with("sources/"))
            .count(),
        5
    );
    for (document, count) in cited {
        assert!(count > 0, "document {document} supports no relation");
    }
}

#[test]
fn every_entity_has_a_relation_and_names_are_unique() {
    let graph = bundled();
    let mut degree: HashMap<&str, usize> = HashMap::new();
    for relation in &graph.relations {
        *degree.entry(&relation.source).or_default() += 1;
        *degree.entry(&relation.target).or_default() += 1;
    }
    let mut owner: HashMap<String, &str> = HashMap::new();
    for entity in &graph.entities {
        assert!(
            degree.contains_key(entity.id.as_str()),
            "{} has no relation",
            entity.id
        );
        assert!(
            entity.name_en.is_some(),
            "{} has no English name",
            entity.id
        );
        assert!(
            entity.description.is_some(),
            "{} has no description",
            entity.id
        );
        for name in std::iter::once(&entity.name).chain(&entity.aliases) {
            if let Some(other) = owner.insert(name.clone(), &entity.id) {
                assert_eq!(
                    other, entity.id,
                    "«{name}» names both {other} and {}",
                    entity.id
                );
            }
        }
    }
}

#[test]
fn districts_have_valid_codes_and_nest_in_their_parents() {
    let graph = bundled();
    let table = String::from_utf8(seed::bundled().files["reference/gbt2260.tsv"].clone()).unwrap();
    let rows: HashMap<&str, Vec<&str>> = table
        .lines()
        .skip(1)
        .map(|l| (l.split('\t').next().unwrap(), l.split('\t').collect()))
        .collect();
    let by_id: HashMap<&str, _> = graph.entities.iter().map(|e| (e.id.as_str(), e)).collect();
    let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
    for relation in graph
        .relations
        .iter()
        .filter(|r| r.kind == RelationKind::LocatedIn)
    {
        let (source, target) = (
            by_id[relation.source.as_str()],
            by_id[relation.target.as_str()],
        );
        if source.kind == EntityKind::District && target.kind == EntityKind::District {
            parents.entry(&source.id).or_default().push(&target.id);
        }
    }
    let districts: Vec<_> = graph
        .entities
        .iter()
        .filter(|e| e.kind == EntityKind::District)
        .collect();
    assert!(districts.len() >= 30, "only {} districts", districts.len());
    for district in districts {
        let code = district.district_code.as_deref().expect("a code");
        assert!(
            code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()),
            "{}: {code}",
            district.id
        );
        let row = rows
            .get(code)
            .unwrap_or_else(|| panic!("{} ({code}) is not in the reference table", district.id));
        assert_eq!(
            row[1], district.name,
            "{code}: the table names it {}",
            row[1]
        );
        let top = matches!(
            district.district_level,
            Some(DistrictLevel::Province | DistrictLevel::Municipality)
        );
        let found = parents
            .get(district.id.as_str())
            .cloned()
            .unwrap_or_default();
        if top {
            assert!(
                found.is_empty(),
                "{} is top-level but lies in {found:?}",
                district.id
            );
            assert!(code.ends_with("0000"), "{}: {code}", district.id);
        } else {
            assert_eq!(
                found.len(),
                1,
                "{} should lie in exactly one district, lies in {found:?}",
                district.id
            );
            let parent = by_id[found[0]];
            let prefix = parent
                .district_code
                .as_deref()
                .unwrap()
                .trim_end_matches("00");
            assert!(
                code.starts_with(prefix),
                "{} ({code}) in {} ({prefix})",
                district.id,
                parent.id
            );
            assert_eq!(
                row[3],
                parent.district_code.as_deref().unwrap(),
                "{code}: parent in the table"
            );
        }
    }
}
