//! No traps for a newcomer (issue 14): errors that say what to do.

use serde_json::json;

use crate::support::Server;

#[test]
fn variables_of_the_wrong_shape_are_the_clients_mistake() {
    let (server, _dir) = Server::with_mini_seed();
    let query = "query($id: ID!) { entity(id: $id) { name } }";
    for bad in [json!(null), json!({ "a": 1 }), json!([1])] {
        // Sent first, the query text is validated with its variables; sent again after a good
        // request, it is not validated again and its variables are checked as they are read: both
        // are the client's mistake, the second BAD_USER_INPUT.
        let (code, message) = server.error_code(query, json!({ "id": bad }));
        assert!(
            code == "BAD_USER_INPUT" || code == "GRAPHQL_VALIDATION_FAILED",
            "{bad}: {code} {message}"
        );
        server.data(query, json!({ "id": "zhejiang-university" }));
        let (code, message) = server.error_code(query, json!({ "id": bad }));
        assert_eq!(code, "BAD_USER_INPUT", "{bad}: {message}");
    }
    // A misspelt field that async-graphql already suggests a name for gets the suggestion once.
    let (code, message) = server.error_code(
        r#"{ entity(id: "zhejiang-university") { nameen } }"#,
        json!({}),
    );
    assert_eq!(code, "GRAPHQL_VALIDATION_FAILED");
    assert_eq!(message.matches("Did you mean").count(), 1, "{message}");
    assert!(message.contains(r#""nameEn""#), "{message}");
}

#[test]
fn client_mistakes_get_client_codes_and_hints() {
    let (server, _dir) = Server::with_mini_seed();
    // A variable the request does not give is the client's mistake.
    let (code, message) =
        server.error_code("query($id: ID!) { entity(id: $id) { name } }", json!({}));
    assert_eq!(code, "BAD_USER_INPUT", "{message}");
    // A misspelt field gets the nearest one; an invalid enum value the valid ones.
    let (code, message) = server.error_code(
        r#"{ entity(id: "zhejiang-university") { nmae } }"#,
        json!({}),
    );
    assert_eq!(code, "GRAPHQL_VALIDATION_FAILED");
    assert!(message.contains(r#"Did you mean "name"?"#), "{message}");
    let (_, message) = server.error_code("{ topEntities(measure: PAGERANK) { rank } }", json!({}));
    assert!(
        message.contains("valid values: BETWEENNESS, DEGREE, PAGE_RANK"),
        "{message}"
    );
}

#[test]
fn search_forgives_width_script_case_and_spacing() {
    let (server, _dir) = Server::with_mini_seed();
    let first = |text: &str| {
        server.data(
            "query($t: String!) { search(text: $t, first: 1) { id } }",
            json!({ "t": text }),
        )["search"][0]["id"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    };
    // Full-width brackets, Traditional characters, case and spaces.
    assert_eq!(
        first("天津大学浙江研究院（绍兴）"),
        "tju-zhejiang-institute"
    );
    assert_eq!(first("浙江大學"), "zhejiang-university");
    assert_eq!(first("天津大學浙江研究院"), "tju-zhejiang-institute");
    assert_eq!(first("  zhejiang   UNIVERSITY "), "zhejiang-university");
}

#[test]
fn name_filters_forgive_as_search_does() {
    let (server, _dir) = Server::with_mini_seed();
    let ids = |filter: &str| -> Vec<String> {
        let data = server.data(
            &format!("{{ entities(where: {filter}) {{ edges {{ node {{ id }} }} }} }}"),
            json!({}),
        );
        data["entities"]["edges"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["node"]["id"].as_str().unwrap().to_owned())
            .collect()
    };
    // Traditional characters, on both sides of the comparison.
    let traditional = ids(r#"{ name: { contains: "浙江大學" } }"#);
    assert!(
        traditional.contains(&"zhejiang-university".to_owned()),
        "{traditional:?}"
    );
    assert_eq!(traditional, ids(r#"{ name: { contains: "浙江大学" } }"#));
    // Full-width brackets, case and spacing.
    assert_eq!(
        ids(r#"{ name: { startsWith: "天津大学浙江研究院（绍兴" } }"#),
        ["tju-zhejiang-institute"]
    );
    assert_eq!(
        ids(
            r#"{ nameEn: { eq: "Zhejiang University" }, anyName: { contains: "  zhejiang   UNIVERSITY " } }"#
        ),
        ["zhejiang-university"]
    );
    assert_eq!(
        ids(r#"{ aliases: { contains: "浙大" }, kind: { eq: UNIVERSITY } }"#),
        ["zhejiang-university"]
    );
}

#[test]
fn every_id_argument_is_not_found_with_its_path_and_the_closest_ids() {
    let (dir, token) = crate::support::mini_seed_with_token("editor");
    let server = Server::start(dir.path(), &[]);
    let not_found = |query: &str, argument: &str, closest: &str| {
        let (code, message) = server.error_code(query, json!({}));
        assert_eq!(code, "NOT_FOUND", "{query}: {message}");
        assert!(
            message.contains(&format!("`{argument}`")),
            "{query}: {message}"
        );
        let named = message
            .split("closest: ")
            .nth(1)
            .unwrap_or_else(|| panic!("{query}: no closest ids in {message}"));
        assert!(
            named.starts_with(closest),
            "{query}: closest ids {named}, expected {closest} first"
        );
    };
    // Restricted to what the argument accepts, ranked by segments: `shaoxing` is the city.
    not_found(
        r#"{ entities(where: { locatedIn: "shaoxing" }) { totalCount } }"#,
        "where.locatedIn",
        "shaoxing-city",
    );
    not_found(
        r#"{ entities(where: { AND: [{ kind: { eq: LAB } }, { locatedIn: "shangyu" }] }) { totalCount } }"#,
        "where.AND[1].locatedIn",
        "shangyu-district",
    );
    not_found(
        r#"{ entities(where: { relations: { some: { document: "minii" } } }) { totalCount } }"#,
        "where.relations.some.document",
        "mini",
    );
    not_found(
        r#"{ relations(where: { target: { OR: [{ locatedIn: "yuecheng" }] } }) { totalCount } }"#,
        "where.target.OR[0].locatedIn",
        "yuecheng-district",
    );
    not_found(
        r#"{ shortestPath(from: "zhejiang-univ", to: "shaoxing-city") { length } }"#,
        "from",
        "zhejiang-university",
    );
    not_found(
        r#"{ shortestPath(from: "zhejiang-university", to: "shaoxng-city") { length } }"#,
        "to",
        "shaoxing-city",
    );
    not_found(
        r#"{ kShortestPaths(from: "zju-shaoxing-institut", to: "shaoxing-city") { length } }"#,
        "from",
        "zju-shaoxing-institute",
    );
    not_found(
        r#"{ allPaths(from: "zhejiang-university", to: "shaoxing") { truncated } }"#,
        "to",
        "shaoxing-city",
    );
    not_found(
        r#"{ reachable(from: "fudan") { totalCount } }"#,
        "from",
        "fudan-university",
    );
    not_found(
        r#"{ commonNeighbors(a: "zhejiang-university", b: "tju-institute") { distanceFromA } }"#,
        "b",
        "tju-zhejiang-institute",
    );
    not_found(
        r#"{ neighborhood(ids: ["zhejiang-university", "zju-shangyu"]) { truncated } }"#,
        "ids[1]",
        "zju-shangyu-center",
    );
    not_found(
        r#"{ groupCount(by: DISTRICT, within: "shaoxing") { key } }"#,
        "within",
        "shaoxing-city",
    );
    not_found(
        r#"{ groupCount(by: DOCUMENT, relations: { document: "mini2" }) { key } }"#,
        "relations.document",
        "mini",
    );
    // A name where an id belongs: the entity of that name.
    not_found(
        r#"{ reachable(from: "浙江大学") { totalCount } }"#,
        "from",
        "zhejiang-university",
    );

    // Lookups keep answering null, with a NOT_FOUND error beside it.
    let body = server.post(
        r#"{ entity(id: "zhejiang-universty") { id }
             relation(id: "zhejiang-university/CO_BUILT_BY/zju-shaoxing-institute") { id }
             document(id: "minii") { id }
             history(id: "zju-shaoxng-institute") { id } }"#,
        json!({}),
    );
    assert_eq!(
        body["data"],
        json!({ "entity": null, "relation": null, "document": null, "history": [] }),
        "{body}"
    );
    let errors = body["errors"].as_array().unwrap();
    let expected = [
        ("entity", "zhejiang-university"),
        // The relation the other way round.
        (
            "relation",
            "zju-shaoxing-institute/CO_BUILT_BY/zhejiang-university",
        ),
        ("document", "mini"),
        ("history", "zju-shaoxing-institute"),
    ];
    assert_eq!(errors.len(), expected.len(), "{body}");
    for (error, (field, closest)) in errors.iter().zip(expected) {
        assert_eq!(error["extensions"]["code"], "NOT_FOUND", "{error}");
        assert_eq!(error["path"], json!([field]), "{error}");
        let message = error["message"].as_str().unwrap();
        assert!(
            message.starts_with("`id`:") && message.contains(&format!("closest: {closest}")),
            "{message}"
        );
    }
    // Known ids answer without an error.
    server.data(
        r#"{ entity(id: "zhejiang-university") { id } history(id: "zhejiang-university") { id } }"#,
        json!({}),
    );

    // The REST subgraph, and the mutations.
    let response = server
        .client()
        .get(server.url("/api/subgraph?ids=zhejiang-university,shaoxng-city"))
        .send()
        .unwrap();
    assert_eq!(response.status(), 404);
    let body: serde_json::Value = response.json().unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("`ids[1]`") && message.contains("closest: shaoxing-city"),
        "{body}"
    );
    let mutate = |query: &str| -> serde_json::Value {
        server
            .client()
            .post(server.url("/graphql"))
            .bearer_auth(&token)
            .json(&json!({ "query": query }))
            .send()
            .unwrap()
            .json()
            .unwrap()
    };
    let body = mutate(r#"mutation { deleteEntity(id: "fudan-univ", expectedVersion: 0) }"#);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "NOT_FOUND",
        "{body}"
    );
    let message = body["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("`id`") && message.contains("closest: fudan-university"),
        "{body}"
    );
    let body = mutate(
        r#"mutation { createRelation(input: { kind: COOPERATES_WITH, source: "fudan-university", target: "shaoxing",
             evidence: [{ document: "mini", quote: "绍兴" }] }) { id } }"#,
    );
    let message = body["errors"][0]["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("`input.target`") && message.contains("closest: shaoxing-city"),
        "{body}"
    );
}

#[test]
fn documents_name_their_publisher_in_english_when_the_graph_knows_it() {
    // The bundled seed (a server on an empty directory seeds itself from it).
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let data = server.data("{ documents { id publisher publisherEn } }", json!({}));
    let publisher_en = |id: &str| {
        data["documents"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["id"] == id)
            .unwrap_or_else(|| panic!("no document {id}: {data}"))["publisherEn"]
            .clone()
    };
    // 绍兴市科技局 is an alias of the bureau; 金华市科学技术局 its name; a journal is no entity.
    assert_eq!(
        publisher_en("shaoxing-2024"),
        "Shaoxing Municipal Science and Technology Bureau"
    );
    assert_eq!(
        publisher_en("jinhua-2024"),
        "Jinhua Municipal Science and Technology Bureau"
    );
    assert_eq!(publisher_en("jiaxing-shaoxing-2020"), json!(null));
}

#[test]
fn symmetric_relations_face_away_from_the_entity_asked_about() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ entity(id: "shaoxing-city") { relations(relations: [COOPERATES_WITH], direction: OUT) { id version source { id } target { id } evidence { quote } } } }"#,
        json!({}),
    );
    let relations = data["entity"]["relations"].as_array().unwrap();
    assert_eq!(relations.len(), 1, "{data}");
    let relation = &relations[0];
    assert_eq!(relation["source"]["id"], "shaoxing-city");
    assert_eq!(relation["target"]["id"], "fudan-university");
    // Still the relation as stored: its id, version and evidence.
    assert_eq!(
        relation["id"],
        "fudan-university/COOPERATES_WITH/shaoxing-city"
    );
    assert!(
        !relation["evidence"].as_array().unwrap().is_empty(),
        "{relation}"
    );
}

#[test]
fn a_data_directory_in_use_is_named_as_such() {
    let (server, dir) = Server::with_mini_seed();
    for format in ["graphml", "jsonl", "gexf"] {
        let asked = std::time::Instant::now();
        let o = crate::support::innograph(&[
            "export",
            "--format",
            format,
            "--data-dir",
            dir.path().to_str().unwrap(),
        ]);
        // Told at once: the lock is another process's, which will not let go.
        assert!(
            asked.elapsed() < std::time::Duration::from_secs(2),
            "took {:?}",
            asked.elapsed()
        );
        assert!(!o.status.success());
        let said = crate::support::stderr(&o);
        assert!(
            said.contains("in use by a running innograph server"),
            "{said}"
        );
        assert!(
            said.contains(&format!("/api/export?format={format}")),
            "{said}"
        );
        assert_eq!(said.matches("/api/export").count(), 1, "{said}");
        assert!(!said.contains("could not acquire lock"), "{said}");
    }
    drop(server);
}

#[test]
fn unknown_ids_in_filters_are_not_found_with_the_closest_ids() {
    let (server, _dir) = Server::with_mini_seed();
    let (code, message) = server.error_code(
        r#"{ entities(where: { locatedIn: "shangyu" }) { totalCount } }"#,
        json!({}),
    );
    assert_eq!(code, "NOT_FOUND", "{message}");
    assert!(
        message.contains("`where.locatedIn`") && message.contains("shangyu-district"),
        "{message}"
    );
    let (code, message) = server.error_code(
        r#"{ relations(where: { document: "minii" }) { totalCount } }"#,
        json!({}),
    );
    assert_eq!(code, "NOT_FOUND", "{message}");
    assert!(
        message.contains("`where.document`") && message.contains("mini"),
        "{message}"
    );
    // Nested in a relation quantifier, too.
    let (code, _) = server.error_code(
        r#"{ entities(where: { relations: { some: { other: { locatedIn: "nowhere" } } } }) { totalCount } }"#,
        json!({}),
    );
    assert_eq!(code, "NOT_FOUND");
    // Known ids still answer.
    let data = server.data(
        r#"{ entities(where: { locatedIn: "shangyu-district" }) { totalCount } }"#,
        json!({}),
    );
    assert!(data["entities"]["totalCount"].as_u64().unwrap() > 0);
}

#[test]
fn descriptions_have_no_breaks_mid_sentence() {
    let (server, _dir) = Server::with_mini_seed();
    let data = server.data(
        r#"{ __type(name: "Query") { description fields { name description } } }"#,
        json!({}),
    );
    let mut checked = 0;
    for field in data["__type"]["fields"].as_array().unwrap() {
        let Some(text) = field["description"].as_str() else {
            continue;
        };
        checked += 1;
        for (i, _) in text.match_indices('\n') {
            let (before, after) = (&text[..i], &text[i + 1..]);
            assert!(
                before.ends_with('\n')
                    || after.starts_with('\n')
                    || after.starts_with("- ")
                    || after.starts_with("* ")
                    || after.starts_with('|'),
                "a break mid-sentence in the description of {}: {text:?}",
                field["name"]
            );
        }
    }
    assert!(checked > 20);
}
