//! The HTTP transport: the only module that imports axum.
//!
//! Routes: `/graphql` (GET and POST, GraphQL over HTTP with content negotiation done here rather than
//! by an integration crate), `/graphiql` (the IDE), `/` (the graph explorer; both with their assets
//! embedded in the binary), `/api/subgraph` and `/api/export` (plain HTTP for front ends and tools), and
//! `/healthz`. Layers: request-body limit, CORS for configured origins, a request timeout as a
//! backstop behind the GraphQL execution timeout, and tracing. [`serve`] shuts down gracefully on
//! SIGTERM and Ctrl-C.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use include_dir::{Dir, include_dir};
use serde_json::Value;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::trace::TraceLayer;

use crate::db::Db;
use crate::graphql::{Api, Caller, Limits, Outcome, RequestParams, Role, WsOut, WsPolicy};

static GRAPHIQL: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/graphiql");
static EXPLORER: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/assets/explorer");

/// The media type of the GraphQL-over-HTTP spec.
const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// How the HTTP server is set up; built once from the command line.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    pub listen: SocketAddr,
    /// Origins allowed to call the API from a browser (`*` for any); empty: same-origin only.
    pub cors_origins: Vec<String>,
    /// Largest request body accepted, in bytes.
    pub body_limit: usize,
    /// Time after which any request is answered with 408, whatever it is doing.
    pub request_timeout: Duration,
    pub limits: Limits,
    /// Tokens from a file or the environment (hash → name and role), besides those in the store.
    pub tokens: Vec<(String, crate::store::TokenRecord)>,
    /// Whether reads need a token too.
    pub require_token_for_reads: bool,
    /// Requests per second one client address may make on average (bursts of twice that); 0: no limit.
    pub rate_limit: u32,
    /// Proxies whose `X-Forwarded-For` is believed: for requests from these addresses, the client is
    /// the right-most address of that header that is not itself a trusted proxy.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// Time a client has to send a request's headers, and that an idle keep-alive connection stays
    /// open waiting for the next request.
    pub header_read_timeout: Duration,
    /// Open connections at once (WebSockets included); more are closed on accept.
    pub max_connections: usize,
    /// Open connections one client address may hold.
    pub max_connections_per_client: usize,
    /// Subscriptions one WebSocket connection may hold at once.
    pub max_subscriptions_per_connection: usize,
    /// Time a WebSocket has to send `connection_init`; then it is closed (4408).
    pub ws_init_timeout: Duration,
}

/// Descriptors kept aside from the connection cap for the data directory, logs and the like.
const RESERVED_DESCRIPTORS: u64 = 64;

/// The default connection cap: 1024, or fewer when the process may open fewer files (the soft
/// `RLIMIT_NOFILE` less [`RESERVED_DESCRIPTORS`]), at least 16: more connections than descriptors
/// would make accept fail for everyone rather than close the connections over the cap.
pub fn default_max_connections() -> usize {
    #[cfg(target_os = "linux")]
    {
        let limit = rustix::process::getrlimit(rustix::process::Resource::Nofile);
        if let Some(soft) = limit.current {
            return soft.saturating_sub(RESERVED_DESCRIPTORS).clamp(16, 1024) as usize;
        }
    }
    1024
}

impl Default for ServerConfig {
    fn default() -> ServerConfig {
        ServerConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cors_origins: Vec::new(),
            body_limit: 1024 * 1024,
            request_timeout: Duration::from_secs(30),
            limits: Limits::default(),
            tokens: Vec::new(),
            require_token_for_reads: false,
            rate_limit: 500,
            trusted_proxies: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            max_connections: default_max_connections(),
            max_connections_per_client: 256,
            max_subscriptions_per_connection: 100,
            ws_init_timeout: Duration::from_secs(10),
        }
    }
}

#[derive(Clone)]
struct AppState {
    api: Api,
    db: Arc<Db>,
    limits: Limits,
    tokens: Arc<Vec<(String, crate::store::TokenRecord)>>,
    require_token_for_reads: bool,
    /// Subscriptions one WebSocket connection may hold.
    max_subscriptions: usize,
    /// The rate limit, also for operations sent over WebSockets.
    limiter: Arc<RateLimiter>,
    /// Time a WebSocket has to send `connection_init`.
    ws_init_timeout: Duration,
    /// Turns to run an export (see [`MAX_CONCURRENT_EXPORTS`]).
    exports: Arc<tokio::sync::Semaphore>,
}

/// Exports (`/api/export`) running at once: each holds the whole graph and its serialisation in
/// memory. More wait, within the execution timeout, for a turn, then get 503 `TOO_MANY_EXPORTS`.
pub const MAX_CONCURRENT_EXPORTS: usize = 2;

/// Whom a request's `Authorization: Bearer` token names: `Ok(None)` without a token, an error
/// response for a token that is malformed or unknown.
fn caller(
    state: &AppState,
    headers: &HeaderMap,
    media: &'static str,
) -> Result<Option<Caller>, Box<Response>> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let unauthorized = |message: &str| {
        let mut response = json_response(
            StatusCode::UNAUTHORIZED,
            media,
            error_body("UNAUTHENTICATED", message),
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        Box::new(response)
    };
    let Some(token) = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
    else {
        return Err(unauthorized(
            "the Authorization header must be `Bearer TOKEN`",
        ));
    };
    match caller_for_token(state, token) {
        Ok(Some(caller)) => Ok(Some(caller)),
        Ok(None) => Err(unauthorized("the bearer token is not known to this server")),
        Err(()) => Err(Box::new(json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            media,
            error_body("INTERNAL_SERVER_ERROR", "internal error"),
        ))),
    }
}

/// The caller a token names: from the configured tokens, then the data directory's; `Ok(None)` for an
/// unknown token, `Err` when the store cannot be read (logged).
fn caller_for_token(state: &AppState, token: &str) -> Result<Option<Caller>, ()> {
    let hash = crate::auth::hash_token(token);
    let record = match state.tokens.iter().find(|(h, _)| *h == hash) {
        Some((_, record)) => Some(record.clone()),
        None => state
            .db
            .store()
            .token(&hash)
            .map_err(|e| tracing::error!(error = %e, "reading tokens"))?,
    };
    Ok(record.and_then(|r| Role::parse(&r.role).map(|role| Caller { name: r.name, role })))
}

/// Resolves the caller and enforces `--require-token-for-reads`.
fn authorize(
    state: &AppState,
    headers: &HeaderMap,
    media: &'static str,
) -> Result<Option<Caller>, Box<Response>> {
    let caller = caller(state, headers, media)?;
    if caller.is_none() && state.require_token_for_reads {
        let message =
            "this server requires a bearer token for every request (Authorization: Bearer …)";
        let mut response = json_response(
            StatusCode::UNAUTHORIZED,
            media,
            error_body("UNAUTHENTICATED", message),
        );
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return Err(Box::new(response));
    }
    Ok(caller)
}

/// Who may use a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Static pages and assets that hold no graph data, and `/healthz`.
    Public,
    /// Reads (or writes) graph data: obeys the read policy (`--require-token-for-reads`) and, for
    /// the plain-HTTP routes, the allow-list (persisted-operations servers serve them to admins only).
    Data,
}

/// Every route of the server with who may use it. [`app`] builds the router from this table alone,
/// so a new route cannot be added without saying whether it reads data.
pub const ROUTES: &[(&str, Access)] = &[
    ("/graphql", Access::Data),
    ("/api/subgraph", Access::Data),
    ("/api/export", Access::Data),
    ("/graphiql", Access::Public),
    ("/graphiql/assets/{file}", Access::Public),
    ("/healthz", Access::Public),
    ("/readyz", Access::Public),
    ("/", Access::Public),
    ("/explorer/{*file}", Access::Public),
    ("/review", Access::Public),
];

/// The handlers of a route of [`ROUTES`].
fn handlers(path: &str) -> Option<axum::routing::MethodRouter<AppState>> {
    Some(match path {
        "/graphql" => get(graphql_get).post(graphql_post).options(preflight_only),
        "/api/subgraph" => get(rest::subgraph),
        "/api/export" => get(rest::export),
        "/graphiql" => get(graphiql_page),
        "/graphiql/assets/{file}" => get(graphiql_asset),
        "/healthz" => get(healthz),
        "/readyz" => get(readyz),
        "/" => get(explorer_page),
        "/explorer/{*file}" => get(explorer_asset),
        "/review" => get(review_page),
        _ => return None,
    })
}

/// The whole application as a router, ready to serve or to test without a socket.
pub fn app(db: Arc<Db>, config: &ServerConfig) -> Router {
    let limiter = Arc::new(RateLimiter::new(config.rate_limit));
    let state = AppState {
        api: Api::new(db.clone(), config.limits.clone()),
        db,
        limits: config.limits.clone(),
        tokens: Arc::new(config.tokens.clone()),
        require_token_for_reads: config.require_token_for_reads,
        max_subscriptions: config.max_subscriptions_per_connection,
        limiter: limiter.clone(),
        ws_init_timeout: config.ws_init_timeout,
        exports: Arc::new(tokio::sync::Semaphore::new(MAX_CONCURRENT_EXPORTS)),
    };
    let mut router = Router::new();
    for &(path, access) in ROUTES {
        let Some(route) = handlers(path) else {
            tracing::error!(path, "a route of ROUTES has no handlers");
            continue;
        };
        router = match access {
            Access::Public => router.route(path, route),
            Access::Data => router.route(
                path,
                route.route_layer(axum::middleware::from_fn_with_state(
                    state.clone(),
                    read_policy,
                )),
            ),
        };
    }
    let proxies = Arc::new(config.trusted_proxies.clone());
    router
        .fallback(not_found)
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            (limiter, proxies.clone()),
            rate_limit,
        ))
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(axum::middleware::from_fn(coded_body_limit))
        .layer(cors(&config.cors_origins))
        .layer(axum::middleware::from_fn_with_state(
            config.request_timeout,
            request_timeout,
        ))
        .layer(axum::middleware::from_fn_with_state(
            proxies,
            client_address,
        ))
        .layer(TraceLayer::new_for_http())
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn(close_unless_read))
}

/// The backstop behind the execution timeout: any request still unanswered after `timeout` gets
/// 408 with a coded body (`REQUEST_TIMEOUT`).
async fn request_timeout(
    State(timeout): State<Duration>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => json_response(
            StatusCode::REQUEST_TIMEOUT,
            "application/json",
            error_body(
                "REQUEST_TIMEOUT",
                &format!(
                    "the request was not answered within {} s; retry later",
                    timeout.as_secs_f64()
                ),
            ),
        ),
    }
}

/// Adds `Connection: close` to a response given before the request's body was read to its end (a
/// 429, 401, 413 or 408 decided on the headers alone): the connection cannot carry another
/// request after an unread body, and the client must know it rather than find it closed.
async fn close_unless_read(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::body::HttpBody;
    use futures_util::StreamExt;
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let read = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (parts, body) = request.into_parts();
    let at_end = read.clone();
    let body = body.into_data_stream().chain(
        futures_util::stream::once(async move {
            at_end.store(true, std::sync::atomic::Ordering::SeqCst);
        })
        .filter_map(|()| std::future::ready(None)),
    );
    let request = axum::extract::Request::from_parts(parts, Body::from_stream(body));
    let mut response = next.run(request).await;
    if !read.load(std::sync::atomic::Ordering::SeqCst) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    response
}

/// The client a request comes from: the peer, or for a trusted proxy the right-most address of
/// `X-Forwarded-For` that is not a trusted proxy itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddress(pub std::net::IpAddr);

fn client_of(
    peer: std::net::IpAddr,
    headers: &HeaderMap,
    trusted: &[std::net::IpAddr],
) -> std::net::IpAddr {
    if !trusted.contains(&peer) {
        return peer;
    }
    let forwarded: Vec<std::net::IpAddr> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse().ok())
        .collect();
    forwarded
        .into_iter()
        .rev()
        .find(|a| !trusted.contains(a))
        .unwrap_or(peer)
}

async fn client_address(
    State(trusted): State<Arc<Vec<std::net::IpAddr>>>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<axum::extract::ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    if let Some(peer) = peer {
        let client = client_of(peer, request.headers(), &trusted);
        request.extensions_mut().insert(ClientAddress(client));
    }
    next.run(request).await
}

/// The read policy of every data route: a token when reads need one; for the plain-HTTP routes on
/// a persisted-operations server, the admin role. WebSocket upgrades pass: their token comes in
/// `connection_init`, and every operation on the socket obeys the same policy (see [`WsPolicy`]).
async fn read_policy(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_upgrade = request
        .headers()
        .get(header::UPGRADE)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"websocket"));
    if is_upgrade {
        return next.run(request).await;
    }
    let caller = match authorize(&state, request.headers(), "application/json") {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    if state.limits.allow_list.is_some()
        && request.uri().path() != "/graphql"
        && !caller.as_ref().is_some_and(|c| c.role == Role::Admin)
    {
        return json_response(
            StatusCode::FORBIDDEN,
            "application/json",
            error_body(
                "OPERATION_NOT_ALLOWED",
                "this server runs only persisted operations: the plain-HTTP data routes need an admin token",
            ),
        );
    }
    next.run(request).await
}

/// Turns the body limit's plain-text 413 into a coded JSON error.
async fn coded_body_limit(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::PAYLOAD_TOO_LARGE {
        return response;
    }
    json_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "application/json",
        error_body(
            "PAYLOAD_TOO_LARGE",
            "the request body is larger than this server accepts (--body-limit)",
        ),
    )
}

/// Serves `app` on `listener` until `shutdown` completes, then lets in-flight requests finish for at
/// most `grace`. Each connection has `header_read_timeout` to send a request's headers (and to send
/// the next one when idle); at most `max_connections` are open, `max_connections_per_client` per
/// address (WebSockets count until they close): more are closed on accept.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Router,
    config: &ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    use hyper_util::rt::{TokioIo, TokioTimer};
    let open = Arc::new(tokio::sync::Semaphore::new(config.max_connections.max(1)));
    let per_client: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>> =
        Arc::default();
    let (closing_tx, closing) = tokio::sync::watch::channel(false);
    let mut connections = tokio::task::JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    // Failed accepts since the last one logged, and when that was: logged once a second at most.
    let (mut failed_accepts, mut logged_at) = (0u64, None::<std::time::Instant>);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    failed_accepts += 1;
                    if logged_at.is_none_or(|at| at.elapsed() >= Duration::from_secs(1)) {
                        tracing::warn!(%error, failures = failed_accepts, "accept failed");
                        (failed_accepts, logged_at) = (0, Some(std::time::Instant::now()));
                    }
                    // Out of descriptors (EMFILE, ENFILE): back off until some are closed rather
                    // than spin on the connection still waiting to be accepted.
                    let exhausted = matches!(error.raw_os_error(), Some(23 | 24));
                    let pause = if exhausted { 20 } else { 1 };
                    tokio::time::sleep(Duration::from_millis(pause)).await;
                    continue;
                }
            },
        };
        while connections.try_join_next().is_some() {}
        let Ok(permit) = open.clone().try_acquire_owned() else {
            tracing::warn!(%peer, max = config.max_connections, "connection limit reached; closing");
            drop(stream);
            continue;
        };
        let client = peer.ip();
        {
            let mut counts = per_client
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = counts.entry(client).or_insert(0);
            if *count >= config.max_connections_per_client {
                tracing::warn!(%peer, max = config.max_connections_per_client, "per-client connection limit reached; closing");
                drop(stream);
                continue;
            }
            *count += 1;
        }
        let slot = Slot {
            _held: Arc::new(SlotInner {
                _permit: permit,
                client,
                per_client: per_client.clone(),
            }),
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let header_read_timeout = config.header_read_timeout;
        let mut closing = closing.clone();
        connections.spawn(async move {
            let service = hyper::service::service_fn(
                move |mut request: hyper::Request<hyper::body::Incoming>| {
                    request
                        .extensions_mut()
                        .insert(axum::extract::ConnectInfo(peer));
                    request.extensions_mut().insert(slot.clone());
                    tower::ServiceExt::oneshot(app.clone(), request.map(Body::new))
                },
            );
            let connection = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(header_read_timeout)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(error) = result {
                        tracing::debug!(%error, %peer, "connection ended with an error");
                    }
                }
                () = async { drop(closing.wait_for(|closing| *closing).await) } => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.as_mut().await;
                }
            }
        });
    }
    drop(listener);
    let _ = closing_tx.send(true);
    let drained = tokio::time::timeout(grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "connections still open after the shutdown grace period; closing them"
        );
        connections.abort_all();
    }
    Ok(())
}

/// One open connection's place under the connection caps, held by the connection and by each of
/// its requests; a WebSocket takes it along when the connection is upgraded, so the caps count open
/// sockets, not only HTTP exchanges. Freed when the last holder is gone.
#[derive(Clone)]
struct Slot {
    _held: Arc<SlotInner>,
}

struct SlotInner {
    _permit: tokio::sync::OwnedSemaphorePermit,
    client: std::net::IpAddr,
    per_client: Arc<std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, usize>>>,
}

impl Drop for SlotInner {
    fn drop(&mut self) {
        let mut counts = self
            .per_client
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = counts.get_mut(&self.client) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&self.client);
            }
        }
    }
}

/// A token bucket per client address: `rate` tokens a second, holding at most `2 × rate`.
struct RateLimiter {
    rate: f64,
    buckets:
        std::sync::Mutex<std::collections::HashMap<std::net::IpAddr, (f64, std::time::Instant)>>,
}

impl RateLimiter {
    fn new(rate: u32) -> RateLimiter {
        RateLimiter {
            rate: f64::from(rate),
            buckets: std::sync::Mutex::new(std::collections::HashMap::new()),
        }
    }

    /// Takes a token for `client`; false when its bucket is empty.
    fn allow(&self, client: std::net::IpAddr) -> bool {
        if self.rate <= 0.0 {
            return true;
        }
        let now = std::time::Instant::now();
        let capacity = 2.0 * self.rate;
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > 100_000 {
            // Forget clients whose buckets have refilled, so the map cannot grow without bound.
            buckets.retain(|_, (tokens, at)| {
                *tokens + now.duration_since(*at).as_secs_f64() * self.rate < capacity
            });
        }
        let (tokens, at) = buckets.entry(client).or_insert((capacity, now));
        *tokens = (*tokens + now.duration_since(*at).as_secs_f64() * self.rate).min(capacity);
        *at = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

async fn rate_limit(
    State((limiter, _)): State<(Arc<RateLimiter>, Arc<Vec<std::net::IpAddr>>)>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    // Health checks are never limited: a load balancer must see a busy server as alive.
    if request.uri().path() == "/healthz" {
        return next.run(request).await;
    }
    // Present when served by `serve`; absent when a test drives the router without a socket.
    let client = request.extensions().get::<ClientAddress>().map(|c| c.0);
    if let Some(client) = client
        && !limiter.allow(client)
    {
        let message = format!(
            "rate limit: at most {} requests a second per client (bursts of {}); retry shortly",
            limiter.rate,
            2.0 * limiter.rate
        );
        let mut response = json_response(
            StatusCode::TOO_MANY_REQUESTS,
            "application/json",
            error_body("RATE_LIMITED", &message),
        );
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return response;
    }
    next.run(request).await
}

/// Completes on SIGTERM or Ctrl-C. The handlers are installed when this is called (inside the
/// runtime), not when the future is first polled: a SIGTERM that arrives as soon as the server says
/// where it listens must already stop it gracefully.
pub fn shutdown_signal() -> impl Future<Output = ()> + Send + 'static {
    #[cfg(unix)]
    let terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
    #[cfg(unix)]
    let interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
    async move {
        #[cfg(unix)]
        {
            let wait = |signal: std::io::Result<tokio::signal::unix::Signal>,
                        name: &'static str| async move {
                match signal {
                    Ok(mut signal) => {
                        signal.recv().await;
                    }
                    Err(error) => {
                        tracing::warn!(%error, "cannot listen for {name}");
                        std::future::pending::<()>().await;
                    }
                }
            };
            tokio::select! {
                () = wait(interrupt, "Ctrl-C") => tracing::info!("Ctrl-C received, shutting down"),
                () = wait(terminate, "SIGTERM") => tracing::info!("SIGTERM received, shutting down"),
            }
        }
        #[cfg(not(unix))]
        {
            if let Err(error) = tokio::signal::ctrl_c().await {
                tracing::warn!(%error, "cannot listen for Ctrl-C");
                std::future::pending::<()>().await;
            }
            tracing::info!("Ctrl-C received, shutting down");
        }
    }
}

fn cors(origins: &[String]) -> CorsLayer {
    let layer = CorsLayer::new()
        .allow_methods([Method::GET, Method::POST, Method::OPTIONS])
        .allow_headers([header::CONTENT_TYPE, header::ACCEPT, header::AUTHORIZATION])
        .max_age(Duration::from_secs(3600));
    if origins.iter().any(|o| o == "*") {
        layer.allow_origin(AllowOrigin::any())
    } else {
        let list: Vec<HeaderValue> = origins
            .iter()
            .filter_map(|o| HeaderValue::from_str(o).ok())
            .collect();
        layer.allow_origin(AllowOrigin::list(list))
    }
}

/// The response media type the client accepts, or `None` when it accepts neither JSON type.
fn negotiate(headers: &HeaderMap) -> Option<&'static str> {
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return Some("application/json");
    };
    let mut json = false;
    let mut wildcard = false;
    for item in accept.split(',') {
        let media = item
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        match media.as_str() {
            GRAPHQL_RESPONSE_JSON => return Some(GRAPHQL_RESPONSE_JSON),
            "application/json" => json = true,
            "*/*" | "application/*" => wildcard = true,
            _ => {}
        }
    }
    (json || wildcard).then_some("application/json")
}

async fn graphql_get(State(state): State<AppState>, request: axum::extract::Request) -> Response {
    let (mut parts, _body) = request.into_parts();
    let upgrade = parts
        .headers
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        use axum::extract::FromRequestParts;
        return match axum::extract::ws::WebSocketUpgrade::from_request_parts(&mut parts, &state)
            .await
        {
            Ok(upgrade) => {
                let client = parts.extensions.get::<ClientAddress>().map(|c| c.0);
                let slot = parts.extensions.get::<Slot>().cloned();
                websocket(state, upgrade, client, slot)
            }
            Err(rejection) => rejection.into_response(),
        };
    }
    let query = parts.uri.query().map(str::to_owned);
    let headers = parts.headers;
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let pairs: Vec<(String, String)> = match serde_urlencoded_pairs(query.as_deref().unwrap_or(""))
    {
        Ok(pairs) => pairs,
        Err(message) => return bad_request(media, &message),
    };
    let mut params = RequestParams::default();
    for (key, value) in pairs {
        match key.as_str() {
            "query" => params.query = Some(Value::String(value)),
            "operationName" => params.operation_name = Some(Value::String(value)),
            "variables" | "extensions" => {
                let parsed = match serde_json::from_str::<Value>(&value) {
                    Ok(parsed) => parsed,
                    Err(error) => {
                        return bad_request(media, &format!("`{key}` is not valid JSON: {error}"));
                    }
                };
                if key == "variables" {
                    params.variables = Some(parsed);
                } else {
                    params.extensions = Some(parsed);
                }
            }
            _ => {}
        }
    }
    let caller = match authorize(&state, &headers, media) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    respond(media, state.api.execute(params, true, caller).await)
}

/// A GraphQL WebSocket session (subscriptions), authenticated by the token in `connection_init`.
/// It holds the connection's `slot` under the connection caps until it closes.
fn websocket(
    state: AppState,
    upgrade: axum::extract::ws::WebSocketUpgrade,
    client: Option<std::net::IpAddr>,
    slot: Option<Slot>,
) -> Response {
    use axum::extract::ws::{CloseFrame, Message};
    use futures_util::{SinkExt, StreamExt};
    upgrade
        .protocols(["graphql-transport-ws", "graphql-ws"])
        .on_upgrade(move |socket| async move {
            let _slot = slot;
            let protocol = socket
                .protocol()
                .and_then(|p| p.to_str().ok())
                .unwrap_or("graphql-ws")
                .to_owned();
            let (mut sink, stream) = socket.split();
            let incoming = Box::pin(
                stream
                    .take_while(|message| std::future::ready(message.is_ok()))
                    .filter_map(|message| {
                        std::future::ready(match message {
                            Ok(Message::Text(text)) => Some(text.as_bytes().to_vec()),
                            Ok(Message::Binary(bytes)) => Some(bytes.to_vec()),
                            _ => None,
                        })
                    }),
            );
            let auth_state = state.clone();
            let authorize = move |token: Option<String>| match token {
                Some(token) => match caller_for_token(&auth_state, &token) {
                    Ok(Some(caller)) => Ok(Some(caller)),
                    Ok(None) => {
                        Err("the token in connection_init is not known to this server".to_owned())
                    }
                    Err(()) => Err("internal error".to_owned()),
                },
                None if auth_state.require_token_for_reads => {
                    Err("this server requires a token in connection_init".to_owned())
                }
                None => Ok(None),
            };
            let limiter = state.limiter.clone();
            let policy = WsPolicy {
                authorize: Box::new(authorize),
                allow: Box::new(move || client.is_none_or(|client| limiter.allow(client))),
                max_subscriptions: state.max_subscriptions,
                require_token: state.require_token_for_reads,
                init_timeout: state.ws_init_timeout,
            };
            let outgoing = match state.api.websocket(incoming, &protocol, policy) {
                Ok(outgoing) => outgoing,
                Err(message) => {
                    let frame = CloseFrame {
                        code: 4400,
                        reason: message.into(),
                    };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    return;
                }
            };
            let mut outgoing = Box::pin(outgoing);
            while let Some(message) = outgoing.next().await {
                let sent = match message {
                    WsOut::Text(text) => sink.send(Message::Text(text.into())).await,
                    WsOut::Close(code, reason) => {
                        let frame = CloseFrame {
                            code,
                            reason: reason.into(),
                        };
                        let _ = sink.send(Message::Close(Some(frame))).await;
                        break;
                    }
                };
                if sent.is_err() {
                    break;
                }
            }
            // The session ended without a close frame of its own (a refused legacy
            // `connection_init`, the client gone): close the socket properly.
            let _ = sink.close().await;
        })
}

async fn graphql_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(media) = negotiate(&headers) else {
        return not_acceptable();
    };
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence != "application/json" {
        let message =
            format!("POST /graphql needs `Content-Type: application/json`, got `{content_type}`");
        return json_response(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            media,
            error_body("UNSUPPORTED_MEDIA_TYPE", &message),
        );
    }
    let value: Value = match serde_json::from_slice(&body) {
        Ok(value) => value,
        Err(error) => return bad_request(media, &format!("the body is not valid JSON: {error}")),
    };
    if value.is_array() {
        return bad_request(
            media,
            "batched requests (a JSON array) are not supported; send one request per POST",
        );
    }
    if !value.is_object() {
        return bad_request(media, "the body must be a JSON object with a `query`");
    }
    let params: RequestParams = match serde_json::from_value(value) {
        Ok(params) => params,
        Err(error) => {
            return bad_request(
                media,
                &format!("the body is not a GraphQL request: {error}"),
            );
        }
    };
    let caller = match authorize(&state, &headers, media) {
        Ok(caller) => caller,
        Err(response) => return *response,
    };
    respond(media, state.api.execute(params, false, caller).await)
}

fn respond(media: &'static str, outcome: Outcome) -> Response {
    match outcome {
        Outcome::Executed(text) => json_text_response(StatusCode::OK, media, text),
        Outcome::RequestError(body) if media == GRAPHQL_RESPONSE_JSON => {
            json_response(StatusCode::BAD_REQUEST, media, body)
        }
        Outcome::RequestError(body) => json_response(StatusCode::OK, media, body),
        Outcome::BadRequest(body) => json_response(StatusCode::BAD_REQUEST, media, body),
        Outcome::MutationOverGet(body) => {
            let mut response = json_response(StatusCode::METHOD_NOT_ALLOWED, media, body);
            response
                .headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static("POST"));
            response
        }
        Outcome::Timeout(body) => json_response(StatusCode::SERVICE_UNAVAILABLE, media, body),
        Outcome::Unauthorized(body) => {
            let mut response = json_response(StatusCode::UNAUTHORIZED, media, body);
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            response
        }
        Outcome::Forbidden(body) => json_response(StatusCode::FORBIDDEN, media, body),
    }
}

fn json_response(status: StatusCode, media: &'static str, body: Value) -> Response {
    json_text_response(status, media, body.to_string())
}

fn json_text_response(status: StatusCode, media: &'static str, text: String) -> Response {
    let content_type = if media == GRAPHQL_RESPONSE_JSON {
        "application/graphql-response+json; charset=utf-8"
    } else {
        "application/json; charset=utf-8"
    };
    (status, [(header::CONTENT_TYPE, content_type)], text).into_response()
}

fn error_body(code: &str, message: &str) -> Value {
    serde_json::json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

fn bad_request(media: &'static str, message: &str) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        media,
        error_body("BAD_REQUEST", message),
    )
}

fn not_acceptable() -> Response {
    let message = "this endpoint answers `application/graphql-response+json` or `application/json`; \
                   set `Accept` to one of them";
    json_response(
        StatusCode::NOT_ACCEPTABLE,
        "application/json",
        error_body("NOT_ACCEPTABLE", message),
    )
}

/// Decodes `application/x-www-form-urlencoded` pairs (a query string).
fn serde_urlencoded_pairs(query: &str) -> Result<Vec<(String, String)>, String> {
    let decode = |s: &str| -> Result<String, String> {
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' => {
                    let hex = bytes
                        .get(i + 1..i + 3)
                        .and_then(|h| std::str::from_utf8(h).ok());
                    let byte = hex
                        .and_then(|h| u8::from_str_radix(h, 16).ok())
                        .ok_or("malformed %-escape in the query string")?;
                    out.push(byte);
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8(out).map_err(|_| "the query string is not UTF-8".to_owned())
    };
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            Ok((decode(key)?, decode(value)?))
        })
        .collect()
}

/// A bug, not the client's fault: logged, and answered with 500 without internals.
fn panic_response(_payload: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    json_response(
        StatusCode::INTERNAL_SERVER_ERROR,
        "application/json",
        error_body(
            "INTERNAL_SERVER_ERROR",
            "internal error; it has been logged",
        ),
    )
}

async fn preflight_only() -> StatusCode {
    StatusCode::NO_CONTENT
}

async fn graphiql_page() -> Response {
    asset_response(&GRAPHIQL, "index.html")
}

async fn graphiql_asset(Path(file): Path<String>) -> Response {
    asset_response(&GRAPHIQL, &file)
}

fn asset_response(dir: &Dir<'static>, name: &str) -> Response {
    let Some(file) = dir.get_file(name) else {
        return not_found_response();
    };
    let content_type = match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("png") => "image/png",
        _ => "text/plain; charset=utf-8",
    };
    let html = name.ends_with(".html");
    let cache = if html {
        "no-cache"
    } else {
        "public, max-age=3600"
    };
    let mut response = (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        Body::from(file.contents()),
    )
        .into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    if html {
        headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        headers.insert(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        );
    }
    response
}

/// Liveness: always 200 while the process serves. On a replicated node it also says how far the
/// node is in its change log ([`log_json`]).
async fn healthz(State(state): State<AppState>) -> Response {
    let body = match state.db.log_status() {
        None => r#"{"status":"ok"}"#.to_owned(),
        Some(log) => {
            let mut body = log_json(&log);
            body.insert("status".to_owned(), "ok".into());
            Value::Object(body).to_string()
        }
    };
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Readiness, for load balancers: 200 when the node can answer with current data; on a replicated
/// node 503 while it has not yet reached the log or is more than `--max-lag` entries behind.
async fn readyz(State(state): State<AppState>) -> Response {
    let (status, body) = match state.db.log_status() {
        None => (StatusCode::OK, serde_json::json!({ "ready": true })),
        Some(log) => {
            let mut body = log_json(&log);
            body.insert("maxLag".to_owned(), log.max_lag.into());
            let status = if log.ready() {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, Value::Object(body))
        }
    };
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// A replicated node's place in its log as `/healthz` and `/readyz` show it: the `sequence` it
/// applied, the log's `last` sequence, the `lag`, whether the log is `reachable`, whether it is
/// `ready`.
fn log_json(log: &crate::db::LogStatus) -> serde_json::Map<String, Value> {
    serde_json::Map::from_iter([
        ("sequence".to_owned(), log.applied.into()),
        ("last".to_owned(), log.last.into()),
        ("lag".to_owned(), log.lag().into()),
        ("reachable".to_owned(), log.reachable.into()),
        ("ready".to_owned(), log.ready().into()),
    ])
}

/// The explorer's Content-Security-Policy: everything from this server, nothing else.
const EXPLORER_CSP: &str = "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; \
                            script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

async fn explorer_page() -> Response {
    let mut response = asset_response(&EXPLORER, "index.html");
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(EXPLORER_CSP),
    );
    response
}

/// The review page, where a curator turns a report's proposals into an `importBatch`.
async fn review_page() -> Response {
    let mut response = asset_response(&EXPLORER, "review.html");
    response.headers_mut().insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(EXPLORER_CSP),
    );
    response
}

async fn explorer_asset(Path(file): Path<String>) -> Response {
    if file.ends_with(".html") {
        let mut response = asset_response(&EXPLORER, &file);
        response.headers_mut().insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(EXPLORER_CSP),
        );
        return response;
    }
    asset_response(&EXPLORER, &file)
}

async fn not_found() -> Response {
    not_found_response()
}

/// Plain HTTP endpoints for front ends and tools that do not speak GraphQL.
mod rest {
    use std::collections::HashMap;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use axum::extract::{Query, State};
    use axum::http::{StatusCode, header};
    use axum::response::{IntoResponse, Response};

    use super::AppState;
    use crate::graph::{Budget, Direction, KindSet, Step};
    use crate::interchange::{self, Format, Shape};
    use crate::model::{EntityKind, RelationKind};

    /// An error of these endpoints: status, code and message, as `{"error": {"code", "message"}}`.
    pub(super) struct RestError(StatusCode, &'static str, String);

    impl IntoResponse for RestError {
        fn into_response(self) -> Response {
            let body = serde_json::json!({ "error": { "code": self.1, "message": self.2 } });
            (
                self.0,
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                body.to_string(),
            )
                .into_response()
        }
    }

    fn error(status: StatusCode, code: &'static str, message: &str) -> RestError {
        RestError(status, code, message.to_owned())
    }

    /// 503 with a coded body, as the GraphQL route answers when it has no turn to execute.
    fn busy(code: &str, message: &str) -> Response {
        let mut response = super::json_response(
            StatusCode::SERVICE_UNAVAILABLE,
            "application/json",
            super::error_body(code, message),
        );
        response.headers_mut().insert(
            header::RETRY_AFTER,
            axum::http::HeaderValue::from_static("1"),
        );
        response
    }

    fn bad(message: String) -> RestError {
        RestError(StatusCode::BAD_REQUEST, "BAD_USER_INPUT", message)
    }

    fn list<T: std::str::FromStr>(
        params: &HashMap<String, String>,
        name: &str,
    ) -> Result<Option<Vec<T>>, RestError>
    where
        T::Err: std::fmt::Display,
    {
        let Some(raw) = params.get(name) else {
            return Ok(None);
        };
        raw.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<T>().map_err(|e| bad(format!("`{name}`: {e}"))))
            .collect::<Result<Vec<T>, RestError>>()
            .map(Some)
    }

    fn number(
        params: &HashMap<String, String>,
        name: &str,
        default: u32,
        max: u32,
    ) -> Result<u32, RestError> {
        let value = match params.get(name) {
            None => default,
            Some(raw) => raw
                .parse::<u32>()
                .map_err(|_| bad(format!("`{name}` must be a whole number, got `{raw}`")))?,
        };
        if value > max {
            return Err(error(
                StatusCode::BAD_REQUEST,
                if name == "depth" {
                    "TRAVERSAL_DEPTH_LIMIT"
                } else {
                    "PAGE_SIZE_LIMIT"
                },
                &format!("`{name}` is {value}, above the limit of {max}"),
            ));
        }
        Ok(value)
    }

    /// `GET /api/subgraph?ids=a,b&depth=1&relations=…&direction=BOTH&kinds=…&limit=500&format=cytoscape|g6|echarts&compound=true`
    pub(super) async fn subgraph(
        State(state): State<AppState>,
        Query(params): Query<HashMap<String, String>>,
    ) -> Response {
        match subgraph_inner(&state, &params).await {
            Ok(response) => response,
            Err(error) => error.into_response(),
        }
    }

    async fn subgraph_inner(
        state: &AppState,
        params: &HashMap<String, String>,
    ) -> Result<Response, RestError> {
        let ids: Vec<String> = list::<String>(params, "ids")?.unwrap_or_default();
        if ids.is_empty() {
            return Err(bad(
                "`ids` must name at least one entity (comma-separated)".to_owned()
            ));
        }
        if ids.len() > state.limits.max_ids {
            return Err(bad(format!(
                "`ids` holds {} ids, above the limit of {}",
                ids.len(),
                state.limits.max_ids
            )));
        }
        let depth = number(params, "depth", 1, state.limits.max_traversal_depth)?;
        let limit =
            number(params, "limit", 500, state.limits.max_page_size as u32)?.max(1) as usize;
        let relations: Option<Vec<RelationKind>> = list(params, "relations")?;
        let kinds: Option<Vec<EntityKind>> = list(params, "kinds")?;
        let direction = match params.get("direction").map(String::as_str) {
            None | Some("BOTH") => Direction::Both,
            Some("OUT") => Direction::Out,
            Some("IN") => Direction::In,
            Some(other) => {
                return Err(bad(format!(
                    "`direction` must be OUT, IN or BOTH, got `{other}`"
                )));
            }
        };
        let grouped = ["compound", "combos"]
            .iter()
            .any(|k| params.get(*k).is_some_and(|v| v == "true"));
        let format = params.get("format").map_or("cytoscape", String::as_str);
        let shape = Shape::parse(format, grouped).ok_or_else(|| {
            bad(format!(
                "`format` must be cytoscape, g6 or echarts, got `{format}`"
            ))
        })?;
        // A turn of GraphQL execution: the same work, under the same bound.
        let Some(turn) = state.api.turn().await else {
            return Ok(busy(
                "EXECUTION_TIMEOUT",
                &format!(
                    "no turn to execute came within the execution timeout of {} ms: the server is busy; retry shortly",
                    state.limits.execution_timeout.as_millis()
                ),
            ));
        };
        let db = state.db.clone();
        let limits = state.limits.clone();
        let result = tokio::task::spawn_blocking(move || {
            let _turn = turn;
            let view = {
                let index = db.read();
                let unknown = ids.iter().enumerate().find_map(|(i, id)| {
                    index.not_found(&format!("ids[{i}]"), crate::graph::IdKind::Entity, id)
                });
                if let Some(message) = unknown {
                    return Err(error(StatusCode::NOT_FOUND, "NOT_FOUND", &message));
                }
                let step = Step::new(KindSet::from_option(relations.as_deref()), direction);
                let budget = Budget::new(limits.max_visits, limits.traversal_time);
                index.neighborhood(&ids, step, depth, kinds.as_deref(), limit, budget)
            };
            let mut body = interchange::shape_subgraph(&db, &view, shape).map_err(|e| {
                tracing::error!(error = %e, "shaping a subgraph");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_SERVER_ERROR",
                    "internal error; it has been logged",
                )
            })?;
            if let Some(object) = body.as_object_mut() {
                object.insert(
                    "truncated".to_owned(),
                    serde_json::json!(view.truncated.is_some()),
                );
                object.insert("reason".to_owned(), serde_json::json!(view.truncated));
            }
            Ok(body)
        })
        .await
        .map_err(|_| {
            error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "internal error",
            )
        })??;
        Ok((
            [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
            result.to_string(),
        )
            .into_response())
    }

    /// `GET /api/export?format=graphml|gexf|csv-nodes|csv-edges|jsonl|cytoscape`: the whole graph.
    pub(super) async fn export(
        State(state): State<AppState>,
        Query(params): Query<HashMap<String, String>>,
    ) -> Response {
        let format = match params.get("format").map(String::as_str) {
            Some("graphml") => Format::GraphMl,
            Some("gexf") => Format::Gexf,
            Some("csv-nodes") => Format::CsvNodes,
            Some("csv-edges") => Format::CsvEdges,
            Some("jsonl") => Format::JsonLines,
            Some("cytoscape") => Format::Cytoscape,
            other => {
                return bad(format!(
                    "`format` must be graphml, gexf, csv-nodes, csv-edges, jsonl or cytoscape, got `{}`",
                    other.unwrap_or("")
                ))
                .into_response();
            }
        };
        let wait = state.limits.execution_timeout;
        let turn = tokio::time::timeout(wait, state.exports.clone().acquire_owned()).await;
        let Ok(Ok(turn)) = turn else {
            let message = format!(
                "{} exports are running, the most at once, and none finished within {} ms; retry shortly",
                super::MAX_CONCURRENT_EXPORTS,
                wait.as_millis()
            );
            return busy("TOO_MANY_EXPORTS", &message);
        };
        // Set when this request is given up (the 408 backstop, the client gone): the work stops
        // at its next step instead of serialising a graph nobody will read.
        struct GivenUp(Arc<AtomicBool>);
        impl Drop for GivenUp {
            fn drop(&mut self) {
                self.0.store(true, Ordering::SeqCst);
            }
        }
        let given_up = GivenUp(Arc::new(AtomicBool::new(false)));
        let abandoned = given_up.0.clone();
        let db = state.db.clone();
        let result = tokio::task::spawn_blocking(move || -> Result<Vec<u8>, String> {
            let _turn = turn;
            let graph = db.export_data().map_err(|e| e.to_string())?;
            if abandoned.load(Ordering::SeqCst) {
                return Err("given up".to_owned());
            }
            let mut out = Vec::new();
            interchange::export(&graph, format, &mut out).map_err(|e| e.to_string())?;
            Ok(out)
        })
        .await;
        drop(given_up);
        match result {
            Ok(Ok(bytes)) => {
                let disposition =
                    format!("attachment; filename=\"innograph.{}\"", format.extension());
                (
                    [
                        (header::CONTENT_TYPE, format.media_type().to_owned()),
                        (header::CONTENT_DISPOSITION, disposition),
                    ],
                    bytes,
                )
                    .into_response()
            }
            Ok(Err(e)) => {
                tracing::error!(error = %e, "export failed");
                error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "INTERNAL_SERVER_ERROR",
                    "export failed; it has been logged",
                )
                .into_response()
            }
            Err(_) => error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "INTERNAL_SERVER_ERROR",
                "export failed",
            )
            .into_response(),
        }
    }
}

fn not_found_response() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "application/json")],
        r#"{"error":"not found"}"#,
    )
        .into_response()
}
