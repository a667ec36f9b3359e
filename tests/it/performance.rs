//! Performance II (issue 15), the behaviour behind the numbers: each network measure is computed on
//! its own, a set of layers other than the ecosystem only once asked for, and a request waits only
//! for the measure it reads.

use serde_json::json;

use crate::support::Server;

fn statuses(server: &Server, layers: &str) -> Vec<(String, bool)> {
    let body = server.data(
        &format!("{{ network(layers: [{layers}]) {{ measures {{ measure ready }} }} }}"),
        json!({}),
    );
    body["network"]["measures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["measure"].as_str().unwrap().to_owned(),
                m["ready"].as_bool().unwrap(),
            )
        })
        .collect()
}

#[test]
fn measures_are_computed_one_by_one_and_other_layers_only_when_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    // Nobody has asked for the policy layer's measures: none is computed (listing them waits for none).
    let policy = statuses(&server, "POLICY");
    assert_eq!(
        policy,
        [
            ("COMPONENTS".to_owned(), false),
            ("PAGE_RANK".to_owned(), false),
            ("COMMUNITIES".to_owned(), false),
            ("BETWEENNESS".to_owned(), false),
        ]
    );
    // Asking for one measure of it computes that one (the request waits for it alone) and starts
    // the others in the background.
    let top = server.data(
        "{ topEntities(measure: PAGE_RANK, layers: [POLICY], first: 1) { entity { layer } score } }",
        json!({}),
    );
    assert_eq!(top["topEntities"][0]["entity"]["layer"], "POLICY", "{top}");
    assert!(top["topEntities"][0]["score"].as_f64().unwrap() > 0.0);
    let all_ready = loop {
        let now = statuses(&server, "POLICY");
        if now.iter().all(|(_, ready)| *ready) {
            break now;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert_eq!(all_ready.len(), 4);
    // The ecosystem's are computed from the start; each says its generation and how long it took.
    let body = server.data(
        "{ network { generation stale measures { measure ready generation stale tookMs } betweennessStandardError betweennessSampled } }",
        json!({}),
    );
    let network = &body["network"];
    for status in network["measures"].as_array().unwrap() {
        assert_eq!(status["ready"], true, "{status}");
        assert_eq!(status["generation"], network["generation"], "{status}");
        assert_eq!(status["stale"], false, "{status}");
        assert!(status["tookMs"].as_f64().unwrap() >= 0.0);
    }
    // The bundled graph is small: betweenness is exact, with no error.
    assert_eq!(network["betweennessSampled"], false);
    assert_eq!(network["betweennessStandardError"], 0.0);
}

/// Large entity lists answer a plain selection without a resolver object per entity; the answer is
/// the one the resolvers give (a fragment forces them), field for field, aliases and nulls included.
#[test]
fn plain_entity_lists_answer_exactly_as_the_resolvers_do() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let fields = "id label: name nameEn kind layer __typename aliases districtLevel districtCode description focus";
    let query = format!(
        r#"{{
          entity(id: "shaoxing-city") {{
            plain: neighbors(depth: 2, direction: BOTH) {{ {fields} }}
            resolved: neighbors(depth: 2, direction: BOTH) {{ ... on Entity {{ {fields} }} }}
          }}
          neighborhood(ids: ["zhejiang-university"], depth: 2) {{
            plain: entities {{ {fields} }}
            resolved: entities {{ {fields} community }}
          }}
        }}"#
    );
    let data = server.data(&query, json!({}));
    let plain = data["entity"]["plain"].as_array().unwrap();
    assert!(plain.len() > 50, "{}", plain.len());
    assert_eq!(data["entity"]["plain"], data["entity"]["resolved"]);
    assert!(plain.iter().any(|e| e["districtLevel"].is_string()));
    assert!(plain.iter().any(|e| e["districtLevel"].is_null()));
    // The second list selects a computed field as well: compare everything else.
    let resolved: Vec<serde_json::Value> = data["neighborhood"]["resolved"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.as_object_mut().unwrap().remove("community");
            e
        })
        .collect();
    assert_eq!(data["neighborhood"]["plain"].as_array().unwrap(), &resolved);
    // Directives are honoured (they take the resolvers' way).
    let skipped = server.data(
        r#"{ entity(id: "shaoxing-city") { neighbors { id name @skip(if: true) } } }"#,
        json!({}),
    );
    assert!(
        skipped["entity"]["neighbors"][0].get("name").is_none(),
        "{skipped}"
    );
    assert!(
        skipped["entity"]["neighbors"][0]["id"].is_string(),
        "{skipped}"
    );
}

/// Relation lists likewise: a plain selection (ids, kinds, ends with stored fields) answers as the
/// resolvers do, including the stored id of a symmetric relation shown facing away from an entity.
#[test]
fn plain_relation_lists_answer_exactly_as_the_resolvers_do() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    let fields =
        "id kind year inferred bases __typename from: source { id name layer } target { id kind }";
    let query = format!(
        r#"{{
          entity(id: "shaoxing-city") {{
            plain: relations {{ {fields} }}
            resolved: relations {{ ... on Relation {{ {fields} }} }}
          }}
          neighborhood(ids: ["zhejiang-university"], depth: 2) {{
            plain: relations {{ {fields} }}
            resolved: relations {{ ... on Relation {{ {fields} }} }}
          }}
        }}"#
    );
    let data = server.data(&query, json!({}));
    for list in ["entity", "neighborhood"] {
        let plain = data[list]["plain"].as_array().unwrap();
        assert!(plain.len() > 20, "{list}: {}", plain.len());
        assert_eq!(data[list]["plain"], data[list]["resolved"], "{list}");
    }
    // 绍兴市's COOPERATES_WITH relations face away from it, with the id they are stored under.
    let facing: Vec<&serde_json::Value> = data["entity"]["plain"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["kind"] == "COOPERATES_WITH")
        .collect();
    assert!(!facing.is_empty());
    for relation in facing {
        assert_eq!(relation["from"]["id"], "shaoxing-city", "{relation}");
    }
    assert!(
        data["entity"]["plain"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["kind"] == "COOPERATES_WITH"
                && !r["id"].as_str().unwrap().starts_with("shaoxing-city/"))
    );
}
