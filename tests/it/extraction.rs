//! Bringing in a new report (issue 13): `innograph extract`, the `extract` query, importing what a
//! curator accepted, and the leave-one-out evaluation. The report here is written for these tests.

use serde_json::{Value, json};

use crate::support::{Server, innograph, stderr, stdout};

/// A short report no bundled document contains.
const REPORT: &str = "宁波市2025年科技工作要点\n\
一、平台建设\n\
宁波市人民政府与天津大学联合共建天津大学宁波创新研究院，推动浙江大学宁波研究院提质增效。\n\
依托浙江大学建设甬江实验室，支持宁波市科技局牵头组建宁波新材料产业技术创新联盟。\n";

fn lines(jsonl: &str) -> Vec<Value> {
    jsonl
        .lines()
        .map(|l| serde_json::from_str(l).expect("every line is JSON"))
        .collect()
}

/// Every relation's quote occurs in the text; every existing entity is one of the graph's.
fn check_proposals(lines: &[Value], text: &str, known: &dyn Fn(&str) -> bool) {
    assert_eq!(lines[0]["type"], "document");
    assert_eq!(lines[0]["text"], text);
    for line in &lines[1..] {
        match line["type"].as_str() {
            Some("entity") if line["status"] == "existing" => {
                assert!(known(line["id"].as_str().unwrap()), "{line}");
            }
            Some("entity") => assert_eq!(line["status"], "new", "{line}"),
            Some("relation") => {
                let quote = line["evidence"][0]["quote"].as_str().unwrap();
                for part in quote.split("[…]") {
                    assert!(text.contains(part), "quote not in the text: {line}");
                }
            }
            other => panic!("unexpected line type {other:?}"),
        }
    }
}

#[test]
fn a_report_is_extracted_reviewed_and_imported_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let o = innograph(&["import", "seed", "--data-dir", data.to_str().unwrap()]);
    assert!(o.status.success(), "{}", stderr(&o));
    let report = dir.path().join("ningbo.txt");
    std::fs::write(&report, REPORT).unwrap();
    let out = dir.path().join("ningbo.jsonl");
    let o = innograph(&[
        "extract",
        report.to_str().unwrap(),
        "--id",
        "ningbo-2025",
        "--title",
        "宁波市2025年科技工作要点",
        "--publisher",
        "宁波市科学技术局",
        "--date",
        "2025-01",
        "--region",
        "宁波市",
        "--data-dir",
        data.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let jsonl = std::fs::read_to_string(&out).unwrap();
    let proposals = lines(&jsonl);
    let known = |id: &str| {
        ["zhejiang-university", "tianjin-university"].contains(&id) || !id.starts_with("new-")
    };
    check_proposals(&proposals, REPORT, &known);
    assert!(
        proposals
            .iter()
            .any(|l| l["id"] == "zhejiang-university" && l["status"] == "existing"),
        "浙江大学 is resolved to the graph's entity: {jsonl}"
    );
    // The file imports as it is (a curator would edit it first); proposal-only fields are ignored.
    let o = innograph(&[
        "import",
        out.to_str().unwrap(),
        "--data-dir",
        data.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stdout(&o).contains("imported 1 documents"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn other_encodings_are_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("gbk.txt");
    // 宁波市科技局 in GB2312.
    std::fs::write(
        &report,
        [
            0xC4, 0xFE, 0xB2, 0xA8, 0xCA, 0xD0, 0xBF, 0xC6, 0xBC, 0xBC, 0xBE, 0xD6,
        ],
    )
    .unwrap();
    let o = innograph(&[
        "extract",
        report.to_str().unwrap(),
        "--id",
        "x",
        "--title",
        "T",
    ]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("GBK/GB18030"), "{}", stderr(&o));
}

#[test]
fn the_extract_query_proposes_and_importbatch_adds_what_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_str().unwrap();
    let o = innograph(&["import", "seed", "--data-dir", data]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = innograph(&[
        "token",
        "create",
        "--name",
        "curator",
        "--role",
        "editor",
        "--data-dir",
        data,
    ]);
    let token = stdout(&o).trim().to_owned();
    let server = Server::start(dir.path(), &[]);
    let query = "query($text: String!, $doc: DocumentInput!) { extract(text: $text, document: $doc) { entities { id status kind duplicateOf } relations { kind source target quote basis rule } dropped { what why } jsonl } }";
    let document =
        json!({ "id": "ningbo-2025", "title": "宁波市2025年科技工作要点", "region": "宁波市" });
    let data = server.data(query, json!({ "text": REPORT, "doc": document }));
    let extract = &data["extract"];
    for relation in extract["relations"].as_array().unwrap() {
        assert!(
            REPORT.contains(relation["quote"].as_str().unwrap()),
            "{relation}"
        );
    }
    assert!(
        extract["entities"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["id"] == "zhejiang-university" && e["status"] == "existing")
    );
    // Bounded and checked.
    let (code, _) = server.error_code(
        query,
        json!({ "text": "字".repeat(200_001), "doc": document }),
    );
    assert_eq!(code, "BAD_USER_INPUT");
    let (code, message) = server.error_code(
        query,
        json!({ "text": REPORT, "doc": { "id": "shaoxing-2024", "title": "T" } }),
    );
    assert_eq!(code, "ALREADY_EXISTS", "{message}");
    // What the curator accepted goes in as one batch.
    let body: Value = server
        .client()
        .post(server.url("/graphql"))
        .bearer_auth(&token)
        .json(&json!({ "query": "mutation($j: String!) { importBatch(jsonl: $j) }", "variables": { "j": extract["jsonl"] } }))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert!(body["errors"].is_null(), "{body}");
    let stored = server.data(
        r#"{ document(id: "ningbo-2025") { title region } }"#,
        json!({}),
    );
    assert_eq!(stored["document"]["region"], "宁波市");
}

#[test]
fn leave_one_out_never_proposes_a_quote_that_is_not_in_the_text() {
    let o = innograph(&["extract", "--evaluate", "--seed", "seed"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let table = stdout(&o);
    assert!(table.contains("leave-one-out over 5 reports"), "{table}");
    assert!(
        table.contains("proposals with a quote not in the text: 0"),
        "{table}"
    );
}

/// A chat-completions stub that replays one recorded answer and hands back the request it got.
fn stub_model(content: &str) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let body = json!({ "choices": [{ "message": { "role": "assistant", "content": content } }] })
        .to_string();
    let handle = std::thread::spawn(move || {
        let (stream, _) = listener.accept().unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        let mut head = String::new();
        let mut length = 0;
        loop {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            if let Some(value) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                length = value.trim().parse().unwrap();
            }
            head.push_str(&line);
            if line == "\r\n" {
                break;
            }
        }
        let mut request = vec![0; length];
        reader.read_exact(&mut request).unwrap();
        let mut stream = stream;
        write!(
            stream,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        format!("{head}{}", String::from_utf8_lossy(&request))
    });
    (url, handle)
}

#[test]
fn a_models_answers_pass_the_same_gate() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("ningbo.txt");
    std::fs::write(&report, REPORT).unwrap();
    // A recorded answer: one sound relation, one invented quote, one unknown kind, one name not in
    // the text, one relation to an entity it never named.
    let answer = json!({
        "entities": [
            { "name": "甬江实验室", "kind": "LAB" },
            { "name": "浙江大学", "kind": "UNIVERSITY" },
            { "name": "天津大学宁波创新研究院", "kind": "RESEARCH_INSTITUTE" },
            { "name": "宁波新材料产业技术创新联盟", "kind": "CONSORTIUM" },
            { "name": "宁波大学", "kind": "UNIVERSITY" }
        ],
        "relations": [
            { "kind": "RELIES_ON", "source": "甬江实验室", "target": "浙江大学", "quote": "依托浙江大学建设甬江实验室" },
            { "kind": "CO_BUILT_BY", "source": "天津大学宁波创新研究院", "target": "浙江大学", "quote": "浙江大学与天津大学宁波创新研究院签约共建" },
            { "kind": "LOCATED_IN", "source": "甬江实验室", "target": "宁波市镇海区", "quote": "甬江实验室位于镇海区" }
        ]
    });
    let (url, request) = stub_model(&format!("```json\n{answer}\n```"));
    let out = dir.path().join("p.jsonl");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_innograph"))
        .args([
            "extract",
            report.to_str().unwrap(),
            "--id",
            "ningbo-2025",
            "--title",
            "T",
            "--llm-url",
            &url,
            "--llm-model",
            "stub",
            "--out",
            out.to_str().unwrap(),
        ])
        .env("INNOGRAPH_LLM_API_KEY", "sk-test")
        .env("INNOGRAPH_DATA_DIR", dir.path().join("none"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let request = request.join().unwrap();
    assert!(
        request.contains("Bearer sk-test") || request.contains("bearer sk-test"),
        "{request}"
    );
    assert!(request.contains("\"model\":\"stub\""), "{request}");
    let said = stderr(&o);
    assert!(
        said.contains("is not in the text"),
        "the invented quote is dropped with its reason: {said}"
    );
    assert!(said.contains("unknown entity kind `CONSORTIUM`"), "{said}");
    assert!(
        said.contains("«宁波大学» (model): its name is not in the text"),
        "{said}"
    );
    assert!(said.contains("not among the entities it found"), "{said}");
    let proposals = lines(&std::fs::read_to_string(&out).unwrap());
    assert!(
        proposals.iter().any(|l| l["kind"] == "RELIES_ON"
            && l["evidence"][0]["quote"] == "依托浙江大学建设甬江实验室"),
        "{proposals:?}"
    );
    for line in &proposals[1..] {
        if line["type"] == "relation" {
            assert!(
                REPORT.contains(line["evidence"][0]["quote"].as_str().unwrap()),
                "{line}"
            );
        }
    }
}
