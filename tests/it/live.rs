//! Live updates: GraphQL subscriptions over WebSocket (graphql-transport-ws), authenticated at
//! connection_init.

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::support::Server;

fn editable() -> (tempfile::TempDir, String) {
    crate::support::mini_seed_with_named_token("live", "editor")
}

pub(crate) async fn connect(
    base: &str,
    init: Value,
) -> tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>> {
    let url = format!("{}/graphql", base.replace("http://", "ws://"));
    let mut request = url.into_client_request().unwrap();
    request.headers_mut().insert(
        "Sec-WebSocket-Protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(
        response.headers()["sec-websocket-protocol"],
        "graphql-transport-ws"
    );
    socket
        .send(Message::Text(
            json!({ "type": "connection_init", "payload": init })
                .to_string()
                .into(),
        ))
        .await
        .unwrap();
    socket
}

pub(crate) async fn next_json<S>(socket: &mut S) -> Value
where
    S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>> + Unpin,
{
    loop {
        match socket.next().await.expect("the socket is open").unwrap() {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Close(frame) => {
                return json!({ "closed": frame.as_ref().map(|f| u16::from(f.code)),
                               "reason": frame.map(|f| f.reason.to_string()) });
            }
            _ => continue,
        }
    }
}

#[test]
fn subscribers_receive_each_change_they_asked_for() {
    let (dir, token) = editable();
    let server = Server::start(dir.path(), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut socket = connect(&server.base, json!({})).await;
        assert_eq!(next_json(&mut socket).await["type"], "connection_ack");
        let subscribe = json!({ "id": "1", "type": "subscribe", "payload": {
            "query": "subscription($ids: [ID!]) { changes(ids: $ids) { operation actor subjects } }",
            "variables": { "ids": ["live-lab"] } } });
        socket.send(Message::Text(subscribe.to_string().into())).await.unwrap();
        // A change that does not match, then one that does; the subscriber sees only the second.
        let base = server.base.clone();
        let token_for_writes = token.clone();
        tokio::task::spawn_blocking(move || {
            let client = reqwest::blocking::Client::new();
            for id in ["other-lab", "live-lab"] {
                let query = format!(r#"mutation {{ createEntity(input: {{ id: "{id}", kind: LAB, name: "{id}" }}) {{ id }} }}"#);
                let body: Value = client
                    .post(format!("{base}/graphql"))
                    .bearer_auth(&token_for_writes)
                    .json(&json!({ "query": query }))
                    .send()
                    .unwrap()
                    .json()
                    .unwrap();
                assert!(body.get("errors").is_none(), "{body}");
            }
        })
        .await
        .unwrap();
        let message = next_json(&mut socket).await;
        assert_eq!(message["type"], "next", "{message}");
        assert_eq!(
            message["payload"]["data"]["changes"],
            json!({ "operation": "createEntity", "actor": "live", "subjects": ["live-lab"] })
        );
    });
}

#[test]
fn connection_init_with_an_unknown_token_is_refused() {
    let (dir, _token) = editable();
    let server = Server::start(dir.path(), &[]);
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let mut socket = connect(&server.base, json!({ "authorization": "Bearer nope" })).await;
        let message = next_json(&mut socket).await;
        // async-graphql closes a refused connection_init with 1002 and the reason.
        assert_eq!(message["closed"], 1002, "{message}");
        assert!(
            message["reason"].as_str().unwrap().contains("not known"),
            "{message}"
        );
    });
}
