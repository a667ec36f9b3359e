//! Property tests: no input makes the seed reader, the import readers or the editing API panic, and
//! a refused edit changes nothing.

use innograph::db::Db;
use innograph::edit::{self, Actor};
use innograph::interchange;
use innograph::model::{Entity, EntityKind, Evidence, Relation, RelationKind};
use innograph::seed::{self, SeedFiles};
use innograph::validate::validate_seed;
use proptest::prelude::*;

use crate::support::mini_seed;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    /// Any bytes as a seed file: parsed and validated, or reported, never a panic.
    #[test]
    fn any_seed_file_is_judged_without_panicking(bytes in proptest::collection::vec(any::<u8>(), 0..400), text in "\\PC{0,200}") {
        for content in [bytes.clone(), text.clone().into_bytes(), format!("[[entity]]\n{text}").into_bytes()] {
            let mut files = SeedFiles::from_dir(&mini_seed()).unwrap();
            files.files.insert("graph/fuzz.toml".to_owned(), content);
            let report = validate_seed(&seed::parse(&files));
            // Whatever it says, it says where.
            for diagnostic in &report.diagnostics {
                prop_assert!(!diagnostic.location.file.is_empty());
            }
        }
    }

    /// Any text as JSON Lines or CSV: read into records or syntax errors with a line, never a panic.
    #[test]
    fn any_import_text_is_read_without_panicking(text in "\\PC{0,300}", line in "\\{\"type\":\"(entity|relation|document)\"[^\\n]{0,80}\\}") {
        let input = format!("{text}\n{line}\n");
        let seed = interchange::read_jsonl("fuzz.jsonl", input.as_bytes(), |_| {});
        let _ = validate_seed(&seed);
        let seed = interchange::read_csv("n.csv", input.as_bytes(), "e.csv", text.as_bytes(), &[]);
        let _ = validate_seed(&seed);
    }
}

fn db_with_mini() -> (tempfile::TempDir, Db) {
    let dir = tempfile::tempdir().unwrap();
    let graph = validate_seed(&seed::parse(&SeedFiles::from_dir(&mini_seed()).unwrap()))
        .graph
        .unwrap();
    let db = Db::open(dir.path()).unwrap();
    db.import(&graph).unwrap();
    (dir, db)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Arbitrary edits: each is applied or refused; a refused one changes nothing; the index always
    /// equals the store.
    #[test]
    fn arbitrary_edits_keep_the_graph_consistent(
        ids in proptest::collection::vec("[a-z]{1,3}(-[a-z0-9]{1,3})?|[A-Z ]{1,3}", 1..6),
        names in proptest::collection::vec("\\PC{0,6}", 1..6),
        quotes in proptest::collection::vec(prop_oneof![Just("位于上虞区".to_owned()), Just("复旦大学".to_owned()), "\\PC{0,8}"], 1..6),
        kinds in proptest::collection::vec(0usize..10, 1..6),
    ) {
        let (_dir, db) = db_with_mini();
        let actor = Actor("fuzz".to_owned());
        let existing = ["shangyu-district", "zhejiang-university", "cao-e-river-laboratory"];
        for (i, id) in ids.iter().enumerate() {
            let before = db.read().canonical();
            let entity = Entity::new(id.clone(), EntityKind::ALL[kinds[i % kinds.len()]], names[i % names.len()].clone());
            if edit::create_entity(&db, &actor, entity).is_err() {
                prop_assert_eq!(&db.read().canonical(), &before);
            }
            let before = db.read().canonical();
            let relation = Relation {
                kind: RelationKind::ALL[kinds[i % kinds.len()]],
                source: id.clone(),
                target: existing[i % existing.len()].to_owned(),
                year: None,
                evidence: vec![Evidence { document: "mini".to_owned(), quote: quotes[i % quotes.len()].clone(), basis: innograph::model::Basis::Stated }],
            };
            if edit::create_relation(&db, &actor, relation).is_err() {
                prop_assert_eq!(&db.read().canonical(), &before);
            }
        }
        prop_assert_eq!(&*db.read(), &db.rebuilt_index().unwrap());
    }

    /// Random edit sequences (creates, kind changes, relations of every kind, merges, deletes) never
    /// leave a graph its own backup cannot restore: export → validate → import always succeeds.
    #[test]
    fn after_any_edits_the_export_imports(
        steps in proptest::collection::vec((0usize..5, 0usize..6, 0usize..6, 0usize..10, 0usize..10), 1..14),
    ) {
        let (_dir, db) = db_with_mini();
        let actor = Actor("fuzz".to_owned());
        let pool = |i: usize| -> String {
            const IDS: [&str; 6] = ["shangyu-district", "zhejiang-university", "cao-e-river-laboratory", "yuecheng-district", "new-a", "new-b"];
            IDS[i % IDS.len()].to_owned()
        };
        for (op, a, b, kind, rel) in steps {
            let version = |id: &str| db.store().version(id).unwrap_or(0);
            let _ = match op {
                0 => edit::create_entity(&db, &actor, Entity::new(pool(a), EntityKind::ALL[kind % EntityKind::ALL.len()], format!("名{a}{kind}"))).map(|_| ()),
                1 => {
                    // Change an entity's kind, keeping its names.
                    let Some(current) = db.store().entity(&pool(a)).unwrap() else { continue };
                    let changed = Entity { kind: EntityKind::ALL[kind % EntityKind::ALL.len()], district_code: None, district_level: None, ..current };
                    edit::update_entity(&db, &actor, version(&changed.id), changed.clone()).map(|_| ())
                }
                2 => edit::create_relation(&db, &actor, Relation {
                    kind: RelationKind::ALL[rel % RelationKind::ALL.len()],
                    source: pool(a),
                    target: pool(b),
                    year: None,
                    evidence: vec![Evidence { document: "mini".to_owned(), quote: "位于上虞区".to_owned(), basis: innograph::model::Basis::Stated }],
                }).map(|_| ()),
                3 => edit::merge_entities(&db, &actor, &pool(a), &pool(b), (version(&pool(a)), version(&pool(b)))),
                _ => edit::delete_entity(&db, &actor, &pool(a), version(&pool(a))),
            };
        }
        let graph = db.export_data().unwrap();
        let mut out = Vec::new();
        interchange::export(&graph, interchange::Format::JsonLines, &mut out).unwrap();
        let report = validate_seed(&interchange::read_jsonl("export.jsonl", out.as_slice(), |_| {}));
        let errors: Vec<String> = report.errors().map(ToString::to_string).collect();
        prop_assert!(errors.is_empty(), "the export does not import: {errors:?}");
        let fresh = tempfile::tempdir().unwrap();
        let restored = Db::open(fresh.path()).unwrap();
        prop_assert!(restored.import(&report.graph.unwrap()).is_ok());
    }
}
