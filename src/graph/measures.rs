//! Network measures on the index: degree, PageRank, betweenness, connected components, Leiden
//! communities, and the collaboration network of universities. petgraph has neither betweenness nor
//! community detection, so they are written here on the index's adjacency.
//!
//! Definitions follow NetworkX so that results can be checked against it (`tests/it/measures.rs`):
//! - PageRank: directed; a symmetric relation (COOPERATES_WITH) counts both ways; parallel relations
//!   between the same pair add weight; damping 0.85; dangling entities spread their rank uniformly.
//! - Betweenness: on the undirected simple graph, normalised by `(n-1)(n-2)`; exact (Brandes) up to
//!   [`EXACT_BETWEENNESS_LIMIT`] entities, else estimated from a fixed, seeded sample of sources and
//!   labelled so.
//! - Components: weakly connected. Communities: Leiden (modularity, resolution 1) on the undirected
//!   graph weighted by the number of relations between two entities, in a fixed visiting order and
//!   with greedy refinement, so the result is deterministic.
//!
//! Each measure is computed on its own ([`MeasureKind`], [`GraphIndex::measure_input`]), so that the
//! server can keep each up to date separately and a request waits only for the one it reads.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use petgraph::Direction as PgDirection;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef, IntoEdgeReferences, NodeIndexable};

use super::GraphIndex;
use crate::model::{Entity, EntityKind, RelationKind};

/// Above this many entities, betweenness is estimated from a sample of sources.
pub const EXACT_BETWEENNESS_LIMIT: usize = 5_000;
/// How many sources the betweenness estimate uses at most (and at least, see
/// [`betweenness_sources`]).
pub const BETWEENNESS_SAMPLE: usize = 512;
const BETWEENNESS_MIN_SAMPLE: usize = 64;
/// The work a betweenness estimate may do, in entities and relation ends visited (one breadth-first
/// search from a source visits every entity and relation end of its component once): 512 sources
/// up to about 250,000 entities at 5 relations each, 136 at 1M (about a minute on this machine).
const BETWEENNESS_WORK: usize = 1_500_000_000;

/// How many sampled sources the betweenness of a graph of `n` entities and `ends` relation ends
/// (the sum of the degrees) uses: all of them up to [`EXACT_BETWEENNESS_LIMIT`], else as many as the
/// work budget allows, between 64 and 512. The estimate's standard error says what that costs.
pub fn betweenness_sources(n: usize, ends: usize) -> usize {
    if n <= EXACT_BETWEENNESS_LIMIT {
        return n;
    }
    (BETWEENNESS_WORK / (n + ends).max(1)).clamp(BETWEENNESS_MIN_SAMPLE, BETWEENNESS_SAMPLE)
}

/// Which centrality to rank by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Centrality {
    PageRank,
    Betweenness,
    Degree,
}

/// The measures that are computed, each on its own (a request waits only for the one it asks for).
/// Degree comes with every measure (see [`MeasureBase`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MeasureKind {
    /// Connected components (and degree): linear, so computed first.
    Components,
    PageRank,
    /// Leiden communities (each connected).
    Communities,
    Betweenness,
}

impl MeasureKind {
    /// Cheapest first: the order in which they are computed.
    pub const ALL: [MeasureKind; 4] = [
        MeasureKind::Components,
        MeasureKind::PageRank,
        MeasureKind::Communities,
        MeasureKind::Betweenness,
    ];

    pub fn name(self) -> &'static str {
        match self {
            MeasureKind::Components => "components",
            MeasureKind::PageRank => "pagerank",
            MeasureKind::Communities => "communities",
            MeasureKind::Betweenness => "betweenness",
        }
    }
}

/// The entities a measure is computed over: the subgraph of a set of entity kinds at one generation
/// of the index, in id order, with each entity's degree in that subgraph. Shared by the measures
/// computed at that generation.
#[derive(Debug)]
pub struct MeasureBase {
    /// The index generation this was taken from.
    pub generation: u64,
    /// Entity ids in id order; every vector of a [`Measure`] is indexed like this one.
    pub ids: Vec<Arc<str>>,
    position: HashMap<Arc<str>, usize>,
    /// Relations touching each entity within the subgraph (a self-loop counts twice).
    pub degree: Vec<usize>,
    /// The node of each entity; valid only while the index is at `generation`.
    nodes: Vec<NodeIndex>,
}

impl MeasureBase {
    pub fn position(&self, id: &str) -> Option<usize> {
        self.position.get(id).copied()
    }

    pub fn len(&self) -> usize {
        self.ids.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Node → position in this base, for an index at this base's generation.
    fn index_of(&self, index: &GraphIndex) -> impl Fn(NodeIndex) -> Option<usize> + use<> {
        let mut map = vec![usize::MAX; index.graph.node_bound()];
        for (i, node) in self.nodes.iter().enumerate() {
            map[node.index()] = i;
        }
        move |node: NodeIndex| map.get(node.index()).copied().filter(|&i| i != usize::MAX)
    }
}

/// One measure of one subgraph, computed on its own. Which fields are filled depends on `kind`:
/// `scores` for PageRank and betweenness (with `sources` and `standard_error` for betweenness),
/// `groups` and `group_sizes` for components and communities (with `modularity` for communities).
#[derive(Debug)]
pub struct Measure {
    pub kind: MeasureKind,
    pub base: Arc<MeasureBase>,
    pub computed_at: std::time::SystemTime,
    /// How long the computation took (without copying its input out of the index).
    pub took: std::time::Duration,
    pub scores: Vec<f64>,
    /// Group of each entity; groups are numbered by size, largest first.
    pub groups: Vec<usize>,
    pub group_sizes: Vec<usize>,
    pub modularity: Option<f64>,
    /// Betweenness: `Some(k)` when estimated from `k` sampled sources rather than computed exactly.
    pub sources: Option<usize>,
    /// Betweenness estimated from a sample: the largest standard error of an entity's estimate (the
    /// spread of the per-source contributions over √k, in the units of the scores); 0 when exact.
    pub standard_error: f64,
}

impl Measure {
    pub fn generation(&self) -> u64 {
        self.base.generation
    }

    /// The score of entity position `i` for a centrality: PageRank and betweenness from `scores`,
    /// degree from the base.
    fn score(&self, centrality: Centrality, i: usize) -> f64 {
        match centrality {
            Centrality::Degree => self.base.degree[i] as f64,
            Centrality::PageRank | Centrality::Betweenness => self.scores[i],
        }
    }

    /// Entity positions ranked by `centrality` (PageRank or betweenness when this measure is one,
    /// degree for any), highest first, ties by id.
    pub fn ranking(&self, centrality: Centrality) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.base.len()).collect();
        order.sort_by(|&a, &b| {
            self.score(centrality, b)
                .total_cmp(&self.score(centrality, a))
                .then_with(|| self.base.ids[a].cmp(&self.base.ids[b]))
        });
        order
    }

    /// The score of an entity by id (0 when it is not in the measured subgraph).
    pub fn score_of(&self, id: &str) -> f64 {
        self.base.position(id).map_or(0.0, |i| self.scores[i])
    }
}

/// What one measure is computed from, copied out of the index so that the computation (seconds on
/// a large graph) runs without holding the index's lock.
pub struct MeasureInput {
    kind: MeasureKind,
    base: Arc<MeasureBase>,
    /// Out-neighbours for PageRank; the undirected weighted graph for the others.
    adjacency: Vec<Vec<(usize, f64)>>,
}

impl MeasureInput {
    pub fn kind(&self) -> MeasureKind {
        self.kind
    }

    /// Computes the measure; needs no lock.
    pub fn compute(self) -> Measure {
        let started = std::time::Instant::now();
        let MeasureInput {
            kind,
            base,
            adjacency,
        } = self;
        let n = base.len();
        let mut measure = Measure {
            kind,
            base,
            computed_at: std::time::SystemTime::now(),
            took: std::time::Duration::ZERO,
            scores: Vec::new(),
            groups: Vec::new(),
            group_sizes: Vec::new(),
            modularity: None,
            sources: None,
            standard_error: 0.0,
        };
        let graph = Undirected {
            neighbours: adjacency,
        };
        match kind {
            MeasureKind::PageRank => {
                measure.scores = pagerank(&graph.neighbours, 0.85, 1e-10, 200);
            }
            MeasureKind::Betweenness => {
                if n <= EXACT_BETWEENNESS_LIMIT {
                    measure.scores = betweenness(&graph, None).0;
                } else {
                    let k = betweenness_sources(n, measure.base.degree.iter().sum());
                    let sources = sample_sources(n, k, 0x1a2b_3c4d);
                    let (scores, error) = betweenness(&graph, Some(&sources));
                    measure.scores = scores;
                    measure.sources = Some(sources.len());
                    measure.standard_error = error;
                }
            }
            MeasureKind::Components => {
                (measure.groups, measure.group_sizes) = components(&graph);
            }
            MeasureKind::Communities => {
                let (groups, sizes, modularity) = leiden(&graph);
                (measure.groups, measure.group_sizes) = (groups, sizes);
                measure.modularity = Some(modularity);
            }
        }
        measure.took = started.elapsed();
        measure
    }
}

/// Every measure of one subgraph together: what tests and the in-process benchmark compare with
/// NetworkX. The server computes them one by one instead ([`GraphIndex::measure_input`]).
#[derive(Clone, Debug)]
pub struct Measures {
    /// The index generation these were computed from.
    pub generation: u64,
    /// Entity ids in id order; every vector below is indexed like this one.
    pub ids: Vec<Arc<str>>,
    position: HashMap<Arc<str>, usize>,
    pub degree: Vec<usize>,
    pub pagerank: Vec<f64>,
    pub betweenness: Vec<f64>,
    /// `Some(k)` when betweenness was estimated from `k` sampled sources rather than computed exactly.
    pub betweenness_sample: Option<usize>,
    /// The largest standard error of a sampled betweenness estimate (0 when exact).
    pub betweenness_error: f64,
    /// Weakly connected component of each entity; components are numbered by size, largest first.
    pub component: Vec<usize>,
    pub component_sizes: Vec<usize>,
    /// Leiden community of each entity; communities are numbered by size, largest first.
    pub community: Vec<usize>,
    pub community_sizes: Vec<usize>,
    /// Modularity of the community partition.
    pub modularity: f64,
}

impl Measures {
    pub fn position(&self, id: &str) -> Option<usize> {
        self.position.get(id).copied()
    }
}

/// Undirected weighted adjacency in id order: the shared input of betweenness, components, Leiden.
struct Undirected {
    /// neighbours[i] = (j, weight) for j != i, sorted by j.
    neighbours: Vec<Vec<(usize, f64)>>,
}

impl GraphIndex {
    /// Computes every measure of the whole graph, one after the other.
    pub fn measures(&self) -> Measures {
        let base = Arc::new(self.measure_base(None));
        let [components, pagerank, communities, betweenness] =
            MeasureKind::ALL.map(|kind| self.measure_input(&base, kind).compute());
        Measures {
            generation: base.generation,
            ids: base.ids.clone(),
            position: base.position.clone(),
            degree: base.degree.clone(),
            pagerank: pagerank.scores,
            betweenness: betweenness.scores,
            betweenness_sample: betweenness.sources,
            betweenness_error: betweenness.standard_error,
            component: components.groups,
            component_sizes: components.group_sizes,
            community: communities.groups,
            community_sizes: communities.group_sizes,
            modularity: communities.modularity.unwrap_or(0.0),
        }
    }

    /// The entities of `kinds` (all when `None`) in id order with their degree in that subgraph:
    /// what every measure of the current generation shares.
    pub fn measure_base(&self, kinds: Option<&[EntityKind]>) -> MeasureBase {
        let nodes: Vec<NodeIndex> = self
            .nodes
            .values()
            .copied()
            .filter(|&n| kinds.is_none_or(|k| k.contains(&self.graph[n].kind)))
            .collect();
        let ids: Vec<Arc<str>> = nodes
            .iter()
            .map(|&n| Arc::from(self.graph[n].id.as_str()))
            .collect();
        let position: HashMap<Arc<str>, usize> = ids
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, id)| (id, i))
            .collect();
        let mut base = MeasureBase {
            generation: self.generation,
            ids,
            position,
            degree: vec![0; nodes.len()],
            nodes,
        };
        let index_of = base.index_of(self);
        for edge in self.graph.edge_references() {
            if let (Some(s), Some(t)) = (index_of(edge.source()), index_of(edge.target())) {
                base.degree[s] += 1;
                base.degree[t] += 1;
            }
        }
        base
    }

    /// Copies what measure `kind` needs out of the index (linear in its size). `base` must be of the
    /// index's current generation.
    pub fn measure_input(&self, base: &Arc<MeasureBase>, kind: MeasureKind) -> MeasureInput {
        debug_assert_eq!(base.generation, self.generation);
        let index_of = base.index_of(self);
        let mut adjacency: Vec<Vec<(usize, f64)>> = vec![Vec::new(); base.len()];
        for edge in self.graph.edge_references() {
            let (Some(s), Some(t)) = (index_of(edge.source()), index_of(edge.target())) else {
                continue;
            };
            if kind == MeasureKind::PageRank {
                // Directed; a symmetric relation counts both ways; parallel relations add weight.
                adjacency[s].push((t, 1.0));
                if edge.weight().kind.is_symmetric() {
                    adjacency[t].push((s, 1.0));
                }
            } else if s != t {
                adjacency[s].push((t, 1.0));
                adjacency[t].push((s, 1.0));
            }
        }
        if kind != MeasureKind::PageRank {
            // The undirected simple graph weighted by the number of relations: sorted, merged.
            for list in &mut adjacency {
                list.sort_unstable_by_key(|&(j, _)| j);
                list.dedup_by(|next, kept| {
                    let same = next.0 == kept.0;
                    if same {
                        kept.1 += next.1;
                    }
                    same
                });
            }
        }
        MeasureInput {
            kind,
            base: base.clone(),
            adjacency,
        }
    }

    /// PageRank alone (as in [`GraphIndex::measures`]), in id order of the entities.
    pub fn pagerank(&self) -> Vec<f64> {
        let base = Arc::new(self.measure_base(None));
        self.measure_input(&base, MeasureKind::PageRank)
            .compute()
            .scores
    }

    /// How many entities have each degree (over the given step), ascending by degree.
    pub fn degree_distribution(
        &self,
        step: super::Step,
        kinds: Option<&[EntityKind]>,
    ) -> Vec<(usize, usize)> {
        let mut histogram: BTreeMap<usize, usize> = BTreeMap::new();
        for &node in self.nodes.values() {
            if kinds.is_some_and(|k| !k.contains(&self.graph[node].kind)) {
                continue;
            }
            *histogram.entry(self.degree_of(node, step)).or_default() += 1;
        }
        histogram.into_iter().collect()
    }

    /// The collaboration network of entities of `kinds` (universities by default): two are tied when
    /// they co-built the same entity, co-built with the same partner, or co-built entities located in
    /// the same district or platform. Weight: the number of shared entities, partners and places.
    pub fn collaboration_network(
        &self,
        kinds: &[EntityKind],
        through: Option<&[EntityKind]>,
    ) -> Vec<CollaborationTie> {
        let co_built_by = |node: NodeIndex| -> Vec<NodeIndex> {
            self.graph
                .edges_directed(node, PgDirection::Outgoing)
                .filter(|e| e.weight().kind == RelationKind::CoBuiltBy)
                .map(|e| e.target())
                .collect()
        };
        // For each member: what it co-built, its partners there, and where those things are.
        let mut built: BTreeMap<NodeIndex, BTreeSet<NodeIndex>> = BTreeMap::new();
        let mut partners: BTreeMap<NodeIndex, BTreeSet<NodeIndex>> = BTreeMap::new();
        let mut places: BTreeMap<NodeIndex, BTreeSet<NodeIndex>> = BTreeMap::new();
        for &member in self.nodes.values() {
            if !kinds.contains(&self.graph[member].kind) {
                continue;
            }
            for edge in self.graph.edges_directed(member, PgDirection::Incoming) {
                if edge.weight().kind != RelationKind::CoBuiltBy {
                    continue;
                }
                let thing = edge.source();
                if through.is_some_and(|k| !k.contains(&self.graph[thing].kind)) {
                    continue;
                }
                built.entry(member).or_default().insert(thing);
                for partner in co_built_by(thing) {
                    if partner != member {
                        partners.entry(member).or_default().insert(partner);
                    }
                }
                for place in self.graph.edges_directed(thing, PgDirection::Outgoing) {
                    if place.weight().kind == RelationKind::LocatedIn {
                        places.entry(member).or_default().insert(place.target());
                    }
                }
            }
        }
        let members: Vec<NodeIndex> = {
            let mut m: Vec<NodeIndex> = built.keys().copied().collect();
            m.sort_by(|a, b| self.graph[*a].id.cmp(&self.graph[*b].id));
            m
        };
        let empty = BTreeSet::new();
        let entities = |set: BTreeSet<NodeIndex>| -> Vec<Arc<Entity>> {
            let mut list: Vec<Arc<Entity>> = set
                .into_iter()
                .map(|n| self.graph[n].entity.clone())
                .collect();
            list.sort_by(|a, b| a.id.cmp(&b.id));
            list
        };
        let mut ties = Vec::new();
        for (i, &a) in members.iter().enumerate() {
            for &b in &members[i + 1..] {
                let shared =
                    |map: &BTreeMap<NodeIndex, BTreeSet<NodeIndex>>| -> BTreeSet<NodeIndex> {
                        map.get(&a)
                            .unwrap_or(&empty)
                            .intersection(map.get(&b).unwrap_or(&empty))
                            .copied()
                            .collect()
                    };
                let co_built: BTreeSet<NodeIndex> = shared(&built);
                // A partner that is one of the pair is a direct co-building, already counted.
                let shared_partners: BTreeSet<NodeIndex> = shared(&partners)
                    .into_iter()
                    .filter(|&p| p != a && p != b)
                    .collect();
                let shared_places = shared(&places);
                let weight = co_built.len() + shared_partners.len() + shared_places.len();
                if weight > 0 {
                    ties.push(CollaborationTie {
                        a: self.graph[a].entity.clone(),
                        b: self.graph[b].entity.clone(),
                        weight,
                        co_built: entities(co_built),
                        shared_partners: entities(shared_partners),
                        shared_places: entities(shared_places),
                    });
                }
            }
        }
        ties.sort_by(|x, y| {
            y.weight
                .cmp(&x.weight)
                .then_with(|| (&x.a.id, &x.b.id).cmp(&(&y.a.id, &y.b.id)))
        });
        ties
    }
}

/// A tie of the collaboration network and why it exists.
#[derive(Clone, Debug, PartialEq)]
pub struct CollaborationTie {
    pub a: Arc<Entity>,
    pub b: Arc<Entity>,
    pub weight: usize,
    /// Entities both co-built.
    pub co_built: Vec<Arc<Entity>>,
    /// Partners each co-built something with (not counting the pair itself).
    pub shared_partners: Vec<Arc<Entity>>,
    /// Districts or platforms where both have co-built something.
    pub shared_places: Vec<Arc<Entity>>,
}

/// Power iteration as NetworkX's `pagerank`: `out[i]` maps targets to weights.
fn pagerank(
    out: &[Vec<(usize, f64)>],
    alpha: f64,
    tolerance: f64,
    max_iterations: usize,
) -> Vec<f64> {
    let n = out.len();
    if n == 0 {
        return Vec::new();
    }
    let uniform = 1.0 / n as f64;
    let totals: Vec<f64> = out
        .iter()
        .map(|m| m.iter().map(|&(_, w)| w).sum())
        .collect();
    let mut rank = vec![uniform; n];
    for _ in 0..max_iterations {
        let dangling: f64 = (0..n).filter(|&i| totals[i] == 0.0).map(|i| rank[i]).sum();
        let mut next = vec![(1.0 - alpha) * uniform + alpha * dangling * uniform; n];
        for (i, targets) in out.iter().enumerate() {
            if totals[i] == 0.0 {
                continue;
            }
            let share = alpha * rank[i] / totals[i];
            for &(j, w) in targets {
                next[j] += share * w;
            }
        }
        let change: f64 = next.iter().zip(&rank).map(|(a, b)| (a - b).abs()).sum();
        rank = next;
        if change < n as f64 * tolerance {
            break;
        }
    }
    rank
}

/// Brandes' algorithm on the undirected simple graph, from every source or from `sources` (then
/// scaled by n / k as NetworkX does), normalised by (n-1)(n-2). Also returns, for a sample, the
/// largest standard error of an entity's estimate (the estimate is the mean of one term per sampled
/// source; its standard error is the terms' sample deviation over √k); 0 when exact.
fn betweenness(graph: &Undirected, sources: Option<&[usize]>) -> (Vec<f64>, f64) {
    let n = graph.neighbours.len();
    // Flat adjacency (compressed rows of u32): what each breadth-first search walks.
    let mut offsets: Vec<usize> = Vec::with_capacity(n + 1);
    let mut targets: Vec<u32> = Vec::new();
    offsets.push(0);
    for list in &graph.neighbours {
        targets.extend(list.iter().map(|&(j, _)| j as u32));
        offsets.push(targets.len());
    }
    let neighbours = |v: usize| &targets[offsets[v]..offsets[v + 1]];
    let mut centrality = vec![0.0; n];
    let all: Vec<usize> = (0..n).collect();
    let sampled = sources.is_some();
    let sources = sources.unwrap_or(&all);
    let mut squares = if sampled { vec![0.0; n] } else { Vec::new() };
    let mut sigma = vec![0.0f64; n];
    let mut distance = vec![u32::MAX; n];
    let mut delta = vec![0.0f64; n];
    // The order in which the search reached each node: a queue as it runs, a stack afterwards.
    let mut order: Vec<u32> = Vec::with_capacity(n);
    for &s in sources {
        // Only what the previous source reached needs resetting.
        for &v in &order {
            let v = v as usize;
            sigma[v] = 0.0;
            distance[v] = u32::MAX;
            delta[v] = 0.0;
        }
        order.clear();
        sigma[s] = 1.0;
        distance[s] = 0;
        order.push(s as u32);
        let mut head = 0;
        while head < order.len() {
            let v = order[head] as usize;
            head += 1;
            let next = distance[v] + 1;
            for &w in neighbours(v) {
                let w = w as usize;
                if distance[w] == u32::MAX {
                    distance[w] = next;
                    order.push(w as u32);
                }
                if distance[w] == next {
                    sigma[w] += sigma[v];
                }
            }
        }
        // Dependencies, farthest first; a node's predecessors are its neighbours one step closer.
        for &w in order.iter().rev() {
            let w = w as usize;
            if distance[w] == 0 {
                continue;
            }
            let share = (1.0 + delta[w]) / sigma[w];
            for &v in neighbours(w) {
                let v = v as usize;
                if distance[v] + 1 == distance[w] {
                    delta[v] += sigma[v] * share;
                }
            }
            centrality[w] += delta[w];
            if sampled {
                squares[w] += delta[w] * delta[w];
            }
        }
    }
    let mut scale = if n > 2 {
        1.0 / ((n - 1) * (n - 2)) as f64
    } else {
        1.0
    };
    let k = sources.len();
    let mut standard_error = 0.0f64;
    if sampled && k > 1 && k < n {
        // Each source's term is scale · n · δ_s(v); the estimate is their mean.
        let term = scale * n as f64;
        for (sum, square) in centrality.iter().zip(&squares) {
            let variance = ((square - sum * sum / k as f64) / (k - 1) as f64).max(0.0);
            standard_error = standard_error.max(term * (variance / k as f64).sqrt());
        }
    }
    if k < n && k > 0 {
        scale *= n as f64 / k as f64;
    }
    (
        centrality.iter().map(|c| c * scale).collect(),
        standard_error,
    )
}

/// `k` distinct positions out of `n`, from a fixed-seed generator (xorshift), sorted.
fn sample_sources(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut state = seed | 1;
    let mut chosen = BTreeSet::new();
    while chosen.len() < k.min(n) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        chosen.insert((state % n as u64) as usize);
    }
    chosen.into_iter().collect()
}

/// Connected components, numbered by size (largest first, then by smallest member).
fn components(graph: &Undirected) -> (Vec<usize>, Vec<usize>) {
    let n = graph.neighbours.len();
    let mut raw = vec![usize::MAX; n];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for start in 0..n {
        if raw[start] != usize::MAX {
            continue;
        }
        let id = groups.len();
        let mut members = vec![start];
        raw[start] = id;
        let mut queue = VecDeque::from([start]);
        while let Some(v) = queue.pop_front() {
            for &(w, _) in &graph.neighbours[v] {
                if raw[w] == usize::MAX {
                    raw[w] = id;
                    members.push(w);
                    queue.push_back(w);
                }
            }
        }
        groups.push(members);
    }
    renumber_by_size(&raw, groups.len())
}

/// Renumbers group labels so that 0 is the largest group (ties: the group with the smallest member).
fn renumber_by_size(labels: &[usize], count: usize) -> (Vec<usize>, Vec<usize>) {
    let mut sizes = vec![0usize; count];
    let mut smallest = vec![usize::MAX; count];
    for (i, &label) in labels.iter().enumerate() {
        sizes[label] += 1;
        smallest[label] = smallest[label].min(i);
    }
    let mut order: Vec<usize> = (0..count).filter(|&g| sizes[g] > 0).collect();
    order.sort_by(|&a, &b| sizes[b].cmp(&sizes[a]).then(smallest[a].cmp(&smallest[b])));
    let mut new_label = vec![0usize; count];
    for (rank, &g) in order.iter().enumerate() {
        new_label[g] = rank;
    }
    let relabelled = labels.iter().map(|&l| new_label[l]).collect();
    (relabelled, order.iter().map(|&g| sizes[g]).collect())
}

/// One level of the community search: a weighted graph whose nodes are groups of entities.
struct Level {
    /// neighbours[i] = (j, weight) for j != i.
    adjacency: Vec<Vec<(usize, f64)>>,
    /// Weight of the relations inside each node.
    self_loops: Vec<f64>,
    /// Each node's strength: its weights to others plus twice its self-loop.
    strength: Vec<f64>,
}

impl Level {
    fn new(adjacency: Vec<Vec<(usize, f64)>>, self_loops: Vec<f64>) -> Level {
        let strength = adjacency
            .iter()
            .zip(&self_loops)
            .map(|(list, own)| list.iter().map(|&(_, w)| w).sum::<f64>() + 2.0 * own)
            .collect();
        Level {
            adjacency,
            self_loops,
            strength,
        }
    }

    fn len(&self) -> usize {
        self.adjacency.len()
    }

    /// The graph of the groups of `groups` (labels 0..count): each group one node.
    fn aggregate(&self, groups: &[usize], count: usize) -> Level {
        let mut edges: Vec<(usize, usize, f64)> = Vec::new();
        let mut self_loops = vec![0.0; count];
        for node in 0..self.len() {
            let a = groups[node];
            self_loops[a] += self.self_loops[node];
            for &(other, w) in &self.adjacency[node] {
                let b = groups[other];
                if a == b {
                    // Each internal edge is seen from both ends.
                    self_loops[a] += w / 2.0;
                } else {
                    edges.push((a, b, w));
                }
            }
        }
        edges.sort_unstable_by_key(|&(a, b, _)| (a, b));
        let mut adjacency: Vec<Vec<(usize, f64)>> = vec![Vec::new(); count];
        for (a, b, w) in edges {
            match adjacency[a].last_mut() {
                Some(last) if last.0 == b => last.1 += w,
                _ => adjacency[a].push((b, w)),
            }
        }
        Level::new(adjacency, self_loops)
    }
}

/// Weights from one node to the groups around it: a scratch table reused for every node.
struct Links {
    weight: Vec<f64>,
    touched: Vec<usize>,
}

impl Links {
    fn new(n: usize) -> Links {
        Links {
            weight: vec![0.0; n],
            touched: Vec::new(),
        }
    }

    /// Fills the table with the weights from `node` to each group of its neighbours (only those
    /// `within` accepts), the groups in ascending order so that ties go the same way on every run.
    fn gather(
        &mut self,
        level: &Level,
        node: usize,
        group: &[usize],
        within: impl Fn(usize) -> bool,
    ) {
        for &c in &self.touched {
            self.weight[c] = 0.0;
        }
        self.touched.clear();
        for &(other, w) in &level.adjacency[node] {
            if !within(other) {
                continue;
            }
            let c = group[other];
            if self.weight[c] == 0.0 {
                self.touched.push(c);
            }
            self.weight[c] += w;
        }
        self.touched.sort_unstable();
    }
}

/// Communities by the Leiden algorithm (Traag, Waltman and van Eck 2019) maximising modularity
/// (resolution 1), made deterministic: nodes are visited in id order and the refinement merges
/// greedily (the largest gain) instead of at random. Each level moves nodes between communities
/// (a queue of the nodes whose neighbourhood changed), refines each community into well-connected
/// parts, and aggregates the refined parts, starting the next level from the unrefined communities.
/// Every community is connected (as Leiden guarantees; a final split makes sure).
fn leiden(graph: &Undirected) -> (Vec<usize>, Vec<usize>, f64) {
    let n = graph.neighbours.len();
    if n == 0 {
        return (Vec::new(), Vec::new(), 0.0);
    }
    // Iterated from its own result while that improves the modularity by a meaningful amount.
    let mut best = leiden_from(graph, (0..n).collect());
    for _ in 0..LEIDEN_ROUNDS {
        let next = leiden_from(graph, best.0.clone());
        let gain = next.2 - best.2;
        if gain > 0.0 {
            best = next;
        }
        if gain < LEIDEN_MIN_GAIN {
            break;
        }
    }
    best
}

/// At most this many rounds of Leiden after the first, each starting from the last partition.
const LEIDEN_ROUNDS: usize = 8;
/// A round that raises the modularity by less than this is the last.
const LEIDEN_MIN_GAIN: f64 = 1e-3;

/// The positions 0..n shuffled by a fixed-seed generator (Fisher–Yates with xorshift).
fn shuffled(n: usize, seed: u64) -> Vec<usize> {
    let mut order: Vec<usize> = (0..n).collect();
    let mut state = seed | 1;
    for i in (1..n).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    order
}

/// One run of Leiden starting from the partition `start` of the entities.
fn leiden_from(graph: &Undirected, start: Vec<usize>) -> (Vec<usize>, Vec<usize>, f64) {
    let n = graph.neighbours.len();
    let mut level = Level::new(graph.neighbours.clone(), vec![0.0; n]);
    let total: f64 = level.strength.iter().sum::<f64>() / 2.0;
    if total == 0.0 {
        let singletons: Vec<usize> = (0..n).collect();
        return renumbered_with_modularity(&singletons, graph);
    }
    // Each entity's node at the current level, and each node's community.
    let mut membership: Vec<usize> = (0..n).collect();
    let mut community: Vec<usize> = start;
    for _ in 0..64 {
        move_nodes(&level, &mut community, total);
        let count = relabel(&mut community);
        if count == level.len() {
            break;
        }
        let mut refined = refine(&level, &community, total);
        let mut parts = relabel(&mut refined);
        if parts == level.len() {
            // Nothing merged in the refinement: aggregate by the communities, as Louvain does.
            refined.clone_from(&community);
            parts = count;
        }
        let mut next_community = vec![0; parts];
        for node in 0..level.len() {
            next_community[refined[node]] = community[node];
        }
        for node in membership.iter_mut() {
            *node = refined[*node];
        }
        level = level.aggregate(&refined, parts);
        community = next_community;
    }
    let labels: Vec<usize> = membership.iter().map(|&node| community[node]).collect();
    let labels = split_disconnected(&labels, graph);
    renumbered_with_modularity(&labels, graph)
}

/// Renumbers labels 0..count in order of first appearance; returns count.
fn relabel(labels: &mut [usize]) -> usize {
    let mut new = vec![usize::MAX; labels.len()];
    let mut count = 0;
    for label in labels.iter_mut() {
        if new[*label] == usize::MAX {
            new[*label] = count;
            count += 1;
        }
        *label = new[*label];
    }
    count
}

/// Leiden's fast local moving: each node in the queue moves to the neighbouring community (or an
/// empty one) with the largest modularity gain; when it moves, its neighbours outside its new
/// community are queued again.
fn move_nodes(level: &Level, community: &mut [usize], total: f64) {
    let n = level.len();
    let mut community_strength = vec![0.0; n];
    let mut size = vec![0usize; n];
    for node in 0..n {
        community_strength[community[node]] += level.strength[node];
        size[community[node]] += 1;
    }
    let mut empty: Vec<usize> = (0..n).filter(|&c| size[c] == 0).collect();
    // Visited in a fixed pseudo-random order: id order would start with whatever kind of entity
    // sorts first (all the districts, say) and glue them together before anything else moves.
    let mut queue: VecDeque<usize> = shuffled(n, 0x5eed_1e1d).into();
    let mut queued = vec![true; n];
    let mut links = Links::new(n);
    while let Some(node) = queue.pop_front() {
        queued[node] = false;
        let current = community[node];
        let k = level.strength[node];
        links.gather(level, node, community, |_| true);
        community_strength[current] -= k;
        size[current] -= 1;
        let gain = |c: usize, link: f64| link - community_strength[c] * k / (2.0 * total);
        let mut best = current;
        let mut best_gain = gain(current, links.weight[current]);
        for &c in &links.touched {
            let g = gain(c, links.weight[c]);
            if g > best_gain + 1e-12 {
                best = c;
                best_gain = g;
            }
        }
        if best_gain < -1e-12 && size[current] > 0 {
            // Alone is better than anywhere: an empty community (gain 0).
            if let Some(c) = empty.pop() {
                best = c;
            }
        }
        if size[current] == 0 && best != current {
            empty.push(current);
        }
        community_strength[best] += k;
        size[best] += 1;
        community[node] = best;
        if best != current {
            for &(other, _) in &level.adjacency[node] {
                if !queued[other] && community[other] != best {
                    queued[other] = true;
                    queue.push_back(other);
                }
            }
        }
    }
}

/// Leiden's refinement: within each community, starting from single nodes, each node still alone
/// and well connected to its community merges into the well-connected part of the same community
/// with the largest gain (if it gains). The parts are what the next level aggregates.
fn refine(level: &Level, community: &[usize], total: f64) -> Vec<usize> {
    let n = level.len();
    let mut community_strength = vec![0.0; n];
    for node in 0..n {
        community_strength[community[node]] += level.strength[node];
    }
    let mut part: Vec<usize> = (0..n).collect();
    let mut part_strength = level.strength.clone();
    let mut part_size = vec![1usize; n];
    // Each part's weight to the rest of its community.
    let mut outside: Vec<f64> = (0..n)
        .map(|node| {
            level.adjacency[node]
                .iter()
                .filter(|&&(other, _)| community[other] == community[node])
                .map(|&(_, w)| w)
                .sum()
        })
        .collect();
    let well_connected = |outside: f64, strength: f64, within: f64| {
        outside >= strength * (within - strength) / (2.0 * total) - 1e-12
    };
    let mut links = Links::new(n);
    for node in 0..n {
        if part_size[part[node]] != 1 {
            continue;
        }
        let c = community[node];
        let k = level.strength[node];
        if !well_connected(outside[node], k, community_strength[c]) {
            continue;
        }
        links.gather(level, node, &part, |other| community[other] == c);
        let mut best = part[node];
        let mut best_gain = 0.0;
        for &p in &links.touched {
            if p == part[node]
                || !well_connected(outside[p], part_strength[p], community_strength[c])
            {
                continue;
            }
            let gain = links.weight[p] - part_strength[p] * k / (2.0 * total);
            if gain > best_gain + 1e-12 {
                best = p;
                best_gain = gain;
            }
        }
        if best != part[node] {
            let own = part[node];
            part_size[own] = 0;
            part[node] = best;
            part_size[best] += 1;
            part_strength[best] += k;
            // The relations between the node and the part become internal.
            outside[best] += outside[own] - 2.0 * links.weight[best];
        }
    }
    part
}

/// Splits every group into its connected parts (within the group); labels are renumbered.
fn split_disconnected(labels: &[usize], graph: &Undirected) -> Vec<usize> {
    let n = labels.len();
    let mut split = vec![usize::MAX; n];
    let mut next = 0;
    let mut queue = VecDeque::new();
    for start in 0..n {
        if split[start] != usize::MAX {
            continue;
        }
        split[start] = next;
        queue.push_back(start);
        while let Some(v) = queue.pop_front() {
            for &(w, _) in &graph.neighbours[v] {
                if split[w] == usize::MAX && labels[w] == labels[v] {
                    split[w] = next;
                    queue.push_back(w);
                }
            }
        }
        next += 1;
    }
    split
}

fn renumbered_with_modularity(
    membership: &[usize],
    graph: &Undirected,
) -> (Vec<usize>, Vec<usize>, f64) {
    let count = membership.iter().copied().max().map_or(0, |m| m + 1);
    let (labels, sizes) = renumber_by_size(membership, count);
    (labels.clone(), sizes, modularity(&labels, graph))
}

/// Newman's modularity of a partition of the undirected weighted graph.
pub(crate) fn modularity_of(labels: &[usize], neighbours: &[Vec<(usize, f64)>]) -> f64 {
    let total: f64 = neighbours.iter().flatten().map(|&(_, w)| w).sum::<f64>() / 2.0;
    if total == 0.0 {
        return 0.0;
    }
    let groups = labels.iter().copied().max().map_or(0, |m| m + 1);
    let mut internal = vec![0.0; groups];
    let mut strength = vec![0.0; groups];
    for (i, list) in neighbours.iter().enumerate() {
        for &(j, w) in list {
            strength[labels[i]] += w;
            if labels[i] == labels[j] {
                internal[labels[i]] += w;
            }
        }
    }
    (0..groups)
        .map(|g| internal[g] / (2.0 * total) - (strength[g] / (2.0 * total)).powi(2))
        .sum()
}

fn modularity(labels: &[usize], graph: &Undirected) -> f64 {
    modularity_of(labels, &graph.neighbours)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic random simple graph: `n` nodes, about `edges` edges, from a fixed seed.
    fn random_graph(n: usize, edges: usize, seed: u64) -> Undirected {
        let mut state = seed | 1;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut pairs = BTreeSet::new();
        while pairs.len() < edges {
            // Mostly local edges (a ring of clusters), a few long ones: a graph with structure.
            let a = (next() % n as u64) as usize;
            let b = if next() % 8 == 0 {
                (next() % n as u64) as usize
            } else {
                (a + 1 + (next() % 6) as usize) % n
            };
            if a != b {
                pairs.insert((a.min(b), a.max(b)));
            }
        }
        let mut neighbours = vec![Vec::new(); n];
        for (a, b) in pairs {
            neighbours[a].push((b, 1.0));
            neighbours[b].push((a, 1.0));
        }
        for list in &mut neighbours {
            list.sort_by_key(|&(j, _)| j);
        }
        Undirected { neighbours }
    }

    #[test]
    fn sampled_betweenness_states_an_error_that_covers_the_exact_values() {
        let graph = random_graph(300, 700, 7);
        let (exact, exact_error) = betweenness(&graph, None);
        assert_eq!(exact_error, 0.0);
        let sources = sample_sources(300, 60, 0x1a2b_3c4d);
        let (estimate, error) = betweenness(&graph, Some(&sources));
        assert!(error > 0.0);
        // The stated error is the largest standard error; every estimate lies within four of it.
        for (v, (e, x)) in estimate.iter().zip(&exact).enumerate() {
            assert!(
                (e - x).abs() <= 4.0 * error,
                "{v}: {e} vs {x} (error {error})"
            );
        }
        // And it is not vacuous: some estimate is off by more than a tenth of it.
        assert!(
            estimate
                .iter()
                .zip(&exact)
                .any(|(e, x)| (e - x).abs() > error / 10.0)
        );
    }

    #[test]
    fn the_betweenness_sample_shrinks_with_the_graph_within_its_bounds() {
        assert_eq!(betweenness_sources(4_000, 40_000), 4_000);
        assert_eq!(betweenness_sources(100_000, 1_000_000), 512);
        assert_eq!(betweenness_sources(1_000_000, 10_000_000), 136);
        assert_eq!(betweenness_sources(50_000_000, 500_000_000), 64);
    }

    #[test]
    fn communities_are_connected_and_split_parts_never_lower_the_modularity() {
        for seed in 1..6 {
            let graph = random_graph(400, 900, seed);
            let (labels, sizes, modularity) = leiden(&graph);
            assert_eq!(sizes.iter().sum::<usize>(), 400);
            // Each community is one connected piece: splitting changes nothing.
            let split = split_disconnected(&labels, &graph);
            let pieces = split.iter().copied().max().unwrap() + 1;
            assert_eq!(pieces, sizes.len(), "seed {seed}");
            assert!((modularity - modularity_of(&labels, &graph.neighbours)).abs() < 1e-12);
            assert!(modularity > 0.3, "seed {seed}: modularity {modularity}");
        }
        // Two triangles given one label: splitting raises the modularity.
        let mut graph = random_graph(6, 0, 1);
        for (a, b) in [(0, 1), (1, 2), (0, 2), (3, 4), (4, 5), (3, 5)] {
            graph.neighbours[a].push((b, 1.0));
            graph.neighbours[b].push((a, 1.0));
        }
        let one = vec![0; 6];
        let split = split_disconnected(&one, &graph);
        assert_eq!(split, [0, 0, 0, 1, 1, 1]);
        assert!(modularity_of(&split, &graph.neighbours) > modularity_of(&one, &graph.neighbours));
    }
}

#[cfg(test)]
mod karate {
    use super::*;

    /// Zachary's karate club (as igraph's `Graph.Famous("Zachary")`).
    const EDGES: [(usize, usize); 78] = [
        (0, 1),
        (0, 2),
        (0, 3),
        (0, 4),
        (0, 5),
        (0, 6),
        (0, 7),
        (0, 8),
        (0, 10),
        (0, 11),
        (0, 12),
        (0, 13),
        (0, 17),
        (0, 19),
        (0, 21),
        (0, 31),
        (1, 2),
        (1, 3),
        (1, 7),
        (1, 13),
        (1, 17),
        (1, 19),
        (1, 21),
        (1, 30),
        (2, 3),
        (2, 7),
        (2, 27),
        (2, 28),
        (2, 32),
        (2, 9),
        (2, 8),
        (2, 13),
        (3, 7),
        (3, 12),
        (3, 13),
        (4, 6),
        (4, 10),
        (5, 6),
        (5, 10),
        (5, 16),
        (6, 16),
        (8, 30),
        (8, 32),
        (8, 33),
        (9, 33),
        (13, 33),
        (14, 32),
        (14, 33),
        (15, 32),
        (15, 33),
        (18, 32),
        (18, 33),
        (19, 33),
        (20, 32),
        (20, 33),
        (22, 32),
        (22, 33),
        (23, 25),
        (23, 27),
        (23, 32),
        (23, 33),
        (23, 29),
        (24, 25),
        (24, 27),
        (24, 31),
        (25, 31),
        (26, 29),
        (26, 33),
        (27, 33),
        (28, 31),
        (28, 33),
        (29, 32),
        (29, 33),
        (30, 32),
        (30, 33),
        (31, 32),
        (31, 33),
        (32, 33),
    ];

    #[test]
    fn leiden_on_the_karate_club() {
        let mut neighbours = vec![Vec::new(); 34];
        for (a, b) in EDGES {
            neighbours[a].push((b, 1.0));
            neighbours[b].push((a, 1.0));
        }
        for list in &mut neighbours {
            list.sort_by_key(|&(j, _)| j);
        }
        let (_, sizes, modularity) = leiden(&Undirected { neighbours });
        assert_eq!(sizes.iter().sum::<usize>(), 34);
        // igraph's Leiden (modularity, iterated to convergence) reaches 0.41979; its Louvain 0.41511.
        assert!(modularity > 0.415, "{modularity}");
    }
}
