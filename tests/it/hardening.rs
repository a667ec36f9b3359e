//! Hardening: one request must never crash, stall or bypass the server (issue 11). Each test
//! reproduces one defect through the real binary on loopback.

use std::io::{Read, Write as _};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::live::{connect, next_json};
use crate::support::{
    Server, innograph, mini_seed, mini_seed_with_token as with_token, stderr, stdout,
};

fn post(server: &Server, token: Option<&str>, body: &Value) -> (u16, Value) {
    let mut request = server.client().post(server.url("/graphql")).json(body);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().expect("the server answers");
    let status = response.status().as_u16();
    (status, response.json().unwrap_or(Value::Null))
}

fn first_code(body: &Value) -> &str {
    body["errors"][0]["extensions"]["code"]
        .as_str()
        .unwrap_or("")
}

fn healthy(server: &Server) -> bool {
    server
        .client()
        .get(server.url("/healthz"))
        .send()
        .is_ok_and(|r| r.status() == 200)
}

/// Defect 1: deep nesting used to overflow a worker's stack and abort the process.
#[test]
fn deeply_nested_documents_get_a_coded_error_and_the_server_survives() {
    let (server, _dir) = Server::with_mini_seed();
    let nots = format!(
        "{{ entities(where: {}{}) {{ totalCount }} }}",
        "{NOT: ".repeat(400),
        "}".repeat(400)
    );
    let ands = format!(
        "{{ entities(where: {}{}) {{ totalCount }} }}",
        "{AND: [".repeat(1000),
        "]}".repeat(1000)
    );
    let default = format!(
        "query($w: EntityFilter = {}{}) {{ entities(where: $w) {{ totalCount }} }}",
        "{NOT: ".repeat(1000),
        "}".repeat(1000)
    );
    let selections = format!(
        "{{ {} }}",
        "entities { nodes { ".repeat(300) + &"} }".repeat(300)
    );
    for query in [&nots, &ands, &default, &selections] {
        let (status, body) = post(&server, None, &json!({ "query": query }));
        assert_eq!(first_code(&body), "QUERY_NESTING_LIMIT", "{status} {body}");
        assert!(healthy(&server), "the server died on a nested query");
    }
    // Over GET too.
    let response = server
        .client()
        .get(server.url("/graphql"))
        .query(&[("query", nots.as_str())])
        .send()
        .unwrap();
    let body: Value = response.json().unwrap();
    assert_eq!(first_code(&body), "QUERY_NESTING_LIMIT", "{body}");
    // Deep variables: refused before they are converted.
    let mut deep = json!({});
    for _ in 0..100 {
        deep = json!({ "NOT": deep });
    }
    let (_, body) = post(
        &server,
        None,
        &json!({ "query": "query($w: EntityFilter) { entities(where: $w) { totalCount } }", "variables": { "w": deep } }),
    );
    assert_eq!(first_code(&body), "QUERY_NESTING_LIMIT", "{body}");
    // Brackets inside strings and comments do not count.
    let quoted = format!(
        "{{ search(text: \"{}\") {{ id }} # {}\n}}",
        "{".repeat(150),
        "[".repeat(500)
    );
    let (_, body) = post(&server, None, &json!({ "query": quoted }));
    assert_ne!(first_code(&body), "QUERY_NESTING_LIMIT", "{body}");
    assert!(healthy(&server));
}

/// Defect 2: `--require-token-for-reads` used to leave the plain-HTTP data routes open.
#[test]
fn every_data_route_obeys_the_read_policy() {
    let (dir, reader) = with_token("reader");
    let server = Server::start(dir.path(), &["--require-token-for-reads"]);
    let concrete = |path: &str| {
        path.replace("{file}", "index.html")
            .replace("{*file}", "index.html")
    };
    let mut data_routes = 0;
    for &(path, access) in innograph::server::ROUTES {
        let url = server.url(&concrete(path));
        let anonymous = server.client().get(&url).send().unwrap().status();
        let with_token = server
            .client()
            .get(&url)
            .bearer_auth(&reader)
            .send()
            .unwrap()
            .status();
        match access {
            innograph::server::Access::Data => {
                data_routes += 1;
                assert_eq!(anonymous, 401, "{path} answered an anonymous read");
                assert_ne!(with_token, 401, "{path} refused a reader");
            }
            innograph::server::Access::Public => {
                assert_ne!(anonymous, 401, "{path} holds no data but asked for a token");
            }
        }
    }
    assert!(data_routes >= 3);
    // The export itself, which used to come back whole.
    let export = server
        .client()
        .get(server.url("/api/export?format=jsonl"))
        .send()
        .unwrap();
    assert_eq!(export.status(), 401);
    let body: Value = export.json().unwrap();
    assert_eq!(first_code(&body), "UNAUTHENTICATED");

    // A persisted-operations server does not serve arbitrary reads over plain HTTP either.
    let list = dir.path().join("allow.txt");
    std::fs::write(
        &list,
        innograph::auth::hash_token("{ stats { documents } }"),
    )
    .unwrap();
    drop(server);
    let server = Server::start(dir.path(), &["--allow-list", list.to_str().unwrap()]);
    for path in [
        "/api/export?format=jsonl",
        "/api/subgraph?ids=shaoxing-city",
    ] {
        let response = server
            .client()
            .get(server.url(path))
            .bearer_auth(&reader)
            .send()
            .unwrap();
        assert_eq!(response.status(), 403, "{path}");
        let body: Value = response.json().unwrap();
        assert_eq!(first_code(&body), "OPERATION_NOT_ALLOWED", "{path}");
    }
}

/// Defect 3: the execution timeout used to be checked only after all fields had run.
#[test]
fn all_fields_of_a_request_share_the_execution_timeout() {
    // The bundled graph, where these paths are many.
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--execution-timeout-ms", "300"]);
    let aliases: String = (0..60)
        .map(|i| {
            format!(
                "a{i}: allPaths(from: \"zhejiang-university\", to: \"shangyu-district\", maxDepth: 12, limit: 1000) {{ truncated }} "
            )
        })
        .collect();
    let query = format!("{{ {aliases} }}");
    let base = server.base.clone();
    let probe = std::thread::spawn(move || {
        // While the request runs, health checks are answered; report how fast (not asserted).
        let client = reqwest::blocking::Client::new();
        let mut slowest = Duration::ZERO;
        for _ in 0..10 {
            let started = Instant::now();
            let status = client
                .get(format!("{base}/healthz"))
                .send()
                .unwrap()
                .status();
            assert_eq!(status, 200);
            slowest = slowest.max(started.elapsed());
            std::thread::sleep(Duration::from_millis(20));
        }
        slowest
    });
    let started = Instant::now();
    let (status, body) = post(&server, None, &json!({ "query": query }));
    let took = started.elapsed();
    let slowest = probe.join().unwrap();
    println!(
        "60 aliases of allPaths: {took:?} (timeout 300 ms); slowest /healthz meanwhile: {slowest:?}"
    );
    let codes: Vec<&str> = body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .filter_map(|e| e["extensions"]["code"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(
        codes.contains(&"EXECUTION_TIMEOUT"),
        "status {status}, codes {codes:?}"
    );
}

const CREATE: &str = "mutation($id: ID!, $name: String!) { createEntity(input: { id: $id, kind: LAB, name: $name }) { id version } }";

/// Defect 5: two concurrent creates with one id (or one name) used to be both acknowledged.
#[test]
fn concurrent_creates_acknowledge_exactly_one() {
    let (dir, token) = with_token("editor");
    let server = Server::start(dir.path(), &["--rate-limit", "0"]);
    let base = server.base.clone();
    let race = |round: usize, same_id: bool| -> usize {
        let barrier = std::sync::Arc::new(std::sync::Barrier::new(2));
        let handles: Vec<_> = (0..2)
            .map(|side| {
                let (barrier, base, token) = (barrier.clone(), base.clone(), token.clone());
                std::thread::spawn(move || {
                    let (id, name) = if same_id {
                        (format!("race-{round}"), format!("竞争实验室{round}-{side}"))
                    } else {
                        (format!("race-{round}-{side}"), format!("同名实验室{round}"))
                    };
                    let client = reqwest::blocking::Client::new();
                    barrier.wait();
                    let body: Value = client
                        .post(format!("{base}/graphql"))
                        .bearer_auth(&token)
                        .json(&json!({ "query": CREATE, "variables": { "id": id, "name": name } }))
                        .send()
                        .unwrap()
                        .json()
                        .unwrap();
                    body.get("errors").is_none()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| usize::from(h.join().unwrap()))
            .sum()
    };
    for round in 0..20 {
        assert_eq!(race(round, true), 1, "round {round}: one id");
        assert_eq!(race(round, false), 1, "round {round}: one name");
    }
    // The change log holds one creation per id.
    let (_, body) = post(
        &server,
        Some(&token),
        &json!({ "query": "{ changes(first: 1000) { operation subjects } }" }),
    );
    let creations = body["data"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["operation"] == "createEntity")
        .count();
    assert_eq!(creations, 40, "{body}");
}

/// Defect 6: edits used to break the graph's rules, so that an export no longer imported.
#[test]
fn writes_keep_the_graph_rules_and_exports_import() {
    let (dir, token) = with_token("editor");
    let server = Server::start(dir.path(), &[]);
    let run = |query: &str| post(&server, Some(&token), &json!({ "query": query })).1;
    // A district with places inside it cannot become a lab.
    let body = run(
        r#"mutation { updateEntity(expectedVersion: 1, input: { id: "shangyu-district", kind: LAB, name: "上虞区" }) { id } }"#,
    );
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("LOCATED_IN"),
        "{body}"
    );
    // A district is not merged into a university.
    let body = run(
        r#"mutation { mergeEntities(survivor: "zhejiang-university", merged: "yuecheng-district", survivorVersion: 1, mergedVersion: 1) { id } }"#,
    );
    assert!(!body["errors"].is_null(), "{body}");
    // An import may not silently re-declare what exists ...
    let redeclare =
        json!({"type": "entity", "id": "shangyu-district", "kind": "LAB", "name": "上虞区"})
            .to_string();
    let body = post(
        &server,
        Some(&token),
        &json!({ "query": "mutation($j: String!) { importBatch(jsonl: $j) }", "variables": { "j": redeclare } }),
    )
    .1;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("expectedVersion"),
        "{body}"
    );
    // ... and with its version it is judged as an update, against the relations it has.
    let update = json!({"type": "entity", "expectedVersion": 1, "id": "shangyu-district", "kind": "LAB", "name": "上虞区"}).to_string();
    let body = post(
        &server,
        Some(&token),
        &json!({ "query": "mutation($j: String!) { importBatch(jsonl: $j) }", "variables": { "j": update } }),
    )
    .1;
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("LOCATED_IN"),
        "{body}"
    );
    // A legitimate update by import works, with the version the entity is at.
    let version =
        run(r#"{ entity(id: "fudan-university") { version } }"#)["data"]["entity"]["version"]
            .as_u64()
            .unwrap();
    let rename = json!({"type": "entity", "expectedVersion": version, "id": "fudan-university", "kind": "UNIVERSITY", "name": "复旦大学", "aliases": ["复旦"]}).to_string();
    let body = post(
        &server,
        Some(&token),
        &json!({ "query": "mutation($j: String!) { importBatch(jsonl: $j) }", "variables": { "j": rename } }),
    )
    .1;
    assert!(body["errors"].is_null(), "{body}");
    // The backup restores.
    drop(server);
    let export = dir.path().join("backup.jsonl");
    let data = dir.path().to_str().unwrap();
    let o = innograph(&[
        "export",
        "--format",
        "jsonl",
        "--data-dir",
        data,
        "--out",
        export.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let fresh = tempfile::tempdir().unwrap();
    let o = innograph(&[
        "import",
        export.to_str().unwrap(),
        "--data-dir",
        fresh.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

/// Defect 7: WebSocket operations used to skip the allow-list, the rate limit and the error codes,
/// and a connection could hold any number of subscriptions.
#[test]
fn websocket_operations_obey_the_http_policy() {
    let (dir, reader) = with_token("reader");
    let allowed = "{ stats { documents } }";
    let list = dir.path().join("allow.txt");
    std::fs::write(&list, innograph::auth::hash_token(allowed)).unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--allow-list",
            list.to_str().unwrap(),
            "--rate-limit",
            "3",
            "--max-subscriptions-per-connection",
            "2",
        ],
    );
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut socket = connect(
            &server.base,
            json!({ "authorization": format!("Bearer {reader}") }),
        )
        .await;
        assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
        let send = |id: &str, query: &str| {
            json!({ "id": id, "type": "subscribe", "payload": { "query": query } }).to_string()
        };
        socket
            .send(Message::Text(
                send("q1", "{ entities { totalCount } }").into(),
            ))
            .await
            .unwrap();
        let reply = next_json(&mut socket).await;
        assert_eq!(reply["type"], "error", "{reply}");
        assert_eq!(
            reply["payload"][0]["extensions"]["code"], "OPERATION_NOT_ALLOWED",
            "{reply}"
        );
        socket
            .send(Message::Text(send("q2", allowed).into()))
            .await
            .unwrap();
        let reply = next_json(&mut socket).await;
        assert_eq!(reply["type"], "next", "{reply}");
        assert_eq!(reply["payload"]["data"]["stats"]["documents"], 2, "{reply}");
        assert_eq!(next_json(&mut socket).await["type"], "complete");
        // The rate limit: a burst of 20 on one connection meets RATE_LIMITED.
        let mut codes = Vec::new();
        for i in 0..20 {
            socket
                .send(Message::Text(send(&format!("b{i}"), allowed).into()))
                .await
                .unwrap();
            let reply = next_json(&mut socket).await;
            if reply["type"] == "error" {
                codes.push(
                    reply["payload"][0]["extensions"]["code"]
                        .as_str()
                        .unwrap_or("")
                        .to_owned(),
                );
            } else {
                assert_eq!(next_json(&mut socket).await["type"], "complete");
            }
        }
        assert!(codes.iter().any(|c| c == "RATE_LIMITED"), "{codes:?}");
    });
    drop(server);
    // Subscriptions per connection are capped; every error carries a code.
    let server = Server::start(
        dir.path(),
        &[
            "--max-subscriptions-per-connection",
            "2",
            "--rate-limit",
            "0",
        ],
    );
    runtime.block_on(async {
        let mut socket = connect(&server.base, json!({})).await;
        assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
        for id in ["s1", "s2", "s3"] {
            let subscribe = json!({ "id": id, "type": "subscribe", "payload": { "query": "subscription { changes { operation } }" } });
            socket.send(Message::Text(subscribe.to_string().into())).await.unwrap();
        }
        let reply = next_json(&mut socket).await;
        assert_eq!(reply["id"], "s3", "{reply}");
        assert_eq!(reply["payload"][0]["extensions"]["code"], "SUBSCRIPTION_LIMIT", "{reply}");
        let bad = json!({ "id": "v", "type": "subscribe", "payload": { "query": "subscription { nosuchfield }" } });
        socket.send(Message::Text(bad.to_string().into())).await.unwrap();
        let reply = next_json(&mut socket).await;
        assert_eq!(reply["type"], "error", "{reply}");
        assert!(reply["payload"][0]["extensions"]["code"].is_string(), "{reply}");
    });
}

/// Defect 8: idle connections and ones that drip their headers used to stay open for good.
#[test]
fn slow_and_idle_connections_are_closed_and_capped() {
    let (dir, _) = with_token("reader");
    let server = Server::start(
        dir.path(),
        &[
            "--header-read-timeout-secs",
            "1",
            "--max-connections-per-client",
            "4",
        ],
    );
    let address = server.base.trim_start_matches("http://").to_owned();
    let closed_by_server = |socket: &mut TcpStream| -> bool {
        // A hang guard, not a timing assertion: a server that never closes fails here.
        socket
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let mut buffer = [0u8; 512];
        loop {
            match socket.read(&mut buffer) {
                Ok(0) => return true,
                Ok(_) => continue,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    };
    // Dripping headers: closed once the header-read timeout passes.
    let mut drip = TcpStream::connect(&address).unwrap();
    drip.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    // Four idle connections fill this client's allowance; a fifth is closed at once.
    let mut idle: Vec<TcpStream> = (0..3)
        .map(|_| TcpStream::connect(&address).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    let mut fifth = TcpStream::connect(&address).unwrap();
    assert!(closed_by_server(&mut fifth), "a fifth connection was kept");
    assert!(
        closed_by_server(&mut drip),
        "a dripping connection was kept open"
    );
    for socket in &mut idle {
        assert!(closed_by_server(socket), "an idle connection was kept open");
    }
    // Once they are gone, the client is served again.
    assert!(healthy(&server));
}

/// Defect 10: the smaller ones.
#[test]
fn health_checks_proxies_csp_and_oversized_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &[
            "--rate-limit",
            "1",
            "--trusted-proxies",
            "127.0.0.1",
            "--body-limit",
            "2048",
        ],
    );
    // Behind a trusted proxy, each forwarded client has its own bucket.
    let get = |client: &str| {
        server
            .client()
            .get(server.url("/graphql?query=%7B__typename%7D"))
            .header("X-Forwarded-For", client)
            .send()
            .unwrap()
            .status()
            .as_u16()
    };
    let first: Vec<u16> = (0..6).map(|_| get("10.0.0.1")).collect();
    assert!(first.contains(&429), "{first:?}");
    assert_eq!(get("10.0.0.2"), 200);
    // The explorer page has its CSP however it is reached.
    for path in ["/", "/explorer/index.html"] {
        let response = server
            .client()
            .get(server.url(path))
            .header("X-Forwarded-For", "10.0.0.3")
            .send()
            .unwrap();
        assert!(
            response.headers().get("content-security-policy").is_some(),
            "{path} without CSP"
        );
    }
    // An oversized body gets a coded JSON error.
    let response = server
        .client()
        .post(server.url("/graphql"))
        .header("X-Forwarded-For", "10.0.0.4")
        .json(&json!({ "query": format!("{{ search(text: \"{}\") {{ id }} }}", "x".repeat(5000)) }))
        .send()
        .unwrap();
    assert_eq!(response.status(), 413);
    let body: Value = response.json().unwrap();
    assert_eq!(first_code(&body), "PAYLOAD_TOO_LARGE");
}

/// Defect 10: invisible, control and over-long names used to be accepted.
#[test]
fn names_are_normalised_and_invisible_characters_refused() {
    let (dir, token) = with_token("editor");
    let server = Server::start(dir.path(), &[]);
    let create = |id: &str, name: &str, aliases: Vec<String>| {
        let query = "mutation($id: ID!, $name: String!, $aliases: [String!]!) { createEntity(input: { id: $id, kind: LAB, name: $name, aliases: $aliases }) { id name } }";
        post(
            &server,
            Some(&token),
            &json!({ "query": query, "variables": { "id": id, "name": name, "aliases": aliases } }),
        )
        .1
    };
    for (id, name) in [
        ("zw", "\u{200B}\u{200B}"),
        ("zw-copy", "浙江大学\u{200B}"),
        ("bom", "\u{FEFF}天姥实验室"),
        ("nul", "实验\u{0}室"),
        ("esc", "实验\u{1B}[31m室"),
        ("rlo", "实验\u{202E}室"),
    ] {
        let body = create(id, name, vec![]);
        assert_eq!(first_code(&body), "BAD_USER_INPUT", "{name:?}: {body}");
    }
    let body = create("long", &"长".repeat(1000), vec![]);
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    let body = create(
        "many",
        "别名很多的实验室",
        (0..1000).map(|i| format!("别名{i}")).collect(),
    );
    assert_eq!(first_code(&body), "BAD_USER_INPUT", "{body}");
    // Decomposed text is stored composed, so the composed spelling is the same name.
    let body = create("ecole", "E\u{301}cole Lab", vec![]);
    assert_eq!(
        body["data"]["createEntity"]["name"], "\u{c9}cole Lab",
        "{body}"
    );
    let body = create("ecole-2", "\u{c9}cole Lab", vec![]);
    assert!(
        body["errors"][0]["message"]
            .as_str()
            .unwrap()
            .contains("already claimed"),
        "{body}"
    );
}

/// Defect 9: a measure query after a write used to recompute every measure inside the request.
#[test]
fn measures_are_recomputed_in_the_background_and_say_how_fresh_they_are() {
    let (dir, token) = with_token("editor");
    let network = "{ network { generation computedAt stale } topEntities(measure: PAGE_RANK, first: 1) { entity { id } } }";
    let create = r#"mutation { createEntity(input: { id: "fresh-lab", kind: LAB, name: "新实验室" }) { id } }"#;
    // Writes never settle within this test: the measures of the start are served, marked stale.
    let server = Server::start(dir.path(), &["--measures-settle-ms", "600000"]);
    let before = post(&server, None, &json!({ "query": network })).1;
    assert_eq!(before["data"]["network"]["stale"], false, "{before}");
    assert!(before["data"]["network"]["computedAt"].as_u64().unwrap() > 0);
    assert!(post(&server, Some(&token), &json!({ "query": create })).1["errors"].is_null());
    let after = post(&server, None, &json!({ "query": network })).1;
    assert_eq!(after["data"]["network"]["stale"], true, "{after}");
    assert_eq!(
        after["data"]["network"]["generation"],
        before["data"]["network"]["generation"]
    );
    drop(server);
    // With a short settle, fresh measures arrive once writes stop.
    let server = Server::start(dir.path(), &["--measures-settle-ms", "50"]);
    let first = post(&server, None, &json!({ "query": network })).1;
    let mutation = r#"mutation { createEntity(input: { id: "fresher-lab", kind: LAB, name: "更新的实验室" }) { id } }"#;
    assert!(post(&server, Some(&token), &json!({ "query": mutation })).1["errors"].is_null());
    let fresh = loop {
        let body = post(&server, None, &json!({ "query": network })).1;
        if body["data"]["network"]["stale"] == false
            && body["data"]["network"]["generation"] != first["data"]["network"]["generation"]
        {
            break body;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(fresh["errors"].is_null(), "{fresh}");
}

/// Defect 4: a full disk used to hang the server. Needs a small tmpfs, which needs root: skipped
/// (with the reason printed) where it cannot be mounted.
#[test]
fn a_full_disk_gives_a_coded_error_reads_go_on_and_writes_resume() {
    let mount_point = tempfile::tempdir().unwrap();
    let mount = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=2m", "tmpfs"])
        .arg(mount_point.path())
        .output();
    if !mount.as_ref().is_ok_and(|o| o.status.success()) {
        println!(
            "SKIPPED: cannot mount a 2 MB tmpfs here ({}); the disk-full test needs root",
            mount.map_or_else(|e| e.to_string(), |o| stderr(&o))
        );
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount").arg(&self.0).status();
        }
    }
    let _unmount = Unmount(mount_point.path().to_owned());
    let data = mount_point.path().join("data");
    let data_str = data.to_str().unwrap();
    let o = innograph(&[
        "import",
        mini_seed().to_str().unwrap(),
        "--data-dir",
        data_str,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = innograph(&[
        "token",
        "create",
        "--name",
        "e",
        "--role",
        "editor",
        "--data-dir",
        data_str,
    ]);
    let token = stdout(&o).trim().to_owned();
    let server = Server::start(&data, &["--rate-limit", "0"]);
    let create = |id: &str| {
        let query = format!(
            r#"mutation {{ createEntity(input: {{ id: "{id}", kind: LAB, name: "{id}", description: "{}" }}) {{ id }} }}"#,
            "x".repeat(4000)
        );
        post(&server, Some(&token), &json!({ "query": query })).1
    };
    let mut acknowledged = Vec::new();
    let mut failure = None;
    for i in 0..5000 {
        let id = format!("lab-{i}");
        let body = create(&id);
        if body["errors"].is_null() {
            acknowledged.push(id);
        } else {
            failure = Some(body);
            break;
        }
    }
    let failure = failure.expect("the 2 MB disk filled up");
    assert_eq!(
        first_code(&failure),
        "STORAGE_UNAVAILABLE",
        "{failure} after {}",
        acknowledged.len()
    );
    // Reads and health checks go on; further writes get the same coded error, not a hang.
    assert!(healthy(&server));
    let (_, body) = post(&server, None, &json!({ "query": "{ stats { entities } }" }));
    assert!(body["data"]["stats"]["entities"].as_u64().unwrap() >= acknowledged.len() as u64 + 12);
    assert_eq!(first_code(&create("while-full")), "STORAGE_UNAVAILABLE");
    // The disk grows: writes resume.
    let remount = std::process::Command::new("mount")
        .args(["-o", "remount,size=64m"])
        .arg(mount_point.path())
        .status()
        .unwrap();
    assert!(remount.success());
    let body = create("after-the-disk-grew");
    assert!(body["errors"].is_null(), "{body}");
    acknowledged.push("after-the-disk-grew".to_owned());
    // SIGTERM stops the server, and every acknowledged write is there after a restart.
    assert!(server.terminate().success());
    let server = Server::start(&data, &["--rate-limit", "0"]);
    for id in &acknowledged {
        let (_, body) = post(
            &server,
            None,
            &json!({ "query": format!(r#"{{ entity(id: "{id}") {{ id }} }}"#) }),
        );
        assert_eq!(
            body["data"]["entity"]["id"],
            id.as_str(),
            "{id} was acknowledged and lost"
        );
    }
    println!(
        "{} writes acknowledged before the disk filled; all present after a restart",
        acknowledged.len() - 1
    );
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A WebSocket to `/graphql` speaking `protocol`, before any `connection_init`.
async fn open_ws(base: &str, protocol: &str) -> Result<Ws, tokio_tungstenite::tungstenite::Error> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let url = format!("{}/graphql", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request
        .headers_mut()
        .insert("Sec-WebSocket-Protocol", protocol.parse().unwrap());
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

async fn send_ws(socket: &mut Ws, frame: Value) {
    // The server may already have closed the socket: what it said is read next.
    let _ = socket.send(Message::Text(frame.to_string().into())).await;
}

/// The next frame as JSON; `{"closed": CODE}` for a close frame, `{"closed": null}` when the socket
/// ends without one. A hang guard, not a timing assertion: nothing within 30 s fails.
async fn ws_frame(socket: &mut Ws) -> Value {
    use futures_util::StreamExt;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(30), socket.next())
            .await
            .expect("a frame within 30 s");
        match next {
            Some(Ok(Message::Text(text))) => return serde_json::from_str(&text).unwrap(),
            Some(Ok(Message::Close(frame))) => {
                return json!({ "closed": frame.as_ref().map(|f| u16::from(f.code)),
                               "reason": frame.map(|f| f.reason.to_string()) });
            }
            Some(Ok(_)) => continue,
            Some(Err(_)) | None => return json!({ "closed": null }),
        }
    }
}

/// Every frame until the socket closes, the close included (its last).
async fn ws_frames_until_closed(socket: &mut Ws) -> Vec<Value> {
    let mut frames = Vec::new();
    loop {
        let frame = ws_frame(socket).await;
        let closed = frame.get("closed").is_some();
        frames.push(frame);
        if closed {
            return frames;
        }
    }
}

/// Audit of issue 11, gap 1: with `--require-token-for-reads`, a WebSocket that never sent
/// `connection_init` (or sent one without a token) used to get query and subscription answers.
#[test]
fn websocket_operations_obey_the_read_policy() {
    let (dir, reader) = with_token("reader");
    let server = Server::start(
        dir.path(),
        &["--require-token-for-reads", "--rate-limit", "0"],
    );
    let query = "{ stats { documents } }";
    let subscription = "subscription { changes { operation } }";
    let with_token = json!({ "authorization": format!("Bearer {reader}") });
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let transport = "graphql-transport-ws";
        let subscribe =
            |id: &str, q: &str| json!({ "id": id, "type": "subscribe", "payload": { "query": q } });
        // graphql-transport-ws: a subscribe before connection_ack closes the socket with 4401.
        for q in [query, subscription] {
            let mut socket = open_ws(&server.base, transport).await.unwrap();
            send_ws(&mut socket, subscribe("1", q)).await;
            let frames = ws_frames_until_closed(&mut socket).await;
            assert_eq!(
                frames,
                [json!({ "closed": 4401, "reason": "Unauthorized" })],
                "{q}"
            );
        }
        // connection_init without a token: refused and closed, and what follows it never runs.
        let mut socket = open_ws(&server.base, transport).await.unwrap();
        send_ws(
            &mut socket,
            json!({ "type": "connection_init", "payload": {} }),
        )
        .await;
        send_ws(&mut socket, subscribe("1", query)).await;
        let frames = ws_frames_until_closed(&mut socket).await;
        assert!(
            frames
                .iter()
                .all(|f| f["type"] != "next" && f["type"] != "connection_ack"),
            "{frames:?}"
        );
        assert!(frames.last().unwrap()["closed"].is_u64(), "{frames:?}");
        // With the token, the same operations run.
        let mut socket = open_ws(&server.base, transport).await.unwrap();
        send_ws(
            &mut socket,
            json!({ "type": "connection_init", "payload": with_token }),
        )
        .await;
        assert_eq!(ws_frame(&mut socket).await["type"], "connection_ack");
        send_ws(&mut socket, subscribe("1", query)).await;
        let reply = ws_frame(&mut socket).await;
        assert_eq!(reply["payload"]["data"]["stats"]["documents"], 2, "{reply}");

        // The legacy graphql-ws: without connection_init, each operation gets UNAUTHENTICATED.
        let legacy = "graphql-ws";
        let start =
            |id: &str, q: &str| json!({ "id": id, "type": "start", "payload": { "query": q } });
        let mut socket = open_ws(&server.base, legacy).await.unwrap();
        for (id, q) in [("1", query), ("2", subscription)] {
            send_ws(&mut socket, start(id, q)).await;
            let reply = ws_frame(&mut socket).await;
            assert_eq!(reply["type"], "error", "{q}: {reply}");
            assert_eq!(reply["id"], id, "{reply}");
            assert_eq!(
                reply["payload"]["extensions"]["code"], "UNAUTHENTICATED",
                "{reply}"
            );
        }
        // connection_init without a token: connection_error, then the socket closes; nothing runs.
        let mut socket = open_ws(&server.base, legacy).await.unwrap();
        send_ws(
            &mut socket,
            json!({ "type": "connection_init", "payload": {} }),
        )
        .await;
        send_ws(&mut socket, start("1", query)).await;
        let frames = ws_frames_until_closed(&mut socket).await;
        assert_eq!(frames[0]["type"], "connection_error", "{frames:?}");
        assert!(frames.iter().all(|f| f["type"] != "data"), "{frames:?}");
        // With the token, it runs.
        let mut socket = open_ws(&server.base, legacy).await.unwrap();
        send_ws(
            &mut socket,
            json!({ "type": "connection_init", "payload": with_token }),
        )
        .await;
        assert_eq!(ws_frame(&mut socket).await["type"], "connection_ack");
        send_ws(&mut socket, start("1", query)).await;
        let reply = ws_frame(&mut socket).await;
        assert_eq!(reply["type"], "data", "{reply}");
        assert_eq!(reply["payload"]["data"]["stats"]["documents"], 2, "{reply}");
    });
}

/// A `GET /healthz` on a fresh connection: its status, or `None` when the server closed the
/// connection without an answer.
fn fresh_healthz(address: &str) -> Option<u16> {
    let mut socket = TcpStream::connect(address).ok()?;
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    socket
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .ok()?;
    let mut answer = Vec::new();
    let _ = socket.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.strip_prefix("HTTP/1.1 ")?.get(..3)?.parse().ok()
}

/// Audit of issue 11, gap 2: a WebSocket that never sent `connection_init` stayed open for good
/// (and did not count against the connection cap once upgraded). Now it holds its place under the
/// cap while open, and is closed (4408) when the init timeout passes.
#[test]
fn websockets_without_connection_init_are_closed_and_count_against_the_cap() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(
        dir.path(),
        &["--max-connections", "3", "--ws-init-timeout-secs", "1"],
    );
    let address = server.base.trim_start_matches("http://").to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let started = Instant::now();
        let mut sockets = Vec::new();
        for protocol in ["graphql-transport-ws", "graphql-ws"]
            .iter()
            .cycle()
            .take(5)
        {
            if let Ok(socket) = open_ws(&server.base, protocol).await {
                sockets.push((*protocol, socket));
            }
        }
        let address = address.clone();
        let refused = tokio::task::spawn_blocking(move || fresh_healthz(&address))
            .await
            .unwrap();
        // Only while the sockets surely still wait for their init timeout.
        if started.elapsed() < Duration::from_millis(700) {
            assert_eq!(sockets.len(), 3, "the cap is 3 connections");
            assert_eq!(
                refused, None,
                "a fourth connection was served while 3 sockets were open"
            );
        } else {
            println!(
                "SKIPPED the cap assertions: opening the sockets took {:?}",
                started.elapsed()
            );
        }
        for (protocol, socket) in &mut sockets {
            let frames = ws_frames_until_closed(socket).await;
            assert_eq!(
                frames,
                [json!({ "closed": 4408, "reason": "Connection initialisation timeout" })],
                "{protocol}"
            );
        }
    });
    // Once they are closed, everyone is served again.
    let deadline = Instant::now() + Duration::from_secs(10);
    while fresh_healthz(&address) != Some(200) {
        assert!(
            Instant::now() < deadline,
            "/healthz still refused after the sockets closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// One HTTP/1.1 response read from `socket`: status, lower-cased head, body. `None` when the
/// connection ends (or stays silent for 10 s) before a whole response came.
fn read_response(socket: &mut TcpStream) -> Option<(u16, String, String)> {
    socket
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut buffer = [0u8; 4096];
    let head_end = loop {
        if let Some(at) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        match socket.read(&mut buffer) {
            Ok(0) | Err(_) => return None,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).to_ascii_lowercase();
    let status = head.get(9..12)?.parse().ok()?;
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        match socket.read(&mut buffer) {
            Ok(0) | Err(_) => return None,
            Ok(n) => bytes.extend_from_slice(&buffer[..n]),
        }
    }
    let body = String::from_utf8_lossy(&bytes[head_end..head_end + length]).into_owned();
    Some((status, head, body))
}

/// Audit of issue 11, gap 4: exports ran without a bound (eight at once took 282 → 1,299 MiB) and
/// the 408 backstop answered an empty body. Now at most two exports run at once, others wait within
/// the execution timeout and then get a coded 503, and the 408 is coded JSON.
#[test]
fn exports_are_bounded_and_timeouts_answer_coded_json() {
    // A graph whose export takes a while (about a second in a debug build).
    let dir = tempfile::tempdir().unwrap();
    let generated = dir.path().join("generated");
    let data = dir.path().join("data");
    let o = innograph(&[
        "generate",
        "--entities",
        "3000",
        "--seed",
        "7",
        "--out",
        generated.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = innograph(&[
        "import",
        generated.join("graph.jsonl").to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let server = Server::start(
        &data,
        &["--execution-timeout-ms", "200", "--rate-limit", "0"],
    );
    let base = server.base.clone();
    let barrier = std::sync::Arc::new(std::sync::Barrier::new(6));
    let exports: Vec<_> = (0..6)
        .map(|_| {
            let (base, barrier) = (base.clone(), barrier.clone());
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                barrier.wait();
                let response = client
                    .get(format!("{base}/api/export?format=jsonl"))
                    .send()
                    .unwrap();
                let status = response.status().as_u16();
                let retry = response.headers().get("retry-after").is_some();
                (status, retry, response.text().unwrap())
            })
        })
        .collect();
    let results: Vec<(u16, bool, String)> =
        exports.into_iter().map(|h| h.join().unwrap()).collect();
    let statuses: Vec<u16> = results.iter().map(|r| r.0).collect();
    println!("six concurrent exports: {statuses:?}");
    assert!(statuses.contains(&200), "{statuses:?}");
    assert!(statuses.contains(&503), "{statuses:?}");
    for (status, retry, body) in &results {
        if *status == 503 {
            let body: Value = serde_json::from_str(body).expect("a JSON body");
            assert_eq!(first_code(&body), "TOO_MANY_EXPORTS", "{body}");
            assert!(retry, "a 503 without Retry-After");
        } else {
            assert_eq!(*status, 200);
        }
    }
    // The subgraph route takes a turn of execution, and answers.
    let graph = std::fs::read_to_string(generated.join("graph.jsonl")).unwrap();
    let entity = graph
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .find(|record| record["type"] == "entity")
        .unwrap();
    let response = server
        .client()
        .get(server.url("/api/subgraph"))
        .query(&[("ids", entity["id"].as_str().unwrap())])
        .send()
        .unwrap();
    assert_eq!(response.status(), 200);

    // The 408 backstop (execution timeout + 5 s): a body that never comes.
    let address = server.base.trim_start_matches("http://").to_owned();
    let mut socket = TcpStream::connect(&address).unwrap();
    socket
        .write_all(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"query\":")
        .unwrap();
    let (status, head, body) = read_response(&mut socket).expect("an answer");
    assert_eq!(status, 408, "{head}{body}");
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    assert_eq!(first_code(&body), "REQUEST_TIMEOUT", "{body}");
    assert!(head.contains("connection: close"), "{head}");
}

/// Audit of issue 11, gap 5: a 429 sent before the request's body was read left the connection
/// unusable without saying so, and the client's next request on it got no answer. Either the
/// response says `Connection: close`, or the next request on the connection is answered.
#[test]
fn a_response_before_the_body_is_read_says_whether_the_connection_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--rate-limit", "1"]);
    let address = server.base.trim_start_matches("http://").to_owned();
    let body = json!({ "query": format!("{{ search(text: \"{}\") {{ id }} }}", "x".repeat(150)) })
        .to_string();
    let head = format!(
        "POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let next = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    // The body sent with the headers, or after the answer came (as with `Expect: 100-continue`).
    for body_first in [true, false] {
        // Spend the client's tokens.
        while server
            .client()
            .get(server.url("/graphql?query=%7B__typename%7D"))
            .send()
            .unwrap()
            .status()
            != 429
        {}
        let mut socket = TcpStream::connect(&address).unwrap();
        socket.write_all(head.as_bytes()).unwrap();
        if body_first {
            socket.write_all(body.as_bytes()).unwrap();
        }
        let (status, response_head, response_body) = read_response(&mut socket).expect("an answer");
        assert_eq!(status, 429, "{response_head}{response_body}");
        let closes = response_head.contains("connection: close");
        if !body_first {
            let _ = socket.write_all(body.as_bytes());
        }
        let _ = socket.write_all(next);
        let second = read_response(&mut socket);
        println!(
            "body first: {body_first}; Connection: close {closes}; next request answered: {:?}",
            second.as_ref().map(|r| r.0)
        );
        assert!(
            closes || second.is_some(),
            "the connection was dropped without Connection: close"
        );
    }
    // A request whose body was read keeps its connection.
    std::thread::sleep(Duration::from_millis(2100));
    let mut socket = TcpStream::connect(&address).unwrap();
    socket.write_all(head.as_bytes()).unwrap();
    socket.write_all(body.as_bytes()).unwrap();
    let (status, response_head, _) = read_response(&mut socket).expect("an answer");
    assert_eq!(status, 200, "{response_head}");
    assert!(
        !response_head.contains("connection: close"),
        "{response_head}"
    );
}
