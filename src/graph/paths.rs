//! Paths and reachability on the index: shortest path (per-hop steps, allowed intermediate kinds),
//! the k shortest simple paths (Yen), all simple paths, reachable sets with distances, and common
//! neighbours. Every search is bounded by a [`Budget`] and ordered deterministically: shorter first,
//! then by the ids along the path.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use rustc_hash::FxHashMap;

use super::{Budget, GraphIndex, Hops, PathView, TraversalError};
use crate::model::{Entity, EntityKind};

/// Constraints on a path search beyond the steps: which entities a path may pass through.
#[derive(Clone, Debug, Default)]
pub struct PathRules<'a> {
    /// Kinds allowed for intermediate entities (not the two ends); `None` allows all.
    pub via: Option<&'a [EntityKind]>,
}

impl PathRules<'_> {
    fn may_pass(&self, entity: &Entity) -> bool {
        self.via.is_none_or(|kinds| kinds.contains(&entity.kind))
    }
}

/// What one side of a bidirectional search has reached: distance and the step it came by.
/// What expanding one layer of a bidirectional search gave.
enum Expanded {
    /// The next frontier: the search goes on.
    Frontier(Vec<NodeIndex>),
    /// The entity where the two sides met.
    Met(NodeIndex),
}

type Reached = FxHashMap<NodeIndex, (u32, Option<(NodeIndex, EdgeIndex)>)>;

/// Nodes and edges a search may not use (Yen's spur searches).
struct Bans<'a> {
    nodes: &'a HashSet<NodeIndex>,
    edges: &'a HashSet<EdgeIndex>,
}

/// One layer expansion of a bidirectional search.
struct Layer<'a, 'r> {
    frontier: &'a [NodeIndex],
    depth: u32,
    step: super::Step,
    /// The two ends of the path, which `via` rules do not constrain.
    ends: (NodeIndex, NodeIndex),
    rules: &'a PathRules<'r>,
    bans: &'a Bans<'a>,
    budget: Budget,
}

/// The state of one depth-first pass of [`GraphIndex::all_paths`].
struct PathSearch<'h, 'v> {
    goal: NodeIndex,
    hops: &'h Hops,
    rules: &'h PathRules<'h>,
    length: u32,
    budget: Budget,
    path: RawPath,
    on_path: HashSet<NodeIndex>,
    found: Vec<RawPath>,
    visits: &'v mut usize,
}

/// A path as nodes and the edges between them.
#[derive(Clone, Debug, PartialEq, Eq)]
struct RawPath {
    nodes: Vec<NodeIndex>,
    edges: Vec<EdgeIndex>,
}

impl GraphIndex {
    /// A shortest path from `from` to `to` within `max_depth` hops, or `None`. Among equally short
    /// paths, the one whose ids come first (breadth-first with sorted expansion) wins.
    pub fn shortest_path(
        &self,
        from: &str,
        to: &str,
        hops: &Hops,
        rules: &PathRules<'_>,
        max_depth: u32,
        budget: Budget,
    ) -> Result<Option<PathView>, TraversalError> {
        let (Some(&start), Some(&goal)) = (self.nodes.get(from), self.nodes.get(to)) else {
            return Ok(None);
        };
        let path = self.shortest_unbanned(start, goal, hops, rules, max_depth, budget)?;
        Ok(path.map(|p| self.path_view(&p)))
    }

    /// A shortest path that may use every entity and relation.
    fn shortest_unbanned(
        &self,
        start: NodeIndex,
        goal: NodeIndex,
        hops: &Hops,
        rules: &PathRules<'_>,
        max_depth: u32,
        budget: Budget,
    ) -> Result<Option<RawPath>, TraversalError> {
        self.shortest_raw(
            start,
            goal,
            hops,
            rules,
            max_depth,
            &HashSet::new(),
            &HashSet::new(),
            budget,
        )
    }

    /// Breadth-first search over (entity, hop position) states, skipping banned nodes and edges.
    #[allow(clippy::too_many_arguments)]
    fn shortest_raw(
        &self,
        start: NodeIndex,
        goal: NodeIndex,
        hops: &Hops,
        rules: &PathRules<'_>,
        max_depth: u32,
        banned_nodes: &HashSet<NodeIndex>,
        banned_edges: &HashSet<EdgeIndex>,
        budget: Budget,
    ) -> Result<Option<RawPath>, TraversalError> {
        if start == goal {
            return Ok(Some(RawPath {
                nodes: vec![start],
                edges: vec![],
            }));
        }
        if let Hops::Same(step) = hops {
            let bans = Bans {
                nodes: banned_nodes,
                edges: banned_edges,
            };
            return self.bidirectional(start, goal, *step, rules, max_depth, &bans, budget);
        }
        let positions = hops.positions();
        let state = |node: NodeIndex, depth: u32| (node, (depth as usize).min(positions - 1));
        // state -> (previous state, edge taken)
        let mut parent: HashMap<(NodeIndex, usize), ((NodeIndex, usize), EdgeIndex)> =
            HashMap::new();
        let mut frontier = vec![state(start, 0)];
        let mut seen: HashSet<(NodeIndex, usize)> = frontier.iter().copied().collect();
        let mut found = None;
        'search: for depth in 0..max_depth {
            let step = hops.at(depth);
            let mut next = Vec::new();
            for &current in &frontier {
                let mut moves: Vec<(EdgeIndex, NodeIndex)> = self
                    .steps_from(current.0, step)
                    .filter(|(edge, neighbour)| {
                        !banned_edges.contains(edge) && !banned_nodes.contains(neighbour)
                    })
                    .collect();
                moves.sort_by(|a, b| {
                    self.graph[a.1]
                        .order(&self.graph[b.1])
                        .then(self.graph[a.0].kind.cmp(&self.graph[b.0].kind))
                });
                for (edge, neighbour) in moves {
                    if neighbour != goal && !rules.may_pass(&self.graph[neighbour]) {
                        continue;
                    }
                    let reached = state(neighbour, depth + 1);
                    if neighbour == start || !seen.insert(reached) {
                        continue;
                    }
                    budget.check(seen.len())?;
                    parent.insert(reached, (current, edge));
                    if neighbour == goal {
                        found = Some(reached);
                        break 'search;
                    }
                    next.push(reached);
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        let Some(mut at) = found else { return Ok(None) };
        let mut nodes = vec![goal];
        let mut edges = Vec::new();
        while let Some(&(previous, edge)) = parent.get(&at) {
            edges.push(edge);
            nodes.push(previous.0);
            at = previous;
        }
        nodes.reverse();
        edges.reverse();
        Ok(Some(RawPath { nodes, edges }))
    }

    /// Bidirectional breadth-first search: expands the smaller frontier a layer at a time and stops at
    /// the first entity where the two searches meet (ties between equally short paths: the first met
    /// in breadth-first order). Expansions follow id order, so the answer depends on the graph's
    /// content only, never on insertion order.
    #[allow(clippy::too_many_arguments)]
    fn bidirectional(
        &self,
        start: NodeIndex,
        goal: NodeIndex,
        step: super::Step,
        rules: &PathRules<'_>,
        max_depth: u32,
        bans: &Bans<'_>,
        budget: Budget,
    ) -> Result<Option<RawPath>, TraversalError> {
        let backward_step = super::Step {
            direction: match step.direction {
                super::Direction::Out => super::Direction::In,
                super::Direction::In => super::Direction::Out,
                super::Direction::Both => super::Direction::Both,
            },
            ..step
        };
        let mut forward: Reached = FxHashMap::with_capacity_and_hasher(512, Default::default());
        forward.insert(start, (0, None));
        let mut backward: Reached = FxHashMap::with_capacity_and_hasher(512, Default::default());
        backward.insert(goal, (0, None));
        let mut forward_frontier = vec![start];
        let mut backward_frontier = vec![goal];
        let (mut forward_depth, mut backward_depth) = (0u32, 0u32);
        let ends = (start, goal);
        while forward_depth + backward_depth < max_depth
            && !forward_frontier.is_empty()
            && !backward_frontier.is_empty()
        {
            let go_forward = forward_frontier.len() <= backward_frontier.len();
            let expanded = if go_forward {
                forward_depth += 1;
                let layer = Layer {
                    frontier: &forward_frontier,
                    depth: forward_depth,
                    step,
                    ends,
                    rules,
                    bans,
                    budget,
                };
                self.expand(&layer, &mut forward, &backward)?
            } else {
                backward_depth += 1;
                let layer = Layer {
                    frontier: &backward_frontier,
                    depth: backward_depth,
                    step: backward_step,
                    ends,
                    rules,
                    bans,
                    budget,
                };
                self.expand(&layer, &mut backward, &forward)?
            };
            match expanded {
                Expanded::Met(meeting) => {
                    return Ok(Some(self.join(meeting, &forward, &backward)));
                }
                Expanded::Frontier(next) if go_forward => forward_frontier = next,
                Expanded::Frontier(next) => backward_frontier = next,
            }
        }
        Ok(None)
    }

    /// Expands one layer of one side of a bidirectional search; returns the next frontier, or the first
    /// entity where it met the other side (every meeting of a layer gives the same length, so the
    /// first in breadth-first order — frontier in order, neighbours in id order — is as short as any).
    fn expand(
        &self,
        layer: &Layer<'_, '_>,
        this: &mut Reached,
        other: &Reached,
    ) -> Result<Expanded, TraversalError> {
        let mut next = Vec::new();
        let banned = !layer.bans.edges.is_empty() || !layer.bans.nodes.is_empty();
        for &node in layer.frontier {
            // Adjacency lists are in (id, kind, outgoing first) order: content alone decides which
            // relation reaches a neighbour first.
            for adjacent in self.adjacent(node, layer.step) {
                let (edge, neighbour) = (adjacent.edge, adjacent.neighbour);
                if this.contains_key(&neighbour)
                    || (banned
                        && (layer.bans.edges.contains(&edge)
                            || layer.bans.nodes.contains(&neighbour)))
                {
                    continue;
                }
                let is_end = neighbour == layer.ends.0 || neighbour == layer.ends.1;
                if !is_end
                    && layer.rules.via.is_some()
                    && !layer.rules.may_pass(&self.graph[neighbour])
                {
                    continue;
                }
                this.insert(neighbour, (layer.depth, Some((node, edge))));
                layer.budget.check(this.len() + other.len())?;
                if other.contains_key(&neighbour) {
                    return Ok(Expanded::Met(neighbour));
                }
                next.push(neighbour);
            }
        }
        Ok(Expanded::Frontier(next))
    }

    /// The path start → meeting (forward parents) → goal (backward parents).
    fn join(&self, meeting: NodeIndex, forward: &Reached, backward: &Reached) -> RawPath {
        let mut nodes = vec![meeting];
        let mut edges = Vec::new();
        let mut at = meeting;
        while let Some(&(_, Some((previous, edge)))) = forward.get(&at) {
            nodes.push(previous);
            edges.push(edge);
            at = previous;
        }
        nodes.reverse();
        edges.reverse();
        let mut at = meeting;
        while let Some(&(_, Some((next, edge)))) = backward.get(&at) {
            nodes.push(next);
            edges.push(edge);
            at = next;
        }
        RawPath { nodes, edges }
    }

    /// The `k` shortest simple paths from `from` to `to` (Yen's algorithm over breadth-first search),
    /// shortest first, ties broken by the ids along the path.
    #[allow(clippy::too_many_arguments)]
    pub fn k_shortest_paths(
        &self,
        from: &str,
        to: &str,
        k: usize,
        hops: &Hops,
        rules: &PathRules<'_>,
        max_depth: u32,
        budget: Budget,
    ) -> Result<Vec<PathView>, TraversalError> {
        let (Some(&start), Some(&goal)) = (self.nodes.get(from), self.nodes.get(to)) else {
            return Ok(Vec::new());
        };
        if k == 0 {
            return Ok(Vec::new());
        }
        let Some(first) = self.shortest_unbanned(start, goal, hops, rules, max_depth, budget)?
        else {
            return Ok(Vec::new());
        };
        let mut accepted: Vec<RawPath> = vec![first];
        let mut candidates: Vec<RawPath> = Vec::new();
        while accepted.len() < k {
            let last = accepted.last().expect("at least one accepted path").clone();
            for spur_index in 0..last.edges.len() {
                let spur_node = last.nodes[spur_index];
                let root_nodes = &last.nodes[..=spur_index];
                let root_edges = &last.edges[..spur_index];
                let mut banned_edges = HashSet::new();
                for path in &accepted {
                    if path.nodes.len() > spur_index && path.nodes[..=spur_index] == *root_nodes {
                        banned_edges.insert(path.edges[spur_index]);
                    }
                }
                let banned_nodes: HashSet<NodeIndex> =
                    root_nodes[..spur_index].iter().copied().collect();
                let remaining = max_depth.saturating_sub(spur_index as u32);
                let spur_hops = hops.starting_at(spur_index as u32);
                let Some(spur) = self.shortest_raw(
                    spur_node,
                    goal,
                    &spur_hops,
                    rules,
                    remaining,
                    &banned_nodes,
                    &banned_edges,
                    budget,
                )?
                else {
                    continue;
                };
                let mut nodes = root_nodes.to_vec();
                nodes.extend_from_slice(&spur.nodes[1..]);
                let mut edges = root_edges.to_vec();
                edges.extend_from_slice(&spur.edges);
                let candidate = RawPath { nodes, edges };
                if !accepted.contains(&candidate) && !candidates.contains(&candidate) {
                    candidates.push(candidate);
                }
            }
            if candidates.is_empty() {
                break;
            }
            candidates.sort_by(|a, b| self.path_order(a, b));
            accepted.push(candidates.remove(0));
        }
        Ok(accepted.iter().map(|p| self.path_view(p)).collect())
    }

    /// Every simple path from `from` to `to` of at most `max_depth` hops, shortest first, then by ids;
    /// at most `limit` of them. Returns the paths and whether more exist. Searches by iterative
    /// deepening, so the shortest paths are found first whatever the limit.
    #[allow(clippy::too_many_arguments)]
    pub fn all_paths(
        &self,
        from: &str,
        to: &str,
        hops: &Hops,
        rules: &PathRules<'_>,
        max_depth: u32,
        limit: usize,
        budget: Budget,
    ) -> Result<(Vec<PathView>, bool), TraversalError> {
        let (Some(&start), Some(&goal)) = (self.nodes.get(from), self.nodes.get(to)) else {
            return Ok((Vec::new(), false));
        };
        let mut found: Vec<RawPath> = Vec::new();
        let mut visits = 0usize;
        for length in 1..=max_depth {
            let mut search = PathSearch {
                goal,
                hops,
                rules,
                length,
                budget,
                path: RawPath {
                    nodes: vec![start],
                    edges: vec![],
                },
                on_path: HashSet::from([start]),
                found: Vec::new(),
                visits: &mut visits,
            };
            self.dfs_paths(&mut search)?;
            let mut level = search.found;
            level.sort_by(|a, b| self.path_order(a, b));
            found.extend(level);
            if found.len() > limit {
                break;
            }
        }
        let more = found.len() > limit;
        found.truncate(limit);
        Ok((found.iter().map(|p| self.path_view(p)).collect(), more))
    }

    /// Depth-first search for simple paths of exactly `search.length` hops.
    fn dfs_paths(&self, search: &mut PathSearch<'_, '_>) -> Result<(), TraversalError> {
        let depth = search.path.edges.len() as u32;
        if depth >= search.length {
            return Ok(());
        }
        let current = *search.path.nodes.last().expect("a path has a start");
        let mut moves: Vec<(EdgeIndex, NodeIndex)> =
            self.steps_from(current, search.hops.at(depth)).collect();
        moves.sort_by(|a, b| {
            self.graph[a.1]
                .order(&self.graph[b.1])
                .then(self.graph[a.0].kind.cmp(&self.graph[b.0].kind))
        });
        for (edge, neighbour) in moves {
            if search.on_path.contains(&neighbour) {
                continue;
            }
            *search.visits += 1;
            search.budget.check(*search.visits)?;
            if neighbour == search.goal {
                if depth + 1 == search.length {
                    let mut complete = search.path.clone();
                    complete.nodes.push(neighbour);
                    complete.edges.push(edge);
                    search.found.push(complete);
                }
                continue;
            }
            if !search.rules.may_pass(&self.graph[neighbour]) {
                continue;
            }
            search.path.nodes.push(neighbour);
            search.path.edges.push(edge);
            search.on_path.insert(neighbour);
            self.dfs_paths(search)?;
            search.on_path.remove(&neighbour);
            search.path.nodes.pop();
            search.path.edges.pop();
        }
        Ok(())
    }

    /// Every entity reachable from `from` in `min_depth..=max_depth` hops, each with its distance,
    /// nearest first then by id; `kinds` filters what is returned.
    pub fn reachable(
        &self,
        from: &str,
        hops: &Hops,
        min_depth: u32,
        max_depth: u32,
        kinds: Option<&[EntityKind]>,
        budget: Budget,
    ) -> Result<Vec<(Arc<Entity>, u32)>, TraversalError> {
        let Some(&start) = self.nodes.get(from) else {
            return Ok(Vec::new());
        };
        let reached = self.bfs(&[start], hops, max_depth, None, budget)?;
        Ok(reached
            .into_iter()
            .filter(|&(n, d)| d >= min_depth && d > 0 && n != start)
            .map(|(n, d)| (self.graph[n].entity.clone(), d))
            .filter(|(e, _)| kinds.is_none_or(|k| k.contains(&e.kind)))
            .collect())
    }

    /// Entities reachable from both `a` and `b` within `depth` hops (of `kinds` when given), with
    /// their distance from each, ordered by the sum of distances, then by id.
    pub fn common_neighbors(
        &self,
        a: &str,
        b: &str,
        hops: &Hops,
        depth: u32,
        kinds: Option<&[EntityKind]>,
        budget: Budget,
    ) -> Result<Vec<(Arc<Entity>, u32, u32)>, TraversalError> {
        let from_a: HashMap<Arc<str>, (Arc<Entity>, u32)> = self
            .reachable(a, hops, 1, depth, kinds, budget)?
            .into_iter()
            .map(|(e, d)| (Arc::from(e.id.as_str()), (e, d)))
            .collect();
        let mut common: Vec<(Arc<Entity>, u32, u32)> = self
            .reachable(b, hops, 1, depth, kinds, budget)?
            .into_iter()
            .filter(|(e, _)| e.id != a && e.id != b)
            .filter_map(|(e, db)| {
                from_a
                    .get(e.id.as_str())
                    .map(|(_, da)| (e.clone(), *da, db))
            })
            .collect();
        common.sort_by(|x, y| (x.1 + x.2, &x.0.id).cmp(&(y.1 + y.2, &y.0.id)));
        Ok(common)
    }

    /// Shorter paths first, then by the ids of their entities, then by relation kinds.
    fn path_order(&self, a: &RawPath, b: &RawPath) -> std::cmp::Ordering {
        let key = |p: &RawPath| {
            let ids: Vec<&str> = p.nodes.iter().map(|&n| self.graph[n].id.as_str()).collect();
            let kinds: Vec<_> = p.edges.iter().map(|&e| self.graph[e].kind).collect();
            (p.edges.len(), ids, kinds)
        };
        key(a).cmp(&key(b))
    }

    fn path_view(&self, path: &RawPath) -> PathView {
        PathView {
            entities: path
                .nodes
                .iter()
                .map(|&n| self.graph[n].entity.clone())
                .collect(),
            relations: path.edges.iter().map(|&e| self.view(e)).collect(),
        }
    }
}

impl Hops {
    /// The same hops, starting at position `offset` (for a search that resumes mid-path).
    pub(crate) fn starting_at(&self, offset: u32) -> Hops {
        match self {
            Hops::Same(step) => Hops::Same(*step),
            Hops::PerHop(steps) => {
                let start = (offset as usize).min(steps.len().saturating_sub(1));
                Hops::PerHop(steps[start..].to_vec())
            }
        }
    }
}
