//! The GraphQL API: the only module that imports async-graphql.
//!
//! [`Api`] owns the schema and executes GraphQL-over-HTTP requests handed to it by the transport
//! (`server`), telling it what kind of outcome each was so that the transport can choose the status
//! code. The schema's types live in [`types`], the root query here. Every limit is in [`Limits`] and
//! every error a client sees carries `extensions.code`.

mod extraction;
mod inputs;
mod mutation;
mod names;
mod query;
mod subscription;
mod types;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_graphql::parser::types::{ExecutableDocument, OperationType};
use async_graphql::{Context, ErrorExtensions, ID, Result, Schema, ServerError, Variables};
use serde_json::{Value, json};

use crate::db::Db;
use crate::graph::{Budget, TraversalError};
pub use mutation::{Caller, Mutation, Role};
pub use query::Query;
pub use subscription::{Subscription, WsOut, WsPolicy};

/// The bounds on every request. Each error that enforces one names it in `extensions.code`.
#[derive(Clone, Debug)]
pub struct Limits {
    /// Deepest selection nesting a query may have (`QUERY_DEPTH_LIMIT`).
    pub max_query_depth: usize,
    /// Highest complexity score a query may have (`QUERY_COMPLEXITY_LIMIT`).
    pub max_complexity: usize,
    /// Largest `first` or `limit` of a list (`PAGE_SIZE_LIMIT`).
    pub max_page_size: usize,
    /// Deepest `depth` of `neighbors` and `neighborhood` (`TRAVERSAL_DEPTH_LIMIT`).
    pub max_traversal_depth: u32,
    /// Largest `maxDepth` of a path search (`TRAVERSAL_DEPTH_LIMIT`).
    pub max_path_depth: u32,
    /// Most entities a single traversal may visit (`TRAVERSAL_SIZE_LIMIT`).
    pub max_visits: usize,
    /// Time a single traversal may take (`TRAVERSAL_TIME_LIMIT`).
    pub traversal_time: Duration,
    /// Time a whole request may take (`EXECUTION_TIMEOUT`).
    pub execution_timeout: Duration,
    /// Most ids a list argument may hold (`BAD_USER_INPUT`).
    pub max_ids: usize,
    /// Longest search text, in characters (`BAD_USER_INPUT`).
    pub max_search_text: usize,
    /// Most paths `kShortestPaths` may return (`PAGE_SIZE_LIMIT`).
    pub max_paths: usize,
    /// Whether introspection queries (`__schema`, `__type`) are answered.
    pub introspection: bool,
    /// Most records one `importBatch` may hold (`BAD_USER_INPUT` naming the cap).
    pub max_batch_records: usize,
    /// When set, only queries whose SHA-256 (hex) is listed are executed (`OPERATION_NOT_ALLOWED`).
    pub allow_list: Option<Arc<std::collections::HashSet<String>>>,
    /// Deepest bracket nesting (`{`, `[`, `(`) of a query text or of its variables, checked before
    /// anything parses them (`QUERY_NESTING_LIMIT`).
    pub max_nesting: usize,
    /// Longest query text, in bytes (`QUERY_SIZE_LIMIT`).
    pub max_query_bytes: usize,
    /// Most fields (aliases included) and fragment spreads a query text may hold (`QUERY_SIZE_LIMIT`).
    pub max_selections: usize,
    /// Requests executing at once; more wait (within the execution timeout) for a turn.
    pub max_concurrent_executions: usize,
    /// Longest wait for a request's `extensions.minSequence` on a replicated node
    /// (`SEQUENCE_NOT_REACHED`).
    pub min_sequence_wait: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_query_depth: 16,
            max_complexity: 20_000,
            max_page_size: 1_000,
            max_traversal_depth: 6,
            max_path_depth: 12,
            max_visits: 1_000_000,
            traversal_time: Duration::from_secs(2),
            execution_timeout: Duration::from_secs(10),
            max_ids: 100,
            max_search_text: 200,
            max_paths: 50,
            introspection: true,
            allow_list: None,
            max_batch_records: crate::edit::MAX_BATCH_RECORDS,
            max_nesting: 64,
            max_query_bytes: 100_000,
            max_selections: 2_000,
            max_concurrent_executions: std::thread::available_parallelism()
                .map_or(4, |n| n.get() * 2)
                .max(4),
            min_sequence_wait: Duration::from_secs(5),
        }
    }
}

impl Limits {
    /// The budget of one traversal: its own limits, within what is left of the request's time.
    fn budget(&self, ctx: &Context<'_>) -> Budget {
        let budget = Budget::new(self.max_visits, self.traversal_time);
        match ctx.data_opt::<RequestDeadline>() {
            Some(deadline) => budget.within_request(deadline.0),
            None => budget,
        }
    }

    fn traversal_depth(&self, argument: &str, depth: i32) -> Result<u32> {
        let max = self.max_traversal_depth;
        if depth < 1 {
            return Err(user_error(
                "BAD_USER_INPUT",
                format!("`{argument}` must be at least 1, got {depth}"),
            ));
        }
        if depth as u32 > max {
            return Err(user_error(
                "TRAVERSAL_DEPTH_LIMIT",
                format!(
                    "`{argument}` is {depth}, above the limit of {max}; ask for {max} or less and expand from the results"
                ),
            ));
        }
        Ok(depth as u32)
    }

    fn path_depth(&self, argument: &str, depth: i32) -> Result<u32> {
        let max = self.max_path_depth;
        if depth < 0 {
            return Err(user_error(
                "BAD_USER_INPUT",
                format!("`{argument}` must not be negative, got {depth}"),
            ));
        }
        if depth as u32 > max {
            return Err(user_error(
                "TRAVERSAL_DEPTH_LIMIT",
                format!("`{argument}` is {depth}, above the limit of {max} hops"),
            ));
        }
        Ok(depth as u32)
    }

    fn page_size(&self, argument: &str, size: i32) -> Result<usize> {
        let max = self.max_page_size;
        if size < 0 {
            return Err(user_error(
                "BAD_USER_INPUT",
                format!("`{argument}` must not be negative, got {size}"),
            ));
        }
        if size as usize > max {
            return Err(user_error(
                "PAGE_SIZE_LIMIT",
                format!(
                    "`{argument}` is {size}, above the limit of {max}; page with `after` instead"
                ),
            ));
        }
        Ok(size as usize)
    }
}

/// The complexity of a list field: its length times its selection's cost, capped so that the sums
/// async-graphql makes of these cannot overflow.
pub(crate) fn cost(length: usize, child_complexity: usize) -> usize {
    const CAP: usize = 1 << 40;
    length.max(1).saturating_mul(child_complexity).min(CAP)
}

/// An error a client caused, with its code in `extensions.code`.
pub(crate) fn user_error(code: &'static str, message: impl Into<String>) -> async_graphql::Error {
    async_graphql::Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// An internal failure: logged in full, shown to the client only as what was being done.
pub(crate) fn internal_error(doing: &str, error: impl std::fmt::Display) -> async_graphql::Error {
    tracing::error!(%error, "internal error while {doing}");
    user_error(
        "INTERNAL_SERVER_ERROR",
        format!("internal error while {doing}"),
    )
}

fn traversal_error(error: TraversalError) -> async_graphql::Error {
    let code = match error {
        TraversalError::VisitLimit { .. } => "TRAVERSAL_SIZE_LIMIT",
        TraversalError::TimeLimit => "TRAVERSAL_TIME_LIMIT",
        TraversalError::RequestTimeLimit => "EXECUTION_TIMEOUT",
    };
    user_error(code, error.to_string())
}

fn db<'a>(ctx: &Context<'a>) -> Result<&'a Arc<Db>> {
    ctx.data::<Arc<Db>>()
}

/// One network measure a resolver may use: the latest computed (see [`Db::measure_within`]);
/// `MEASURES_NOT_READY` while its first computation has not finished within the request's time.
/// `layers` are the layers measured (their subgraph).
fn measure(
    ctx: &Context<'_>,
    layers: &[crate::model::Layer],
    kind: crate::graph::MeasureKind,
) -> Result<Arc<crate::graph::Measure>> {
    let deadline = ctx.data_opt::<RequestDeadline>().map(|d| d.0);
    db(ctx)?
        .measure_within(layers, kind, deadline)
        .ok_or_else(|| {
            user_error(
                "MEASURES_NOT_READY",
                format!(
                    "the network measure {} is being computed for the first time since the server started; retry in a few seconds",
                    kind.name()
                ),
            )
        })
}

/// NOT_FOUND when `id`, given as `argument` (its full path: `where.AND[0].locatedIn`), names nothing
/// an argument of `kind` accepts, with the closest known ids: the one check of every id argument.
pub(crate) fn check_id(
    index: &crate::graph::GraphIndex,
    argument: &str,
    kind: crate::graph::IdKind,
    id: &str,
) -> Result<()> {
    match index.not_found(argument, kind, id) {
        Some(message) => Err(user_error("NOT_FOUND", message)),
        None => Ok(()),
    }
}

fn known_entity(ctx: &Context<'_>, argument: &str, id: &ID) -> Result<()> {
    check_id(&db(ctx)?.read(), argument, crate::graph::IdKind::Entity, id)
}

/// For a lookup that answers null for an unknown id (clients rely on that shape): adds a NOT_FOUND
/// error at the field, naming the argument and the closest known ids, beside the null.
pub(crate) fn report_unknown(
    ctx: &Context<'_>,
    index: &crate::graph::GraphIndex,
    argument: &str,
    kind: crate::graph::IdKind,
    id: &str,
) {
    if let Some(message) = index.not_found(argument, kind, id) {
        let error = user_error("NOT_FOUND", message).into_server_error(ctx.item.pos);
        ctx.add_error(ctx.set_error_path(error));
    }
}

type InnographSchema = Schema<Query, Mutation, Subscription>;

fn build_schema(db: Option<Arc<Db>>, limits: &Limits) -> InnographSchema {
    build_schema_with(db, limits, async_graphql::ValidationMode::Strict)
}

fn build_schema_with(
    db: Option<Arc<Db>>,
    limits: &Limits,
    validation: async_graphql::ValidationMode,
) -> InnographSchema {
    let mut builder = Schema::build(Query, Mutation, Subscription)
        .validation_mode(validation)
        .limit_depth(limits.max_query_depth)
        .limit_complexity(limits.max_complexity)
        .data(limits.clone())
        .data(extraction::GazetteerCache::default());
    if let Some(db) = db {
        builder = builder.data(db);
    }
    if !limits.introspection {
        builder = builder.disable_introspection();
    }
    builder.finish()
}

/// The schema in SDL, fields sorted: what `innograph schema` prints and `schema/schema.graphql` holds.
pub fn sdl() -> String {
    let options = async_graphql::SDLExportOptions::new()
        .sorted_fields()
        .sorted_enum_items();
    let sdl = build_schema(None, &Limits::default()).sdl_with_options(options);
    // Descriptions come from doc comments wrapped at 100 columns: unwrap them inside each """ block.
    let mut out = String::with_capacity(sdl.len());
    for (i, part) in sdl.split("\"\"\"").enumerate() {
        if i > 0 {
            out.push_str("\"\"\"");
        }
        if i % 2 == 1 {
            let indent: String = part
                .lines()
                .nth(1)
                .map(|l| l.chars().take_while(|c| c.is_whitespace()).collect())
                .unwrap_or_default();
            let text: Vec<&str> = part.lines().map(str::trim).collect();
            let unwrapped = unwrap(text.join("\n").trim());
            out.push('\n');
            for line in unwrapped.lines() {
                out.push_str(&indent);
                out.push_str(line);
                out.push('\n');
            }
            out.push_str(&indent);
        } else {
            out.push_str(part);
        }
    }
    out
}

/// A description as one line per paragraph: doc comments wrap at a column, and clients (GraphiQL's
/// docs) would show those breaks mid-sentence. Blank lines and list items keep their breaks.
pub(crate) fn unwrap(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        let line = line.trim();
        let starts_item = line.starts_with("- ") || line.starts_with("* ") || line.starts_with('|');
        if out.is_empty() {
            // The first line starts the text.
        } else if line.is_empty() {
            out.push_str("\n\n");
            continue;
        } else if starts_item || out.ends_with('\n') {
            if !out.ends_with('\n') {
                out.push('\n');
            }
        } else {
            out.push(' ');
        }
        out.push_str(line);
    }
    while out.contains("\n\n\n") {
        out = out.replace("\n\n\n", "\n\n");
    }
    out
}

/// Unwraps every `description` of an introspection answer (see [`unwrap`]).
fn unwrap_descriptions(value: &mut async_graphql::Value) {
    match value {
        async_graphql::Value::Object(map) => {
            for (key, value) in map.iter_mut() {
                match value {
                    async_graphql::Value::String(text) if key.as_str() == "description" => {
                        *text = unwrap(text);
                    }
                    _ => unwrap_descriptions(value),
                }
            }
        }
        async_graphql::Value::List(items) => items.iter_mut().for_each(unwrap_descriptions),
        _ => {}
    }
}

/// The parameters of a GraphQL-over-HTTP request, from a GET query string or a POST JSON body.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RequestParams {
    pub query: Option<Value>,
    pub operation_name: Option<Value>,
    pub variables: Option<Value>,
    pub extensions: Option<Value>,
}

/// What became of a request; the transport turns it into a status code.
#[derive(Debug)]
pub enum Outcome {
    /// Not a well-formed GraphQL-over-HTTP request (no query, variables not an object …). Body included.
    BadRequest(Value),
    /// A mutation was sent over GET, which may not change anything.
    MutationOverGet(Value),
    /// The document did not parse or validate: nothing was executed. Body has `errors` and no `data`.
    RequestError(Value),
    /// Executed; the body (JSON text, serialised straight from the response tree) has `data` (and maybe
    /// `errors`).
    Executed(String),
    /// Execution did not finish within the execution timeout.
    Timeout(Value),
    /// The request needs a token and has none (or an unknown one).
    Unauthorized(Value),
    /// The token's role does not allow the request.
    Forbidden(Value),
}

/// When the request a resolver works for must be answered by: every traversal of the request stops
/// there, whatever its own budget, so that all of a request's fields together share one time budget.
#[derive(Clone, Copy, Debug)]
pub(crate) struct RequestDeadline(pub std::time::Instant);

/// The GraphQL API over one database.
#[derive(Clone)]
pub struct Api {
    schema: InnographSchema,
    /// The same schema validating only what execution needs (fragment cycles; depth and complexity
    /// limits): for query texts that already passed full validation, whatever their variables.
    validated_schema: InnographSchema,
    limits: Limits,
    /// Parsed documents of recent query texts, and whether each passed full validation: front ends
    /// send the same few queries again and again, and parsing and validating are a good part of
    /// answering a small one.
    parsed: Arc<std::sync::Mutex<HashMap<String, Parsed>>>,
    /// Turns to execute: execution runs on the blocking pool, never on the async workers that accept
    /// connections and answer `/healthz`, and at most this many at once.
    turns: Arc<tokio::sync::Semaphore>,
    db: Arc<Db>,
}

#[derive(Clone)]
struct Parsed {
    document: ExecutableDocument,
    /// Its selections with every fragment spread expanded ([`expanded_selections`]).
    selections: usize,
    validated: bool,
    /// Only lookups of entities by id and their stored fields ([`is_lookup`]): executed at once on
    /// the connection's own task, without the hand-off to the blocking pool (which costs more than
    /// such a request itself).
    lookup: bool,
}

/// Query texts whose parsed documents [`Api`] keeps; when full, it starts again empty.
const PARSED_CACHE_SIZE: usize = 512;

impl Api {
    pub fn new(db: Arc<Db>, limits: Limits) -> Api {
        Api {
            db: db.clone(),
            schema: build_schema(Some(db.clone()), &limits),
            validated_schema: build_schema_with(
                Some(db),
                &limits,
                async_graphql::ValidationMode::Fast,
            ),
            turns: Arc::new(tokio::sync::Semaphore::new(
                limits.max_concurrent_executions.max(1),
            )),
            limits,
            parsed: Arc::default(),
        }
    }

    /// The limits this API enforces.
    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// A turn to execute, for work of the same kind outside GraphQL (the plain-HTTP subgraph
    /// route): at most `max_concurrent_executions` run at once. `None` when none came within the
    /// execution timeout. Hold it until the work is done.
    pub async fn turn(&self) -> Option<tokio::sync::OwnedSemaphorePermit> {
        let wait = self.limits.execution_timeout;
        match tokio::time::timeout(wait, self.turns.clone().acquire_owned()).await {
            Ok(Ok(turn)) => Some(turn),
            _ => None,
        }
    }

    fn parsed_cache(&self) -> std::sync::MutexGuard<'_, HashMap<String, Parsed>> {
        self.parsed
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The parsed document of a query text, from the cache or parsed now (and cached).
    fn parse(&self, query: &str) -> Result<Parsed, async_graphql::parser::Error> {
        if let Some(parsed) = self.parsed_cache().get(query) {
            return Ok(parsed.clone());
        }
        let document = async_graphql::parser::parse_query(query)?;
        let parsed = Parsed {
            lookup: is_lookup(&document),
            selections: expanded_selections(&document),
            document,
            validated: false,
        };
        let mut cache = self.parsed_cache();
        if cache.len() >= PARSED_CACHE_SIZE {
            cache.clear();
        }
        cache.insert(query.to_owned(), parsed.clone());
        Ok(parsed)
    }

    /// Records that a query text passed full validation.
    fn mark_validated(&self, query: &str) {
        if let Some(parsed) = self.parsed_cache().get_mut(query) {
            parsed.validated = true;
        }
    }

    /// Runs one request. `via_get` is true for HTTP GET, where only queries may run.
    pub async fn execute(
        &self,
        params: RequestParams,
        via_get: bool,
        caller: Option<Caller>,
    ) -> Outcome {
        let (
            request,
            Prepared {
                validated,
                introspection,
                lookup,
                is_write,
                min_sequence,
            },
        ) = match self.prepare(params, via_get, caller.as_ref()) {
            Ok(prepared) => prepared,
            Err(outcome) => return outcome,
        };
        // On a replicated node: wait for the sequence the client asks for (read-your-writes), and
        // say which sequence the answer reflects at least.
        let replicated = Some(&self.db).filter(|db| db.is_replicated());
        if let (Some(db), Some(wanted)) = (replicated, min_sequence)
            && let Err(outcome) = self.wait_for_sequence(db, wanted).await
        {
            return outcome;
        }
        let sequence_before = replicated.map(|db| db.applied_sequence());
        let query = (!validated).then(|| request.query.clone());
        let schema = if validated {
            &self.validated_schema
        } else {
            &self.schema
        };
        let timeout = self.limits.execution_timeout;
        let deadline = std::time::Instant::now() + timeout;
        let request = request.data(RequestDeadline(deadline));
        let schema = schema.clone();
        let turns = self.turns.clone();
        let run = async move {
            if lookup {
                return Some(schema.execute(request).await);
            }
            // Waiting for a turn counts against the timeout too.
            let _turn = turns.acquire_owned().await.ok()?;
            let handle = tokio::runtime::Handle::current();
            tokio::task::spawn_blocking(move || handle.block_on(schema.execute(request)))
                .await
                .ok()
        };
        let response = match tokio::time::timeout(timeout, run).await {
            Ok(Some(response)) => response,
            Ok(None) => {
                return Outcome::Executed(r#"{"data":null,"errors":[{"message":"internal error: the request could not be executed; it has been logged","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#.to_owned());
            }
            Err(_) => {
                let message = format!(
                    "the request did not finish within the execution timeout of {} ms",
                    timeout.as_millis()
                );
                return Outcome::Timeout(error_body("EXECUTION_TIMEOUT", &message));
            }
        };
        let mut response = response;
        if introspection {
            unwrap_descriptions(&mut response.data);
        }
        let request_error = response.data == async_graphql::Value::Null
            && !response.errors.is_empty()
            && response.errors.iter().all(|e| e.path.is_empty());
        if let Some(query) = query
            && response.errors.is_empty()
        {
            self.mark_validated(&query);
        }
        let errors: Vec<Value> = response
            .errors
            .into_iter()
            .map(|e| error_json(e, request_error, &self.limits))
            .collect();
        if request_error {
            return Outcome::RequestError(json!({ "errors": errors }));
        }
        /// The body of an executed request, serialised without an intermediate JSON tree.
        #[derive(serde::Serialize)]
        struct Body<'a> {
            data: &'a async_graphql::Value,
            #[serde(skip_serializing_if = "<[Value]>::is_empty")]
            errors: &'a [Value],
            #[serde(skip_serializing_if = "Option::is_none")]
            extensions: Option<&'a std::collections::BTreeMap<String, async_graphql::Value>>,
        }
        if let (Some(db), Some(before)) = (replicated, sequence_before) {
            // A write's answer reflects the write itself (applied here before it answered).
            let sequence = if is_write {
                db.applied_sequence()
            } else {
                before
            };
            response.extensions.insert(
                "sequence".to_owned(),
                async_graphql::Value::Number(sequence.into()),
            );
        }
        let body = Body {
            data: &response.data,
            errors: &errors,
            extensions: (!response.extensions.is_empty()).then_some(&response.extensions),
        };
        match serde_json::to_string(&body) {
            Ok(text) => Outcome::Executed(text),
            Err(error) => {
                tracing::error!("cannot serialise a response: {error}");
                Outcome::Executed(r#"{"data":null,"errors":[{"message":"internal error: the response could not be serialised","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]}"#.to_owned())
            }
        }
    }

    fn prepare(
        &self,
        params: RequestParams,
        via_get: bool,
        caller: Option<&Caller>,
    ) -> Result<(async_graphql::Request, Prepared), Outcome> {
        let bad = |message: &str| Outcome::BadRequest(error_body("BAD_REQUEST", message));
        let query = match params.query {
            Some(Value::String(query)) => query,
            Some(_) => return Err(bad("`query` must be a string")),
            None => return Err(bad("the request has no `query`")),
        };
        let operation_name = match params.operation_name {
            Some(Value::String(name)) => Some(name),
            None | Some(Value::Null) => None,
            Some(_) => return Err(bad("`operationName` must be a string or null")),
        };
        if let Some(variables) = &params.variables
            && json_depth(variables) > self.limits.max_nesting
        {
            let message = format!(
                "`variables` nest deeper than the limit of {} levels",
                self.limits.max_nesting
            );
            return Err(Outcome::RequestError(error_body(
                "QUERY_NESTING_LIMIT",
                &message,
            )));
        }
        let variables = match params.variables {
            Some(Value::Object(map)) => Variables::from_json(Value::Object(map)),
            None | Some(Value::Null) => Variables::default(),
            Some(_) => return Err(bad("`variables` must be an object or null")),
        };
        let min_sequence = match &params.extensions {
            None | Some(Value::Null) => None,
            Some(Value::Object(extensions)) => match extensions.get("minSequence") {
                None | Some(Value::Null) => None,
                Some(value) => match value.as_u64() {
                    Some(sequence) => Some(sequence),
                    None => {
                        return Err(bad(
                            "`extensions.minSequence` must be a non-negative integer (a log sequence from `extensions.sequence`)",
                        ));
                    }
                },
            },
            Some(_) => return Err(bad("`extensions` must be an object or null")),
        };
        if let Err(error) = check_text(&query, &self.limits) {
            return Err(Outcome::RequestError(error));
        }

        if let Some(allowed) = &self.limits.allow_list
            && !allowed.contains(&crate::auth::hash_token(&query))
        {
            return Err(Outcome::Forbidden(error_body(
                "OPERATION_NOT_ALLOWED",
                "this server runs only persisted operations: the SHA-256 of this query is not on its allow-list",
            )));
        }
        let Parsed {
            document,
            selections,
            validated,
            lookup,
        } = match self.parse(&query) {
            Ok(parsed) => parsed,
            Err(error) => {
                let message = format!("the query does not parse: {error}");
                return Err(Outcome::RequestError(error_body(
                    "GRAPHQL_PARSE_FAILED",
                    &message,
                )));
            }
        };
        // Fragments multiply what a short text asks for: counted expanded, before anything runs.
        if selections > self.limits.max_selections {
            let message = format!(
                "the query makes {selections} selections once its fragments are expanded, above the limit of {} (--max-selections); split it into several requests",
                self.limits.max_selections
            );
            return Err(Outcome::RequestError(error_body(
                "QUERY_SIZE_LIMIT",
                &message,
            )));
        }
        let introspective = asks_for_introspection(&document);
        if !self.limits.introspection && introspective {
            return Err(Outcome::RequestError(error_body(
                "INTROSPECTION_DISABLED",
                "introspection (__schema, __type) is disabled on this server",
            )));
        }
        let operation = match &operation_name {
            Some(name) => document
                .operations
                .iter()
                .find(|(n, _)| n.is_some_and(|n| n.as_str() == name)),
            None => document.operations.iter().next(),
        };
        let is_write = operation.is_some_and(|(_, op)| op.node.ty == OperationType::Mutation);
        if via_get && is_write {
            return Err(Outcome::MutationOverGet(error_body(
                "METHOD_NOT_ALLOWED",
                "only queries may be sent with GET; send mutations with POST",
            )));
        }
        if is_write {
            match caller {
                None => {
                    return Err(Outcome::Unauthorized(error_body(
                        "UNAUTHENTICATED",
                        "mutations need a bearer token (Authorization: Bearer …) with the editor or admin role",
                    )));
                }
                Some(caller) if !caller.role.can_write() => {
                    return Err(Outcome::Forbidden(error_body(
                        "FORBIDDEN",
                        &format!(
                            "token `{}` may read but not write; writes need the editor or admin role",
                            caller.name
                        ),
                    )));
                }
                Some(_) => {}
            }
        }
        let mut request = async_graphql::Request::new(query).variables(variables);
        request.set_parsed_query(document);
        if let Some(name) = operation_name {
            request = request.operation_name(name);
        }
        if let Some(caller) = caller {
            request = request.data(caller.clone());
        }
        Ok((
            request,
            Prepared {
                validated,
                introspection: introspective,
                lookup,
                is_write,
                min_sequence,
            },
        ))
    }

    /// Waits until `db` has applied the log entry `wanted`, at most [`Limits::min_sequence_wait`].
    async fn wait_for_sequence(&self, db: &Db, wanted: u64) -> Result<(), Outcome> {
        let mut applied = db.watch_applied();
        let wait = self.limits.min_sequence_wait;
        match tokio::time::timeout(wait, applied.wait_for(|sequence| *sequence >= wanted)).await {
            Ok(Ok(_)) => Ok(()),
            _ => {
                let message = format!(
                    "`extensions.minSequence` {wanted}: this node has applied the change log up to {} and did not reach {wanted} within {} ms; retry, or ask another node",
                    db.applied_sequence(),
                    wait.as_millis()
                );
                Err(Outcome::Timeout(error_body(
                    "SEQUENCE_NOT_REACHED",
                    &message,
                )))
            }
        }
    }
}

/// What [`Api::prepare`] found out about a request besides the request itself.
struct Prepared {
    /// The text passed full validation before.
    validated: bool,
    /// It asks for introspection.
    introspection: bool,
    /// See [`Parsed::lookup`].
    lookup: bool,
    /// It is a mutation.
    is_write: bool,
    /// `extensions.minSequence`: the log sequence the answer must reflect at least.
    min_sequence: Option<u64>,
}

/// At most this many fields in a document that runs inline as a lookup.
const LOOKUP_MAX_FIELDS: usize = 64;

/// Whether a document is only queries of `entity(id: …)` selecting stored fields (a plain selection
/// as [`types::PlainSelection`] reads it: no fragments, no directives, at most
/// [`LOOKUP_MAX_FIELDS`] fields): work of a few microseconds whatever its variables, which may run
/// on the connection's task.
fn is_lookup(document: &ExecutableDocument) -> bool {
    use async_graphql::parser::types::Selection;
    if !document.fragments.is_empty() {
        return false;
    }
    let mut fields = 0;
    for (_, operation) in document.operations.iter() {
        if operation.node.ty != OperationType::Query || !operation.node.directives.is_empty() {
            return false;
        }
        for item in &operation.node.selection_set.node.items {
            let Selection::Field(field) = &item.node else {
                return false;
            };
            let field = &field.node;
            if field.name.node.as_str() != "entity"
                || field.arguments.len() != 1
                || !field.directives.is_empty()
            {
                return false;
            }
            let Some(plain) = types::PlainSelection::of(&field.selection_set.node) else {
                return false;
            };
            fields += 1 + plain.len();
            if fields > LOOKUP_MAX_FIELDS {
                return false;
            }
        }
    }
    true
}

/// Checks a query text before anything parses it: its size, how deep its brackets nest (strings and
/// comments aside), and roughly how many selections it holds. The parser, the validator and the
/// conversion of input values all recurse, so an unbounded nesting would exhaust the stack.
pub(crate) fn check_text(query: &str, limits: &Limits) -> Result<(), Value> {
    if query.len() > limits.max_query_bytes {
        let message = format!(
            "the query text is {} bytes, above the limit of {}",
            query.len(),
            limits.max_query_bytes
        );
        return Err(error_body("QUERY_SIZE_LIMIT", &message));
    }
    let shape = text_shape(query);
    if shape.depth > limits.max_nesting {
        let message = format!(
            "the query nests brackets more than {} levels deep (line {}); flatten the filter or the selection",
            limits.max_nesting, shape.deepest_line
        );
        return Err(error_body("QUERY_NESTING_LIMIT", &message));
    }
    if shape.names > limits.max_selections {
        let message = format!(
            "the query holds about {} names (fields, aliases, arguments), above the limit of {}; split it into several requests",
            shape.names, limits.max_selections
        );
        return Err(error_body("QUERY_SIZE_LIMIT", &message));
    }
    Ok(())
}

/// How many selections (fields, inline fragments, fragment spreads) the document's operations make
/// together once every fragment spread is replaced by its fragment, as execution would see them: a
/// few lines of fragments that each spread the one before twice stand for millions of fields.
/// Without recursion, each fragment counted once (memoised); a fragment spread inside itself (a
/// cycle, which validation refuses) counts 0 there, and an unknown one (refused too) 0. Saturates.
fn expanded_selections(document: &ExecutableDocument) -> usize {
    use async_graphql::parser::types::{Selection, SelectionSet};
    /// The selections of a set, nested ones included but spreads not expanded, and the fragments
    /// it spreads (once per spread).
    fn direct(set: &SelectionSet) -> (usize, Vec<&str>) {
        let (mut count, mut spreads, mut stack) = (0usize, Vec::new(), vec![set]);
        while let Some(set) = stack.pop() {
            for item in &set.items {
                count = count.saturating_add(1);
                match &item.node {
                    Selection::Field(field) => stack.push(&field.node.selection_set.node),
                    Selection::InlineFragment(inline) => {
                        stack.push(&inline.node.selection_set.node);
                    }
                    Selection::FragmentSpread(spread) => {
                        spreads.push(spread.node.fragment_name.node.as_str());
                    }
                }
            }
        }
        (count, spreads)
    }
    let fragments: HashMap<&str, (usize, Vec<&str>)> = document
        .fragments
        .iter()
        .map(|(name, fragment)| (name.as_str(), direct(&fragment.node.selection_set.node)))
        .collect();
    // Expanded size per fragment; `None` while it is being counted.
    let mut sizes: HashMap<&str, Option<usize>> = HashMap::with_capacity(fragments.len());
    let expanded = |count: usize, spreads: &[&str], sizes: &HashMap<&str, Option<usize>>| {
        spreads.iter().fold(count, |total, name| {
            let size = sizes.get(name).copied().flatten().unwrap_or(0);
            total.saturating_add(size)
        })
    };
    for &root in fragments.keys() {
        let mut stack = vec![(root, false)];
        while let Some((name, children_done)) = stack.pop() {
            let Some((count, spreads)) = fragments.get(name) else {
                continue;
            };
            if children_done {
                let size = expanded(*count, spreads, &sizes);
                sizes.insert(name, Some(size));
            } else if !sizes.contains_key(name) {
                sizes.insert(name, None);
                stack.push((name, true));
                stack.extend(
                    spreads
                        .iter()
                        .filter(|s| !sizes.contains_key(*s))
                        .map(|s| (*s, false)),
                );
            }
        }
    }
    document
        .operations
        .iter()
        .fold(0usize, |total, (_, operation)| {
            let (count, spreads) = direct(&operation.node.selection_set.node);
            total.saturating_add(expanded(count, &spreads, &sizes))
        })
}

/// What [`text_shape`] measures.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct TextShape {
    /// Deepest bracket nesting.
    pub depth: usize,
    /// The line (1-based) where that depth was first reached.
    pub deepest_line: usize,
    /// Names outside strings and comments: an upper bound on fields, aliases and spreads.
    pub names: usize,
}

/// Scans a GraphQL text once, without recursion: bracket depth and name count, skipping strings
/// (`"…"` with escapes, `"""…"""`) and comments (`#` to the end of the line).
pub(crate) fn text_shape(text: &str) -> TextShape {
    let bytes = text.as_bytes();
    let (mut depth, mut deepest, mut deepest_line, mut line, mut names) = (0usize, 0, 1, 1, 0);
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' => line += 1,
            b'#' => {
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'"' if bytes[i..].starts_with(b"\"\"\"") => {
                i += 3;
                while i < bytes.len() && !bytes[i..].starts_with(b"\"\"\"") {
                    if bytes[i] == b'\\' && bytes[i..].starts_with(b"\\\"\"\"") {
                        i += 4;
                        continue;
                    }
                    if bytes[i] == b'\n' {
                        line += 1;
                    }
                    i += 1;
                }
                i += 3;
                continue;
            }
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' && bytes[i] != b'\n' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'{' | b'[' | b'(' => {
                depth += 1;
                if depth > deepest {
                    deepest = depth;
                    deepest_line = line;
                }
            }
            b'}' | b']' | b')' => depth = depth.saturating_sub(1),
            b if b.is_ascii_alphabetic() || b == b'_' => {
                names += 1;
                while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
                    i += 1;
                }
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    TextShape {
        depth: deepest,
        deepest_line,
        names,
    }
}

/// How deep a JSON value nests, without recursion.
pub(crate) fn json_depth(value: &Value) -> usize {
    let mut deepest = 0;
    let mut stack = vec![(value, 1usize)];
    while let Some((value, depth)) = stack.pop() {
        deepest = deepest.max(depth);
        match value {
            Value::Array(items) => stack.extend(items.iter().map(|v| (v, depth + 1))),
            Value::Object(map) => stack.extend(map.values().map(|v| (v, depth + 1))),
            _ => {}
        }
    }
    deepest
}

/// Whether any selection of the document (fragments included) is `__schema` or `__type`.
fn asks_for_introspection(document: &async_graphql::parser::types::ExecutableDocument) -> bool {
    use async_graphql::parser::types::{Selection, SelectionSet};
    fn walk(set: &SelectionSet) -> bool {
        set.items.iter().any(|item| match &item.node {
            Selection::Field(field) => {
                let name = field.node.name.node.as_str();
                name == "__schema" || name == "__type" || walk(&field.node.selection_set.node)
            }
            Selection::InlineFragment(fragment) => walk(&fragment.node.selection_set.node),
            Selection::FragmentSpread(_) => false,
        })
    }
    document
        .operations
        .iter()
        .any(|(_, op)| walk(&op.node.selection_set.node))
        || document
            .fragments
            .values()
            .any(|f| walk(&f.node.selection_set.node))
}

fn error_body(code: &str, message: &str) -> Value {
    json!({ "errors": [{ "message": message, "extensions": { "code": code } }] })
}

/// Serialises an error, giving every one a code: the resolver's, or one derived for request errors.
fn error_json(error: ServerError, request_error: bool, limits: &Limits) -> Value {
    let mut value =
        serde_json::to_value(&error).unwrap_or_else(|_| json!({ "message": error.message }));
    let has_code = value.pointer("/extensions/code").is_some();
    if !has_code {
        let code = if error.message.starts_with("Query is nested too deep") {
            "QUERY_DEPTH_LIMIT"
        } else if error.message.starts_with("Query is too complex") {
            "QUERY_COMPLEXITY_LIMIT"
        } else if request_error {
            "GRAPHQL_VALIDATION_FAILED"
        } else if error.message.starts_with("Failed to parse")
            || error.message.starts_with("Invalid value")
            || error.message.starts_with("Variable ")
            || error.message.starts_with("Expected input type")
        {
            // A missing or mistyped variable is the client's, not the server's (a query text that
            // passed validation before is not validated again: its variables' values are checked
            // only as they are read, which says "Expected input type …").
            "BAD_USER_INPUT"
        } else {
            "INTERNAL_SERVER_ERROR"
        };
        if let Some(object) = value.as_object_mut() {
            let extensions = object.entry("extensions").or_insert_with(|| json!({}));
            if let Some(extensions) = extensions.as_object_mut() {
                extensions.insert("code".to_owned(), Value::String(code.to_owned()));
            }
        }
        // async-graphql suggests some names itself ("Did you mean …?"): one suggestion is enough.
        if !error.message.contains("Did you mean")
            && let Some(hint) = names::hint(&error.message)
        {
            value["message"] = Value::String(format!("{} {hint}", error.message));
        }
        if code == "QUERY_DEPTH_LIMIT" || code == "QUERY_COMPLEXITY_LIMIT" {
            value["message"] = Value::String(format!(
                "{} (limits: depth {}, complexity {}; list fields cost their `first` or `limit` times their selection)",
                error.message, limits.max_query_depth, limits.max_complexity
            ));
        }
    }
    value
}

#[cfg(test)]
mod tests {
    use super::{expanded_selections, is_lookup};

    fn expanded(query: &str) -> usize {
        expanded_selections(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn fragments_are_counted_expanded_and_cycles_end() {
        assert_eq!(expanded("{ a b { c } }"), 3);
        // F1 spreads F0 twice: 1 + (2 × (1 + 2)) … the count doubles with each level.
        let mut doubling = "fragment F0 on Entity { id name }".to_owned();
        for i in 1..=40 {
            let j = i - 1;
            doubling.push_str(&format!(" fragment F{i} on Entity {{ ...F{j} ...F{j} }}"));
        }
        doubling.push_str(" { entities { nodes { ...F40 } } }");
        assert!(expanded(&doubling) > 1 << 40);
        // Cycles (refused by validation) and unknown fragments end, and count what they hold.
        let cyclic =
            expanded("{ ...A } fragment A on Query { x ...B } fragment B on Query { y ...A ...Z }");
        assert!((3..=6).contains(&cyclic), "{cyclic}");
        assert_eq!(expanded("{ ...A } fragment A on Query { ...A }"), 2);
        // Deep chains do not recurse.
        let mut chain = String::from("fragment C0 on Query { x }");
        for i in 1..20_000 {
            chain.push_str(&format!(" fragment C{i} on Query {{ ...C{} }}", i - 1));
        }
        chain.push_str(" { ...C19999 }");
        assert_eq!(expanded(&chain), 20_001);
    }

    fn lookup(query: &str) -> bool {
        is_lookup(&async_graphql::parser::parse_query(query).unwrap())
    }

    #[test]
    fn only_entity_lookups_of_stored_fields_run_inline() {
        assert!(lookup(
            "query($id: ID!) { entity(id: $id) { id name kind } }"
        ));
        assert!(lookup(
            r#"{ a: entity(id: "x") { id __typename } b: entity(id: "y") { nameEn layer } }"#
        ));
        // Traversals, computed fields, lists of everything, fragments, directives, mutations: no.
        assert!(!lookup(r#"{ entity(id: "x") { neighbors { id } } }"#));
        assert!(!lookup(r#"{ entity(id: "x") { pageRank } }"#));
        assert!(!lookup("{ entities { totalCount } }"));
        assert!(!lookup(r#"{ entity(id: "x") { ... on Entity { id } } }"#));
        assert!(!lookup(
            r#"{ entity(id: "x") { ...F } } fragment F on Entity { id }"#
        ));
        assert!(!lookup(r#"{ entity(id: "x") { id @include(if: true) } }"#));
        assert!(!lookup(r#"mutation { deleteEntity(id: "x") }"#));
        assert!(!lookup("{ __typename }"));
        // Many aliased lookups are not small any more.
        let many: String = (0..70)
            .map(|i| format!(r#"e{i}: entity(id: "x") {{ id }} "#))
            .collect();
        assert!(!lookup(&format!("{{ {many} }}")));
    }
}
