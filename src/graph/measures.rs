//! Network measures on the index: degree, PageRank, betweenness, connected components, Louvain
//! communities, and the collaboration network of universities. petgraph has neither betweenness nor
//! community detection, so they are written here on the index's adjacency.
//!
//! Definitions follow NetworkX so that results can be checked against it (`tests/it/measures.rs`):
//! - PageRank: directed; a symmetric relation (COOPERATES_WITH) counts both ways; parallel relations
//!   between the same pair add weight; damping 0.85; dangling entities spread their rank uniformly.
//! - Betweenness: on the undirected simple graph, normalised by `(n-1)(n-2)`; exact (Brandes) up to
//!   [`EXACT_BETWEENNESS_LIMIT`] entities, else estimated from a fixed, seeded sample of sources and
//!   labelled so.
//! - Components: weakly connected. Communities: Louvain on the undirected graph weighted by the number
//!   of relations between two entities, visiting entities in id order, so the result is deterministic.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

use petgraph::Direction as PgDirection;
use petgraph::stable_graph::NodeIndex;
use petgraph::visit::{EdgeRef, IntoEdgeReferences};
use rustc_hash::FxHashMap;

use super::GraphIndex;
use crate::model::{Entity, EntityKind, RelationKind};

/// Above this many entities, betweenness is estimated from a sample of sources.
pub const EXACT_BETWEENNESS_LIMIT: usize = 5_000;
/// How many sources the betweenness estimate uses.
pub const BETWEENNESS_SAMPLE: usize = 512;

/// Which centrality to rank by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Centrality {
    PageRank,
    Betweenness,
    Degree,
}

/// Every measure, computed once per generation of the index and cached by the caller.
#[derive(Clone, Debug)]
pub struct Measures {
    /// The index generation these were computed from.
    pub generation: u64,
    /// When they were computed.
    pub computed_at: std::time::SystemTime,
    /// Entity ids in id order; every vector below is indexed like this one.
    pub ids: Vec<Arc<str>>,
    position: HashMap<Arc<str>, usize>,
    pub degree: Vec<usize>,
    pub pagerank: Vec<f64>,
    pub betweenness: Vec<f64>,
    /// `Some(k)` when betweenness was estimated from `k` sampled sources rather than computed exactly.
    pub betweenness_sample: Option<usize>,
    /// Weakly connected component of each entity; components are numbered by size, largest first.
    pub component: Vec<usize>,
    pub component_sizes: Vec<usize>,
    /// Louvain community of each entity; communities are numbered by size, largest first.
    pub community: Vec<usize>,
    pub community_sizes: Vec<usize>,
    /// Modularity of the community partition.
    pub modularity: f64,
}

impl Measures {
    pub fn position(&self, id: &str) -> Option<usize> {
        self.position.get(id).copied()
    }

    /// Entity positions ranked by a measure, highest first, ties by id.
    pub fn ranking(&self, measure: Centrality) -> Vec<usize> {
        let mut order: Vec<usize> = (0..self.ids.len()).collect();
        let score = |i: usize| match measure {
            Centrality::PageRank => self.pagerank[i],
            Centrality::Betweenness => self.betweenness[i],
            Centrality::Degree => self.degree[i] as f64,
        };
        order.sort_by(|&a, &b| {
            score(b)
                .total_cmp(&score(a))
                .then_with(|| self.ids[a].cmp(&self.ids[b]))
        });
        order
    }
}

/// Undirected weighted adjacency in id order: the shared input of betweenness, components, Louvain.
struct Undirected {
    /// neighbours[i] = (j, weight) for j != i, sorted by j.
    neighbours: Vec<Vec<(usize, f64)>>,
}

impl MeasureInput {
    /// Computes every measure; needs no lock.
    pub fn compute(self) -> Measures {
        let MeasureInput {
            generation,
            ids,
            position,
            degree,
            undirected,
            directed,
        } = self;
        let n = ids.len();
        let pagerank = pagerank(&directed, 0.85, 1e-10, 200);
        let (betweenness, betweenness_sample) = if n <= EXACT_BETWEENNESS_LIMIT {
            (betweenness(&undirected, None), None)
        } else {
            let sources = sample_sources(n, BETWEENNESS_SAMPLE, 0x1a2b_3c4d);
            (
                betweenness(&undirected, Some(&sources)),
                Some(sources.len()),
            )
        };
        let (component, component_sizes) = components(&undirected);
        let (community, community_sizes, modularity) = louvain(&undirected);
        Measures {
            generation,
            computed_at: std::time::SystemTime::now(),
            ids,
            position,
            degree,
            pagerank,
            betweenness,
            betweenness_sample,
            component,
            component_sizes,
            community,
            community_sizes,
            modularity,
        }
    }
}

/// What the measures are computed from, copied out of the index so that the computation (seconds on
/// a large graph) runs without holding the index's lock.
pub struct MeasureInput {
    generation: u64,
    ids: Vec<Arc<str>>,
    position: HashMap<Arc<str>, usize>,
    degree: Vec<usize>,
    undirected: Undirected,
    directed: Vec<Vec<(usize, f64)>>,
}

impl GraphIndex {
    /// Computes every measure from the current index.
    pub fn measures(&self) -> Measures {
        self.measure_input(None).compute()
    }

    /// Copies what the measures need out of the index (linear in its size): the subgraph of the
    /// entities of `kinds` (all when `None`) and the relations among them.
    pub fn measure_input(&self, kinds: Option<&[EntityKind]>) -> MeasureInput {
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
        let index_of: FxHashMap<NodeIndex, usize> =
            nodes.iter().enumerate().map(|(i, &n)| (n, i)).collect();
        let n = nodes.len();

        // Directed weighted out-adjacency for PageRank, and the undirected simple graph.
        let mut undirected: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); n];
        let mut degree = vec![0usize; n];
        for edge in self.graph.edge_references() {
            let (Some(&s), Some(&t)) = (index_of.get(&edge.source()), index_of.get(&edge.target()))
            else {
                continue;
            };
            degree[s] += 1;
            degree[t] += 1;
            if s != t {
                *undirected[s].entry(t).or_default() += 1.0;
                *undirected[t].entry(s).or_default() += 1.0;
            }
        }
        let undirected = Undirected {
            neighbours: undirected
                .into_iter()
                .map(|m| m.into_iter().collect())
                .collect(),
        };
        MeasureInput {
            generation: self.generation,
            ids,
            position,
            degree,
            undirected,
            directed: self.directed_adjacency(&index_of),
        }
    }
    /// PageRank alone (as in [`GraphIndex::measures`]), in id order of the entities.
    pub fn pagerank(&self) -> Vec<f64> {
        let index_of: FxHashMap<NodeIndex, usize> = self
            .nodes
            .values()
            .enumerate()
            .map(|(i, &n)| (n, i))
            .collect();
        pagerank(&self.directed_adjacency(&index_of), 0.85, 1e-10, 200)
    }

    /// Out-neighbours of each entity (positions per `index_of`), a symmetric relation counting both
    /// ways; parallel relations appear once each, so they add weight.
    fn directed_adjacency(&self, index_of: &FxHashMap<NodeIndex, usize>) -> Vec<Vec<(usize, f64)>> {
        let mut out: Vec<Vec<(usize, f64)>> = vec![Vec::new(); index_of.len()];
        for edge in self.graph.edge_references() {
            let (Some(&s), Some(&t)) = (index_of.get(&edge.source()), index_of.get(&edge.target()))
            else {
                continue;
            };
            out[s].push((t, 1.0));
            if edge.weight().kind.is_symmetric() {
                out[t].push((s, 1.0));
            }
        }
        out
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
/// scaled by n / k as NetworkX does), normalised by (n-1)(n-2).
fn betweenness(graph: &Undirected, sources: Option<&[usize]>) -> Vec<f64> {
    let n = graph.neighbours.len();
    let mut centrality = vec![0.0; n];
    let all: Vec<usize> = (0..n).collect();
    let sources = sources.unwrap_or(&all);
    let mut sigma = vec![0.0f64; n];
    let mut distance = vec![-1i64; n];
    let mut delta = vec![0.0f64; n];
    let mut predecessors: Vec<Vec<usize>> = vec![Vec::new(); n];
    for &s in sources {
        let mut stack = Vec::new();
        for v in 0..n {
            predecessors[v].clear();
            sigma[v] = 0.0;
            distance[v] = -1;
            delta[v] = 0.0;
        }
        sigma[s] = 1.0;
        distance[s] = 0;
        let mut queue = VecDeque::from([s]);
        while let Some(v) = queue.pop_front() {
            stack.push(v);
            for &(w, _) in &graph.neighbours[v] {
                if distance[w] < 0 {
                    distance[w] = distance[v] + 1;
                    queue.push_back(w);
                }
                if distance[w] == distance[v] + 1 {
                    sigma[w] += sigma[v];
                    predecessors[w].push(v);
                }
            }
        }
        while let Some(w) = stack.pop() {
            for &v in &predecessors[w] {
                delta[v] += sigma[v] / sigma[w] * (1.0 + delta[w]);
            }
            if w != s {
                centrality[w] += delta[w];
            }
        }
    }
    let mut scale = if n > 2 {
        1.0 / ((n - 1) * (n - 2)) as f64
    } else {
        1.0
    };
    if sources.len() < n && !sources.is_empty() {
        scale *= n as f64 / sources.len() as f64;
    }
    centrality.iter().map(|c| c * scale).collect()
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

/// Louvain community detection (resolution 1): local moves in id order until no gain, then
/// aggregation, repeated while the modularity improves.
fn louvain(graph: &Undirected) -> (Vec<usize>, Vec<usize>, f64) {
    let n = graph.neighbours.len();
    if n == 0 {
        return (Vec::new(), Vec::new(), 0.0);
    }
    // The current level's graph: adjacency with self-loop weights, and each original node's group.
    let mut adjacency: Vec<Vec<(usize, f64)>> = graph.neighbours.clone();
    let mut self_loops: Vec<f64> = vec![0.0; n];
    let mut membership: Vec<usize> = (0..n).collect();
    let total: f64 = graph
        .neighbours
        .iter()
        .flatten()
        .map(|&(_, w)| w)
        .sum::<f64>()
        / 2.0;
    if total == 0.0 {
        return renumbered_with_modularity(&membership, graph);
    }
    loop {
        let size = adjacency.len();
        let strength: Vec<f64> = (0..size)
            .map(|i| adjacency[i].iter().map(|&(_, w)| w).sum::<f64>() + 2.0 * self_loops[i])
            .collect();
        let mut community: Vec<usize> = (0..size).collect();
        let mut community_strength = strength.clone();
        let mut moved_any = false;
        loop {
            let mut moved = false;
            for node in 0..size {
                let current = community[node];
                let mut links: BTreeMap<usize, f64> = BTreeMap::new();
                for &(other, w) in &adjacency[node] {
                    *links.entry(community[other]).or_default() += w;
                }
                community_strength[current] -= strength[node];
                let gain = |c: usize, link: f64| {
                    link - community_strength[c] * strength[node] / (2.0 * total)
                };
                let mut best = current;
                let mut best_gain = gain(current, links.get(&current).copied().unwrap_or(0.0));
                for (&c, &link) in &links {
                    let g = gain(c, link);
                    if g > best_gain + 1e-12 {
                        best = c;
                        best_gain = g;
                    }
                }
                community_strength[best] += strength[node];
                if best != current {
                    community[node] = best;
                    moved = true;
                    moved_any = true;
                }
            }
            if !moved {
                break;
            }
        }
        if !moved_any {
            break;
        }
        // Aggregate: communities become nodes.
        let mut relabel: BTreeMap<usize, usize> = BTreeMap::new();
        for &c in &community {
            let next = relabel.len();
            relabel.entry(c).or_insert(next);
        }
        let count = relabel.len();
        for group in membership.iter_mut() {
            *group = relabel[&community[*group]];
        }
        let mut next_adjacency: Vec<BTreeMap<usize, f64>> = vec![BTreeMap::new(); count];
        let mut next_loops = vec![0.0; count];
        for node in 0..size {
            let a = relabel[&community[node]];
            next_loops[a] += self_loops[node];
            for &(other, w) in &adjacency[node] {
                let b = relabel[&community[other]];
                if a == b {
                    // Each internal edge is seen from both ends.
                    next_loops[a] += w / 2.0;
                } else {
                    *next_adjacency[a].entry(b).or_default() += w;
                }
            }
        }
        adjacency = next_adjacency
            .into_iter()
            .map(|m| m.into_iter().collect())
            .collect();
        self_loops = next_loops;
        if count == size {
            break;
        }
    }
    renumbered_with_modularity(&membership, graph)
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
