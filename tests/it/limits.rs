//! Every bound on work, and the error that names it.

use serde_json::json;

use crate::support::Server;

#[test]
fn traversal_depth_and_negative_or_huge_depths() {
    let (server, _dir) = Server::with_mini_seed();
    let neighbors =
        r#"query($d: Int) { entity(id: "shangyu-district") { neighbors(depth: $d) { id } } }"#;
    let (code, message) = server.error_code(neighbors, json!({ "d": 7 }));
    assert_eq!(code, "TRAVERSAL_DEPTH_LIMIT");
    assert!(message.contains("limit of 6"), "{message}");
    assert_eq!(
        server.error_code(neighbors, json!({ "d": 0 })).0,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        server.error_code(neighbors, json!({ "d": -3 })).0,
        "BAD_USER_INPUT"
    );
    let huge = server.post(neighbors, json!({ "d": 99_999_999_999i64 }));
    assert!(
        huge["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("Only integers from"),
        "{huge}"
    );

    let path = r#"query($m: Int) { shortestPath(from: "shangyu-district", to: "zhejiang-university", maxDepth: $m) { length } }"#;
    assert_eq!(
        server.error_code(path, json!({ "m": 13 })).0,
        "TRAVERSAL_DEPTH_LIMIT"
    );
    assert_eq!(
        server.error_code(path, json!({ "m": -1 })).0,
        "BAD_USER_INPUT"
    );

    let hood =
        r#"query($d: Int) { neighborhood(ids: ["shangyu-district"], depth: $d) { truncated } }"#;
    assert_eq!(
        server.error_code(hood, json!({ "d": 100 })).0,
        "TRAVERSAL_DEPTH_LIMIT"
    );
}

#[test]
fn page_size() {
    let (server, _dir) = Server::with_mini_seed();
    let (code, message) = server.error_code("{ entities(first: 5000) { totalCount } }", json!({}));
    assert_eq!(code, "PAGE_SIZE_LIMIT");
    assert!(message.contains("limit of 1000"), "{message}");
    assert_eq!(
        server
            .error_code("{ entities(first: -1) { totalCount } }", json!({}))
            .0,
        "BAD_USER_INPUT"
    );
    assert_eq!(
        server
            .error_code(r#"{ search(text: "浙", first: 1001) { id } }"#, json!({}))
            .0,
        "PAGE_SIZE_LIMIT"
    );
    assert_eq!(
        server
            .error_code(
                r#"{ neighborhood(ids: ["shangyu-district"], limit: 100000) { truncated } }"#,
                json!({})
            )
            .0,
        "PAGE_SIZE_LIMIT"
    );
}

#[test]
fn query_depth_and_complexity() {
    let (server, _dir) = Server::with_mini_seed();
    let mut deep = String::from("id");
    for _ in 0..20 {
        deep = format!("coBuiltBy {{ {deep} }}");
    }
    let (code, message) = server.error_code(
        &format!(r#"{{ entity(id: "shangyu-district") {{ {deep} }} }}"#),
        json!({}),
    );
    assert_eq!(code, "QUERY_DEPTH_LIMIT");
    assert!(message.contains("depth 16"), "{message}");

    let wide = r#"{ entities(first: 1000) { edges { node { neighbors(depth: 6) { neighbors(depth: 6) { id } } } } } }"#;
    let (code, message) = server.error_code(wide, json!({}));
    assert_eq!(code, "QUERY_COMPLEXITY_LIMIT");
    assert!(message.contains("complexity 20000"), "{message}");
}

#[test]
fn limits_are_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &["--max-page-size", "5", "--max-traversal-depth", "2"],
    );
    let (_, message) = server.error_code("{ entities(first: 6) { totalCount } }", json!({}));
    assert!(message.contains("limit of 5"), "{message}");
    let (_, message) = server.error_code(
        r#"{ neighborhood(ids: ["zhejiang-province"], depth: 3) { truncated } }"#,
        json!({}),
    );
    assert!(message.contains("limit of 2"), "{message}");
}

#[test]
fn introspection_can_be_switched_off() {
    let (server, _dir) = Server::with_mini_seed();
    assert_eq!(
        server.data("{ __schema { queryType { name } } }", json!({}))["__schema"]["queryType"]["name"],
        "Query"
    );
    let dir = tempfile::tempdir().unwrap();
    let locked = Server::start(dir.path(), &["--disable-introspection"]);
    let (code, _) = locked.error_code("{ __schema { queryType { name } } }", json!({}));
    assert_eq!(code, "INTROSPECTION_DISABLED");
    let (code, _) = locked.error_code(
        "query { ...f } fragment f on Query { __type(name: \"Entity\") { name } }",
        json!({}),
    );
    assert_eq!(code, "INTROSPECTION_DISABLED");
    assert_eq!(
        locked.data("{ stats { documents } }", json!({}))["stats"]["documents"],
        7
    );
}

#[test]
fn clients_are_rate_limited_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--rate-limit", "2"]);
    // A bucket of 4 (twice the rate): a burst of 12 requests must see a 429 before the bucket refills
    // noticeably (2 a second).
    let query = server.url("/graphql?query=%7B__typename%7D");
    let statuses: Vec<u16> = (0..12)
        .map(|_| {
            server
                .client()
                .get(&query)
                .send()
                .unwrap()
                .status()
                .as_u16()
        })
        .collect();
    assert!(statuses.iter().take(4).all(|&s| s == 200), "{statuses:?}");
    let limited = statuses.iter().position(|&s| s == 429);
    assert!(limited.is_some(), "{statuses:?}");
    // Health checks are never limited, even while the client's bucket is empty.
    for _ in 0..20 {
        let status = server
            .client()
            .get(server.url("/healthz"))
            .send()
            .unwrap()
            .status();
        assert_eq!(status, 200);
    }
    let response = loop {
        let response = server.client().get(&query).send().unwrap();
        if response.status() == 429 {
            break response;
        }
    };
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(body["errors"][0]["extensions"]["code"], "RATE_LIMITED");
}

#[test]
fn an_allow_list_admits_only_persisted_operations() {
    let dir = tempfile::tempdir().unwrap();
    let allowed = "{ stats { documents } }";
    let list = dir.path().join("allow.txt");
    std::fs::write(
        &list,
        format!(
            "# the explorer's queries\n{}\n",
            innograph::auth::hash_token(allowed)
        ),
    )
    .unwrap();
    let server = Server::start(
        &dir.path().join("data"),
        &["--allow-list", list.to_str().unwrap()],
    );
    assert_eq!(server.data(allowed, json!({}))["stats"]["documents"], 7);
    let response = server
        .client()
        .post(server.url("/graphql"))
        .json(&json!({ "query": "{ stats { entities } }" }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 403);
    let body: serde_json::Value = response.json().unwrap();
    assert_eq!(
        body["errors"][0]["extensions"]["code"],
        "OPERATION_NOT_ALLOWED"
    );
}
