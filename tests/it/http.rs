//! GraphQL over HTTP: methods, media types, status codes, bad input, and the other routes.

use reqwest::blocking::Response;
use serde_json::{Value, json};

use crate::support::Server;

fn body(response: Response) -> Value {
    response.json().expect("a JSON body")
}

fn content_type(response: &Response) -> String {
    response.headers()["content-type"]
        .to_str()
        .unwrap()
        .to_owned()
}

#[test]
fn get_runs_queries_and_refuses_mutations() {
    let (server, _dir) = Server::with_mini_seed();
    let response = server
        .client()
        .get(server.url("/graphql"))
        .query(&[
            ("query", "query($id: ID!) { entity(id: $id) { name } }"),
            ("variables", r#"{"id":"zhejiang-university"}"#),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(
        body(response),
        json!({ "data": { "entity": { "name": "浙江大学" } } })
    );

    let response = server
        .client()
        .get(server.url("/graphql"))
        .query(&[("query", "mutation { __typename }")])
        .send()
        .unwrap();
    assert_eq!(response.status(), 405);
    assert_eq!(response.headers()["allow"], "POST");
    assert_eq!(
        body(response)["errors"][0]["extensions"]["code"],
        "METHOD_NOT_ALLOWED"
    );
}

#[test]
fn media_types_are_negotiated() {
    let (server, _dir) = Server::with_mini_seed();
    let post = |accept: Option<&str>, query: &str| {
        let mut request = server
            .client()
            .post(server.url("/graphql"))
            .json(&json!({ "query": query }));
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        request.send().unwrap()
    };
    let response = post(
        Some("application/graphql-response+json"),
        "{ stats { entities } }",
    );
    assert_eq!(response.status(), 200);
    assert_eq!(
        content_type(&response),
        "application/graphql-response+json; charset=utf-8"
    );

    let response = post(Some("application/json"), "{ stats { entities } }");
    assert_eq!(content_type(&response), "application/json; charset=utf-8");
    let response = post(None, "{ stats { entities } }");
    assert_eq!(content_type(&response), "application/json; charset=utf-8");
    let response = post(Some("*/*"), "{ stats { entities } }");
    assert_eq!(content_type(&response), "application/json; charset=utf-8");

    let response = post(Some("text/html"), "{ stats { entities } }");
    assert_eq!(response.status(), 406);
    assert_eq!(
        body(response)["errors"][0]["extensions"]["code"],
        "NOT_ACCEPTABLE"
    );

    // A document that does not validate: 400 under the new media type, 200 under the legacy one.
    let response = post(Some("application/graphql-response+json"), "{ noSuchField }");
    assert_eq!(response.status(), 400);
    let b = body(response);
    assert!(b.get("data").is_none(), "{b}");
    assert_eq!(
        b["errors"][0]["extensions"]["code"],
        "GRAPHQL_VALIDATION_FAILED"
    );
    let response = post(Some("application/json"), "{ noSuchField }");
    assert_eq!(response.status(), 200);

    let response = post(Some("application/graphql-response+json"), "{ entity(id: ");
    assert_eq!(response.status(), 400);
    assert_eq!(
        body(response)["errors"][0]["extensions"]["code"],
        "GRAPHQL_PARSE_FAILED"
    );
}

#[test]
fn malformed_requests_get_400_with_a_reason() {
    let (server, _dir) = Server::with_mini_seed();
    let raw = |content_type: &str, payload: &str| {
        server
            .client()
            .post(server.url("/graphql"))
            .header("content-type", content_type)
            .body(payload.to_owned())
            .send()
            .unwrap()
    };
    for (payload, expected) in [
        ("{not json", "not valid JSON"),
        ("[]", "batched requests"),
        ("42", "JSON object"),
        (r#"{"query": 42}"#, "`query` must be a string"),
        (r#"{"variables": {}}"#, "has no `query`"),
        (
            r#"{"query": "{ stats { entities } }", "variables": [1]}"#,
            "`variables` must be an object",
        ),
        (
            r#"{"query": "{ stats { entities } }", "operationName": 7}"#,
            "`operationName` must be a string",
        ),
    ] {
        let response = raw("application/json", payload);
        assert_eq!(response.status(), 400, "{payload}");
        let message = body(response)["errors"][0]["message"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(message.contains(expected), "{payload}: {message}");
    }
    let response = raw("text/plain", r#"{"query": "{ stats { entities } }"}"#);
    assert_eq!(response.status(), 415);
}

#[test]
fn wrong_argument_types_and_unknown_fields_are_errors_that_say_where() {
    let (server, _dir) = Server::with_mini_seed();
    let b = server.post(
        r#"{ entity(id: "zhejiang-university") { nope } }"#,
        json!({}),
    );
    assert!(
        b["errors"][0]["message"].as_str().unwrap().contains("nope"),
        "{b}"
    );
    let b = server.post(r#"{ search(text: 5) { id } }"#, json!({}));
    assert!(
        b["errors"][0]["message"].as_str().unwrap().contains("text"),
        "{b}"
    );
    let b = server.post(
        "query($n: Int) { search(text: \"浙\", first: $n) { id } }",
        json!({ "n": "many" }),
    );
    assert!(
        b["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("argument \"first\""),
        "{b}"
    );
    let (code, message) = server.error_code(
        r#"{ shortestPath(from: "nobody", to: "zhejiang-university") { length } }"#,
        json!({}),
    );
    assert_eq!(code, "NOT_FOUND");
    assert!(message.contains("`from`"), "{message}");
}

/// A query text that passed full validation once is run again with lighter validation: what depends
/// on the variables must still be checked on every request.
#[test]
fn a_query_text_seen_before_still_checks_its_variables() {
    let (server, _dir) = Server::with_mini_seed();
    let query = "query($n: Int, $id: ID!) { search(text: \"浙\", first: $n) { id } entity(id: $id) { id } }";
    for _ in 0..3 {
        let data = server.data(query, json!({ "n": 1, "id": "zhejiang-university" }));
        assert_eq!(data["search"].as_array().unwrap().len(), 1, "{data}");
    }
    let b = server.post(query, json!({ "n": "many", "id": "zhejiang-university" }));
    let message = b["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("Int") && message.contains("many"), "{b}");
    assert!(b["data"].is_null(), "{b}");
    let b = server.post(query, json!({ "n": 1 }));
    assert!(
        b["errors"][0]["message"].as_str().unwrap().contains("id"),
        "{b}"
    );
    assert!(b["data"].is_null() || b["data"]["entity"].is_null(), "{b}");
}

#[test]
fn request_bodies_above_the_limit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--body-limit", "2048"]);
    let big = format!(
        r#"{{"query": "{{ stats {{ entities }} }}", "variables": {{"pad": "{}"}}}}"#,
        "x".repeat(4096)
    );
    let response = server
        .client()
        .post(server.url("/graphql"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .unwrap();
    assert_eq!(response.status(), 413);
}

#[test]
fn graphiql_and_its_assets_are_served_from_the_binary() {
    let (server, _dir) = Server::with_mini_seed();
    let page = server.client().get(server.url("/graphiql")).send().unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().unwrap();
    assert!(
        !html.contains("https://"),
        "GraphiQL must not load anything from a CDN"
    );
    for asset in [
        "graphiql.min.js",
        "graphiql.min.css",
        "react.production.min.js",
        "react-dom.production.min.js",
        "init.js",
    ] {
        assert!(
            html.contains(&format!("/graphiql/assets/{asset}")),
            "{asset} is not referenced"
        );
        let response = server
            .client()
            .get(server.url(&format!("/graphiql/assets/{asset}")))
            .send()
            .unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().unwrap().len() > 100, "{asset} is empty");
    }
    let missing = server
        .client()
        .get(server.url("/graphiql/assets/nope.js"))
        .send()
        .unwrap();
    assert_eq!(missing.status(), 404);
}

#[test]
fn health_and_cors() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--cors-origins", "http://localhost:5173"]);
    let health = server.client().get(server.url("/healthz")).send().unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(body(health), json!({ "status": "ok" }));

    let preflight = server
        .client()
        .request(reqwest::Method::OPTIONS, server.url("/graphql"))
        .header("origin", "http://localhost:5173")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .unwrap();
    assert!(preflight.status().is_success());
    assert_eq!(
        preflight.headers()["access-control-allow-origin"],
        "http://localhost:5173"
    );

    let other = server
        .client()
        .post(server.url("/graphql"))
        .header("origin", "http://evil.example")
        .json(&json!({ "query": "{ stats { entities } }" }))
        .send()
        .unwrap();
    assert!(other.headers().get("access-control-allow-origin").is_none());
}

#[test]
fn sigterm_shuts_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &[]);
    assert_eq!(
        server.data("{ stats { documents } }", json!({}))["stats"]["documents"],
        7
    );
    let status = server.terminate();
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn the_explorer_and_its_libraries_are_served_from_the_binary() {
    let (server, _dir) = Server::with_mini_seed();
    let page = server.client().get(server.url("/")).send().unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("default-src 'self'") && csp.contains("script-src 'self'"),
        "{csp}"
    );
    assert_eq!(page.headers()["x-frame-options"], "DENY");
    assert_eq!(page.headers()["x-content-type-options"], "nosniff");
    let html = page.text().unwrap();
    assert!(
        !html.contains("https://") && !html.contains("http://"),
        "the explorer must not load from a CDN"
    );
    for asset in [
        "/explorer/style.css",
        "/explorer/app.js",
        "/explorer/vendor/cytoscape.min.js",
        "/explorer/vendor/layout-base.js",
        "/explorer/vendor/cose-base.js",
        "/explorer/vendor/cytoscape-fcose.js",
    ] {
        assert!(html.contains(asset), "{asset} is not referenced");
        let response = server.client().get(server.url(asset)).send().unwrap();
        assert_eq!(response.status(), 200, "{asset}");
        assert!(response.bytes().unwrap().len() > 1000, "{asset} is empty");
    }
    assert_eq!(
        server
            .client()
            .get(server.url("/explorer/vendor/nope.js"))
            .send()
            .unwrap()
            .status(),
        404
    );
}
