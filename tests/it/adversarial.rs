//! A fuzz test of nested and adversarial GraphQL documents (issue 11): depth, breadth, aliases,
//! fragments (cycles included), input literals and variables, and arbitrary text, all sent to one
//! real server on loopback. The process must survive all of it, and every error must carry a code.

use proptest::prelude::*;
use serde_json::{Value, json};

use crate::support::Server;

/// Pieces a document is made of, nested by proptest's recursion.
fn selection() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("id".to_owned()),
        Just("name".to_owned()),
        Just("totalCount".to_owned()),
        Just("__typename".to_owned()),
        Just("...F".to_owned()),
        "[a-z]{1,6}".prop_map(|s| s),
    ];
    leaf.prop_recursive(12, 400, 8, |inner| {
        prop_oneof![
            (r"[a-z]{1,4}", inner.clone())
                .prop_map(|(alias, s)| format!("{alias}: entities {{ nodes {{ {s} }} }}")),
            inner
                .clone()
                .prop_map(|s| format!("neighbors(depth: 2) {{ entity {{ {s} }} }}")),
            proptest::collection::vec(inner.clone(), 1..8).prop_map(|items| items.join(" ")),
            inner
                .clone()
                .prop_map(|s| format!("... on Entity {{ {s} }}")),
            (value(), inner).prop_map(|(v, s)| format!("search(text: {v}) {{ {s} }}")),
        ]
    })
}

/// Input literals: deep lists and objects, strings with brackets, numbers out of range.
fn value() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_owned()),
        Just("\"{[(\"".to_owned()),
        Just("99999999999999999999".to_owned()),
        Just("-1".to_owned()),
        Just("LAB".to_owned()),
        Just("$v".to_owned()),
        "\"[^\"\\\\]{0,20}\"".prop_map(|s| s),
    ];
    leaf.prop_recursive(40, 300, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6)
                .prop_map(|v| format!("[{}]", v.join(", "))),
            (r"[A-Za-z]{1,5}", inner.clone()).prop_map(|(k, v)| format!("{{{k}: {v}}}")),
            inner.prop_map(|v| format!("{{NOT: {v}}}")),
        ]
    })
}

fn document() -> impl Strategy<Value = String> {
    prop_oneof![
        selection().prop_map(|s| format!("{{ {s} }}")),
        (selection(), selection()).prop_map(|(a, b)| format!(
            "query Q($v: String) {{ {a} }} fragment F on Entity {{ {b} ...F }}"
        )),
        (value(), selection()).prop_map(|(v, s)| format!(
            "query($w: EntityFilter = {v}) {{ entities(where: $w) {{ nodes {{ {s} }} }} }}"
        )),
        (1usize..3000).prop_map(|n| format!(
            "{{ {} }}",
            (0..n)
                .map(|i| format!("a{i}: __typename"))
                .collect::<Vec<_>>()
                .join(" ")
        )),
        (1usize..2000).prop_map(|n| format!("{}{}", "{".repeat(n), "}".repeat(n))),
        "\\PC{0,300}",
    ]
}

fn variables() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::from),
        "\\PC{0,10}".prop_map(Value::from)
    ];
    leaf.prop_recursive(100, 400, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            inner.prop_map(|v| json!({ "NOT": v })),
        ]
    })
}

#[test]
fn adversarial_documents_never_take_the_server_down() {
    let (server, _dir) = Server::with_mini_seed();
    let mut runner = proptest::test_runner::TestRunner::new(ProptestConfig {
        cases: 160,
        failure_persistence: None,
        ..ProptestConfig::default()
    });
    runner
        .run(&(document(), variables()), |(query, variables)| {
            let response = server
                .client()
                .post(server.url("/graphql"))
                .json(&json!({ "query": query, "variables": { "v": variables, "w": variables } }))
                .send();
            let response = response.map_err(|e| TestCaseError::fail(format!("no answer: {e}")))?;
            prop_assert!(
                response.status().as_u16() < 500 || response.status() == 503,
                "status {}",
                response.status()
            );
            let body: Value = response
                .json()
                .map_err(|e| TestCaseError::fail(format!("not JSON: {e}")))?;
            if let Some(errors) = body["errors"].as_array() {
                for error in errors {
                    prop_assert!(
                        error["extensions"]["code"].is_string(),
                        "an error without a code: {error}"
                    );
                }
            }
            // Still alive, and still answering.
            let health = server.client().get(server.url("/healthz")).send();
            prop_assert!(
                health.is_ok_and(|r| r.status() == 200),
                "the server stopped answering"
            );
            Ok(())
        })
        .unwrap();
}

/// Fragments that each spread the one before twice: `levels` of them over `leaf`, the last named
/// `{prefix}{levels}`; `spread` writes the two spreads of one level.
fn doubling(
    prefix: &str,
    on: &str,
    leaf: &str,
    levels: usize,
    spread: fn(&str) -> String,
) -> String {
    let mut text = format!("fragment {prefix}0 on {on} {{ {leaf} }}");
    for i in 1..=levels {
        let body = spread(&format!("{prefix}{}", i - 1));
        text.push_str(&format!(" fragment {prefix}{i} on {on} {{ {body} }}"));
    }
    text
}

/// An 898-byte query of 22 levels of doubling fragments used to pass every limit, run into the
/// execution timeout (503 after 10 s) and burn CPU for 20 s more: fragments are now counted
/// expanded before anything runs, and such a query gets QUERY_SIZE_LIMIT naming the limit.
#[test]
fn fragment_fan_out_is_refused_before_it_runs() {
    let (server, _dir) = Server::with_mini_seed();
    let twice = |name: &str| format!("...{name} ...{name}");
    let inline = |name: &str| {
        format!("... on Entity {{ ...{name} }} ... on Entity {{ ... on Entity {{ ...{name} }} }}")
    };
    let on_query = |name: &str| format!("...{name} ...{name}");
    let aliases: String = (0..100)
        .map(|i| format!("a{i}: entities {{ edges {{ node {{ ...A5 }} }} }} "))
        .collect();
    let cases = [
        (
            "22 levels on Entity",
            format!(
                "{} {{ entities {{ edges {{ node {{ ...F22 }} }} }} }}",
                doubling("F", "Entity", "id name", 22, twice)
            ),
        ),
        (
            "22 levels on Query",
            format!(
                "{} {{ ...Q22 }}",
                doubling("Q", "Query", "stats { documents }", 22, on_query)
            ),
        ),
        (
            "nested inline fragments",
            format!(
                "{} {{ entities {{ edges {{ node {{ ...I16 }} }} }} }}",
                doubling("I", "Entity", "id", 16, inline)
            ),
        ),
        (
            "one small fragment in 100 aliases",
            format!(
                "{} {{ {aliases} }}",
                doubling("A", "Entity", "id name", 5, twice)
            ),
        ),
    ];
    for (what, query) in &cases {
        let started = std::time::Instant::now();
        let response = server
            .client()
            .post(server.url("/graphql"))
            .json(&json!({ "query": query }))
            .send()
            .expect("the server answers");
        let body: Value = response.json().unwrap();
        println!(
            "{what}: {} bytes, answered in {:?}",
            query.len(),
            started.elapsed()
        );
        let error = &body["errors"][0];
        assert_eq!(
            error["extensions"]["code"], "QUERY_SIZE_LIMIT",
            "{what}: {body}"
        );
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("2000"), "{what}: {message}");
    }
    // Fragments as front ends use them still run.
    let small = format!(
        "{} {{ entities(first: 2) {{ edges {{ node {{ ...S3 }} }} }} }}",
        doubling("S", "Entity", "id name", 3, twice)
    );
    let data = server.data(&small, json!({}));
    assert_eq!(
        data["entities"]["edges"].as_array().unwrap().len(),
        2,
        "{data}"
    );
    // And the server is still there.
    assert_eq!(
        server
            .client()
            .get(server.url("/healthz"))
            .send()
            .unwrap()
            .status(),
        200
    );
}
