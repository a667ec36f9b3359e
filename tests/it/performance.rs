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
