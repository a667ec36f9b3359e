//! No traps for a newcomer (issue 14): errors that say what to do.

use serde_json::json;

use crate::support::Server;

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
    let o = crate::support::innograph(&[
        "export",
        "--format",
        "jsonl",
        "--data-dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let said = crate::support::stderr(&o);
    assert!(
        said.contains("in use by a running innograph server"),
        "{said}"
    );
    assert!(said.contains("/api/export"), "{said}");
    assert!(!said.contains("could not acquire lock"), "{said}");
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
        message.contains("`where`") && message.contains("shangyu-district"),
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
