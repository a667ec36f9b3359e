//! The index snapshot: a restart decodes it instead of rebuilding the index, answers as a rebuild
//! would, and never trusts one that is damaged, torn or older than the store.

use innograph::db::{Db, IndexOrigin, SnapshotWritten};
use innograph::model::{Entity, EntityKind};
use innograph::seed::{self, SeedFiles};
use innograph::snapshot;
use innograph::store::Write;
use innograph::validate::validate_seed;
use serde_json::{Value, json};

use crate::support::{Server, mini_seed, mini_seed_with_token};

/// A database holding the mini seed plus one written entity, with a snapshot of it on disk.
fn snapshotted() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let graph = validate_seed(&seed::parse(&SeedFiles::from_dir(&mini_seed()).unwrap()))
        .graph
        .unwrap();
    let db = Db::open(dir.path()).unwrap();
    db.import(&graph).unwrap();
    db.apply(vec![Write::PutEntity(lab("first-lab"))]).unwrap();
    assert!(matches!(
        db.write_snapshot().unwrap(),
        SnapshotWritten::Written { .. }
    ));
    assert_eq!(db.write_snapshot().unwrap(), SnapshotWritten::Current);
    dir
}

fn lab(id: &str) -> Entity {
    Entity::new(id, EntityKind::Lab, format!("实验室 {id}"))
}

/// Opens the database again and checks where its index came from and that it equals one rebuilt
/// from the store.
fn reopen(dir: &std::path::Path, expected: IndexOrigin) -> Db {
    let db = Db::open(dir).unwrap();
    assert_eq!(db.index_origin(), expected);
    assert_eq!(*db.read(), db.rebuilt_index().unwrap());
    db
}

#[test]
fn a_snapshot_of_the_stores_generation_is_used_and_equals_a_rebuild() {
    let dir = snapshotted();
    let db = reopen(dir.path(), IndexOrigin::Snapshot);
    assert!(db.read().entity("first-lab").is_some());
    // Writes go on from a decoded index as from a rebuilt one.
    db.apply(vec![Write::DeleteEntity("first-lab".to_owned())])
        .unwrap();
    assert_eq!(*db.read(), db.rebuilt_index().unwrap());
}

#[test]
fn a_damaged_or_torn_snapshot_is_ignored_and_the_next_one_is_used() {
    type Damage = fn(&mut Vec<u8>);
    let damages: [(&str, Damage); 3] = [
        ("a flipped byte in the body", |bytes| {
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x10;
        }),
        ("a torn end", |bytes| bytes.truncate(bytes.len() - 100)),
        ("a torn header", |bytes| bytes.truncate(20)),
    ];
    for (damage, apply) in damages {
        let dir = snapshotted();
        let file = snapshot::path(dir.path());
        let mut bytes = std::fs::read(&file).unwrap();
        apply(&mut bytes);
        std::fs::write(&file, bytes).unwrap();
        let db = reopen(dir.path(), IndexOrigin::Rebuilt);
        assert!(db.read().entity("first-lab").is_some(), "{damage}");
        assert!(matches!(
            db.write_snapshot().unwrap(),
            SnapshotWritten::Written { .. }
        ));
        drop(db);
        reopen(dir.path(), IndexOrigin::Snapshot);
    }
}

#[test]
fn a_write_after_the_snapshot_makes_it_stale() {
    let dir = snapshotted();
    {
        // Written and acknowledged, then the process dies before the next snapshot.
        let db = reopen(dir.path(), IndexOrigin::Snapshot);
        db.apply(vec![Write::PutEntity(lab("second-lab"))]).unwrap();
    }
    let db = reopen(dir.path(), IndexOrigin::Rebuilt);
    assert!(db.read().entity("second-lab").is_some());
}

/// Reads that walk the index: counts, a neighbourhood, paths, search, measures.
const QUERIES: &str = r#"{
  stats { entities relations documents }
  neighborhood(ids: ["zhejiang-university"], depth: 2) { entities { id } relations { id } }
  shortestPath(from: "tianjin-university", to: "zhejiang-university") { length }
  search(text: "大学") { id }
  topEntities(measure: DEGREE, first: 5) { score entity { id } }
  entity(id: "zhejiang-university") { coBuilt { id } }
}"#;

const LOG: &str = "warn,innograph::storage::db=info";

#[test]
fn a_restarted_server_answers_from_the_snapshot_as_it_did_before() {
    let (server, dir) = Server::with_mini_seed();
    let before = server.data(QUERIES, json!({}));
    // A clean shutdown writes the snapshot.
    assert!(server.terminate().success());
    assert!(snapshot::path(dir.path()).exists());

    let server = Server::start_logging(dir.path(), &[], LOG);
    assert_eq!(server.data(QUERIES, json!({})), before);
    let log = server.stop_and_log(true);
    assert!(
        log.contains("index loaded from the index snapshot"),
        "{log}"
    );
    assert!(!log.contains("index snapshot written"), "{log}");

    // Deleting it is always safe.
    std::fs::remove_file(snapshot::path(dir.path())).unwrap();
    let server = Server::start_logging(dir.path(), &[], LOG);
    assert_eq!(server.data(QUERIES, json!({})), before);
    let log = server.stop_and_log(true);
    assert!(log.contains("index rebuilt from the store"), "{log}");
    assert!(log.contains("index snapshot written"), "{log}");
}

#[test]
fn a_write_acknowledged_after_the_last_snapshot_survives_a_crash() {
    let (dir, token) = mini_seed_with_token("editor");
    let server = Server::start_logging(dir.path(), &["--snapshot-settle-ms", "10"], LOG);
    // The index was rebuilt at start, so a snapshot follows once the (absent) writes settle.
    let file = snapshot::path(dir.path());
    let waited = std::time::Instant::now();
    while !file.exists() {
        assert!(waited.elapsed().as_secs() < 30, "no snapshot was written");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let created: Value = server
        .client()
        .post(server.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": r#"mutation { createEntity(input: { id: "new-lab", kind: LAB, name: "新实验室" }) { id } }"# }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(
        created["data"]["createEntity"]["id"], "new-lab",
        "{created}"
    );
    // The next snapshot is at least a minute away: this is a crash between two snapshots.
    server.stop_and_log(false);

    let server = Server::start_logging(dir.path(), &[], LOG);
    let found = server.data(r#"{ entity(id: "new-lab") { name } }"#, json!({}));
    assert_eq!(found["entity"]["name"], "新实验室");
    let log = server.stop_and_log(true);
    assert!(log.contains("is of store generation"), "{log}");
    assert!(log.contains("index rebuilt from the store"), "{log}");
}
