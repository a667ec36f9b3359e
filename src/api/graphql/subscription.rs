//! Live updates: the root subscription, and the WebSocket session (graphql-transport-ws, and the
//! older graphql-ws) that carries it, authenticated at `connection_init`.

use std::sync::Arc;

use async_graphql::{Context, ID, Result, Subscription as SubscriptionObject};
use futures_util::Stream;
use futures_util::stream::{self, StreamExt};

use super::db;
use super::mutation::Caller;
use super::types::Change;
use crate::store::ChangeRecord;

/// The root of every subscription.
pub struct Subscription;

#[SubscriptionObject]
impl Subscription {
    /// Every change as it becomes durable and visible, optionally only those touching `ids`, or whose
    /// operation (createEntity, updateEntity, …), entity kind (LAB, …) or relation kind (CO_BUILT_BY, …)
    /// is among `kinds`.
    async fn changes(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<String>>,
        ids: Option<Vec<ID>>,
    ) -> Result<impl Stream<Item = Change> + use<>> {
        let receiver = db(ctx)?.subscribe_changes();
        let ids: Option<Vec<String>> = ids.map(|ids| ids.into_iter().map(|id| id.0).collect());
        let stream = stream::unfold(receiver, |mut receiver| async move {
            loop {
                match receiver.recv().await {
                    Ok(change) => return Some((change, receiver)),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                }
            }
        });
        Ok(stream.filter_map(move |change: Arc<ChangeRecord>| {
            let wanted = matches(&change, kinds.as_deref(), ids.as_deref());
            async move { wanted.then(|| Change((*change).clone())) }
        }))
    }
}

fn matches(change: &ChangeRecord, kinds: Option<&[String]>, ids: Option<&[String]>) -> bool {
    let by_id = ids.is_none_or(|ids| change.subjects.iter().any(|s| ids.contains(s)));
    let by_kind = kinds.is_none_or(|kinds| {
        let operation = change.operation.split_whitespace().next().unwrap_or("");
        kinds.iter().any(|k| k == operation)
            || change.before.iter().chain(&change.after).any(|record| {
                record
                    .get("kind")
                    .and_then(|k| k.as_str())
                    .is_some_and(|k| kinds.iter().any(|want| want == k))
            })
    });
    by_id && by_kind
}

/// A frame the transport must send to the client.
#[derive(Debug, PartialEq, Eq)]
pub enum WsOut {
    Text(String),
    Close(u16, String),
}

/// Turns the token sent in `connection_init` into a caller, or refuses the connection.
pub type Authorize =
    Box<dyn Fn(Option<String>) -> std::result::Result<Option<Caller>, String> + Send + Sync>;

/// What a WebSocket session must enforce besides the protocol: the same policy as HTTP.
pub struct WsPolicy {
    /// Turns the token sent in `connection_init` into a caller, or refuses the connection.
    pub authorize: Authorize,
    /// Takes a token of the client's rate limit; false when it is spent.
    pub allow: Box<dyn Fn() -> bool + Send + Sync>,
    /// Subscriptions the connection may hold at once.
    pub max_subscriptions: usize,
    /// Whether reads need a token (`--require-token-for-reads`): then no operation runs without the
    /// caller of an accepted `connection_init`.
    pub require_token: bool,
    /// Time the client has to send `connection_init`; then the socket is closed (4408).
    pub init_timeout: std::time::Duration,
}

/// The token of a `connection_init` payload (`{"authorization": "Bearer …"}` or `{"token": "…"}`).
fn token_of(payload: &serde_json::Value) -> Option<String> {
    ["authorization", "Authorization", "token"]
        .iter()
        .find_map(|key| payload.get(*key).and_then(|v| v.as_str()))
        .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim().to_owned())
}

/// What the guard in front of the session does with one client frame.
enum Verdict {
    /// Hand the frame to the session.
    Pass(Vec<u8>),
    /// Answer it here with these frames (an error, or a query's result) and drop it.
    Answer(Vec<String>),
    /// Close the socket with this code and reason.
    Close(u16, String),
}

/// The state of the guard of one connection.
struct Guard {
    api: super::Api,
    policy: WsPolicy,
    transport_ws: bool,
    caller: Option<Caller>,
    /// A `connection_init` came, and its token (or the lack of one) was accepted.
    accepted: bool,
    /// A `connection_init` came (accepted or not): the init timeout no longer applies.
    initialised: Arc<std::sync::atomic::AtomicBool>,
    subscriptions: std::collections::HashSet<String>,
}

/// The first error of a refused request's body: its code and message.
fn first_error(body: &serde_json::Value) -> (String, String) {
    let error = &body["errors"][0];
    (
        error["extensions"]["code"]
            .as_str()
            .unwrap_or("BAD_REQUEST")
            .to_owned(),
        error["message"].as_str().unwrap_or("refused").to_owned(),
    )
}

impl super::Outcome {
    /// The body of an outcome that is not an execution.
    fn refusal(self) -> Option<serde_json::Value> {
        match self {
            super::Outcome::Executed(_) => None,
            super::Outcome::BadRequest(body)
            | super::Outcome::MutationOverGet(body)
            | super::Outcome::RequestError(body)
            | super::Outcome::Timeout(body)
            | super::Outcome::Unauthorized(body)
            | super::Outcome::Forbidden(body) => Some(body),
        }
    }
}

impl Guard {
    fn error_frames(&self, id: &str, code: &str, message: &str) -> Vec<String> {
        let error = serde_json::json!({ "message": message, "extensions": { "code": code } });
        let frame = if self.transport_ws {
            serde_json::json!({ "id": id, "type": "error", "payload": [error] })
        } else {
            serde_json::json!({ "id": id, "type": "error", "payload": error })
        };
        vec![frame.to_string()]
    }

    async fn judge(&mut self, bytes: Vec<u8>) -> Verdict {
        let Ok(message) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
            return Verdict::Pass(bytes);
        };
        let kind = message.get("type").and_then(|t| t.as_str()).unwrap_or("");
        let id = message
            .get("id")
            .and_then(|t| t.as_str())
            .unwrap_or("")
            .to_owned();
        match kind {
            "connection_init" => {
                self.initialised
                    .store(true, std::sync::atomic::Ordering::SeqCst);
                let payload = message.get("payload").cloned().unwrap_or_default();
                // A refused one is closed by the session; until then nothing runs without a caller.
                (self.caller, self.accepted) = match (self.policy.authorize)(token_of(&payload)) {
                    Ok(caller) => (caller, true),
                    Err(_) => (None, false),
                };
                Verdict::Pass(bytes)
            }
            "complete" | "stop" => {
                self.subscriptions.remove(&id);
                Verdict::Pass(bytes)
            }
            "subscribe" | "start" => self.operation(id, &message, bytes).await,
            _ => Verdict::Pass(bytes),
        }
    }

    async fn operation(
        &mut self,
        id: String,
        message: &serde_json::Value,
        bytes: Vec<u8>,
    ) -> Verdict {
        // graphql-transport-ws: "If the server receives a Subscribe message before the connection
        // is acknowledged, it must close the socket with 4401: Unauthorized."
        if self.transport_ws && !self.accepted {
            return Verdict::Close(4401, "Unauthorized".to_owned());
        }
        // The read policy of HTTP: without a token when reads need one, nothing runs.
        if self.policy.require_token && self.caller.is_none() {
            return Verdict::Answer(self.error_frames(
                &id,
                "UNAUTHENTICATED",
                "this server requires a token for every operation: send it in connection_init ({\"authorization\": \"Bearer …\"})",
            ));
        }
        if !(self.policy.allow)() {
            return Verdict::Answer(self.error_frames(
                &id,
                "RATE_LIMITED",
                "rate limit: too many operations from this client; retry shortly",
            ));
        }
        let payload = message.get("payload").cloned().unwrap_or_default();
        let query = payload.get("query").and_then(|q| q.as_str()).unwrap_or("");
        // The text is checked before anything parses it (see `check_text`).
        let text_ok = super::check_text(query, self.api.limits()).is_ok();
        let is_subscription = text_ok
            && async_graphql::parser::parse_query(query)
                .ok()
                .is_some_and(|doc| {
                    let name = payload.get("operationName").and_then(|n| n.as_str());
                    let operation = match name {
                        Some(name) => doc
                            .operations
                            .iter()
                            .find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
                        None => doc.operations.iter().next(),
                    };
                    operation.is_some_and(|(_, op)| {
                        op.node.ty == async_graphql::parser::types::OperationType::Subscription
                    })
                });
        // Queries and mutations run through the same door as over HTTP.
        if !is_subscription {
            let params = super::RequestParams {
                query: payload.get("query").cloned(),
                operation_name: payload.get("operationName").cloned(),
                variables: payload.get("variables").cloned(),
                extensions: payload.get("extensions").cloned(),
            };
            let outcome = self.api.execute(params, false, self.caller.clone()).await;
            let body: serde_json::Value = match outcome {
                super::Outcome::Executed(text) => serde_json::from_str(&text).unwrap_or_default(),
                refused => {
                    let (code, message) = first_error(&refused.refusal().unwrap_or_default());
                    return Verdict::Answer(self.error_frames(&id, &code, &message));
                }
            };
            let (next, done) = if self.transport_ws {
                ("next", "complete")
            } else {
                ("data", "complete")
            };
            return Verdict::Answer(vec![
                serde_json::json!({ "id": id, "type": next, "payload": body }).to_string(),
                serde_json::json!({ "id": id, "type": done }).to_string(),
            ]);
        }
        // Subscriptions: the same checks as `prepare`, then the session runs them.
        let params = super::RequestParams {
            query: payload.get("query").cloned(),
            operation_name: payload.get("operationName").cloned(),
            variables: payload.get("variables").cloned(),
            extensions: payload.get("extensions").cloned(),
        };
        if let Err(outcome) = self.api.prepare(params, false, self.caller.as_ref()) {
            let (code, message) = first_error(&outcome.refusal().unwrap_or_default());
            return Verdict::Answer(self.error_frames(&id, &code, &message));
        }
        if !self.subscriptions.contains(&id)
            && self.subscriptions.len() >= self.policy.max_subscriptions
        {
            let message = format!(
                "this connection holds {} subscriptions, the most one connection may; complete one first",
                self.subscriptions.len()
            );
            return Verdict::Answer(self.error_frames(&id, "SUBSCRIPTION_LIMIT", &message));
        }
        self.subscriptions.insert(id);
        Verdict::Pass(bytes)
    }
}

/// Gives every error of a frame the session sends a code, as HTTP answers have.
fn code_frame(text: String) -> String {
    let Ok(mut frame) = serde_json::from_str::<serde_json::Value>(&text) else {
        return text;
    };
    let kind = frame
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or("")
        .to_owned();
    let (errors, fallback) = match kind.as_str() {
        "error" => (frame.get_mut("payload"), "GRAPHQL_VALIDATION_FAILED"),
        "next" | "data" => (
            frame.get_mut("payload").and_then(|p| p.get_mut("errors")),
            "INTERNAL_SERVER_ERROR",
        ),
        _ => return text,
    };
    let Some(errors) = errors else {
        return text;
    };
    let list: Vec<&mut serde_json::Value> = match errors {
        serde_json::Value::Array(items) => items.iter_mut().collect(),
        other => vec![other],
    };
    for error in list {
        if error.pointer("/extensions/code").is_none()
            && let Some(object) = error.as_object_mut()
        {
            let extensions = object
                .entry("extensions")
                .or_insert_with(|| serde_json::json!({}));
            if let Some(extensions) = extensions.as_object_mut() {
                extensions.insert("code".to_owned(), serde_json::json!(fallback));
            }
        }
    }
    frame.to_string()
}

impl super::Api {
    /// Runs a GraphQL WebSocket session over `incoming` frames with the given subprotocol
    /// (`graphql-transport-ws` or `graphql-ws`), under `policy`: queries and mutations sent over the
    /// socket go through [`super::Api::execute`] exactly as over HTTP; subscriptions pass the same
    /// checks, then run in async-graphql's session; every error carries `extensions.code`. No
    /// operation runs without a caller when reads need a token (`UNAUTHENTICATED`; with
    /// graphql-transport-ws a `subscribe` before the connection is acknowledged closes it with
    /// 4401), and a socket without `connection_init` within `policy.init_timeout` is closed (4408).
    pub fn websocket<S>(
        &self,
        incoming: S,
        protocol: &str,
        policy: WsPolicy,
    ) -> std::result::Result<impl Stream<Item = WsOut> + Send + use<S>, String>
    where
        S: Stream<Item = Vec<u8>> + Send + Unpin + 'static,
    {
        let protocols: async_graphql::http::WebSocketProtocols = protocol
            .parse()
            .map_err(|e: async_graphql::Error| e.message)?;
        let transport_ws = protocol == "graphql-transport-ws";
        let (answers, answered) = tokio::sync::mpsc::unbounded_channel::<WsOut>();
        let authorize = Arc::new(policy.authorize);
        let guard_authorize = authorize.clone();
        let initialised = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let init_timeout = policy.init_timeout;
        let guard = Guard {
            api: self.clone(),
            policy: WsPolicy {
                authorize: Box::new(move |token| guard_authorize(token)),
                allow: policy.allow,
                max_subscriptions: policy.max_subscriptions,
                require_token: policy.require_token,
                init_timeout,
            },
            transport_ws,
            caller: None,
            accepted: false,
            initialised: initialised.clone(),
            subscriptions: std::collections::HashSet::new(),
        };
        let guarded = stream::unfold(
            (incoming, guard, answers),
            |(mut incoming, mut guard, answers)| async move {
                loop {
                    let bytes = incoming.next().await?;
                    match guard.judge(bytes).await {
                        Verdict::Pass(bytes) => return Some((bytes, (incoming, guard, answers))),
                        Verdict::Answer(frames) => {
                            for frame in frames {
                                let _ = answers.send(WsOut::Text(frame));
                            }
                        }
                        Verdict::Close(code, reason) => {
                            let _ = answers.send(WsOut::Close(code, reason));
                        }
                    }
                }
            },
        );
        let session =
            async_graphql::http::WebSocket::new(self.schema.clone(), Box::pin(guarded), protocols)
                .on_connection_init(move |payload: serde_json::Value| async move {
                    let mut data = async_graphql::Data::default();
                    match authorize(token_of(&payload)) {
                        Ok(Some(caller)) => data.insert(caller),
                        Ok(None) => {}
                        Err(message) => return Err(async_graphql::Error::new(message)),
                    }
                    Ok(data)
                });
        // The connection ends when the session does (a refused `connection_init`, the client gone):
        // `None` marks that end, as the frames the guard answers would otherwise keep it open.
        let session = session
            .map(|message| {
                Some(match message {
                    async_graphql::http::WsMessage::Text(text) => WsOut::Text(code_frame(text)),
                    async_graphql::http::WsMessage::Close(code, reason) => {
                        WsOut::Close(code, reason)
                    }
                })
            })
            .chain(stream::once(async { None }));
        let answered = stream::unfold(answered, |mut answered| async move {
            answered.recv().await.map(|out| (out, answered))
        });
        // A socket that never sends `connection_init` is closed once its time is up.
        let init_deadline = stream::once(async move {
            tokio::time::sleep(init_timeout).await;
            (!initialised.load(std::sync::atomic::Ordering::SeqCst))
                .then(|| WsOut::Close(4408, "Connection initialisation timeout".to_owned()))
        })
        .filter_map(std::future::ready);
        let others = stream::select(answered, init_deadline).map(Some);
        Ok(stream::select(session, others)
            .take_while(|out| std::future::ready(out.is_some()))
            .filter_map(std::future::ready))
    }
}
