//! `innograph bench`: in-process measurements on a data directory, the part of the national benchmark
//! (`benches/national/run.sh`) that runs inside the server's own code.
//!
//! It opens the data directory the way `serve` does (cold start: open the store, build the index),
//! picks its samples deterministically from the graph (entities of median degree, random pairs of
//! non-district entities), times each operation per call, and writes what it measured as a table and as
//! JSON, plus the queries it ran with its own answers for the peers (NetworkX, igraph, Kuzu) to run and
//! check against. Timing is a measurement, never a pass/fail: nothing here asserts a duration.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::db::{Db, DbError};
use crate::graph::{Budget, Direction, GraphIndex, Hops, KindSet, MeasureKind, PathRules, Step};
use crate::model::{Evidence, Relation, RelationKind};
use crate::store::Write;

/// The relation kinds of the filtered neighbourhood queries, here and at the peers.
pub const PEER_KINDS: [RelationKind; 4] = [
    RelationKind::CoBuiltBy,
    RelationKind::LocatedIn,
    RelationKind::CooperatesWith,
    RelationKind::ReliesOn,
];

/// The kinds of a 2-hop query that leaves out LOCATED_IN: every entity is located somewhere, so a
/// neighbourhood through LOCATED_IN holds the whole county; this one shows the cost of a step when
/// the answer is small.
pub const COLLABORATION_KINDS: [RelationKind; 4] = [
    RelationKind::CoBuiltBy,
    RelationKind::CooperatesWith,
    RelationKind::ReliesOn,
    RelationKind::PartOf,
];

/// Longest path the shortest-path queries look for (the server's own limit).
pub const MAX_PATH_LENGTH: u32 = 12;

/// What to measure.
#[derive(Clone, Debug)]
pub struct Options {
    /// Entities of median degree, and random pairs, to use as samples.
    pub samples: usize,
    /// Rounds over the samples after one warm-up round.
    pub rounds: usize,
    /// Relations to add (and remove again) for the write latency.
    pub writes: usize,
}

/// Everything measured, as `--json` writes it.
#[derive(Debug, Serialize)]
pub struct Report {
    pub graph: GraphSize,
    /// Seconds to open the store and build the index.
    pub cold_start_s: f64,
    /// Resident memory after opening (MiB), when the platform tells (Linux).
    pub rss_mb: Option<f64>,
    /// Resident memory after every measurement.
    pub rss_after_mb: Option<f64>,
    pub disk_bytes: u64,
    pub operations: Vec<Operation>,
    pub added_relation: Option<Latency>,
}

#[derive(Debug, Serialize)]
pub struct GraphSize {
    pub entities: usize,
    pub relations: usize,
    pub documents: usize,
}

/// One operation's timings over all its calls.
#[derive(Debug, Serialize)]
pub struct Operation {
    pub name: &'static str,
    pub label: &'static str,
    pub samples: usize,
    pub median_us: f64,
    pub p99_us: f64,
    /// Median size of the answer (entities returned, path length), where it has one.
    pub result_median: Option<usize>,
}

/// Latency of a durable, visible write.
#[derive(Debug, Serialize)]
pub struct Latency {
    pub samples: usize,
    pub median_ms: f64,
    pub p99_ms: f64,
}

/// The queries the peers run, with this engine's answers to check theirs against.
#[derive(Debug, Serialize)]
pub struct PeerQueries {
    pub two_hop: TwoHopQueries,
    pub paths: PathQueries,
}

#[derive(Debug, Serialize)]
pub struct TwoHopQueries {
    pub kinds: Vec<RelationKind>,
    pub starts: Vec<String>,
    pub expected_sizes: Vec<usize>,
}

#[derive(Debug, Serialize)]
pub struct PathQueries {
    /// `null`: every kind.
    pub kinds: Option<Vec<RelationKind>>,
    pub max_length: u32,
    pub pairs: Vec<(String, String)>,
    pub expected_lengths: Vec<Option<usize>>,
}

/// Opens `data_dir`, measures, and returns the report and the peer queries. Adds `options.writes`
/// relations and removes each again: the data directory ends as it began.
pub fn run(data_dir: &Path, options: &Options) -> Result<(Report, PeerQueries), DbError> {
    let started = Instant::now();
    let db = Db::open(data_dir)?;
    let cold_start_s = started.elapsed().as_secs_f64();
    let rss_mb = resident_mb();
    let guard = db.read();
    let index: &GraphIndex = &guard;
    let graph = GraphSize {
        entities: index.entity_count(),
        relations: index.relation_count(),
        documents: index.documents().count(),
    };
    let median = median_degree_entities(index, options.samples);
    let pairs = random_pairs(index, options.samples);
    let filtered = Step::new(KindSet::of(&PEER_KINDS), Direction::Both);
    let all = Step::new(KindSet::ALL, Direction::Both);
    let budget = || Budget::new(usize::MAX, Duration::from_secs(600));
    let rounds = options.rounds;

    let mut operations = Vec::new();
    operations.push(time(
        "lookup_by_id",
        "lookup by id",
        &median,
        rounds,
        |id| index.entity(id).map(|_| 1),
    ));
    let names: Vec<String> = median
        .iter()
        .filter_map(|id| index.entity(id).map(|e| e.name.clone()))
        .collect();
    operations.push(time(
        "search",
        "search by name (substring, first 10)",
        &names,
        1,
        |name| Some(index.search(name, None, 10).len()),
    ));
    let neighbors = |step: Step, depth: u32| {
        move |id: &String| {
            index
                .neighbors(id, step, depth, None, budget())
                .ok()
                .map(|n| n.len())
        }
    };
    operations.push(time(
        "one_hop",
        "1-hop neighbours, peer kinds, both directions",
        &median,
        rounds,
        neighbors(filtered, 1),
    ));
    operations.push(time(
        "two_hop_peer_query",
        "2-hop neighbours, peer kinds, both directions",
        &median,
        rounds,
        neighbors(filtered, 2),
    ));
    let collaboration = Step::new(KindSet::of(&COLLABORATION_KINDS), Direction::Both);
    operations.push(time(
        "two_hop_collaboration",
        "2-hop neighbours, collaboration kinds (no LOCATED_IN), both directions",
        &median,
        rounds,
        neighbors(collaboration, 2),
    ));
    operations.push(time(
        "three_hop",
        "3-hop neighbours, peer kinds, both directions",
        &median,
        rounds,
        neighbors(filtered, 3),
    ));
    // The length of the shortest path, `None` when there is none within the limit.
    let path_length = |pair: &(String, String)| {
        index
            .shortest_path(
                &pair.0,
                &pair.1,
                &Hops::Same(all),
                &PathRules::default(),
                MAX_PATH_LENGTH,
                budget(),
            )
            .ok()
            .flatten()
            .map(|p| p.relations.len())
    };
    operations.push(time(
        "shortest_path_peer_query",
        "shortest path, random pairs, all kinds",
        &pairs,
        rounds,
        |pair| Some(path_length(pair).unwrap_or(0)),
    ));
    operations.push(time("pagerank", "PageRank, whole graph", &[()], 1, |()| {
        Some(index.pagerank().len())
    }));
    // The other measures, each on its own as the server computes them (once: seconds at 1M). The
    // result column holds the number of groups (components, communities) or sampled sources.
    let base = std::sync::Arc::new(index.measure_base(None));
    for (name, label, kind) in [
        (
            "components",
            "components, whole graph",
            MeasureKind::Components,
        ),
        (
            "communities",
            "Leiden communities, whole graph",
            MeasureKind::Communities,
        ),
        (
            "betweenness",
            "betweenness (sampled above 5,000), whole graph",
            MeasureKind::Betweenness,
        ),
    ] {
        let started = Instant::now();
        let measure = index.measure_input(&base, kind).compute();
        let took = started.elapsed().as_secs_f64() * 1e6;
        tracing::info!(
            measure = name,
            took_s = took / 1e6,
            modularity = measure.modularity,
            groups = measure.group_sizes.len(),
            betweenness_sources = measure.sources,
            betweenness_standard_error = measure.standard_error,
            "measure computed"
        );
        operations.push(Operation {
            name,
            label,
            samples: 1,
            median_us: took,
            p99_us: took,
            result_median: Some(match kind {
                MeasureKind::Betweenness => measure.sources.unwrap_or(base.len()),
                _ => measure.group_sizes.len(),
            }),
        });
    }

    let queries = PeerQueries {
        two_hop: TwoHopQueries {
            kinds: PEER_KINDS.to_vec(),
            expected_sizes: median
                .iter()
                .map(|id| neighbors(filtered, 2)(id).unwrap_or(0))
                .collect(),
            starts: median.clone(),
        },
        paths: PathQueries {
            kinds: None,
            max_length: MAX_PATH_LENGTH,
            expected_lengths: pairs.iter().map(path_length).collect(),
            pairs: pairs.clone(),
        },
    };
    let evidence_document = index.documents().next().map(|d| d.id.clone());
    drop(guard);

    let added_relation = match evidence_document {
        Some(document) => Some(added_relation_latency(
            &db,
            &pairs,
            &document,
            options.writes,
        )?),
        None => None,
    };
    let report = Report {
        graph,
        cold_start_s,
        rss_mb,
        rss_after_mb: resident_mb(),
        disk_bytes: directory_size(data_dir),
        operations,
        added_relation,
    };
    Ok((report, queries))
}

/// Times `operation` on every sample, once to warm up and then `rounds` times.
fn time<T>(
    name: &'static str,
    label: &'static str,
    samples: &[T],
    rounds: usize,
    mut operation: impl FnMut(&T) -> Option<usize>,
) -> Operation {
    let mut sizes: Vec<usize> = samples.iter().filter_map(&mut operation).collect();
    let mut durations = Vec::with_capacity(samples.len() * rounds);
    for _ in 0..rounds {
        for sample in samples {
            let started = Instant::now();
            std::hint::black_box(operation(sample));
            durations.push(started.elapsed());
        }
    }
    Operation {
        name,
        label,
        samples: durations.len(),
        median_us: percentile(&mut durations, 0.5).as_secs_f64() * 1e6,
        p99_us: percentile(&mut durations, 0.99).as_secs_f64() * 1e6,
        result_median: (!sizes.is_empty()).then(|| {
            sizes.sort_unstable();
            sizes[sizes.len() / 2]
        }),
    }
}

/// Adds a COOPERATES_WITH relation between sample pairs that have none, timing each until it is
/// durable (flushed) and visible (in the index), then removes it again (not timed).
fn added_relation_latency(
    db: &Db,
    pairs: &[(String, String)],
    document: &str,
    writes: usize,
) -> Result<Latency, DbError> {
    let kind = RelationKind::CooperatesWith;
    let mut durations = Vec::new();
    for (source, target) in pairs.iter().cycle().take(writes.min(pairs.len() * 4)) {
        let exists = |db: &Db| {
            let index = db.read();
            index.relation(source, kind, target).is_some()
                || index.relation(target, kind, source).is_some()
        };
        if source == target || exists(db) {
            continue;
        }
        let relation = Relation {
            kind,
            source: source.clone(),
            target: target.clone(),
            year: None,
            evidence: vec![Evidence {
                document: document.to_owned(),
                quote: "innograph bench: added and removed again".to_owned(),
                basis: crate::model::Basis::Stated,
            }],
        };
        let started = Instant::now();
        db.apply(vec![Write::PutRelation(relation)])?;
        durations.push(started.elapsed());
        if !exists(db) {
            return Err(DbError::Invalid(format!(
                "the relation {source} → {target} added by the benchmark is not visible"
            )));
        }
        db.apply(vec![Write::DeleteRelation {
            source: source.clone(),
            kind,
            target: target.clone(),
        }])?;
    }
    Ok(Latency {
        samples: durations.len(),
        median_ms: percentile(&mut durations, 0.5).as_secs_f64() * 1e3,
        p99_ms: percentile(&mut durations, 0.99).as_secs_f64() * 1e3,
    })
}

fn percentile(durations: &mut [Duration], q: f64) -> Duration {
    if durations.is_empty() {
        return Duration::ZERO;
    }
    durations.sort_unstable();
    let rank = ((durations.len() as f64 * q).ceil() as usize).clamp(1, durations.len());
    durations[rank - 1]
}

/// Up to `count` entities whose degree (all kinds, both directions) is the graph's median degree,
/// spread over the id order.
pub fn median_degree_entities(index: &GraphIndex, count: usize) -> Vec<String> {
    let all = Step::new(KindSet::ALL, Direction::Both);
    let (entities, _, _) = index.page(None, None, usize::MAX);
    let mut degrees: Vec<usize> = entities.iter().map(|e| index.degree(&e.id, all)).collect();
    degrees.sort_unstable();
    let Some(&median) = degrees.get(degrees.len() / 2) else {
        return Vec::new();
    };
    let matching: Vec<&str> = entities
        .iter()
        .map(|e| e.id.as_str())
        .filter(|id| index.degree(id, all) == median)
        .collect();
    let stride = (matching.len() / count.max(1)).max(1);
    matching
        .iter()
        .step_by(stride)
        .take(count)
        .map(|id| (*id).to_owned())
        .collect()
}

/// `count` pairs of entities drawn with a fixed seed from the non-district entities.
pub fn random_pairs(index: &GraphIndex, count: usize) -> Vec<(String, String)> {
    let (entities, _, _) = index.page(None, None, usize::MAX);
    let ids: Vec<&str> = entities
        .iter()
        .filter(|e| e.kind != crate::model::EntityKind::District)
        .map(|e| e.id.as_str())
        .collect();
    if ids.is_empty() {
        return Vec::new();
    }
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        ids[(state % ids.len() as u64) as usize].to_owned()
    };
    (0..count).map(|_| (next(), next())).collect()
}

/// Resident memory of this process in MiB (Linux: `VmRSS` of /proc/self/status).
fn resident_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

/// Bytes of every file under `dir`.
fn directory_size(dir: &Path) -> u64 {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    entries
        .flatten()
        .map(|entry| match entry.metadata() {
            Ok(meta) if meta.is_dir() => directory_size(&entry.path()),
            Ok(meta) => meta.len(),
            Err(_) => 0,
        })
        .sum()
}

impl Report {
    /// The report as a Markdown table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "{} entities, {} relations, {} documents; cold start {:.2} s; resident {} MiB after \
             opening, {} MiB after measuring; {:.0} MiB on disk\n\n",
            self.graph.entities,
            self.graph.relations,
            self.graph.documents,
            self.cold_start_s,
            self.rss_mb.map_or("?".to_owned(), |m| format!("{m:.0}")),
            self.rss_after_mb
                .map_or("?".to_owned(), |m| format!("{m:.0}")),
            self.disk_bytes as f64 / (1024.0 * 1024.0),
        );
        out.push_str(
            "| operation | calls | median | p99 | median result |\n|---|---|---|---|---|\n",
        );
        for op in &self.operations {
            out.push_str(&format!(
                "| {} | {} | {} | {} | {} |\n",
                op.label,
                op.samples,
                micros(op.median_us),
                micros(op.p99_us),
                op.result_median.map_or("—".to_owned(), |n| n.to_string()),
            ));
        }
        if let Some(write) = &self.added_relation {
            out.push_str(&format!(
                "| one added relation, durable and visible | {} | {:.2} ms | {:.2} ms | — |\n",
                write.samples, write.median_ms, write.p99_ms
            ));
        }
        out
    }
}

/// A duration in µs, shown in the unit that reads best.
fn micros(us: f64) -> String {
    if us >= 1e6 {
        format!("{:.2} s", us / 1e6)
    } else if us >= 1e3 {
        format!("{:.2} ms", us / 1e3)
    } else {
        format!("{us:.2} µs")
    }
}
