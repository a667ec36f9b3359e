//! The two layers (issue 12): the ecosystem and the policy layer, switchable on every query that
//! walks or measures the graph, and evidence that says how it supports a relation. On the bundled seed.

use std::fs;

use serde_json::{Value, json};

use crate::support::{Server, innograph, mini_seed, stderr, stdout};

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
    // Every entity line carries its kind's layer.
    let mut layers = std::collections::BTreeSet::new();
    for line in jsonl.lines() {
        let record: Value = serde_json::from_str(line).unwrap();
        if record["type"] != "entity" {
            continue;
        }
        let kind = record["kind"].as_str().unwrap();
        let expected = if matches!(kind, "PROGRAM" | "POLICY") {
            "POLICY"
        } else {
            "ECOSYSTEM"
        };
        assert_eq!(record["layer"], expected, "{line}");
        layers.insert(expected);
    }
    assert_eq!(layers.len(), 2);

    // The importer accepts the layer, and refuses a line whose layer disagrees with its kind, by line.
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.jsonl");
    fs::write(&good, &jsonl).unwrap();
    let data = dir.path().join("data");
    let o = innograph(&[
        "import",
        good.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let (number, line) = jsonl
        .lines()
        .enumerate()
        .find(|(_, l)| {
            l.contains(r#""id":"zhejiang-university","kind":"UNIVERSITY","layer":"ECOSYSTEM""#)
        })
        .expect("the university's line, with its layer after its kind");
    let bad = dir.path().join("bad.jsonl");
    fs::write(
        &bad,
        jsonl.replace(
            line,
            &line.replace(r#""layer":"ECOSYSTEM""#, r#""layer":"POLICY""#),
        ),
    )
    .unwrap();
    for stream in ["0", "1000000000"] {
        let data = dir.path().join(format!("data-{stream}"));
        let o = innograph(&[
            "import",
            bad.to_str().unwrap(),
            "--data-dir",
            data.to_str().unwrap(),
            "--stream-above",
            stream,
        ]);
        assert_ne!(o.status.code(), Some(0));
        let expected = format!(
            "{}:{}: error: entity `zhejiang-university`: layer `POLICY` disagrees with its kind: a UNIVERSITY is in the ECOSYSTEM layer",
            bad.display(),
            number + 1
        );
        assert!(stderr(&o).contains(&expected), "{}", stderr(&o));
    }
}

/// A copy of the mini seed with one more sentence in its text and one more relation in its graph;
/// returns the directory and the line the relation starts on.
fn mini_seed_with(sentence: &str, relation: &str) -> (tempfile::TempDir, usize) {
    let dir = tempfile::tempdir().unwrap();
    for sub in ["sources", "graph"] {
        fs::create_dir_all(dir.path().join(sub)).unwrap();
    }
    for file in ["documents.toml", "sources/divisions.tsv"] {
        fs::copy(mini_seed().join(file), dir.path().join(file)).unwrap();
    }
    let text = fs::read_to_string(mini_seed().join("sources/mini.txt")).unwrap();
    fs::write(
        dir.path().join("sources/mini.txt"),
        format!("{}\n{sentence}\n", text.trim_end()),
    )
    .unwrap();
    let graph = fs::read_to_string(mini_seed().join("graph/mini.toml")).unwrap();
    let graph = format!("{}\n\n", graph.trim_end());
    let line = graph.lines().count() + 1;
    fs::write(
        dir.path().join("graph/mini.toml"),
        format!("{graph}{relation}"),
    )
    .unwrap();
    (dir, line)
}

/// A collective phrase produces no relation: `validate` refuses a relation whose quote names its
/// unit end only through one, with the file and line, and accepts the unit the sentence names.
#[test]
fn validate_refuses_a_relation_made_from_a_collective_phrase() {
    let sentence = "曹娥江实验室由复旦大学和各有关单位共建。";
    let relation = |target: &str| {
        format!(
            "[[relation]]\nkind = \"CO_BUILT_BY\"\nsource = \"cao-e-river-laboratory\"\ntarget = \"{target}\"\nevidence = [{{ doc = \"mini\", quote = \"{sentence}\" }}]\n"
        )
    };
    // Tianjin University is one of 各有关单位 at most: the sentence does not name it.
    let (dir, line) = mini_seed_with(sentence, &relation("tianjin-university"));
    let output = innograph(&["validate", dir.path().to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let expected = format!(
        "{}/graph/mini.toml:{line}: error: relation `cao-e-river-laboratory/CO_BUILT_BY/tianjin-university`: its evidence names `tianjin-university` only through the collective phrase «各有关单位»; a collective phrase produces no relation: only units the sentence names get relations",
        dir.path().display()
    );
    assert!(stderr(&output).contains(&expected), "{}", stderr(&output));

    // Fudan University is named.
    let (dir, _) = mini_seed_with(sentence, &relation("fudan-university"));
    let output = innograph(&["validate", dir.path().to_str().unwrap()]);
    assert!(output.status.success(), "{}", stderr(&output));
}
