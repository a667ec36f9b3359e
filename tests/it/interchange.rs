//! Exports, imports and front-end shapes.

use std::fs;

use serde_json::{Value, json};

use crate::support::{Server, innograph, mini_seed, stderr, stdout};

fn data_dir_with_mini() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let output = innograph(&[
        "import",
        mini_seed().to_str().unwrap(),
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(output.status.success(), "{}", stderr(&output));
    dir
}

#[test]
fn json_lines_export_import_export_is_byte_identical() {
    let first = data_dir_with_mini();
    let out = tempfile::tempdir().unwrap();
    let a = out.path().join("a.jsonl");
    let b = out.path().join("b.jsonl");
    let export = |data: &std::path::Path, to: &std::path::Path| {
        let o = innograph(&[
            "export",
            "--format",
            "jsonl",
            "--data-dir",
            data.to_str().unwrap(),
            "--out",
            to.to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", stderr(&o));
    };
    export(first.path(), &a);
    let second = tempfile::tempdir().unwrap();
    let o = innograph(&[
        "import",
        a.to_str().unwrap(),
        "--data-dir",
        second.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported 2 documents, 12 entities, 14 relations"),
        "{}",
        stdout(&o)
    );
    export(second.path(), &b);
    let (a, b) = (fs::read(&a).unwrap(), fs::read(&b).unwrap());
    assert!(a == b, "re-export differs");
    let first_line: Value =
        serde_json::from_slice(a.split(|&c| c == b'\n').next().unwrap()).unwrap();
    assert_eq!(first_line["type"], "document");
    assert_eq!(first_line["file"], "sources/divisions.tsv");
}

#[test]
fn bad_import_lines_are_reported_with_file_and_line_and_change_nothing() {
    let data = data_dir_with_mini();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.jsonl");
    fs::write(
        &file,
        concat!(
            r#"{"type":"entity","id":"new-lab","kind":"LAB","name":"新实验室"}"#, "\n",
            "not json\n",
            r#"{"type":"relation","kind":"LOCATED_IN","source":"new-lab","target":"shangyu-district","evidence":[]}"#, "\n",
        ),
    )
    .unwrap();
    let o = innograph(&[
        "import",
        file.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    let err = stderr(&o);
    let name = file.display();
    assert!(
        err.contains(&format!(
            "{name}:2: error: not a record of the JSON Lines format"
        )),
        "{err}"
    );
    assert!(
        err.contains(&format!(
            "{name}:3: error: relation `new-lab/LOCATED_IN/shangyu-district` has no evidence"
        )),
        "{err}"
    );
    assert!(err.contains("nothing was imported"), "{err}");
    let server = Server::start(data.path(), &[]);
    // Nothing was imported: the lab is null, and NOT_FOUND.
    let body = server.post(r#"{ entity(id: "new-lab") { id } }"#, json!({}));
    assert_eq!(body["data"]["entity"], Value::Null, "{body}");
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
}

#[test]
fn csv_pairs_round_trip_through_import() {
    let data = data_dir_with_mini();
    let out = tempfile::tempdir().unwrap();
    let prefix = out.path().join("g");
    let o = innograph(&[
        "export",
        "--format",
        "csv",
        "--out",
        prefix.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let nodes = fs::read_to_string(out.path().join("g.nodes.csv")).unwrap();
    let edges = fs::read_to_string(out.path().join("g.edges.csv")).unwrap();
    assert!(nodes.starts_with("Id,Label,Kind,"), "{nodes}");
    assert!(edges.starts_with("Source,Target,Type,Label,"), "{edges}");
    assert_eq!(nodes.lines().count(), 13);
    assert_eq!(edges.lines().count(), 15);
    let o = innograph(&[
        "import",
        out.path().join("g.nodes.csv").to_str().unwrap(),
        "--edges",
        out.path().join("g.edges.csv").to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("12 entities, 14 relations"),
        "{}",
        stdout(&o)
    );
    let broken = out.path().join("broken.edges.csv");
    fs::write(&broken, edges.replacen("CO_BUILT_BY", "BUILT", 1)).unwrap();
    let o = innograph(&[
        "import",
        out.path().join("g.nodes.csv").to_str().unwrap(),
        "--edges",
        broken.to_str().unwrap(),
        "--data-dir",
        data.path().to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).contains("unknown relation kind `BUILT`"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn graphml_and_gexf_are_well_formed_and_typed() {
    let data = data_dir_with_mini();
    let graphml = stdout(&innograph(&[
        "export",
        "--format",
        "graphml",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]));
    assert!(
        graphml.contains(r#"<key id="e_year" for="edge" attr.name="year" attr.type="int"/>"#),
        "{graphml}"
    );
    assert_eq!(graphml.matches("<node ").count(), 12);
    assert_eq!(graphml.matches("<edge ").count(), 14);
    let gexf = stdout(&innograph(&[
        "export",
        "--format",
        "gexf",
        "--data-dir",
        data.path().to_str().unwrap(),
    ]));
    assert!(
        gexf.contains(r#"version="1.3""#) && gexf.contains(r#"mode="dynamic""#),
        "{gexf}"
    );
    assert!(gexf.contains(r#"source="zju-shaoxing-institute" target="zhejiang-university" label="CO_BUILT_BY" start="2023""#), "{gexf}");
}

#[test]
fn subgraphs_come_in_cytoscape_g6_and_echarts_shapes() {
    let (server, _dir) = Server::with_mini_seed();
    let get = |query: &str| -> (u16, Value) {
        let response = server
            .client()
            .get(server.url(&format!("/api/subgraph?{query}")))
            .send()
            .unwrap();
        (response.status().as_u16(), response.json().unwrap())
    };
    let (status, cy) =
        get("ids=zhejiang-university&depth=1&relations=CO_BUILT_BY&format=cytoscape");
    assert_eq!(status, 200);
    let nodes: Vec<&str> = cy["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["data"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        nodes,
        [
            "zhejiang-university",
            "zju-shangyu-center",
            "zju-shaoxing-institute"
        ]
    );
    let edge = cy["edges"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["data"]["source"] == "zju-shaoxing-institute")
        .unwrap();
    assert_eq!(edge["classes"], "CO_BUILT_BY");
    assert_eq!(edge["data"]["label"], "CO_BUILT_BY");
    assert_eq!(
        edge["data"]["evidence"][0]["quote"],
        "浙江大学绍兴研究院由绍兴市人民政府与浙江大学联合共建"
    );
    assert_eq!(edge["data"]["evidence"][0]["title"], "测试文档");
    assert_eq!(cy["nodes"][0]["data"]["labelEn"], "Zhejiang University");
    assert_eq!(cy["nodes"][0]["classes"], "UNIVERSITY");
    assert_eq!(cy["truncated"], false);

    let (_, compound) =
        get("ids=zju-shaoxing-institute&depth=1&relations=CO_BUILT_BY&compound=true");
    let parent = compound["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["data"]["id"] == "zju-shaoxing-institute")
        .unwrap();
    assert_eq!(parent["data"]["parent"], "yuecheng-district");

    let (_, g6) =
        get("ids=zju-shaoxing-institute&depth=1&relations=CO_BUILT_BY&format=g6&combos=true");
    // The institute lies in 越城区; its co-builder, the municipal government, in 绍兴市.
    assert_eq!(
        g6["combos"],
        json!([{ "id": "shaoxing-city", "data": { "label": "绍兴市", "kind": "DISTRICT" } },
               { "id": "yuecheng-district", "data": { "label": "越城区", "kind": "DISTRICT" } }])
    );
    let node = g6["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "zju-shaoxing-institute")
        .unwrap();
    assert_eq!(node["combo"], "yuecheng-district");

    let (_, echarts) = get("ids=zhejiang-university&format=echarts");
    assert_eq!(echarts["type"], "graph");
    assert_eq!(
        echarts["categories"].as_array().unwrap().len(),
        innograph::model::EntityKind::ALL.len()
    );
    assert_eq!(echarts["data"][0]["category"], 0);

    assert_eq!(get("ids=nobody").0, 404);
    assert_eq!(get("ids=zhejiang-university&depth=9").0, 400);
    assert_eq!(get("ids=zhejiang-university&format=svg").0, 400);
    assert_eq!(get("ids=zhejiang-university&relations=OWNS").0, 400);

    let data = server.data(
        r#"{ neighborhood(ids: ["zhejiang-university"], relations: [CO_BUILT_BY]) { cytoscape g6 echarts } }"#,
        json!({}),
    );
    assert_eq!(
        data["neighborhood"]["cytoscape"]["nodes"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        data["neighborhood"]["g6"]["edges"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        data["neighborhood"]["echarts"]["links"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[test]
fn the_whole_graph_exports_over_http() {
    let (server, _dir) = Server::with_mini_seed();
    let response = server
        .client()
        .get(server.url("/api/export?format=jsonl"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains("innograph.jsonl")
    );
    assert_eq!(response.text().unwrap().lines().count(), 2 + 12 + 14);
    let response = server
        .client()
        .get(server.url("/api/export?format=csv-edges"))
        .send()
        .unwrap();
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let response = server
        .client()
        .get(server.url("/api/export?format=pdf"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 400);
}

/// `innograph generate` into a new directory; returns the directory and its `graph.jsonl`.
fn generated(entities: &str, seed: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let o = innograph(&[
        "generate",
        "--entities",
        entities,
        "--seed",
        seed,
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let file = dir.path().join("graph.jsonl");
    (dir, file)
}

fn export_jsonl(data: &std::path::Path) -> Vec<u8> {
    let o = innograph(&[
        "export",
        "--format",
        "jsonl",
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    o.stdout
}

#[test]
fn generate_writes_the_same_bytes_for_the_same_seed() {
    let (_a, a) = generated("3000", "9");
    let (_b, b) = generated("3000", "9");
    let (_c, c) = generated("3000", "10");
    let (a, b, c) = (
        fs::read(a).unwrap(),
        fs::read(b).unwrap(),
        fs::read(c).unwrap(),
    );
    assert!(a == b, "same seed, different bytes");
    assert!(a != c, "another seed, same bytes");
}

#[test]
fn an_import_validated_in_passes_refuses_a_bad_relation_near_the_end_and_changes_nothing() {
    let (dir, good) = generated("20000", "3");
    let text = fs::read_to_string(&good).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    let at = lines.len() - 2;
    let mut relation: Value = serde_json::from_str(&lines[at]).unwrap();
    assert_eq!(relation["type"], "relation");
    relation["target"] = json!("enterprise-9999999");
    lines[at] = relation.to_string();
    let bad = dir.path().join("bad.jsonl");
    fs::write(&bad, lines.join("\n") + "\n").unwrap();
    let id = format!(
        "{}/{}/enterprise-9999999",
        relation["source"].as_str().unwrap(),
        relation["kind"].as_str().unwrap()
    );
    let import = |file: &std::path::Path, data: &std::path::Path| {
        innograph(&[
            "import",
            file.to_str().unwrap(),
            "--stream-above",
            "0",
            "--data-dir",
            data.to_str().unwrap(),
        ])
    };
    let refused = |o: &std::process::Output| {
        assert_eq!(o.status.code(), Some(2));
        let err = stderr(o);
        let expected = format!(
            "{}:{}: error: relation `{id}` points to unknown entity `enterprise-9999999`",
            bad.display(),
            at + 1
        );
        assert!(err.contains(&expected), "{err}");
        assert!(err.contains("nothing was imported"), "{err}");
    };

    // Into a data directory that holds a graph: the records written before the error are undone.
    let data = data_dir_with_mini();
    let before = export_jsonl(data.path());
    refused(&import(&bad, data.path()));
    assert!(
        export_jsonl(data.path()) == before,
        "the data directory changed"
    );

    // Into a new one: it stays empty, and the good file then goes in whole.
    let fresh = tempfile::tempdir().unwrap();
    refused(&import(&bad, fresh.path()));
    assert!(
        export_jsonl(fresh.path()).is_empty(),
        "the data directory changed"
    );
    let o = import(&good, fresh.path());
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("20000 entities"), "{}", stdout(&o));
    assert!(
        export_jsonl(fresh.path()) == text.as_bytes(),
        "export differs from the import"
    );
}
