//! Test support: the real `innograph` binary, run as a user would run it, on loopback.

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

use serde_json::{Value, json};

/// The fixture seed whose every answer is known.
pub fn mini_seed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/mini")
}

/// Runs `innograph ARGS` to completion.
pub fn innograph(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_innograph"))
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("the innograph binary runs")
}

/// A data directory holding the mini seed, and a token of `role` named after it (`innograph token
/// create`).
pub fn mini_seed_with_token(role: &str) -> (tempfile::TempDir, String) {
    mini_seed_with_named_token(role, role)
}

/// A data directory holding the mini seed, and a token called `name` of `role`.
pub fn mini_seed_with_named_token(name: &str, role: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let o = innograph(&["import", mini_seed().to_str().unwrap(), "--data-dir", data]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = innograph(&[
        "token",
        "create",
        "--name",
        name,
        "--role",
        role,
        "--data-dir",
        data,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let token = stdout(&o).trim().to_owned();
    assert!(!stderr(&o).contains(&token), "the token must not be logged");
    (dir, token)
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A running `innograph serve` on a free loopback port; stopped (SIGKILL) when dropped.
pub struct Server {
    child: Child,
    pub base: String,
    client: reqwest::blocking::Client,
}

impl Server {
    /// Starts the server on `data_dir` with extra flags, and waits for it to say where it listens.
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_logging(data_dir, extra, "warn")
    }

    /// [`Server::start`], logging what `filter` (a `RUST_LOG` value) lets through; keep it to a few
    /// lines, as nothing reads the log before [`Server::stop_and_log`].
    pub fn start_logging(data_dir: &Path, extra: &[&str], filter: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_innograph"))
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .args(extra)
            .env("RUST_LOG", filter)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the innograph binary starts");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout is piped")).lines();
        let base = loop {
            match lines.next() {
                Some(Ok(line)) => {
                    if let Some(url) = line.trim().strip_prefix("GraphQL:") {
                        break url.trim().trim_end_matches("/graphql").to_owned();
                    }
                }
                _ => {
                    let mut err = String::new();
                    child.stderr.take().map(|mut s| s.read_to_string(&mut err));
                    panic!("the server stopped before listening: {err}");
                }
            }
        };
        let client = reqwest::blocking::Client::builder()
            .build()
            .expect("an HTTP client");
        Server {
            child,
            base,
            client,
        }
    }

    /// A server on a fresh data directory holding the mini fixture seed.
    pub fn with_mini_seed() -> (Server, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let output = innograph(&[
            "import",
            mini_seed().to_str().unwrap(),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ]);
        assert!(
            output.status.success(),
            "import failed: {}",
            stderr(&output)
        );
        (Server::start(dir.path(), &[]), dir)
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn client(&self) -> &reqwest::blocking::Client {
        &self.client
    }

    /// POSTs a query with variables and returns the whole response body, asserting HTTP 200.
    pub fn post(&self, query: &str, variables: Value) -> Value {
        let response = self
            .client
            .post(self.url("/graphql"))
            .json(&json!({ "query": query, "variables": variables }))
            .send()
            .expect("the server answers");
        assert_eq!(response.status(), 200, "unexpected status for {query}");
        response.json().expect("a JSON body")
    }

    /// Runs a query that must succeed and returns its `data`.
    pub fn data(&self, query: &str, variables: Value) -> Value {
        let body = self.post(query, variables);
        assert!(body.get("errors").is_none(), "errors for {query}: {body:#}");
        body["data"].clone()
    }

    /// Runs a query that must fail and returns the code of its first error.
    pub fn error_code(&self, query: &str, variables: Value) -> (String, String) {
        let body = self.post(query, variables);
        let error = &body["errors"][0];
        assert!(
            !error.is_null(),
            "expected an error for {query}, got {body:#}"
        );
        (
            error["extensions"]["code"]
                .as_str()
                .unwrap_or("")
                .to_owned(),
            error["message"].as_str().unwrap_or("").to_owned(),
        )
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops the server as SIGTERM would, and returns how it exited.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let status = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
        self.child.wait().expect("the server exits")
    }
}

impl Server {
    /// Stops the server, as SIGTERM would when `graceful`, else as a crash would (SIGKILL), and
    /// returns what it logged.
    pub fn stop_and_log(mut self, graceful: bool) -> String {
        let pid = self.child.id().to_string();
        let signal = if graceful { "-TERM" } else { "-KILL" };
        let status = Command::new("kill")
            .args([signal, &pid])
            .status()
            .expect("kill runs");
        assert!(status.success());
        let _ = self.child.wait();
        let mut log = String::new();
        if let Some(mut stderr) = self.child.stderr.take() {
            let _ = stderr.read_to_string(&mut log);
        }
        log
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The values of one field across a list of objects.
pub fn pluck<'a>(list: &'a Value, field: &str) -> Vec<&'a str> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|item| {
            item[field]
                .as_str()
                .unwrap_or_else(|| panic!("no string `{field}` in {item}"))
        })
        .collect()
}
