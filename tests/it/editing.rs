//! Editing through the API: tokens and roles, validated mutations, optimistic concurrency, history.

use std::fs;

use serde_json::{Value, json};

use crate::support::Server;

/// A data directory with the mini seed and an editor token made by `innograph token create`.
fn editable() -> (tempfile::TempDir, String) {
    let (dir, token) = crate::support::mini_seed_with_named_token("alice", "editor");
    assert!(token.starts_with("ig_"), "{token}");
    (dir, token)
}

fn post(server: &Server, token: Option<&str>, query: &str, variables: Value) -> (u16, Value) {
    let mut request = server
        .client()
        .post(server.url("/graphql"))
        .json(&json!({ "query": query, "variables": variables }));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().unwrap();
    (response.status().as_u16(), response.json().unwrap())
}

const CREATE_LAB: &str = r#"mutation { createEntity(input: { id: "new-lab", kind: LAB, name: "新实验室", nameEn: "New Lab" }) { id version } }"#;

#[test]
fn writes_need_a_token_with_a_writing_role() {
    let (dir, editor) = editable();
    let reader = "reader-secret";
    let tokens = dir.path().join("tokens.txt");
    fs::write(
        &tokens,
        format!(
            "# read-only\nbob reader {}\n",
            innograph::auth::hash_token(reader)
        ),
    )
    .unwrap();
    let server = Server::start(dir.path(), &["--tokens-file", tokens.to_str().unwrap()]);

    let (status, body) = post(&server, None, CREATE_LAB, json!({}));
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "UNAUTHENTICATED");
    let (status, body) = post(&server, Some("not-a-token"), CREATE_LAB, json!({}));
    assert_eq!(status, 401, "{body}");
    let (status, body) = post(&server, Some(reader), CREATE_LAB, json!({}));
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["errors"][0]["extensions"]["code"], "FORBIDDEN");
    // Reads stay open; with a read token too.
    assert_eq!(
        post(&server, Some(reader), "{ stats { entities } }", json!({})).0,
        200
    );
    let (status, body) = post(&server, Some(&editor), CREATE_LAB, json!({}));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["data"]["createEntity"],
        json!({ "id": "new-lab", "version": 1 })
    );
}

#[test]
fn reads_can_require_a_token() {
    let (dir, editor) = editable();
    let server = Server::start(dir.path(), &["--require-token-for-reads"]);
    assert_eq!(
        post(&server, None, "{ stats { entities } }", json!({})).0,
        401
    );
    assert_eq!(
        post(&server, Some(&editor), "{ stats { entities } }", json!({})).0,
        200
    );
}

#[test]
fn mutations_are_validated_versioned_durable_and_recorded() {
    let (dir, token) = editable();
    let server = Server::start(dir.path(), &[]);
    let run = |query: &str, variables: Value| post(&server, Some(&token), query, variables).1;

    assert!(run(CREATE_LAB, json!({}))["errors"].is_null());
    // The same id twice, a name another entity has, a bad id: refused with the reason.
    assert_eq!(
        run(CREATE_LAB, json!({}))["errors"][0]["extensions"]["code"],
        "ALREADY_EXISTS"
    );
    let clash = run(
        r#"mutation { createEntity(input: { id: "copy", kind: LAB, name: "浙大" }) { id } }"#,
        json!({}),
    );
    assert!(
        clash["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already claimed by `zhejiang-university`"),
        "{clash}"
    );
    let bad_id = run(
        r#"mutation { createEntity(input: { id: "Bad Id", kind: LAB, name: "某" }) { id } }"#,
        json!({}),
    );
    assert_eq!(bad_id["errors"][0]["extensions"]["code"], "BAD_USER_INPUT");

    // Relations need evidence quoted verbatim from a stored document.
    let create = r#"mutation($quote: String!) { createRelation(input: { kind: LOCATED_IN, source: "new-lab",
        target: "shangyu-district", evidence: [{ document: "mini", quote: $quote }] }) { id version evidence { quote } } }"#;
    let invented = run(create, json!({ "quote": "新实验室位于上虞区" }));
    assert!(
        invented["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("not found verbatim"),
        "{invented}"
    );
    let made = run(create, json!({ "quote": "位于上虞区" }));
    assert_eq!(
        made["data"]["createRelation"]["id"], "new-lab/LOCATED_IN/shangyu-district",
        "{made}"
    );
    let to_a_lab = run(
        r#"mutation { createRelation(input: { kind: LOCATED_IN, source: "tianjin-university", target: "new-lab",
            evidence: [{ document: "mini", quote: "天津大学" }] }) { id } }"#,
        json!({}),
    );
    assert!(
        to_a_lab["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("DISTRICT or PLATFORM"),
        "{to_a_lab}"
    );

    // Optimistic concurrency: a stale version is a conflict, never an overwrite.
    let update = r#"mutation($v: Int!) { updateEntity(expectedVersion: $v, input: { id: "new-lab", kind: LAB,
        name: "新实验室", nameEn: "Renamed Lab" }) { nameEn version } }"#;
    let stale = run(update, json!({ "v": 0 }));
    assert_eq!(
        stale["errors"][0]["extensions"]["code"], "VERSION_CONFLICT",
        "{stale}"
    );
    assert!(
        stale["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("at version 1"),
        "{stale}"
    );
    assert_eq!(
        run(update, json!({ "v": 1 }))["data"]["updateEntity"],
        json!({ "nameEn": "Renamed Lab", "version": 2 })
    );

    let evidence = run(
        r#"mutation { addEvidence(id: "new-lab/LOCATED_IN/shangyu-district", expectedVersion: 1,
            evidence: { document: "mini", quote: "在上虞区" }) { version evidence { quote } } }"#,
        json!({}),
    );
    assert_eq!(evidence["data"]["addEvidence"]["version"], 2, "{evidence}");
    assert_eq!(
        evidence["data"]["addEvidence"]["evidence"]
            .as_array()
            .unwrap()
            .len(),
        2
    );

    // History: who, what, before and after.
    let history = run(
        r#"{ history(id: "new-lab") { actor operation before after } }"#,
        json!({}),
    );
    let history = history["data"]["history"].as_array().unwrap().clone();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["actor"], "alice");
    assert_eq!(history[0]["operation"], "createEntity");
    assert_eq!(history[0]["before"], json!([null]));
    assert_eq!(history[1]["before"][0]["name_en"], "New Lab");
    assert_eq!(history[1]["after"][0]["name_en"], "Renamed Lab");
    let all = run("{ changes { id operation } }", json!({}));
    let operations: Vec<&str> = all["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    assert_eq!(
        operations,
        [
            "createEntity",
            "createRelation",
            "updateEntity",
            "addEvidence"
        ]
    );
    let since = all["data"]["changes"][1]["id"].as_u64().unwrap();
    let later = run(
        "query($s: Int) { changes(since: $s) { operation } }",
        json!({ "s": since }),
    );
    assert_eq!(later["data"]["changes"].as_array().unwrap().len(), 2);

    // Deleting an entity takes its relations with it; all of it survives a restart.
    let deleted = run(
        r#"mutation { deleteEntity(id: "tju-zhejiang-institute", expectedVersion: 0) }"#,
        json!({}),
    );
    assert_eq!(deleted["data"]["deleteEntity"], true, "{deleted}");
    assert!(server.terminate().success());
    let server = Server::start(dir.path(), &[]);
    let body = server.post(
        r#"{ lab: entity(id: "new-lab") { nameEn version locatedIn { id } }
             gone: entity(id: "tju-zhejiang-institute") { id }
             lab2: entity(id: "cao-e-river-laboratory") { relations(relations: [RELIES_ON]) { id } } }"#,
        json!({}),
    );
    // The deleted entity is null, with a NOT_FOUND error beside it.
    assert_eq!(body["errors"][0]["path"], json!(["gone"]), "{body}");
    let data = body["data"].clone();
    assert_eq!(
        data,
        json!({ "lab": { "nameEn": "Renamed Lab", "version": 2, "locatedIn": [{ "id": "shangyu-district" }] },
                "gone": null, "lab2": { "relations": [] } })
    );
}

#[test]
fn a_change_can_be_reverted_through_the_api() {
    let (dir, token) = editable();
    let server = Server::start(dir.path(), &[]);
    let run = |query: &str, variables: Value| post(&server, Some(&token), query, variables).1;
    let deleted = run(
        r#"mutation { deleteEntity(id: "tju-zhejiang-institute", expectedVersion: 0) }"#,
        json!({}),
    );
    assert_eq!(deleted["data"]["deleteEntity"], true, "{deleted}");
    let history = run(
        r#"{ history(id: "tju-zhejiang-institute") { id subjects } }"#,
        json!({}),
    );
    let change = &history["data"]["history"][0];
    assert_eq!(
        change["subjects"].as_array().unwrap().len(),
        4,
        "the entity and its three relations: {change}"
    );
    let reverted = run(
        "mutation($c: Int!) { revert(changeId: $c) }",
        json!({ "c": change["id"] }),
    );
    assert!(reverted["data"]["revert"].is_u64(), "{reverted}");
    let data = server.data(
        r#"{ entity(id: "tju-zhejiang-institute") { version relations { id } } }"#,
        json!({}),
    );
    assert_eq!(
        data["entity"]["relations"].as_array().unwrap().len(),
        3,
        "{data}"
    );
    assert_eq!(data["entity"]["version"], 2);
    let twice = run(
        "mutation($c: Int!) { revert(changeId: $c) }",
        json!({ "c": change["id"] }),
    );
    assert_eq!(
        twice["errors"][0]["extensions"]["code"], "BAD_USER_INPUT",
        "{twice}"
    );
}

#[test]
fn merging_moves_names_relations_and_evidence_and_the_old_id_resolves() {
    let (dir, token) = editable();
    let server = Server::start(dir.path(), &[]);
    let run = |query: &str| post(&server, Some(&token), query, json!({})).1;
    // Give the survivor a relation the merged entity also has, so evidence must be joined.
    let made = run(
        r#"mutation { createRelation(input: { kind: LOCATED_IN, source: "zju-shaoxing-institute", target: "shangyu-district",
            evidence: [{ document: "mini", quote: "位于上虞区" }] }) { id } }"#,
    );
    assert!(made["errors"].is_null(), "{made}");
    let merged = run(
        r#"mutation { mergeEntities(survivor: "zju-shaoxing-institute", merged: "tju-zhejiang-institute",
            survivorVersion: 0, mergedVersion: 0) { id aliases } }"#,
    );
    assert_eq!(
        merged["data"]["mergeEntities"],
        json!({ "id": "zju-shaoxing-institute", "aliases": ["天津大学浙江研究院(绍兴)"] }),
        "{merged}"
    );
    let data = server.data(
        r#"{ old: entity(id: "tju-zhejiang-institute") { id }
             rel: relation(id: "zju-shaoxing-institute/LOCATED_IN/shangyu-district") { evidence { quote } }
             lab: entity(id: "cao-e-river-laboratory") { relations(relations: [RELIES_ON]) { target { id } } }
             built: entity(id: "zju-shaoxing-institute") { coBuiltBy { id } } }"#,
        json!({}),
    );
    assert_eq!(data["old"]["id"], "zju-shaoxing-institute");
    let quotes: Vec<&str> = data["rel"]["evidence"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["quote"].as_str().unwrap())
        .collect();
    assert_eq!(quotes.len(), 2, "{quotes:?}");
    assert_eq!(
        data["lab"]["relations"],
        json!([{ "target": { "id": "zju-shaoxing-institute" } }])
    );
    assert_eq!(
        data["built"]["coBuiltBy"],
        json!([{ "id": "shaoxing-municipal-government" }, { "id": "tianjin-university" }, { "id": "zhejiang-university" }])
    );
    let conflict = run(
        r#"mutation { mergeEntities(survivor: "zhejiang-university", merged: "fudan-university", survivorVersion: 3, mergedVersion: 0) { id } }"#,
    );
    assert_eq!(
        conflict["errors"][0]["extensions"]["code"], "VERSION_CONFLICT",
        "{conflict}"
    );
}

#[test]
fn a_batch_imports_all_or_nothing_within_its_cap() {
    let (dir, token) = editable();
    let server = Server::start(dir.path(), &[]);
    let run = |jsonl: &str| {
        post(
            &server,
            Some(&token),
            "mutation($b: String!) { importBatch(jsonl: $b) }",
            json!({ "b": jsonl }),
        )
        .1
    };
    let good = concat!(
        r#"{"type":"document","id":"note","title":"笔记","file":"x","text":"新研究院落户上虞区。"}"#,
        "\n",
        r#"{"type":"entity","id":"batch-institute","kind":"RESEARCH_INSTITUTE","name":"新研究院"}"#,
        "\n",
        r#"{"type":"relation","kind":"LOCATED_IN","source":"batch-institute","target":"shangyu-district","evidence":[{"document":"note","quote":"新研究院落户上虞区"}]}"#,
        "\n",
    );
    let imported = run(good);
    assert_eq!(
        imported["data"]["importBatch"], "imported 1 documents, 1 entities, 1 relations",
        "{imported}"
    );
    let bad = concat!(
        r#"{"type":"entity","id":"batch-two","kind":"LAB","name":"批量实验室"}"#,
        "\n",
        r#"{"type":"relation","kind":"LOCATED_IN","source":"batch-two","target":"shangyu-district","evidence":[{"document":"note","quote":"不在文中"}]}"#,
        "\n",
    );
    let refused = run(bad);
    assert!(
        refused["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("batch:2"),
        "{refused}"
    );
    let body = server.post(
        r#"{ a: entity(id: "batch-institute") { locatedIn { id } } b: entity(id: "batch-two") { id } }"#,
        json!({}),
    );
    // The refused batch wrote nothing: `batch-two` is null (and NOT_FOUND).
    assert_eq!(body["errors"][0]["path"], json!(["b"]), "{body}");
    assert_eq!(
        body["data"],
        json!({ "a": { "locatedIn": [{ "id": "shangyu-district" }] }, "b": null })
    );
    let huge: String = (0..10_001)
        .map(|i| {
            format!(
                "{{\"type\":\"entity\",\"id\":\"e{i}\",\"kind\":\"LAB\",\"name\":\"实验室{i}\"}}\n"
            )
        })
        .collect();
    let capped = run(&huge);
    assert!(
        capped["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("cap of 10000"),
        "{capped}"
    );
}

#[test]
fn the_batch_cap_is_a_flag() {
    let (dir, token) = editable();
    let server = Server::start(dir.path(), &["--max-batch-records", "1"]);
    let batch = concat!(
        r#"{"type":"entity","id":"cap-a","kind":"LAB","name":"甲实验室"}"#,
        "\n",
        r#"{"type":"entity","id":"cap-b","kind":"LAB","name":"乙实验室"}"#,
        "\n",
    );
    let (_, body) = post(
        &server,
        Some(&token),
        "mutation($b: String!) { importBatch(jsonl: $b) }",
        json!({ "b": batch }),
    );
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("above the cap of 1"),
        "{body}"
    );
}
