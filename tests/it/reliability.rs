//! Reliability: acknowledged writes survive SIGKILL; concurrent readers never see a half-applied write.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;

use serde_json::{Value, json};

use crate::support::Server;

fn editable() -> (tempfile::TempDir, String) {
    crate::support::mini_seed_with_named_token("writer", "editor")
}

fn mutate(server: &Server, token: &str, query: &str, variables: Value) -> Option<Value> {
    let response = server
        .client()
        .post(server.url("/graphql"))
        .bearer_auth(token)
        .json(&json!({ "query": query, "variables": variables }))
        .send()
        .ok()?;
    let body: Value = response.json().ok()?;
    body.get("errors").is_none().then_some(body)
}

const CREATE: &str = r#"mutation($id: ID!, $name: String!) { createEntity(input: { id: $id, kind: LAB, name: $name }) { id } }"#;
const LOCATE: &str = r#"mutation($id: ID!) { createRelation(input: { kind: LOCATED_IN, source: $id, target: "shangyu-district",
    evidence: [{ document: "mini", quote: "位于上虞区" }] }) { id } }"#;

#[test]
fn every_acknowledged_write_survives_sigkill() {
    let (dir, token) = editable();
    let server = Server::start(dir.path(), &[]);
    // A writer thread streams mutations; the test kills the server mid-stream with SIGKILL.
    let base = server.base.clone();
    let acknowledged = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acknowledged, stop, token) = (acknowledged.clone(), stop.clone(), token.clone());
        thread::spawn(move || {
            let client = reqwest::blocking::Client::new();
            for i in 0..400 {
                if stop.load(Ordering::Relaxed) {
                    break;
                }
                let id = format!("crash-lab-{i}");
                let send = |query: &str, variables: Value| {
                    client
                        .post(format!("{base}/graphql"))
                        .bearer_auth(&token)
                        .json(&json!({ "query": query, "variables": variables }))
                        .send()
                        .ok()
                        .and_then(|r| r.json::<Value>().ok())
                        .is_some_and(|b| b.get("errors").is_none())
                };
                if !send(
                    CREATE,
                    json!({ "id": id, "name": format!("崩溃实验室{i}") }),
                ) {
                    break;
                }
                acknowledged.lock().unwrap().push(id.clone());
                if !send(LOCATE, json!({ "id": id })) {
                    break;
                }
                acknowledged
                    .lock()
                    .unwrap()
                    .push(format!("{id}/LOCATED_IN/shangyu-district"));
            }
        })
    };
    // Kill once a good number of writes were acknowledged (bounded wait: the writer may finish first).
    while acknowledged.lock().unwrap().len() < 60 && !writer.is_finished() {
        thread::yield_now();
    }
    let pid = server.pid().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    stop.store(true, Ordering::Relaxed);
    writer.join().unwrap();
    drop(server);
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 60,
        "only {} writes were acknowledged",
        acknowledged.len()
    );

    let server = Server::start(dir.path(), &[]);
    for id in &acknowledged {
        let query = if id.contains('/') {
            "query($id: ID!) { relation(id: $id) { id } }"
        } else {
            "query($id: ID!) { entity(id: $id) { id } }"
        };
        let data = server.data(query, json!({ "id": id }));
        let found = data.as_object().unwrap().values().next().unwrap();
        assert!(
            !found.is_null(),
            "acknowledged write `{id}` is missing after SIGKILL"
        );
    }
    // Nothing half-applied: every relation's ends exist (the index refuses dangling edges at load,
    // so compare the counts the store and a full listing give).
    let stats = server.data(
        "{ stats { relations } relations(first: 1) { totalCount } }",
        json!({}),
    );
    assert_eq!(
        stats["stats"]["relations"],
        stats["relations"]["totalCount"]
    );
    eprintln!(
        "{} acknowledged writes checked after SIGKILL",
        acknowledged.len()
    );
}

#[test]
fn readers_never_see_a_relation_to_a_missing_entity_while_writers_write() {
    let (dir, token) = editable();
    let server = Arc::new(Server::start(dir.path(), &[]));
    let done = Arc::new(AtomicBool::new(false));
    let mut handles = Vec::new();
    for w in 0..2 {
        let (server, token, done) = (server.clone(), token.clone(), done.clone());
        handles.push(thread::spawn(move || {
            let mut acknowledged = Vec::new();
            for i in 0..40 {
                let id = format!("w{w}-lab-{i}");
                if mutate(
                    &server,
                    &token,
                    CREATE,
                    json!({ "id": id, "name": format!("并发实验室{w}-{i}") }),
                )
                .is_some()
                    && mutate(&server, &token, LOCATE, json!({ "id": id })).is_some()
                {
                    acknowledged.push(id.clone());
                }
                if i % 3 == 0 {
                    mutate(
                        &server,
                        &token,
                        r#"mutation($id: ID!) { deleteEntity(id: $id, expectedVersion: 1) }"#,
                        json!({ "id": id }),
                    );
                    acknowledged.pop();
                }
            }
            done.store(true, Ordering::Relaxed);
            acknowledged
        }));
    }
    let mut reads = 0;
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (server, done) = (server.clone(), done.clone());
            thread::spawn(move || {
                let mut count = 0;
                for _ in 0..200 {
                    let data = server.data(
                        r#"{ entity(id: "shangyu-district") { relations(direction: IN) { source { id name } target { id } } } }"#,
                        json!({}),
                    );
                    for relation in data["entity"]["relations"].as_array().unwrap() {
                        assert!(relation["source"]["name"].is_string(), "a relation to a missing entity: {relation}");
                    }
                    count += 1;
                    if done.load(Ordering::Relaxed) && count > 20 {
                        break;
                    }
                }
                count
            })
        })
        .collect();
    let mut acknowledged = Vec::new();
    for handle in handles {
        acknowledged.extend(handle.join().unwrap());
    }
    for reader in readers {
        reads += reader.join().unwrap();
    }
    assert!(reads > 0);
    let data = server.data(
        r#"{ entity(id: "shangyu-district") { neighbors(direction: IN) { id } } }"#,
        json!({}),
    );
    let present: Vec<&str> = data["entity"]["neighbors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    for id in &acknowledged {
        assert!(
            present.contains(&id.as_str()),
            "acknowledged `{id}` is missing"
        );
    }
}
