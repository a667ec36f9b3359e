//! The two layers (issue 12): the ecosystem and the policy layer, switchable on every query that
//! walks or measures the graph, and evidence that says how it supports a relation. On the bundled seed.

use serde_json::{Value, json};

use crate::support::Server;

fn bundled() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Server::start(dir.path(), &[]), dir)
}

fn layers_of(list: &Value, pointer: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|item| {
            item.pointer(pointer)
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_owned()
        })
        .collect()
}

#[test]
fn every_query_can_keep_to_a_layer() {
    let (server, _dir) = bundled();
    let count = |layers: &str| {
        server.data(
            &format!("{{ entities(layers: {layers}) {{ totalCount }} }}"),
            json!({}),
        )["entities"]["totalCount"]
            .as_u64()
            .unwrap()
    };
    let (ecosystem, policy, both) = (
        count("[ECOSYSTEM]"),
        count("[POLICY]"),
        count("[ECOSYSTEM, POLICY]"),
    );
    assert!(ecosystem > 0 && policy > 0, "{ecosystem} {policy}");
    assert_eq!(ecosystem + policy, both);
    let data = server.data(
        "{ entities(layers: [POLICY], first: 1000) { edges { node { kind layer } } } }",
        json!({}),
    );
    let layers = layers_of(&data["entities"]["edges"], "/node/layer");
    assert!(layers.iter().all(|l| l == "POLICY"), "{layers:?}");
    let kinds = layers_of(&data["entities"]["edges"], "/node/kind");
    assert!(
        kinds.iter().all(|k| k == "PROGRAM" || k == "POLICY"),
        "{kinds:?}"
    );

    // Measures default to the ecosystem; both layers on request.
    let top = server.data(
        "{ topEntities(measure: PAGE_RANK, first: 30) { entity { layer } } }",
        json!({}),
    );
    assert!(
        layers_of(&top["topEntities"], "/entity/layer")
            .iter()
            .all(|l| l == "ECOSYSTEM")
    );
    let net = server.data(
        "{ e: network { entities } p: network(layers: [POLICY]) { entities } }",
        json!({}),
    );
    assert_eq!(net["e"]["entities"].as_u64().unwrap(), ecosystem);
    assert_eq!(net["p"]["entities"].as_u64().unwrap(), policy);

    // Traversals enter only the layers asked for.
    let hood = |layers: &str| {
        server.data(
            &format!(r#"{{ neighborhood(ids: ["shaoxing-city"], depth: 1, layers: {layers}) {{ entities {{ layer }} }} }}"#),
            json!({}),
        )
    };
    let ecosystem_only = hood("[ECOSYSTEM]");
    assert!(
        layers_of(&ecosystem_only["neighborhood"]["entities"], "/layer")
            .iter()
            .all(|l| l == "ECOSYSTEM")
    );
    let all = hood("[ECOSYSTEM, POLICY]");
    assert!(
        layers_of(&all["neighborhood"]["entities"], "/layer")
            .iter()
            .any(|l| l == "POLICY")
    );
}

#[test]
fn evidence_says_how_it_supports_a_relation() {
    let (server, _dir) = bundled();
    let data = server.data(
        r#"{ r: relations(where: { kinds: [LOCATED_IN], basis: [REFERENCE] }, first: 200) { totalCount edges { node { inferred bases source { kind } } } }
             s: relations(where: { kinds: [LOCATED_IN], basis: [STATED] }, first: 200) { totalCount edges { node { inferred bases } } } }"#,
        json!({}),
    );
    let referenced = data["r"]["edges"].as_array().unwrap();
    assert!(!referenced.is_empty());
    for edge in referenced {
        assert!(
            edge["node"]["bases"]
                .as_array()
                .unwrap()
                .contains(&json!("REFERENCE")),
            "{edge}"
        );
    }
    // Every university is located, by the reference table at least.
    let universities = server.data(
        r#"{ entities(kinds: [UNIVERSITY], first: 1000) { totalCount edges { node { id relations(relations: [LOCATED_IN], direction: OUT) { id } } } } }"#,
        json!({}),
    );
    for edge in universities["entities"]["edges"].as_array().unwrap() {
        assert_eq!(
            edge["node"]["relations"].as_array().unwrap().len(),
            1,
            "{edge}"
        );
    }
    let stated = data["s"]["edges"].as_array().unwrap();
    assert!(!stated.is_empty());
    assert!(stated.iter().all(|e| e["node"]["inferred"] == false));
    // The evidence itself carries its basis.
    let evidence = server.data(
        r#"{ relations(where: { basis: [NAME] }, first: 1) { edges { node { evidence { basis quote } } } } }"#,
        json!({}),
    );
    let bases = layers_of(
        &evidence["relations"]["edges"][0]["node"]["evidence"],
        "/basis",
    );
    assert!(bases.contains(&"NAME".to_owned()), "{evidence}");
}

#[test]
fn exports_carry_the_layer_and_the_basis() {
    let (server, _dir) = bundled();
    let graphml = server
        .client()
        .get(server.url("/api/export?format=graphml"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(graphml.contains(r#"attr.name="layer""#));
    assert!(graphml.contains(">POLICY<") && graphml.contains(">ECOSYSTEM<"));
    let jsonl = server
        .client()
        .get(server.url("/api/export?format=jsonl"))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(jsonl.contains(r#""basis":"REFERENCE""#));
}
