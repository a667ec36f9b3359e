//! The GraphQL contract, field by field, on the mini fixture graph whose answers are known.

use serde_json::json;

use crate::support::{Server, pluck};

#[test]
fn entity_by_id_has_every_field_and_unknown_ids_are_null() {
    let (server, _dir) = Server::with_mini_seed();
    let body = server.post(
        r#"{
          zju: entity(id: "zhejiang-university") { id kind name nameEn aliases description }
          lab: entity(id: "cao-e-river-laboratory") { established focus districtCode }
          city: entity(id: "shaoxing-city") { districtCode districtLevel }
          nobody: entity(id: "no-such-entity") { id }
        }"#,
        json!({}),
    );
    // The unknown id is null, with a NOT_FOUND error beside it.
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
    assert_eq!(body["errors"][0]["path"], json!(["nobody"]), "{body}");
    let data = body["data"].clone();
    assert_eq!(
        data,
        json!({
            "zju": {
                "id": "zhejiang-university", "kind": "UNIVERSITY", "name": "浙江大学",
                "nameEn": "Zhejiang University", "aliases": ["浙大"], "description": "University in Hangzhou."
            },
            "lab": { "established": "2022-01", "focus": [], "districtCode": null },
            "city": { "districtCode": "330600", "districtLevel": "PREFECTURE_CITY" },
            "nobody": null
        })
    );
}

#[test]
fn co_built_co_built_by_and_located_in() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ entity(id: "zhejiang-university") { coBuilt { id locatedIn { id } } } }"#,
        json!({}),
    );
    assert_eq!(
        data["entity"]["coBuilt"],
        json!([
            { "id": "zju-shangyu-center", "locatedIn": [{ "id": "shangyu-district" }] },
            { "id": "zju-shaoxing-institute", "locatedIn": [{ "id": "yuecheng-district" }] }
        ])
    );
    let data = server.data(
        r#"{ entity(id: "zju-shaoxing-institute") { coBuiltBy { id } } }"#,
        json!({}),
    );
    assert_eq!(
        pluck(&data["entity"]["coBuiltBy"], "id"),
        ["shaoxing-municipal-government", "zhejiang-university"]
    );
}

#[test]
fn relations_carry_kind_year_and_evidence_with_its_document() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ entity(id: "zju-shaoxing-institute") {
              relations(relations: [CO_BUILT_BY], direction: OUT) {
                id kind year source { id } target { id }
                evidence { quote document { id title publisher date } }
              } } }"#,
        json!({}),
    );
    assert_eq!(
        data["entity"]["relations"][1],
        json!({
            "id": "zju-shaoxing-institute/CO_BUILT_BY/zhejiang-university",
            "kind": "CO_BUILT_BY", "year": 2023,
            "source": { "id": "zju-shaoxing-institute" }, "target": { "id": "zhejiang-university" },
            "evidence": [{
                "quote": "浙江大学绍兴研究院由绍兴市人民政府与浙江大学联合共建",
                "document": { "id": "mini", "title": "测试文档", "publisher": "测试局", "date": "2024-05-20" }
            }]
        })
    );
    assert_eq!(data["entity"]["relations"].as_array().unwrap().len(), 2);
    let data = server.data(
        r#"{ relation(id: "fudan-university/COOPERATES_WITH/shaoxing-city") { kind } }"#,
        json!({}),
    );
    assert_eq!(data, json!({ "relation": { "kind": "COOPERATES_WITH" } }));
}

#[test]
fn neighbors_are_nearest_first_each_once_never_the_start() {
    let (server, _dir) = Server::with_mini_seed();
    let query = r#"query($d: Int, $dir: Direction, $r: [RelationKind!], $k: [EntityKind!]) {
        entity(id: "cao-e-river-laboratory") { neighbors(depth: $d, direction: $dir, relations: $r, kinds: $k) { id } } }"#;
    let ids = |vars| {
        let data = server.data(query, vars);
        pluck(&data["entity"]["neighbors"], "id")
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        ids(json!({})),
        ["shangyu-district", "tju-zhejiang-institute"]
    );
    assert_eq!(
        ids(json!({ "d": 2 })),
        [
            "shangyu-district",
            "tju-zhejiang-institute",
            "shaoxing-city",
            "tianjin-university"
        ]
    );
    assert_eq!(
        ids(json!({ "d": 3, "r": ["LOCATED_IN"] })),
        ["shangyu-district", "shaoxing-city", "zhejiang-province"]
    );
    assert_eq!(
        ids(json!({ "d": 3, "k": ["UNIVERSITY"] })),
        ["tianjin-university", "fudan-university"]
    );
    assert_eq!(ids(json!({ "dir": "IN" })), Vec::<String>::new());
    let data = server.data(
        r#"{ entity(id: "shangyu-district") { neighbors(direction: IN) { id } } }"#,
        json!({}),
    );
    assert_eq!(
        pluck(&data["entity"]["neighbors"], "id"),
        [
            "cao-e-river-laboratory",
            "tju-zhejiang-institute",
            "zju-shangyu-center"
        ]
    );
}

#[test]
fn cooperation_is_symmetric_whatever_the_direction() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ a: entity(id: "shaoxing-city") { neighbors(relations: [COOPERATES_WITH], direction: OUT) { id } }
             b: entity(id: "fudan-university") { neighbors(relations: [COOPERATES_WITH], direction: IN) { id } } }"#,
        json!({}),
    );
    assert_eq!(
        data,
        json!({ "a": { "neighbors": [{ "id": "fudan-university" }] }, "b": { "neighbors": [{ "id": "shaoxing-city" }] } })
    );
}

#[test]
fn search_matches_names_english_names_and_aliases_exact_first() {
    let (server, _dir) = Server::with_mini_seed();
    let search = |text: &str, extra: &str| {
        let data = server.data(
            &format!(r#"{{ search(text: "{text}" {extra}) {{ id }} }}"#),
            json!({}),
        );
        pluck(&data["search"], "id")
            .into_iter()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        search("浙江大学", ""),
        [
            "zhejiang-university",
            "zju-shaoxing-institute",
            "zju-shangyu-center"
        ]
    );
    assert_eq!(search("浙大", ""), ["zhejiang-university"]);
    assert_eq!(
        search("ZHEJIANG university", ""),
        ["zhejiang-university", "zju-shaoxing-institute"]
    );
    assert_eq!(
        search("浙江大学", ", kinds: [RESEARCH_INSTITUTE], first: 1"),
        ["zju-shaoxing-institute"]
    );
    assert_eq!(search("no such thing", ""), Vec::<String>::new());
}

#[test]
fn entities_pages_with_cursors_and_total_count() {
    let (server, _dir) = Server::with_mini_seed();
    let query = r#"query($after: String) { entities(kinds: [DISTRICT, UNIVERSITY], first: 4, after: $after) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage startCursor endCursor } } }"#;
    let first = server.data(query, json!({}));
    let page = &first["entities"];
    assert_eq!(page["totalCount"], 7);
    assert_eq!(
        page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "fudan-university",
            "shangyu-district",
            "shaoxing-city",
            "tianjin-university"
        ]
    );
    assert_eq!(
        page["pageInfo"],
        json!({ "hasNextPage": true, "hasPreviousPage": false, "startCursor": "fudan-university", "endCursor": "tianjin-university" })
    );
    let second = server.data(query, json!({ "after": page["pageInfo"]["endCursor"] }));
    let page = &second["entities"];
    assert_eq!(
        page["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap())
            .collect::<Vec<_>>(),
        [
            "yuecheng-district",
            "zhejiang-province",
            "zhejiang-university"
        ]
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
    assert_eq!(page["pageInfo"]["hasPreviousPage"], true);
}

#[test]
fn shortest_path_lists_entities_in_order_or_is_null() {
    let (server, _dir) = Server::with_mini_seed();
    let query = r#"query($from: ID!, $to: ID!, $r: [RelationKind!], $dir: Direction, $max: Int) {
        shortestPath(from: $from, to: $to, relations: $r, direction: $dir, maxDepth: $max) {
          length entities { id } relations { id } } }"#;
    let data = server.data(
        query,
        json!({ "from": "tianjin-university", "to": "cao-e-river-laboratory" }),
    );
    assert_eq!(
        data["shortestPath"],
        json!({
            "length": 2,
            "entities": [{ "id": "tianjin-university" }, { "id": "tju-zhejiang-institute" }, { "id": "cao-e-river-laboratory" }],
            "relations": [
                { "id": "tju-zhejiang-institute/CO_BUILT_BY/tianjin-university" },
                { "id": "cao-e-river-laboratory/RELIES_ON/tju-zhejiang-institute" }
            ]
        })
    );
    let data = server.data(
        query,
        json!({ "from": "tianjin-university", "to": "zhejiang-university" }),
    );
    assert_eq!(
        pluck(&data["shortestPath"]["entities"], "id"),
        [
            "tianjin-university",
            "tju-zhejiang-institute",
            "shangyu-district",
            "zju-shangyu-center",
            "zhejiang-university"
        ]
    );
    let data = server.data(
        query,
        json!({ "from": "tianjin-university", "to": "zhejiang-university", "max": 3 }),
    );
    assert_eq!(data["shortestPath"], json!(null));
    let data = server.data(
        query,
        json!({ "from": "tianjin-university", "to": "cao-e-river-laboratory", "dir": "OUT" }),
    );
    assert_eq!(data["shortestPath"], json!(null));
    let data = server.data(
        query,
        json!({ "from": "shangyu-district", "to": "shangyu-district" }),
    );
    assert_eq!(data["shortestPath"]["length"], 0);
}

#[test]
fn neighborhood_returns_entities_relations_and_truncation() {
    let (server, _dir) = Server::with_mini_seed();
    let query = r#"query($ids: [ID!]!, $d: Int, $limit: Int, $r: [RelationKind!]) {
        neighborhood(ids: $ids, depth: $d, limit: $limit, relations: $r) { entities { id } relations { id } truncated reason } }"#;
    let data = server.data(query, json!({ "ids": ["tju-zhejiang-institute"] }));
    let n = &data["neighborhood"];
    assert_eq!(
        pluck(&n["entities"], "id"),
        [
            "tju-zhejiang-institute",
            "cao-e-river-laboratory",
            "shangyu-district",
            "tianjin-university"
        ]
    );
    assert_eq!(
        pluck(&n["relations"], "id"),
        [
            "cao-e-river-laboratory/LOCATED_IN/shangyu-district",
            "cao-e-river-laboratory/RELIES_ON/tju-zhejiang-institute",
            "tju-zhejiang-institute/CO_BUILT_BY/tianjin-university",
            "tju-zhejiang-institute/LOCATED_IN/shangyu-district"
        ]
    );
    assert_eq!(n["truncated"], false);
    assert_eq!(n["reason"], json!(null));
    let data = server.data(
        query,
        json!({ "ids": ["shangyu-district"], "d": 2, "limit": 3 }),
    );
    let n = &data["neighborhood"];
    assert_eq!(n["entities"].as_array().unwrap().len(), 3);
    assert_eq!(n["truncated"], true);
    assert!(
        n["reason"].as_str().unwrap().contains("entity limit"),
        "{n}"
    );
}

#[test]
fn documents_and_stats() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        "{ documents { id title } stats { entities relations documents entitiesByKind { kind count } relationsByKind { kind count } } }",
        json!({}),
    );
    assert_eq!(pluck(&data["documents"], "id"), ["divisions", "mini"]);
    assert_eq!(data["stats"]["entities"], 12);
    assert_eq!(data["stats"]["relations"], 14);
    assert_eq!(data["stats"]["documents"], 2);
    let by_kind = &data["stats"]["entitiesByKind"];
    assert_eq!(
        by_kind.as_array().unwrap().len(),
        innograph::model::EntityKind::ALL.len()
    );
    assert!(
        by_kind
            .as_array()
            .unwrap()
            .contains(&json!({ "kind": "DISTRICT", "count": 4 }))
    );
    assert!(
        data["stats"]["relationsByKind"]
            .as_array()
            .unwrap()
            .contains(&json!({ "kind": "LOCATED_IN", "count": 8 }))
    );
}
