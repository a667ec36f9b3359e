//! The in-memory graph index: the only module that imports petgraph.
//!
//! Built from the store at start-up ([`GraphIndex::from_snapshot`]) and updated in place on every write;
//! never persisted (entity ids are, node indices are not). Every traversal runs here, bounded by a
//! [`Budget`] of depth, size and time, and returns results in a deterministic order (nearest first, then
//! by id) so that a live index and one rebuilt after a restart answer identically.
//!
//! Edges hold only what traversal needs (kind and years); the full relation with its evidence is read
//! from the store when a client asks for it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use petgraph::Direction as PgDirection;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;

use crate::model::{Document, Entity, EntityKind, Relation, RelationKind};
use crate::store::Snapshot;

/// Which way to follow relations from an entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From source to target.
    Out,
    /// From target to source.
    In,
    /// Either way.
    Both,
}

/// A set of relation kinds, as a bit mask; `KindSet::ALL` when a query names none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct KindSet(u32);

impl KindSet {
    pub const ALL: KindSet = KindSet(u32::MAX);

    pub fn of(kinds: &[RelationKind]) -> KindSet {
        KindSet(kinds.iter().fold(0, |mask, &k| mask | (1 << k as u32)))
    }

    /// `None` (no filter given) means every kind.
    pub fn from_option(kinds: Option<&[RelationKind]>) -> KindSet {
        kinds.map_or(KindSet::ALL, KindSet::of)
    }

    pub fn contains(self, kind: RelationKind) -> bool {
        self.0 & (1 << kind as u32) != 0
    }
}

/// How to take one step: which relation kinds, which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub relations: KindSet,
    pub direction: Direction,
}

impl Step {
    pub fn new(relations: KindSet, direction: Direction) -> Step {
        Step {
            relations,
            direction,
        }
    }
}

/// What a traversal may spend. Exceeding it is an error that names the limit.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Entities a traversal may visit.
    pub max_visits: usize,
    pub deadline: Instant,
}

impl Budget {
    pub fn new(max_visits: usize, time: Duration) -> Budget {
        Budget {
            max_visits,
            deadline: Instant::now() + time,
        }
    }

    fn check(&self, visits: usize) -> Result<(), TraversalError> {
        if visits > self.max_visits {
            return Err(TraversalError::VisitLimit {
                limit: self.max_visits,
            });
        }
        // Reading the clock is cheap, but not free: look at it every 1024 visits.
        if visits.is_multiple_of(1024) && Instant::now() > self.deadline {
            return Err(TraversalError::TimeLimit);
        }
        Ok(())
    }
}

/// A traversal that could not finish within its budget.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TraversalError {
    #[error(
        "the traversal visited more than {limit} entities; narrow it with `relations`, `direction` or a smaller depth"
    )]
    VisitLimit { limit: usize },
    #[error(
        "the traversal ran out of time; narrow it with `relations`, `direction` or a smaller depth"
    )]
    TimeLimit,
}

/// The data an edge carries in memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub kind: RelationKind,
    /// The year the sources give for the fact.
    pub year: Option<i32>,
    /// The earliest publication year among the documents that state it.
    pub first_seen: Option<i32>,
}

/// A relation as the index sees it: both endpoints and the edge data.
#[derive(Clone, Debug, PartialEq)]
pub struct RelationView {
    pub source: Arc<Entity>,
    pub target: Arc<Entity>,
    pub edge: Edge,
}

impl RelationView {
    pub fn id(&self) -> String {
        crate::model::relation_id(&self.source.id, self.edge.kind, &self.target.id)
    }
}

/// A path: entities from start to end, and the relation taken at each hop.
#[derive(Clone, Debug, PartialEq)]
pub struct PathView {
    pub entities: Vec<Arc<Entity>>,
    pub relations: Vec<RelationView>,
}

/// Entities and the relations among them, as a neighbourhood query returns them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SubgraphView {
    pub entities: Vec<Arc<Entity>>,
    pub relations: Vec<RelationView>,
    /// Why the subgraph stops short of what was asked, if it does.
    pub truncated: Option<String>,
}

/// The graph in memory.
#[derive(Clone, Default)]
pub struct GraphIndex {
    graph: StableDiGraph<Arc<Entity>, Edge>,
    /// Entity id → node; ordered so that listings page by id.
    nodes: BTreeMap<String, NodeIndex>,
    documents: BTreeMap<String, Arc<Document>>,
}

impl GraphIndex {
    /// Builds the index from everything the store holds.
    pub fn from_snapshot(snapshot: Snapshot) -> GraphIndex {
        let mut index = GraphIndex::default();
        for document in snapshot.documents {
            index.put_document(document);
        }
        for entity in snapshot.entities {
            index.put_entity(entity);
        }
        for relation in &snapshot.relations {
            index.put_relation(relation);
        }
        index
    }

    pub fn put_document(&mut self, document: Document) {
        self.documents
            .insert(document.id.clone(), Arc::new(document));
    }

    /// Inserts an entity or replaces it in place, keeping its relations.
    pub fn put_entity(&mut self, entity: Entity) {
        match self.nodes.get(&entity.id) {
            Some(&node) => self.graph[node] = Arc::new(entity),
            None => {
                let id = entity.id.clone();
                let node = self.graph.add_node(Arc::new(entity));
                self.nodes.insert(id, node);
            }
        }
    }

    /// Removes an entity and every relation touching it.
    pub fn remove_entity(&mut self, id: &str) -> bool {
        let Some(node) = self.nodes.remove(id) else {
            return false;
        };
        self.graph.remove_node(node);
        true
    }

    /// Inserts a relation or replaces the one with the same source, kind and target. Both endpoints
    /// must exist; returns false (and changes nothing) when one does not.
    pub fn put_relation(&mut self, relation: &Relation) -> bool {
        let (Some(&source), Some(&target)) = (
            self.nodes.get(&relation.source),
            self.nodes.get(&relation.target),
        ) else {
            return false;
        };
        let first_seen = relation
            .evidence
            .iter()
            .filter_map(|e| self.documents.get(&e.document).and_then(|d| d.year()))
            .min();
        let edge = Edge {
            kind: relation.kind,
            year: relation.year,
            first_seen,
        };
        match self.find_edge(source, relation.kind, target) {
            Some(existing) => self.graph[existing] = edge,
            None => {
                self.graph.add_edge(source, target, edge);
            }
        }
        true
    }

    pub fn remove_relation(&mut self, source: &str, kind: RelationKind, target: &str) -> bool {
        let (Some(&s), Some(&t)) = (self.nodes.get(source), self.nodes.get(target)) else {
            return false;
        };
        match self.find_edge(s, kind, t) {
            Some(edge) => self.graph.remove_edge(edge).is_some(),
            None => false,
        }
    }

    fn find_edge(
        &self,
        source: NodeIndex,
        kind: RelationKind,
        target: NodeIndex,
    ) -> Option<EdgeIndex> {
        self.graph
            .edges_connecting(source, target)
            .find(|e| e.weight().kind == kind)
            .map(|e| e.id())
    }

    pub fn entity(&self, id: &str) -> Option<&Arc<Entity>> {
        self.nodes.get(id).map(|&n| &self.graph[n])
    }

    pub fn contains(&self, id: &str) -> bool {
        self.nodes.contains_key(id)
    }

    pub fn relation(&self, source: &str, kind: RelationKind, target: &str) -> Option<RelationView> {
        let (&s, &t) = (self.nodes.get(source)?, self.nodes.get(target)?);
        self.find_edge(s, kind, t).map(|e| self.view(e))
    }

    pub fn document(&self, id: &str) -> Option<&Arc<Document>> {
        self.documents.get(id)
    }

    pub fn documents(&self) -> impl Iterator<Item = &Arc<Document>> {
        self.documents.values()
    }

    pub fn entity_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn relation_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Entities per kind, every kind listed.
    pub fn entity_counts(&self) -> Vec<(EntityKind, usize)> {
        let mut counts: HashMap<EntityKind, usize> = HashMap::new();
        for entity in self.graph.node_weights() {
            *counts.entry(entity.kind).or_default() += 1;
        }
        EntityKind::ALL
            .iter()
            .map(|&k| (k, counts.get(&k).copied().unwrap_or(0)))
            .collect()
    }

    /// Relations per kind, every kind listed.
    pub fn relation_counts(&self) -> Vec<(RelationKind, usize)> {
        let mut counts: HashMap<RelationKind, usize> = HashMap::new();
        for edge in self.graph.edge_weights() {
            *counts.entry(edge.kind).or_default() += 1;
        }
        RelationKind::ALL
            .iter()
            .map(|&k| (k, counts.get(&k).copied().unwrap_or(0)))
            .collect()
    }

    /// One page of entities in id order, after the entity `after` (exclusive), of the given kinds.
    /// Returns the page, the total number of matching entities and whether more follow.
    pub fn page(
        &self,
        kinds: Option<&[EntityKind]>,
        after: Option<&str>,
        first: usize,
    ) -> (Vec<Arc<Entity>>, usize, bool) {
        let wanted = |e: &Entity| kinds.is_none_or(|k| k.contains(&e.kind));
        let total = match kinds {
            None => self.graph.node_count(),
            Some(_) => self.graph.node_weights().filter(|e| wanted(e)).count(),
        };
        let start = match after {
            Some(after) => std::ops::Bound::Excluded(after.to_owned()),
            None => std::ops::Bound::Unbounded,
        };
        let mut matching = self
            .nodes
            .range((start, std::ops::Bound::Unbounded))
            .map(|(_, &n)| &self.graph[n])
            .filter(|e| wanted(e));
        let page: Vec<Arc<Entity>> = matching.by_ref().take(first).cloned().collect();
        let has_next = matching.next().is_some();
        (page, total, has_next)
    }

    /// Entities whose Chinese name, English name or an alias contains `text` (case-insensitive for
    /// Latin script): exact matches first, then prefixes, then other substrings; shorter names first.
    pub fn search(
        &self,
        text: &str,
        kinds: Option<&[EntityKind]>,
        first: usize,
    ) -> Vec<Arc<Entity>> {
        let needle = text.trim().to_lowercase();
        if needle.is_empty() || first == 0 {
            return Vec::new();
        }
        let mut hits: Vec<(u8, usize, &Arc<Entity>)> = self
            .graph
            .node_weights()
            .filter(|e| kinds.is_none_or(|k| k.contains(&e.kind)))
            .filter_map(|entity| {
                entity
                    .names()
                    .filter_map(|name| {
                        let name = name.to_lowercase();
                        let rank = if name == needle {
                            0
                        } else if name.starts_with(&needle) {
                            1
                        } else if name.contains(&needle) {
                            2
                        } else {
                            return None;
                        };
                        Some((rank, name.chars().count()))
                    })
                    .min()
                    .map(|(rank, len)| (rank, len, entity))
            })
            .collect();
        hits.sort_by(|a, b| (a.0, a.1, &a.2.id).cmp(&(b.0, b.1, &b.2.id)));
        hits.into_iter()
            .take(first)
            .map(|(_, _, e)| e.clone())
            .collect()
    }

    /// The relations of an entity that a step may follow, each with the neighbour it leads to, sorted by
    /// kind and neighbour id.
    pub fn relations_of(&self, id: &str, step: Step) -> Vec<RelationView> {
        let Some(&node) = self.nodes.get(id) else {
            return Vec::new();
        };
        let mut views: Vec<(RelationKind, String, RelationView)> = self
            .steps_from(node, step)
            .map(|(edge, neighbour)| {
                (
                    self.graph[edge].kind,
                    self.graph[neighbour].id.clone(),
                    self.view(edge),
                )
            })
            .collect();
        views.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        views.dedup_by(|a, b| a.2.id() == b.2.id());
        views.into_iter().map(|(_, _, v)| v).collect()
    }

    /// Every entity reachable from `id` in 1..=depth steps, each once with its distance, nearest first
    /// (then by id), never the start. `kinds` filters what is returned, not what is traversed.
    pub fn neighbors(
        &self,
        id: &str,
        step: Step,
        depth: u32,
        kinds: Option<&[EntityKind]>,
        budget: Budget,
    ) -> Result<Vec<(Arc<Entity>, u32)>, TraversalError> {
        let Some(&start) = self.nodes.get(id) else {
            return Ok(Vec::new());
        };
        let layers = self.bfs(&[start], step, depth, budget)?;
        Ok(layers
            .into_iter()
            .filter(|&(_, d)| d > 0)
            .map(|(n, d)| (self.graph[n].clone(), d))
            .filter(|(e, _)| kinds.is_none_or(|k| k.contains(&e.kind)))
            .collect())
    }

    /// Breadth-first search from `starts`, layer by layer, each layer sorted by entity id.
    fn bfs(
        &self,
        starts: &[NodeIndex],
        step: Step,
        depth: u32,
        budget: Budget,
    ) -> Result<Vec<(NodeIndex, u32)>, TraversalError> {
        let mut seen: HashSet<NodeIndex> = starts.iter().copied().collect();
        let mut order: Vec<(NodeIndex, u32)> = starts.iter().map(|&n| (n, 0)).collect();
        let mut frontier: Vec<NodeIndex> = starts.to_vec();
        for distance in 1..=depth {
            let mut next = Vec::new();
            for &node in &frontier {
                for (_, neighbour) in self.steps_from(node, step) {
                    if seen.insert(neighbour) {
                        budget.check(seen.len())?;
                        next.push(neighbour);
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            next.sort_by(|a, b| self.graph[*a].id.cmp(&self.graph[*b].id));
            order.extend(next.iter().map(|&n| (n, distance)));
            frontier = next;
        }
        Ok(order)
    }

    /// A shortest path from `from` to `to` within `max_depth` hops, or `None`. Among equally short
    /// paths, the one through the smallest ids (breadth-first with sorted layers) wins.
    pub fn shortest_path(
        &self,
        from: &str,
        to: &str,
        step: Step,
        max_depth: u32,
        budget: Budget,
    ) -> Result<Option<PathView>, TraversalError> {
        let (Some(&start), Some(&goal)) = (self.nodes.get(from), self.nodes.get(to)) else {
            return Ok(None);
        };
        if start == goal {
            return Ok(Some(PathView {
                entities: vec![self.graph[start].clone()],
                relations: vec![],
            }));
        }
        let mut parent: HashMap<NodeIndex, (NodeIndex, EdgeIndex)> = HashMap::new();
        let mut frontier = vec![start];
        let mut visits = 1;
        'search: for _ in 0..max_depth {
            let mut next = Vec::new();
            for &node in &frontier {
                let mut steps: Vec<(EdgeIndex, NodeIndex)> = self.steps_from(node, step).collect();
                steps.sort_by(|a, b| {
                    (&self.graph[a.1].id, self.graph[a.0].kind)
                        .cmp(&(&self.graph[b.1].id, self.graph[b.0].kind))
                });
                for (edge, neighbour) in steps {
                    if neighbour == start || parent.contains_key(&neighbour) {
                        continue;
                    }
                    visits += 1;
                    budget.check(visits)?;
                    parent.insert(neighbour, (node, edge));
                    if neighbour == goal {
                        break 'search;
                    }
                    next.push(neighbour);
                }
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        if !parent.contains_key(&goal) {
            return Ok(None);
        }
        let mut entities = vec![self.graph[goal].clone()];
        let mut relations = Vec::new();
        let mut at = goal;
        while let Some(&(previous, edge)) = parent.get(&at) {
            relations.push(self.view(edge));
            entities.push(self.graph[previous].clone());
            at = previous;
        }
        entities.reverse();
        relations.reverse();
        Ok(Some(PathView {
            entities,
            relations,
        }))
    }

    /// The entities within `depth` steps of any of `ids`, at most `limit` of them (nearest first), and
    /// every relation the step allows among them.
    pub fn neighborhood(
        &self,
        ids: &[String],
        step: Step,
        depth: u32,
        limit: usize,
        budget: Budget,
    ) -> Result<SubgraphView, TraversalError> {
        let mut starts: Vec<NodeIndex> = Vec::new();
        for id in ids {
            if let Some(&node) = self.nodes.get(id)
                && !starts.contains(&node)
            {
                starts.push(node);
            }
        }
        let reached = self.bfs(&starts, step, depth, budget)?;
        let mut truncated = None;
        let kept: Vec<NodeIndex> = if reached.len() > limit {
            truncated = Some(format!(
                "entity limit reached: {} entities lie within depth {depth}, {limit} returned; raise `limit` or lower `depth`",
                reached.len()
            ));
            reached.iter().take(limit).map(|&(n, _)| n).collect()
        } else {
            reached.iter().map(|&(n, _)| n).collect()
        };
        let inside: HashSet<NodeIndex> = kept.iter().copied().collect();
        let mut edges: Vec<EdgeIndex> = Vec::new();
        for &node in &kept {
            for edge in self.graph.edges_directed(node, PgDirection::Outgoing) {
                if step.relations.contains(edge.weight().kind) && inside.contains(&edge.target()) {
                    edges.push(edge.id());
                }
            }
        }
        let mut relations: Vec<RelationView> = edges.into_iter().map(|e| self.view(e)).collect();
        relations.sort_by_key(|r| r.id());
        Ok(SubgraphView {
            entities: kept.iter().map(|&n| self.graph[n].clone()).collect(),
            relations,
            truncated,
        })
    }

    /// The edges a step may take from `node`, with the neighbour each leads to. Symmetric kinds are
    /// followed both ways whatever the direction.
    fn steps_from(
        &self,
        node: NodeIndex,
        step: Step,
    ) -> impl Iterator<Item = (EdgeIndex, NodeIndex)> + '_ {
        let out = self
            .graph
            .edges_directed(node, PgDirection::Outgoing)
            .filter(move |e| {
                step.relations.contains(e.weight().kind)
                    && (step.direction != Direction::In || e.weight().kind.is_symmetric())
            })
            .map(|e| (e.id(), e.target()));
        let incoming = self
            .graph
            .edges_directed(node, PgDirection::Incoming)
            .filter(move |e| {
                step.relations.contains(e.weight().kind)
                    && (step.direction != Direction::Out || e.weight().kind.is_symmetric())
            })
            .map(|e| (e.id(), e.source()));
        out.chain(incoming)
    }

    fn view(&self, edge: EdgeIndex) -> RelationView {
        let (source, target) = self
            .graph
            .edge_endpoints(edge)
            .expect("edge indices come from this graph");
        RelationView {
            source: self.graph[source].clone(),
            target: self.graph[target].clone(),
            edge: self.graph[edge],
        }
    }

    /// The index's content in a canonical order: for comparing a live index with a rebuilt one.
    pub fn canonical(&self) -> (Vec<Entity>, Vec<(String, Edge)>, Vec<Document>) {
        let entities = self
            .nodes
            .values()
            .map(|&n| (*self.graph[n]).clone())
            .collect();
        let mut edges: Vec<(String, Edge)> = self
            .graph
            .edge_indices()
            .map(|e| (self.view(e).id(), self.graph[e]))
            .collect();
        edges.sort_by(|a, b| a.0.cmp(&b.0));
        let documents = self.documents.values().map(|d| (**d).clone()).collect();
        (entities, edges, documents)
    }
}

impl PartialEq for GraphIndex {
    fn eq(&self, other: &GraphIndex) -> bool {
        self.canonical() == other.canonical()
    }
}

impl std::fmt::Debug for GraphIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphIndex")
            .field("entities", &self.entity_count())
            .field("relations", &self.relation_count())
            .field("documents", &self.documents.len())
            .finish()
    }
}
