//! The command line: flags parsed once by clap into validated settings, then one function per command.
//!
//! Every flag has an environment-variable fallback (`INNOGRAPH_…`). This is the edge of the program:
//! errors become `anyhow` reports here, and this is the only module that prints to stdout.

use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::{Args, Parser, Subcommand};

use crate::db::{self, Db};
use crate::graphql::{self, Limits};
use crate::interchange::{self, Format};
use crate::seed::{self, SeedFiles};
use crate::server::{self, ServerConfig};
use crate::stats;
use crate::validate::{self, GraphData, Severity};

/// innograph: the innovation ecosystem of a region as a knowledge graph, answered over GraphQL.
#[derive(Debug, Parser)]
#[command(name = "innograph", version, about, long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the GraphQL API, GraphiQL and the health check; seeds an empty data directory first.
    Serve(Box<ServeArgs>),
    /// Validate a seed directory, a JSON Lines file or a CSV pair and write it into the data
    /// directory, all or nothing.
    Import {
        /// A seed directory (same layout as `seed/`), a `.jsonl` export, or a nodes `.csv` (with --edges).
        path: PathBuf,
        /// The edges CSV that goes with a nodes CSV.
        #[arg(long)]
        edges: Option<PathBuf>,
        /// A `.jsonl` file of at least this many bytes is validated in passes over the file and
        /// written as it is read (memory bounded by its ids and names, not its size), all or nothing
        /// as well; a smaller one is read whole.
        #[arg(long, env = "INNOGRAPH_STREAM_ABOVE", default_value_t = 64 << 20)]
        stream_above: u64,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Write the whole graph in a format other tools read.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Where to write (default: standard output). For csv, a path prefix: PREFIX.nodes.csv and
        /// PREFIX.edges.csv are written.
        #[arg(long)]
        out: Option<PathBuf>,
        #[command(flatten)]
        data: DataDirArg,
    },
    /// Check a seed directory and report every problem with file and line; exit 1 on any error.
    Validate {
        /// The seed directory; defaults to ./seed when it exists, else the seed bundled in this binary.
        dir: Option<PathBuf>,
    },
    /// Print the GraphQL schema (SDL).
    Schema,
    /// Manage write tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Write a synthetic ecosystem (district hierarchy, kind mix, power-law degrees, evidence in
    /// synthetic documents) as JSON Lines, ready for `innograph import`.
    Generate {
        /// Entities in total, districts included.
        #[arg(long)]
        entities: usize,
        /// Relations per entity, on average.
        #[arg(long, default_value_t = 5.0)]
        relations_per_entity: f64,
        /// Seed of the generator: the same seed gives the same graph.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Directory to write `graph.jsonl` into (created if missing).
        #[arg(long)]
        out: PathBuf,
    },
    /// Measure in process on a data directory: cold start, memory, disk, lookups, search, 1-3 hop
    /// neighbourhoods, shortest paths, PageRank and the latency of one added relation (added and
    /// removed again). Prints a table; the national benchmark (benches/national/run.sh) runs it.
    Bench {
        #[command(flatten)]
        data: DataDirArg,
        /// Entities of median degree, and random pairs, used as samples.
        #[arg(long, default_value_t = 64)]
        samples: usize,
        /// Timed rounds over the samples (after one warm-up round).
        #[arg(long, default_value_t = 10)]
        rounds: usize,
        /// Relations to add and remove again for the write latency.
        #[arg(long, default_value_t = 50)]
        writes: usize,
        /// Also write the measurements as JSON here.
        #[arg(long)]
        json: Option<PathBuf>,
        /// Write the 2-hop and shortest-path queries with this engine's answers here, for
        /// benches/peers/peers.py.
        #[arg(long)]
        queries_out: Option<PathBuf>,
    },
    /// Propose the entities and relations a report states, each relation with a quote checked verbatim
    /// against the text, linked to the entities of the data directory's graph (the bundled seed's
    /// when the data directory does not exist yet). Writes JSON Lines in the import format, for
    /// review (the `/review` page) and `innograph import`.
    Extract(Box<ExtractArgs>),
    /// Coverage report of a seed: per document, the entities it mentions and the relations it supports.
    Stats {
        /// The seed directory; defaults to ./seed when it exists, else the bundled seed.
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token, store its hash in the data directory and print the token once.
    Create {
        /// Who the token is for; recorded in the history of every change made with it.
        #[arg(long)]
        name: String,
        /// reader, editor or admin.
        #[arg(long, value_parser = ["reader", "editor", "admin"])]
        role: String,
        #[command(flatten)]
        data: DataDirArg,
    },
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ExportFormat {
    /// GraphML with typed keys (Gephi, NetworkX, igraph, yEd).
    Graphml,
    /// GEXF 1.3, dynamic where relations have years (Gephi).
    Gexf,
    /// Gephi node and edge lists (two files).
    Csv,
    /// JSON Lines, lossless: import it back with `innograph import`.
    Jsonl,
    /// Cytoscape.js / Cytoscape desktop JSON.
    Cytoscape,
}

#[derive(Debug, Args)]
struct DataDirArg {
    /// Where the database lives; created and seeded from the bundled seed on first start.
    #[arg(long, env = "INNOGRAPH_DATA_DIR", default_value = "./data")]
    data_dir: PathBuf,
}

#[derive(Debug, Args)]
struct ExtractArgs {
    /// The report: a UTF-8 text file.
    #[arg(required_unless_present = "evaluate")]
    report: Option<PathBuf>,
    /// The id its document record gets (ASCII kebab-case, e.g. `ningbo-2024`).
    #[arg(long, required_unless_present = "evaluate")]
    id: Option<String>,
    /// Its title.
    #[arg(long, required_unless_present = "evaluate")]
    title: Option<String>,
    /// Who published it.
    #[arg(long)]
    publisher: Option<String>,
    /// Publication date: YYYY, YYYY-MM or YYYY-MM-DD.
    #[arg(long)]
    date: Option<String>,
    /// The reporting region as written (宁波市, 新昌县 …).
    #[arg(long)]
    region: Option<String>,
    #[command(flatten)]
    data: DataDirArg,
    /// Where to write the proposals (default: standard output).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Instead of extracting: leave-one-out over the seed's reports (each extracted with the graph of
    /// the others), printing precision and recall per kind and the time per 10,000 characters.
    #[arg(long)]
    evaluate: bool,
    /// The seed to evaluate on (default: ./seed, else the bundled one).
    #[arg(long)]
    seed: Option<PathBuf>,
    /// Also ask a model: an OpenAI-compatible chat-completions endpoint (base URL such as
    /// http://127.0.0.1:8000/v1). Its proposals pass the same checks as the rules'. The API key, if
    /// any, is read from INNOGRAPH_LLM_API_KEY.
    #[arg(long, env = "INNOGRAPH_LLM_URL", requires = "llm_model")]
    llm_url: Option<String>,
    /// The model to ask.
    #[arg(long, env = "INNOGRAPH_LLM_MODEL")]
    llm_model: Option<String>,
    /// Seconds to wait for the model.
    #[arg(long, default_value_t = 300)]
    llm_timeout_secs: u64,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    data: DataDirArg,
    /// Address and port to listen on (port 0 picks a free one).
    #[arg(long, env = "INNOGRAPH_LISTEN", default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Origins allowed to call the API from browsers, comma-separated (`*` for any). Default: none.
    #[arg(long, env = "INNOGRAPH_CORS_ORIGINS", value_delimiter = ',')]
    cors_origins: Vec<String>,
    /// Largest request body in bytes.
    #[arg(long, env = "INNOGRAPH_BODY_LIMIT", default_value_t = 1024 * 1024)]
    body_limit: usize,
    /// Longest a GraphQL request may execute, in milliseconds.
    #[arg(long, env = "INNOGRAPH_EXECUTION_TIMEOUT_MS", default_value_t = 10_000)]
    execution_timeout_ms: u64,
    /// Deepest selection nesting a query may have.
    #[arg(long, env = "INNOGRAPH_MAX_QUERY_DEPTH", default_value_t = Limits::default().max_query_depth)]
    max_query_depth: usize,
    /// Highest complexity score a query may have.
    #[arg(long, env = "INNOGRAPH_MAX_COMPLEXITY", default_value_t = Limits::default().max_complexity)]
    max_complexity: usize,
    /// Largest `first` or `limit` of a list.
    #[arg(long, env = "INNOGRAPH_MAX_PAGE_SIZE", default_value_t = Limits::default().max_page_size)]
    max_page_size: usize,
    /// Deepest `depth` of a neighbourhood traversal.
    #[arg(long, env = "INNOGRAPH_MAX_TRAVERSAL_DEPTH", default_value_t = Limits::default().max_traversal_depth)]
    max_traversal_depth: u32,
    /// A file of write tokens, one `NAME ROLE SHA256HEX` per line (besides those made by `token create`).
    #[arg(long, env = "INNOGRAPH_TOKENS_FILE")]
    tokens_file: Option<PathBuf>,
    /// Tokens in the same `NAME ROLE SHA256HEX` form, one per line (for containers).
    #[arg(long, env = "INNOGRAPH_TOKENS", hide_env_values = true)]
    tokens: Option<String>,
    /// Requests per second one client address may make on average (bursts of twice that); 0: no limit.
    #[arg(long, env = "INNOGRAPH_RATE_LIMIT", default_value_t = 500)]
    rate_limit: u32,
    /// Only execute queries whose SHA-256 (hex, of the exact query text) is listed in this file, one
    /// per line: persisted operations for production front ends.
    #[arg(long, env = "INNOGRAPH_ALLOW_LIST")]
    allow_list: Option<PathBuf>,
    /// Require a bearer token (any role) for reads too.
    #[arg(long, env = "INNOGRAPH_REQUIRE_TOKEN_FOR_READS")]
    require_token_for_reads: bool,
    /// Refuse introspection queries (for production behind a fixed front end).
    #[arg(long, env = "INNOGRAPH_DISABLE_INTROSPECTION")]
    disable_introspection: bool,
    /// Most records one `importBatch` mutation may hold.
    #[arg(long, env = "INNOGRAPH_MAX_BATCH_RECORDS", default_value_t = crate::edit::MAX_BATCH_RECORDS)]
    max_batch_records: usize,
    /// Longest path a path search may look for.
    #[arg(long, env = "INNOGRAPH_MAX_PATH_DEPTH", default_value_t = Limits::default().max_path_depth)]
    max_path_depth: u32,
    /// Deepest bracket nesting of a query text or its variables, checked before parsing.
    #[arg(long, env = "INNOGRAPH_MAX_NESTING", default_value_t = Limits::default().max_nesting)]
    max_nesting: usize,
    /// Longest query text, in bytes.
    #[arg(long, env = "INNOGRAPH_MAX_QUERY_BYTES", default_value_t = Limits::default().max_query_bytes)]
    max_query_bytes: usize,
    /// Most names (fields, aliases, arguments) a query text may hold.
    #[arg(long, env = "INNOGRAPH_MAX_SELECTIONS", default_value_t = Limits::default().max_selections)]
    max_selections: usize,
    /// Requests executing at once; more wait for a turn within the execution timeout.
    #[arg(long, env = "INNOGRAPH_MAX_CONCURRENT_EXECUTIONS", default_value_t = Limits::default().max_concurrent_executions)]
    max_concurrent_executions: usize,
    /// Addresses of reverse proxies whose `X-Forwarded-For` is believed (comma-separated).
    #[arg(long, env = "INNOGRAPH_TRUSTED_PROXIES", value_delimiter = ',')]
    trusted_proxies: Vec<std::net::IpAddr>,
    /// Seconds a client has to send a request's headers, and an idle connection stays open.
    #[arg(long, env = "INNOGRAPH_HEADER_READ_TIMEOUT_SECS", default_value_t = 10)]
    header_read_timeout_secs: u64,
    /// Open connections at once (WebSockets included); more are closed on accept. Default: 1024, or
    /// the open-file limit (`ulimit -n`) less 64 when that is lower, at least 16.
    #[arg(long, env = "INNOGRAPH_MAX_CONNECTIONS")]
    max_connections: Option<usize>,
    /// Open connections one client address may hold.
    #[arg(
        long,
        env = "INNOGRAPH_MAX_CONNECTIONS_PER_CLIENT",
        default_value_t = 256
    )]
    max_connections_per_client: usize,
    /// Subscriptions one WebSocket connection may hold at once.
    #[arg(
        long,
        env = "INNOGRAPH_MAX_SUBSCRIPTIONS_PER_CONNECTION",
        default_value_t = 100
    )]
    max_subscriptions_per_connection: usize,
    /// Seconds a WebSocket has to send `connection_init`; then it is closed (4408).
    #[arg(long, env = "INNOGRAPH_WS_INIT_TIMEOUT_SECS", default_value_t = 10)]
    ws_init_timeout_secs: u64,
    /// Milliseconds without writes after which network measures are recomputed in the background
    /// (the previous ones are served meanwhile).
    #[arg(long, env = "INNOGRAPH_MEASURES_SETTLE_MS", default_value_t = 500)]
    measures_settle_ms: u64,
    /// Milliseconds without writes after which the index snapshot (`index.snapshot` in the data
    /// directory, read at the next start instead of rebuilding the index) is written again; at most
    /// once a minute, and always at clean shutdown.
    #[arg(long, env = "INNOGRAPH_SNAPSHOT_SETTLE_MS", default_value_t = 2000)]
    snapshot_settle_ms: u64,
    /// Follow a replicated change log on NATS JetStream: the NATS servers' URLs, comma-separated
    /// (`nats://HOST:PORT,…`). Writes go through the log, reads stay local. Without it the node
    /// stands alone.
    #[arg(
        long,
        env = "INNOGRAPH_REPLICATE",
        value_delimiter = ',',
        value_name = "URLS"
    )]
    replicate: Vec<String>,
    /// The JetStream stream of the change log (created if missing).
    #[arg(long, env = "INNOGRAPH_STREAM", default_value = "innograph")]
    stream: String,
    /// Replicas of the stream when this node creates it (1 for a single NATS server).
    #[arg(long, env = "INNOGRAPH_STREAM_REPLICAS", default_value_t = 3)]
    stream_replicas: usize,
    /// Log entries a node may be behind before `/readyz` says it is not ready.
    #[arg(long, env = "INNOGRAPH_MAX_LAG", default_value_t = 1000)]
    max_lag: u64,
    /// Milliseconds a write waits for the change log (acknowledgement, then its apply here).
    #[arg(long, env = "INNOGRAPH_LOG_WRITE_TIMEOUT_MS", default_value_t = 10_000)]
    log_write_timeout_ms: u64,
    /// Seconds a node with an empty data directory waits for the change log at start.
    #[arg(long, env = "INNOGRAPH_JOIN_TIMEOUT_SECS", default_value_t = 60)]
    join_timeout_secs: u64,
    /// Longest wait, in milliseconds, for a request's `minSequence` (read-your-writes).
    #[arg(long, env = "INNOGRAPH_MIN_SEQUENCE_WAIT_MS", default_value_t = 5_000)]
    min_sequence_wait_ms: u64,
}

impl ServeArgs {
    /// The replication settings, when `--replicate` is given.
    fn replication(&self) -> anyhow::Result<Option<crate::replicate::Settings>> {
        if self.replicate.is_empty() {
            return Ok(None);
        }
        crate::replicate::check_stream_name(&self.stream).map_err(anyhow::Error::msg)?;
        for url in &self.replicate {
            if !url.starts_with("nats://") && !url.starts_with("tls://") {
                bail!("--replicate `{url}`: each URL is nats://HOST:PORT (or tls://HOST:PORT)");
            }
        }
        if self.stream_replicas == 0 || self.stream_replicas > 5 {
            bail!("--stream-replicas must be 1 to 5 (JetStream's limit)");
        }
        if self.log_write_timeout_ms == 0 {
            bail!("--log-write-timeout-ms must be positive");
        }
        Ok(Some(crate::replicate::Settings {
            urls: self.replicate.clone(),
            stream: self.stream.clone(),
            replicas: self.stream_replicas,
            max_lag: self.max_lag,
            write_timeout: Duration::from_millis(self.log_write_timeout_ms),
            join_timeout: Duration::from_secs(self.join_timeout_secs),
        }))
    }

    /// Turns the flags into the server's settings, rejecting nonsense.
    fn config(&self) -> anyhow::Result<ServerConfig> {
        if self.body_limit < 1024 {
            bail!("--body-limit must be at least 1024 bytes");
        }
        if self.execution_timeout_ms == 0 {
            bail!("--execution-timeout-ms must be positive");
        }
        let execution_timeout = Duration::from_millis(self.execution_timeout_ms);
        let limits = Limits {
            max_query_depth: self.max_query_depth,
            max_complexity: self.max_complexity,
            max_page_size: self.max_page_size,
            max_traversal_depth: self.max_traversal_depth,
            max_path_depth: self.max_path_depth,
            introspection: !self.disable_introspection,
            max_batch_records: self.max_batch_records,
            allow_list: self
                .allow_list
                .as_deref()
                .map(read_allow_list)
                .transpose()?
                .map(std::sync::Arc::new),
            execution_timeout,
            traversal_time: execution_timeout.min(Limits::default().traversal_time),
            max_nesting: self.max_nesting,
            max_query_bytes: self.max_query_bytes,
            max_selections: self.max_selections,
            max_concurrent_executions: self.max_concurrent_executions.max(1),
            min_sequence_wait: Duration::from_millis(self.min_sequence_wait_ms),
            ..Limits::default()
        };
        if self.header_read_timeout_secs == 0 {
            bail!("--header-read-timeout-secs must be positive");
        }
        if self.ws_init_timeout_secs == 0 {
            bail!("--ws-init-timeout-secs must be positive");
        }
        let mut tokens = Vec::new();
        if let Some(path) = &self.tokens_file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            tokens.extend(
                crate::auth::parse_tokens(&path.display().to_string(), &text)
                    .map_err(anyhow::Error::msg)?,
            );
        }
        if let Some(text) = &self.tokens {
            tokens.extend(
                crate::auth::parse_tokens("INNOGRAPH_TOKENS", text).map_err(anyhow::Error::msg)?,
            );
        }
        Ok(ServerConfig {
            tokens,
            require_token_for_reads: self.require_token_for_reads,
            rate_limit: self.rate_limit,
            listen: self.listen,
            cors_origins: self
                .cors_origins
                .iter()
                .map(|o| o.trim().to_owned())
                .filter(|o| !o.is_empty())
                .collect(),
            body_limit: self.body_limit,
            request_timeout: execution_timeout + Duration::from_secs(5),
            limits,
            trusted_proxies: self.trusted_proxies.clone(),
            header_read_timeout: Duration::from_secs(self.header_read_timeout_secs),
            max_connections: self
                .max_connections
                .unwrap_or_else(server::default_max_connections)
                .max(1),
            max_connections_per_client: self.max_connections_per_client.max(1),
            max_subscriptions_per_connection: self.max_subscriptions_per_connection,
            ws_init_timeout: Duration::from_secs(self.ws_init_timeout_secs),
        })
    }
}

/// Reads an allow-list: one SHA-256 in hex per line; blank lines and `#` comments ignored.
fn read_allow_list(path: &Path) -> anyhow::Result<std::collections::HashSet<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut hashes = std::collections::HashSet::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.len() != 64 || !line.bytes().all(|b| b.is_ascii_hexdigit()) {
            bail!(
                "{}:{}: `{line}` is not a SHA-256 in hex (64 digits)",
                path.display(),
                index + 1
            );
        }
        hashes.insert(line.to_ascii_lowercase());
    }
    Ok(hashes)
}

/// Runs the command line; the return value is the process's exit code.
pub fn run() -> anyhow::Result<i32> {
    let cli = Cli::parse();
    init_tracing();
    match cli.command {
        Command::Serve(args) => serve(&args),
        Command::Import {
            path,
            edges,
            stream_above,
            data,
        } => import(&path, edges.as_deref(), stream_above, &data.data_dir),
        Command::Export { format, out, data } => export(format, out.as_deref(), &data.data_dir),
        Command::Validate { dir } => validate_command(dir.as_deref()),
        Command::Generate {
            entities,
            relations_per_entity,
            seed,
            out,
        } => generate(entities, relations_per_entity, seed, &out),
        Command::Bench {
            data,
            samples,
            rounds,
            writes,
            json,
            queries_out,
        } => bench(
            &data.data_dir,
            &crate::bench::Options {
                samples,
                rounds,
                writes,
            },
            json.as_deref(),
            queries_out.as_deref(),
        ),
        Command::Token(TokenCommand::Create { name, role, data }) => {
            create_token(&name, &role, &data.data_dir)
        }
        Command::Schema => {
            print!("{}", graphql::sdl());
            Ok(0)
        }
        Command::Extract(args) => extract_command(&args),
        Command::Stats { dir } => {
            let files = seed_files(dir.as_deref())?;
            let graph = validated(&files)?;
            print!("{}", stats::coverage_report(&graph));
            Ok(0)
        }
    }
}

fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

fn extract_command(args: &ExtractArgs) -> anyhow::Result<i32> {
    use crate::extract;
    if args.evaluate {
        let graph = validated(&seed_files(args.seed.as_deref())?)?;
        print!("{}", extract::evaluate_leave_one_out(&graph));
        return Ok(0);
    }
    let (Some(path), Some(id), Some(title)) = (&args.report, &args.id, &args.title) else {
        bail!("give the report, --id and --title");
    };
    if !crate::model::is_valid_id(id) {
        bail!("--id `{id}` is not a lowercase ASCII kebab-case slug (like `ningbo-2024`)");
    }
    if let Some(date) = &args.date
        && !crate::model::is_valid_date(date)
    {
        bail!("--date `{date}` is not YYYY, YYYY-MM or YYYY-MM-DD");
    }
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    let text = extract::read_text(bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let gazetteer = if args.data.data_dir.join("db").exists() {
        extract::Gazetteer::of_index(&open_db(&args.data.data_dir)?.read())
    } else {
        let entities = validated(&seed::bundled())?.entities;
        extract::Gazetteer::new(&entities, extract::Gazetteer::bundled_universities())
    };
    let report = extract::Report {
        id: id.clone(),
        title: title.clone(),
        publisher: args.publisher.clone(),
        date: args.date.clone(),
        region: args.region.clone(),
        text,
    };
    let proposals = match (&args.llm_url, &args.llm_model) {
        (Some(url), Some(model)) => {
            let config = extract::llm::LlmConfig {
                url: url.clone(),
                model: model.clone(),
                api_key: std::env::var("INNOGRAPH_LLM_API_KEY")
                    .ok()
                    .filter(|k| !k.is_empty()),
                timeout: Duration::from_secs(args.llm_timeout_secs),
            };
            extract::extract_with_model(&report, &gazetteer, &config).map_err(anyhow::Error::msg)?
        }
        _ => extract::extract(&report, &gazetteer),
    };
    for dropped in &proposals.dropped {
        eprintln!("dropped {}: {}", dropped.what, dropped.why);
    }
    let jsonl = proposals.to_jsonl();
    match &args.out {
        Some(out) => {
            std::fs::write(out, &jsonl)
                .with_context(|| format!("cannot write {}", out.display()))?;
            eprintln!(
                "proposed {} entities ({} new) and {} relations from {} into {}; {} proposals dropped",
                proposals.entities.len(),
                proposals
                    .entities
                    .iter()
                    .filter(|e| e.status == extract::Status::New)
                    .count(),
                proposals.relations.len(),
                path.display(),
                out.display(),
                proposals.dropped.len()
            );
        }
        None => print!("{jsonl}"),
    }
    Ok(0)
}

/// The seed to read: the directory given, else ./seed, else the bundled one.
fn seed_files(dir: Option<&Path>) -> anyhow::Result<SeedFiles> {
    match dir {
        Some(dir) => Ok(SeedFiles::from_dir(dir)?),
        None if Path::new("seed").join(seed::DOCUMENTS_FILE).is_file() => {
            Ok(SeedFiles::from_dir(Path::new("seed"))?)
        }
        None => Ok(seed::bundled()),
    }
}

/// Validates a seed, printing every finding to stderr; fails when there is an error.
fn validated(files: &SeedFiles) -> anyhow::Result<GraphData> {
    let report = validate::validate_seed(&seed::parse(files));
    for diagnostic in &report.diagnostics {
        eprintln!("{diagnostic}");
    }
    match report.graph {
        Some(graph) => Ok(graph),
        None => bail!(
            "{} error(s) in the seed at {}; nothing was imported",
            report.errors().count(),
            files.root
        ),
    }
}

fn validate_command(dir: Option<&Path>) -> anyhow::Result<i32> {
    let files = seed_files(dir)?;
    let report = validate::validate_seed(&seed::parse(&files));
    for diagnostic in &report.diagnostics {
        eprintln!("{diagnostic}");
    }
    let errors = report.errors().count();
    let warnings = report
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    match &report.graph {
        Some(graph) => {
            println!(
                "{}: ok: {} documents, {} entities, {} relations ({warnings} warning(s))",
                files.root,
                graph.documents.len(),
                graph.entities.len(),
                graph.relations.len()
            );
            Ok(0)
        }
        None => {
            println!("{}: {errors} error(s), {warnings} warning(s)", files.root);
            Ok(1)
        }
    }
}

fn import(
    path: &Path,
    edges: Option<&Path>,
    stream_above: u64,
    data_dir: &Path,
) -> anyhow::Result<i32> {
    let started = std::time::Instant::now();
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    let importer = db::Importer::open(data_dir)
        .with_context(|| format!("cannot open the data directory {}", data_dir.display()))?;
    let is_file_of = |ext: &str| {
        path.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case(ext))
            && path.is_file()
    };
    let size = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    if is_file_of("jsonl") && size >= stream_above {
        return import_in_passes(path, size, &importer, data_dir);
    }
    let graph = if path.is_dir() {
        validated(&SeedFiles::from_dir(path)?)?
    } else if is_file_of("jsonl") {
        let name = path.display().to_string();
        let open = || std::fs::File::open(path).with_context(|| format!("cannot open {name}"));
        let size = open()?.metadata().map(|m| m.len()).unwrap_or(0);
        let bar = progress_bar(size, "reading");
        let seed = interchange::read_jsonl(&name, std::io::BufReader::new(open()?), |read| {
            bar.set_position(read)
        });
        bar.finish_and_clear();
        // Relations may point to entities the data directory already holds (a reviewed extraction
        // names existing entities by id without repeating them).
        let mut known = Vec::new();
        for id in seed.foreign_ends() {
            if let Some(entity) = importer.entity(id)? {
                known.push(entity);
            }
        }
        let mut graph = validated_seed_with(&seed, &name, &known)?;
        let files = interchange::jsonl_document_files(std::io::BufReader::new(open()?));
        interchange::restore_document_files(&mut graph, &files);
        graph
    } else if is_file_of("csv") {
        let Some(edges) = edges else {
            bail!(
                "importing {} as a CSV node list needs its edge list: add --edges EDGES.csv",
                path.display()
            );
        };
        let documents = importer.documents()?;
        let open = |p: &Path| {
            std::fs::File::open(p).with_context(|| format!("cannot open {}", p.display()))
        };
        let seed = interchange::read_csv(
            &path.display().to_string(),
            open(path)?,
            &edges.display().to_string(),
            open(edges)?,
            &documents,
        );
        let mut graph = validated_seed(&seed, &path.display().to_string())?;
        // The documents came from the data directory: do not write them again.
        graph.documents.clear();
        graph
    } else {
        bail!(
            "{} is neither a seed directory, a .jsonl file nor a .csv file",
            path.display()
        );
    };
    let read = started.elapsed();
    let records = graph.entities.len() as u64;
    let bar = record_progress_bar(records, "writing");
    let summary = importer
        .import(&graph, &|written| bar.set_position(written))
        .context("import failed; the data directory is unchanged")?;
    bar.finish_and_clear();
    let total = started.elapsed();
    println!(
        "imported {} documents, {} entities, {} relations from {} into {} in {:.1} s \
         ({:.1} s reading and validating, {:.1} s writing)",
        summary.documents,
        summary.entities,
        summary.relations,
        path.display(),
        data_dir.display(),
        total.as_secs_f64(),
        read.as_secs_f64(),
        (total - read).as_secs_f64(),
    );
    Ok(0)
}

/// Imports a large JSON Lines file validated in passes ([`passes::validate_jsonl`]), writing as it
/// goes; a failed import is undone.
fn import_in_passes(
    path: &Path,
    size: u64,
    importer: &db::Importer,
    data_dir: &Path,
) -> anyhow::Result<i32> {
    use crate::passes::{JsonlFile, Record};
    let started = std::time::Instant::now();
    let name = path.display().to_string();
    let bar = progress_bar(size, "checking and writing");
    let open = || -> std::io::Result<Box<dyn std::io::BufRead>> {
        let file = std::fs::File::open(path)?;
        Ok(Box::new(std::io::BufReader::with_capacity(1 << 20, file)))
    };
    let progress = |read| bar.set_position(read);
    let file = JsonlFile {
        name: &name,
        open: &open,
        progress: &progress,
    };
    let checked = importer
        .import_streamed(|writer| {
            let checked = crate::passes::validate_jsonl(
                &file,
                |id| Ok::<_, anyhow::Error>(importer.entity(id)?),
                |record| {
                    match record {
                        Record::Documents(documents) => writer.documents(documents)?,
                        Record::Entity(entity) => writer.entity(entity)?,
                        Record::Relation(relation) => writer.relation(relation)?,
                    }
                    Ok(())
                },
            )?;
            let keep = checked.errors() == 0;
            Ok::<_, anyhow::Error>((checked, keep))
        })
        .context("import failed; the data directory is unchanged")?;
    bar.finish_and_clear();
    for diagnostic in &checked.diagnostics {
        eprintln!("{diagnostic}");
    }
    if checked.errors() > 0 {
        bail!(
            "{} error(s) in {name}; nothing was imported",
            checked.errors()
        );
    }
    println!(
        "imported {} documents, {} entities, {} relations from {} into {} in {:.1} s \
         (validated in two passes over the file, written during the second)",
        checked.documents,
        checked.entities,
        checked.relations,
        path.display(),
        data_dir.display(),
        started.elapsed().as_secs_f64(),
    );
    Ok(0)
}

/// A progress bar of bytes on stderr (drawn only when stderr is a terminal); `len` 0 means a spinner.
fn progress_bar(len: u64, message: &'static str) -> indicatif::ProgressBar {
    progress_bar_of(len, message, "{msg} {bar:40} {bytes}/{total_bytes} ({eta})")
}

/// A progress bar of records, as [`progress_bar`].
fn record_progress_bar(len: u64, message: &'static str) -> indicatif::ProgressBar {
    progress_bar_of(
        len,
        message,
        "{msg} {bar:40} {human_pos}/{human_len} records ({eta})",
    )
}

fn progress_bar_of(len: u64, message: &'static str, template: &str) -> indicatif::ProgressBar {
    let bar = if len == 0 {
        indicatif::ProgressBar::new_spinner()
    } else {
        indicatif::ProgressBar::new(len)
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if len > 0 {
        bar.set_style(
            indicatif::ProgressStyle::with_template(template)
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
    }
    bar.set_message(message);
    bar
}

/// Validates an already parsed seed (from JSON Lines or CSV), printing every finding.
fn validated_seed(seed: &seed::Seed, name: &str) -> anyhow::Result<GraphData> {
    validated_seed_with(seed, name, &[])
}

/// [`validated_seed`], where relations may also point to the `known` entities (already stored).
fn validated_seed_with(
    seed: &seed::Seed,
    name: &str,
    known: &[crate::model::Entity],
) -> anyhow::Result<GraphData> {
    let report = validate::validate_seed_with(seed, known);
    for diagnostic in &report.diagnostics {
        eprintln!("{diagnostic}");
    }
    match report.graph {
        Some(graph) => Ok(graph),
        None => bail!(
            "{} error(s) in {name}; nothing was imported",
            report.errors().count()
        ),
    }
}

fn export(format: ExportFormat, out: Option<&Path>, data_dir: &Path) -> anyhow::Result<i32> {
    let db = open_db(data_dir).map_err(|error| {
        let in_use = error.chain().find_map(|cause| match cause.downcast_ref() {
            Some(db::DbError::Store(crate::store::StoreError::InUse { holder, .. })) => {
                Some(*holder)
            }
            _ => None,
        });
        let Some(holder) = in_use else {
            return error;
        };
        // The server exports the same graph over HTTP: point to the format asked for.
        let over_http = match format {
            ExportFormat::Graphml => "GET /api/export?format=graphml".to_owned(),
            ExportFormat::Gexf => "GET /api/export?format=gexf".to_owned(),
            ExportFormat::Jsonl => "GET /api/export?format=jsonl".to_owned(),
            ExportFormat::Cytoscape => "GET /api/export?format=cytoscape".to_owned(),
            ExportFormat::Csv => {
                "GET /api/export?format=csv-nodes and /api/export?format=csv-edges".to_owned()
            }
        };
        anyhow::anyhow!(
            "the data directory {} is in use by a running innograph server (or another innograph \
             command{}); stop it first, or ask that server instead: {over_http}",
            data_dir.display(),
            holder
                .map(|pid| format!(", process {pid}"))
                .unwrap_or_default()
        )
    })?;
    let graph = db.export_data()?;
    let write = |format: Format, path: Option<&Path>| -> anyhow::Result<()> {
        match path {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot create {}", path.display()))?;
                let mut writer = std::io::BufWriter::new(file);
                interchange::export(&graph, format, &mut writer)?;
                writer.flush()?;
                eprintln!("wrote {}", path.display());
            }
            None => {
                let mut stdout = std::io::stdout().lock();
                interchange::export(&graph, format, &mut stdout)?;
                stdout.flush()?;
            }
        }
        Ok(())
    };
    match format {
        ExportFormat::Csv => {
            let Some(prefix) = out else {
                bail!("csv writes two files (nodes and edges): give --out PREFIX");
            };
            let with = |suffix: &str| PathBuf::from(format!("{}.{suffix}", prefix.display()));
            write(Format::CsvNodes, Some(&with("nodes.csv")))?;
            write(Format::CsvEdges, Some(&with("edges.csv")))?;
        }
        ExportFormat::Graphml => write(Format::GraphMl, out)?,
        ExportFormat::Gexf => write(Format::Gexf, out)?,
        ExportFormat::Jsonl => write(Format::JsonLines, out)?,
        ExportFormat::Cytoscape => write(Format::Cytoscape, out)?,
    }
    Ok(0)
}

fn generate(
    entities: usize,
    relations_per_entity: f64,
    seed: u64,
    out: &Path,
) -> anyhow::Result<i32> {
    if !(1..=10_000_000).contains(&entities) {
        bail!("--entities must be between 1 and 10000000, got {entities}");
    }
    if !(0.0..=50.0).contains(&relations_per_entity) {
        bail!("--relations-per-entity must be between 0 and 50, got {relations_per_entity}");
    }
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let spinner = progress_bar(0, "generating");
    let graph = crate::synthetic::Synthetic::generate(crate::synthetic::Params {
        entities,
        relations_per_entity,
        seed,
    });
    spinner.finish_and_clear();
    let path = out.join("graph.jsonl");
    let file = std::fs::File::create(&path)
        .with_context(|| format!("cannot create {}", path.display()))?;
    let mut writer = std::io::BufWriter::new(file);
    let (documents, entities, relations) = graph
        .write_jsonl(&mut writer)
        .and_then(|counts| writer.flush().map(|()| counts))
        .with_context(|| format!("cannot write {}", path.display()))?;
    println!(
        "wrote {documents} documents, {entities} entities, {relations} relations to {}",
        path.display()
    );
    Ok(0)
}

fn create_token(name: &str, role: &str, data_dir: &Path) -> anyhow::Result<i32> {
    if name.trim().is_empty() || name.chars().any(char::is_whitespace) {
        bail!("--name must be one word, got `{name}`");
    }
    let db = open_db(data_dir)?;
    let token = crate::auth::generate_token().context("cannot read random bytes for the token")?;
    let created = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let record = crate::store::TokenRecord {
        name: name.to_owned(),
        role: role.to_owned(),
        created,
    };
    db.store()
        .put_token(&crate::auth::hash_token(&token), &record)?;
    eprintln!(
        "token for `{name}` ({role}) stored in {}; it is shown once:",
        data_dir.display()
    );
    println!("{token}");
    Ok(0)
}

fn bench(
    data_dir: &Path,
    options: &crate::bench::Options,
    json: Option<&Path>,
    queries_out: Option<&Path>,
) -> anyhow::Result<i32> {
    if !data_dir.is_dir() {
        bail!(
            "no data directory at {}: import a graph first (innograph generate, then innograph import)",
            data_dir.display()
        );
    }
    let (report, queries) = crate::bench::run(data_dir, options)?;
    print!("{}", report.table());
    if let Some(path) = json {
        write_json(path, &report)?;
    }
    if let Some(path) = queries_out {
        write_json(path, &queries)?;
    }
    Ok(0)
}

fn write_json(path: &Path, value: &impl serde::Serialize) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

fn open_db(data_dir: &Path) -> anyhow::Result<Db> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create the data directory {}", data_dir.display()))?;
    Db::open(data_dir)
        .with_context(|| format!("cannot open the data directory {}", data_dir.display()))
}

fn serve(args: &ServeArgs) -> anyhow::Result<i32> {
    let config = args.config()?;
    let replication = args.replication()?;
    // Large worker stacks: a defence in depth behind the nesting limits (see `graphql::check_text`).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_stack_size(16 * 1024 * 1024)
        .build()?;
    let seed_empty = |db: &Db| -> anyhow::Result<()> {
        let graph = validated(&seed::bundled()).context("the bundled seed does not validate")?;
        let summary = db
            .import(&graph)
            .context("cannot seed the empty data directory")?;
        tracing::info!(
            entities = summary.entities,
            relations = summary.relations,
            data_dir = %args.data.data_dir.display(),
            "seeded an empty data directory from the bundled seed"
        );
        Ok(())
    };
    let (db, replica) = match replication {
        None => {
            let db = open_db(&args.data.data_dir)?;
            if db.is_empty() {
                seed_empty(&db)?;
            }
            (Arc::new(db), None)
        }
        Some(settings) => {
            std::fs::create_dir_all(&args.data.data_dir)
                .with_context(|| format!("cannot create {}", args.data.data_dir.display()))?;
            let (db, replica) = runtime.block_on(crate::replicate::open(
                &args.data.data_dir,
                settings,
                seed_empty,
            ))?;
            (db, Some(replica))
        }
    };
    db.compute_measures_in_background(Duration::from_millis(args.measures_settle_ms));
    db.write_snapshot_in_background(Duration::from_millis(args.snapshot_settle_ms));
    let at_shutdown = db.clone();
    let outcome = runtime.block_on(async move {
        // Before anything says where the server listens, so that an early SIGTERM is graceful.
        let shutdown = server::shutdown_signal();
        let listener = tokio::net::TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let address = listener.local_addr()?;
        {
            let index = db.read();
            let mut out = std::io::stdout().lock();
            writeln!(
                out,
                "innograph serving {} entities and {} relations from {}",
                index.entity_count(),
                index.relation_count(),
                args.data.data_dir.display()
            )?;
            writeln!(out, "  Explorer: http://{address}/")?;
            writeln!(out, "  GraphiQL: http://{address}/graphiql")?;
            writeln!(out, "  GraphQL:  http://{address}/graphql")?;
            out.flush()?;
        }
        if let Some(replica) = &replica {
            crate::replicate::start(&db, replica);
        }
        let app = server::app(db.clone(), &config);
        server::serve(listener, app, &config, shutdown, config.request_timeout).await?;
        tracing::info!("stopped; every acknowledged write is on disk");
        anyhow::Ok(0)
    });
    // Work still running on the blocking pool (a traversal past its deadline, a write stuck on a
    // failing disk) must not keep the process from stopping: what was acknowledged is on disk.
    runtime.shutdown_timeout(Duration::from_secs(2));
    if outcome.is_ok() {
        // A cache: failing to write it costs the next start a rebuild, nothing more.
        if let Err(error) = at_shutdown.write_snapshot() {
            tracing::warn!(%error, "the index snapshot was not written at shutdown");
        }
    }
    outcome
}
