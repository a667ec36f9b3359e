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

impl super::Api {
    /// Runs a GraphQL WebSocket session over `incoming` frames with the given subprotocol
    /// (`graphql-transport-ws` or `graphql-ws`). `authorize` turns the token sent in `connection_init`
    /// (`{"authorization": "Bearer …"}` or `{"token": "…"}`) into a caller, or refuses the connection.
    pub fn websocket<S, A>(
        &self,
        incoming: S,
        protocol: &str,
        authorize: A,
    ) -> std::result::Result<impl Stream<Item = WsOut> + Send + use<S, A>, String>
    where
        S: Stream<Item = Vec<u8>> + Send + Unpin + 'static,
        A: FnOnce(Option<String>) -> std::result::Result<Option<Caller>, String> + Send + 'static,
    {
        let protocol: async_graphql::http::WebSocketProtocols = protocol
            .parse()
            .map_err(|e: async_graphql::Error| e.message)?;
        let session = async_graphql::http::WebSocket::new(self.schema.clone(), incoming, protocol)
            .on_connection_init(move |payload: serde_json::Value| async move {
                let token = ["authorization", "Authorization", "token"]
                    .iter()
                    .find_map(|key| payload.get(*key).and_then(|v| v.as_str()))
                    .map(|t| t.strip_prefix("Bearer ").unwrap_or(t).trim().to_owned());
                let mut data = async_graphql::Data::default();
                match authorize(token) {
                    Ok(Some(caller)) => data.insert(caller),
                    Ok(None) => {}
                    Err(message) => return Err(async_graphql::Error::new(message)),
                }
                Ok(data)
            });
        Ok(session.map(|message| match message {
            async_graphql::http::WsMessage::Text(text) => WsOut::Text(text),
            async_graphql::http::WsMessage::Close(code, reason) => WsOut::Close(code, reason),
        }))
    }
}
