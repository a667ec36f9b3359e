//! Durability: writes survive restarts, and the live index always equals one rebuilt from the store.

use innograph::db::Db;
use innograph::model::{Entity, EntityKind, Evidence, Relation, RelationKind};
use innograph::seed::{self, SeedFiles};
use innograph::store::Write;
use innograph::validate::validate_seed;
use serde_json::json;

use crate::support::{Server, mini_seed};

fn lab(id: &str, name: &str) -> Entity {
    Entity::new(id.to_owned(), EntityKind::Lab, name.to_owned())
}

fn located(source: &str, target: &str) -> Relation {
    Relation {
        kind: RelationKind::LocatedIn,
        source: source.to_owned(),
        target: target.to_owned(),
        year: Some(2024),
        evidence: vec![Evidence {
            document: "mini".to_owned(),
            quote: "位于上虞区".to_owned(),
            basis: innograph::model::Basis::Stated,
        }],
    }
}

#[test]
fn after_writes_and_a_restart_the_index_equals_one_rebuilt_from_the_store() {
    let dir = tempfile::tempdir().unwrap();
    let graph = validate_seed(&seed::parse(&SeedFiles::from_dir(&mini_seed()).unwrap()))
        .graph
        .unwrap();
    let writes: Vec<Vec<Write>> = vec![
        vec![
            Write::PutEntity(lab("new-lab", "新实验室")),
            Write::PutRelation(located("new-lab", "shangyu-district")),
        ],
        vec![Write::PutEntity(lab("new-lab", "改名的实验室"))],
        vec![Write::PutRelation(Relation {
            year: None,
            ..located("new-lab", "shangyu-district")
        })],
        vec![Write::DeleteEntity("tju-zhejiang-institute".to_owned())],
        vec![Write::DeleteRelation {
            source: "shaoxing-city".to_owned(),
            kind: RelationKind::LocatedIn,
            target: "zhejiang-province".to_owned(),
        }],
        vec![
            Write::PutEntity(lab("second-lab", "第二实验室")),
            Write::PutRelation(Relation {
                kind: RelationKind::PartOf,
                ..located("second-lab", "new-lab")
            }),
        ],
    ];
    let live = {
        let db = Db::open(dir.path()).unwrap();
        db.import(&graph).unwrap();
        for batch in writes {
            db.apply(batch).unwrap();
            assert_eq!(
                *db.read(),
                db.rebuilt_index().unwrap(),
                "the index drifted from the store"
            );
        }
        // A refused batch changes neither.
        let refused = db.apply(vec![Write::PutRelation(located(
            "second-lab",
            "no-such-place",
        ))]);
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("unknown entity `no-such-place`")
        );
        let index = db.read();
        assert!(index.entity("tju-zhejiang-institute").is_none());
        assert!(
            index
                .relation(
                    "cao-e-river-laboratory",
                    RelationKind::ReliesOn,
                    "tju-zhejiang-institute"
                )
                .is_none()
        );
        assert_eq!(index.entity("new-lab").unwrap().name, "改名的实验室");
        assert_eq!(
            index
                .relation("new-lab", RelationKind::LocatedIn, "shangyu-district")
                .unwrap()
                .edge
                .year,
            None
        );
        index.clone()
    };
    let reopened = Db::open(dir.path()).unwrap();
    assert_eq!(*reopened.read(), live);
    assert_eq!(reopened.rebuilt_index().unwrap(), live);
}

#[test]
fn a_restarted_server_serves_the_same_graph() {
    let (server, dir) = Server::with_mini_seed();
    let query =
        r#"{ stats { entities relations } entity(id: "zhejiang-university") { coBuilt { id } } }"#;
    let before = server.data(query, json!({}));
    assert!(server.terminate().success());
    let server = Server::start(dir.path(), &[]);
    assert_eq!(server.data(query, json!({})), before);
    assert_eq!(before["stats"], json!({ "entities": 12, "relations": 14 }));
}

#[test]
fn a_new_data_directory_is_seeded_from_the_bundled_seed() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested/data");
    let server = Server::start(&data_dir, &[]);
    let data = server.data("{ stats { documents entities } }", json!({}));
    assert_eq!(data["stats"]["documents"], 7);
    assert!(data["stats"]["entities"].as_u64().unwrap() > 30);
    assert!(
        data_dir.join("db").exists() || data_dir.join("conf").exists(),
        "sled files are on disk"
    );
}

#[test]
fn edits_keep_the_index_equal_to_the_store() {
    use innograph::edit::{self, Actor};
    let dir = tempfile::tempdir().unwrap();
    let graph = validate_seed(&seed::parse(&SeedFiles::from_dir(&mini_seed()).unwrap()))
        .graph
        .unwrap();
    let db = Db::open(dir.path()).unwrap();
    db.import(&graph).unwrap();
    let actor = Actor("test".to_owned());
    edit::create_entity(&db, &actor, lab("edited-lab", "编辑实验室")).unwrap();
    edit::create_relation(&db, &actor, located("edited-lab", "shangyu-district")).unwrap();
    let id = "edited-lab/LOCATED_IN/shangyu-district";
    assert_eq!(edit::update_relation(&db, &actor, id, 1, None).unwrap(), 2);
    assert!(
        edit::update_relation(&db, &actor, id, 1, Some(2020)).is_err(),
        "a stale version is refused"
    );
    edit::delete_entity(&db, &actor, "shangyu-district", 0).unwrap();
    assert_eq!(*db.read(), db.rebuilt_index().unwrap());
    assert!(
        db.read()
            .relation("edited-lab", RelationKind::LocatedIn, "shangyu-district")
            .is_none()
    );
    let history = edit::changes(&db, 0, 10, None).unwrap();
    assert_eq!(history.len(), 4);
    assert!(history.windows(2).all(|w| w[0].id < w[1].id));
}

#[test]
fn reverting_a_deletion_brings_back_the_entity_and_its_relations() {
    use innograph::edit::{self, Actor};
    let dir = tempfile::tempdir().unwrap();
    let graph = validate_seed(&seed::parse(&SeedFiles::from_dir(&mini_seed()).unwrap()))
        .graph
        .unwrap();
    let db = Db::open(dir.path()).unwrap();
    db.import(&graph).unwrap();
    let before = db.read().clone();
    let actor = Actor("curator".to_owned());
    edit::delete_entity(&db, &actor, "tju-zhejiang-institute", 0).unwrap();
    assert!(
        db.read()
            .relation(
                "cao-e-river-laboratory",
                RelationKind::ReliesOn,
                "tju-zhejiang-institute"
            )
            .is_none()
    );
    let deletion = edit::changes(&db, 0, 10, None).unwrap().last().unwrap().id;
    edit::revert(&db, &actor, deletion).unwrap();
    assert_eq!(
        db.read().canonical(),
        before.canonical(),
        "the revert restores exactly what was deleted"
    );
    assert_eq!(*db.read(), db.rebuilt_index().unwrap());
    // A change that later changes have built on cannot be reverted out of order.
    let mut renamed = db
        .read()
        .entity("zhejiang-university")
        .unwrap()
        .as_ref()
        .clone();
    renamed.description = Some("first".to_owned());
    edit::update_entity(&db, &actor, 0, renamed.clone()).unwrap();
    let first = edit::changes(&db, 0, 10, None).unwrap().last().unwrap().id;
    renamed.description = Some("second".to_owned());
    edit::update_entity(&db, &actor, 1, renamed).unwrap();
    let refused = edit::revert(&db, &actor, first).unwrap_err().to_string();
    assert!(refused.contains("has changed since change"), "{refused}");
}

#[test]
fn after_a_merge_the_index_equals_the_store_and_the_merge_can_be_reverted() {
    use innograph::edit::{self, Actor};
    let dir = tempfile::tempdir().unwrap();
    let graph = validate_seed(&seed::parse(&SeedFiles::from_dir(&mini_seed()).unwrap()))
        .graph
        .unwrap();
    let db = Db::open(dir.path()).unwrap();
    db.import(&graph).unwrap();
    let before = db.read().canonical();
    let actor = Actor("curator".to_owned());
    edit::merge_entities(
        &db,
        &actor,
        "zju-shangyu-center",
        "tju-zhejiang-institute",
        (0, 0),
    )
    .unwrap();
    assert_eq!(*db.read(), db.rebuilt_index().unwrap());
    assert_eq!(
        db.resolve("tju-zhejiang-institute").unwrap(),
        "zju-shangyu-center"
    );
    let merge = edit::changes(&db, 0, 10, None).unwrap().last().unwrap().id;
    edit::revert(&db, &actor, merge).unwrap();
    assert_eq!(db.read().canonical(), before);
}
