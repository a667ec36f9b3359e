//! Traversal and analysis through GraphQL on the mini fixture: filters, sorting, relation listings,
//! paths, reachability, common neighbours, aggregates, measures and time.

use serde_json::json;

use crate::support::{Server, pluck};

#[test]
fn where_filters_with_quantifiers_located_in_and_boolean_operators() {
    let (server, _dir) = Server::with_mini_seed();
    let ids = |where_: serde_json::Value| {
        let data = server.data(
            "query($w: EntityWhere) { entities(where: $w, first: 100) { totalCount edges { node { id } } } }",
            json!({ "w": where_ }),
        );
        let list: Vec<String> = data["entities"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(data["entities"]["totalCount"], list.len());
        list
    };
    // Institutes with some CO_BUILT_BY to a university.
    assert_eq!(
        ids(json!({ "kind": { "eq": "RESEARCH_INSTITUTE" },
                    "relations": { "some": { "kinds": ["CO_BUILT_BY"], "other": { "kind": { "eq": "UNIVERSITY" } } } } })),
        [
            "tju-zhejiang-institute",
            "zju-shangyu-center",
            "zju-shaoxing-institute"
        ]
    );
    // ... co-built only by universities (all), and those with no co-builder at all among labs (none).
    assert_eq!(
        ids(json!({ "kind": { "in": ["RESEARCH_INSTITUTE", "LAB"] },
                    "relations": { "all": { "kinds": ["CO_BUILT_BY"], "other": { "kind": { "eq": "UNIVERSITY" } } } } })),
        [
            "cao-e-river-laboratory",
            "tju-zhejiang-institute",
            "zju-shangyu-center"
        ]
    );
    assert_eq!(
        ids(
            json!({ "relations": { "none": { "kinds": ["LOCATED_IN"] } }, "NOT": { "kind": { "eq": "UNIVERSITY" } } })
        ),
        ["zhejiang-province"]
    );
    // Everything in 绍兴市, district by district, sub-districts included.
    assert_eq!(
        ids(
            json!({ "locatedIn": "shaoxing-city", "kind": { "in": ["RESEARCH_INSTITUTE", "LAB", "GOVERNMENT"] } })
        ),
        [
            "cao-e-river-laboratory",
            "shaoxing-municipal-government",
            "tju-zhejiang-institute",
            "zju-shangyu-center",
            "zju-shaoxing-institute"
        ]
    );
    assert_eq!(
        ids(json!({ "locatedIn": "shangyu-district", "kind": { "eq": "DISTRICT" } })),
        Vec::<String>::new()
    );
    assert_eq!(
        ids(
            json!({ "OR": [{ "name": { "startsWith": "天津" } }, { "aliases": { "eq": "浙大" } }] })
        ),
        [
            "tianjin-university",
            "tju-zhejiang-institute",
            "zhejiang-university"
        ]
    );
    assert_eq!(
        ids(json!({ "nameEn": { "contains": "UNIVERSITY shaoxing" } })),
        ["zju-shaoxing-institute"]
    );
    let (code, message) = server.error_code(
        "{ entities(where: { name: { eq: \"a\", contains: \"b\" } }) { totalCount } }",
        json!({}),
    );
    assert_eq!(code, "BAD_USER_INPUT");
    assert!(message.contains("where.name"), "{message}");
}

#[test]
fn sorting_by_degree_per_relation_kind_and_paging_with_offset_cursors() {
    let (server, _dir) = Server::with_mini_seed();
    let query = r#"query($after: String) { entities(first: 2, after: $after, kinds: [DISTRICT],
        orderBy: [{ field: DEGREE, direction: DESC, relations: [LOCATED_IN], degreeDirection: IN }, { field: NAME }]) {
        totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"#;
    let first = server.data(query, json!({}));
    let page = &first["entities"];
    assert_eq!(page["totalCount"], 4);
    let ids: Vec<&str> = page["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    // shangyu has 3 entities located in it, shaoxing-city 3 (two districts and the government).
    assert_eq!(ids, ["shangyu-district", "shaoxing-city"]);
    assert_eq!(page["pageInfo"]["endCursor"], "offset:2");
    let second = server.data(query, json!({ "after": "offset:2" }));
    let ids: Vec<&str> = second["entities"]["edges"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["node"]["id"].as_str().unwrap())
        .collect();
    // Both have one entity located in them: the tie goes by name, 浙江省 (U+6D59) before 越城区 (U+8D8A).
    assert_eq!(ids, ["zhejiang-province", "yuecheng-district"]);
    assert_eq!(second["entities"]["pageInfo"]["hasNextPage"], false);
}

#[test]
fn relations_are_first_class_with_kind_year_and_document_filters() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ a: relations(where: { kinds: [CO_BUILT_BY], years: { from: 2020, to: 2023 } }) { totalCount edges { node { id year } } }
             b: relations(where: { document: "divisions" }, first: 2) { totalCount pageInfo { hasNextPage endCursor } }
             c: relations(where: { target: { kind: { eq: "UNIVERSITY" } } }) { totalCount } }"#,
        json!({}),
    );
    assert_eq!(
        data["a"],
        json!({ "totalCount": 1, "edges": [{ "node": { "id": "zju-shaoxing-institute/CO_BUILT_BY/zhejiang-university", "year": 2023 } }] })
    );
    assert_eq!(data["b"]["totalCount"], 3);
    assert_eq!(data["b"]["pageInfo"]["hasNextPage"], true);
    assert_eq!(data["c"]["totalCount"], 3);
    // Relations of one entity, filtered by year range: undated relations fall back to their document (2024).
    let data = server.data(
        r#"{ entity(id: "zju-shaoxing-institute") { relations(where: { years: { to: 2023 } }) { id } } }"#,
        json!({}),
    );
    assert_eq!(
        pluck(&data["entity"]["relations"], "id"),
        ["zju-shaoxing-institute/CO_BUILT_BY/zhejiang-university"]
    );
}

#[test]
fn paths_reachability_and_common_neighbours() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{
          k: kShortestPaths(from: "tianjin-university", to: "zhejiang-university", k: 3) { length entities { id } }
          all: allPaths(from: "tianjin-university", to: "shangyu-district", maxDepth: 3, limit: 2) { truncated paths { length } }
          one: allPaths(from: "tianjin-university", to: "shangyu-district", maxDepth: 3, limit: 1) { truncated paths { length } }
          r: reachable(from: "zhejiang-university", direction: BOTH, minDepth: 2, maxDepth: 2, kinds: [DISTRICT]) {
               totalCount edges { distance node { id } } }
          c: commonNeighbors(a: "zhejiang-university", b: "tianjin-university", relations: [CO_BUILT_BY, LOCATED_IN],
               depth: 2, kinds: [DISTRICT]) { entity { id } distanceFromA distanceFromB }
          via: shortestPath(from: "tianjin-university", to: "zhejiang-university", via: [RESEARCH_INSTITUTE, DISTRICT, LAB]) { length }
          hops: shortestPath(from: "zju-shangyu-center", to: "zju-shaoxing-institute",
               hops: [{ relations: [LOCATED_IN], direction: OUT }, { relations: [LOCATED_IN], direction: OUT },
                      { relations: [LOCATED_IN], direction: IN }]) { entities { id } }
        }"#,
        json!({}),
    );
    let lengths: Vec<u64> = data["k"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["length"].as_u64().unwrap())
        .collect();
    // 4: via the centre in 上虞区; 5: the same through 曹娥江实验室; 6: through 绍兴市 and 越城区.
    assert_eq!(lengths, [4, 5, 6]);
    assert_eq!(
        data["all"],
        json!({ "truncated": false, "paths": [{ "length": 2 }, { "length": 3 }] })
    );
    assert_eq!(
        data["one"],
        json!({ "truncated": true, "paths": [{ "length": 2 }] })
    );
    assert_eq!(
        data["r"],
        json!({ "totalCount": 2, "edges": [
            { "distance": 2, "node": { "id": "shangyu-district" } },
            { "distance": 2, "node": { "id": "yuecheng-district" } } ] })
    );
    assert_eq!(
        data["c"],
        json!([{ "entity": { "id": "shangyu-district" }, "distanceFromA": 2, "distanceFromB": 2 }])
    );
    assert_eq!(data["via"]["length"], 4);
    assert_eq!(
        pluck(&data["hops"]["entities"], "id"),
        [
            "zju-shangyu-center",
            "shangyu-district",
            "shaoxing-city",
            "yuecheng-district",
            "zju-shaoxing-institute"
        ]
    );
}

#[test]
fn neighborhood_filters_kinds_and_as_of_hides_later_relations() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ n: neighborhood(ids: ["zhejiang-university"], depth: 2, kinds: [UNIVERSITY, RESEARCH_INSTITUTE]) {
               entities { id } truncated }
             old: entity(id: "zhejiang-university") { neighbors(direction: IN, asOf: 2023) { id } }
             now: entity(id: "zhejiang-university") { neighbors(direction: IN) { id } } }"#,
        json!({}),
    );
    assert_eq!(
        pluck(&data["n"]["entities"], "id"),
        [
            "zhejiang-university",
            "zju-shangyu-center",
            "zju-shaoxing-institute"
        ]
    );
    // Only the 2023-dated co-building existed by 2023; the rest is first stated in 2024.
    assert_eq!(
        pluck(&data["old"]["neighbors"], "id"),
        ["zju-shaoxing-institute"]
    );
    assert_eq!(
        pluck(&data["now"]["neighbors"], "id"),
        ["zju-shangyu-center", "zju-shaoxing-institute"]
    );
}

#[test]
fn group_counts_roll_up_the_district_hierarchy() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ d: groupCount(by: DISTRICT, where: { kind: { in: [RESEARCH_INSTITUTE, LAB] } }, within: "shaoxing-city") { key count }
             k: groupCount(by: KIND) { key count }
             r: groupCount(by: RELATION_KIND, relations: { kinds: [CO_BUILT_BY, RELIES_ON] }) { key count }
             doc: groupCount(by: DOCUMENT) { key label count }
             y: groupCount(by: YEAR) { key count }
             dd: degreeDistribution(kinds: [DISTRICT]) { degree count } }"#,
        json!({}),
    );
    assert_eq!(
        data["d"],
        json!([{ "key": "shangyu-district", "count": 3 }, { "key": "yuecheng-district", "count": 1 }])
    );
    assert_eq!(data["k"][0], json!({ "key": "DISTRICT", "count": 4 }));
    assert_eq!(
        data["r"],
        json!([{ "key": "CO_BUILT_BY", "count": 4 }, { "key": "RELIES_ON", "count": 1 }])
    );
    assert_eq!(
        data["doc"],
        json!([{ "key": "mini", "label": "测试文档", "count": 11 }, { "key": "divisions", "label": "区划代码摘录", "count": 3 }])
    );
    // The reference table has no date: its three relations are undated.
    assert_eq!(
        data["y"],
        json!([{ "key": "2024", "count": 10 }, { "key": "undated", "count": 3 }, { "key": "2023", "count": 1 }])
    );
    assert_eq!(
        data["dd"],
        json!([{ "degree": 1, "count": 1 }, { "degree": 2, "count": 1 }, { "degree": 4, "count": 1 }, { "degree": 5, "count": 1 }])
    );
}

#[test]
fn measures_rankings_communities_and_the_collaboration_network() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ top: topEntities(measure: BETWEENNESS, first: 2) { rank score entity { id } }
             deg: topEntities(measure: DEGREE, kinds: [UNIVERSITY], first: 1) { score entity { id } }
             e: entity(id: "shaoxing-city") { pageRank betweenness community component }
             net: network { entities components largestComponent betweennessSampled }
             com: communities(first: 10) { id size members(first: 1) { id } }
             collab: collaborationNetwork { entities { id } ties { a { id } b { id } weight sharedPlaces { id } coBuilt { id } } } }"#,
        json!({}),
    );
    assert_eq!(
        pluck(
            &data["top"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["entity"].clone())
                .collect::<serde_json::Value>(),
            "id"
        ),
        ["shaoxing-city", "shangyu-district"]
    );
    assert!((data["top"][0]["score"].as_f64().unwrap() - 0.5666666666666665).abs() < 1e-9);
    assert_eq!(
        data["deg"],
        json!([{ "score": 2.0, "entity": { "id": "zhejiang-university" } }])
    );
    assert_eq!(data["e"]["component"], 0);
    assert_eq!(
        data["net"],
        json!({ "entities": 12, "components": 1, "largestComponent": 12, "betweennessSampled": false })
    );
    let sizes: u64 = data["com"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["size"].as_u64().unwrap())
        .sum();
    assert_eq!(sizes, 12, "communities partition the graph");
    assert_eq!(
        data["collab"],
        json!({ "entities": [{ "id": "tianjin-university" }, { "id": "zhejiang-university" }],
                "ties": [{ "a": { "id": "tianjin-university" }, "b": { "id": "zhejiang-university" }, "weight": 1,
                           "sharedPlaces": [{ "id": "shangyu-district" }], "coBuilt": [] }] })
    );
}

#[test]
fn an_entity_pages_through_its_relations() {
    let (server, _dir) = Server::with_mini_seed();
    let query = r#"query($after: String) { entity(id: "shangyu-district") {
        relationConnection(first: 3, after: $after) { totalCount edges { cursor } pageInfo { hasNextPage endCursor } } } }"#;
    let first = server.data(query, json!({}));
    let page = &first["entity"]["relationConnection"];
    assert_eq!(page["totalCount"], 4);
    assert_eq!(page["pageInfo"]["hasNextPage"], true);
    let second = server.data(query, json!({ "after": page["pageInfo"]["endCursor"] }));
    let page = &second["entity"]["relationConnection"];
    // Sorted by kind, then by the other end: cao-e…, shaoxing-city, tju-…, zju-….
    assert_eq!(
        page["edges"],
        json!([{ "cursor": "zju-shangyu-center/LOCATED_IN/shangyu-district" }])
    );
    assert_eq!(page["pageInfo"]["hasNextPage"], false);
}
