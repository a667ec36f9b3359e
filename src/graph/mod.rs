//! The in-memory graph index: the only module that imports petgraph.
//!
//! Built from the store at start-up ([`IndexBuilder`]), or decoded from an index snapshot
//! ([`GraphIndex::decode`], `image.rs`), and updated in place on every write; node indices are never
//! persisted (entity ids are; a snapshot numbers entities by their position in id order). Every traversal runs here, bounded by a
//! [`Budget`] of depth, size and time, and returns results in a deterministic order (nearest first, then
//! by id) so that a live index and one rebuilt after a restart answer identically.
//!
//! Edges hold only what traversal needs (kind and years); the full relation with its evidence is read
//! from the store when a client asks for it.

use std::collections::{BTreeMap, HashMap};

use rustc_hash::FxHashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use petgraph::Direction as PgDirection;
use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::EdgeRef;

use crate::model::{Document, Entity, EntityKind, Relation, RelationKind};
use crate::store::Snapshot;

mod closest;
mod filter;
mod image;
mod measures;
mod names;
mod paths;

pub use closest::{IdKind, SUGGESTIONS, distance as edit_distance};
pub use filter::{
    Compiled, EntityFilter, Quantifier, Ranks, RelationGroup, RelationPredicate, SortKey,
    TextField, TextOp, default_scope,
};
pub use image::{ImageCopy, IndexImage};
pub use measures::{
    BETWEENNESS_SAMPLE, Centrality, CollaborationTie, EXACT_BETWEENNESS_LIMIT, Measure,
    MeasureBase, MeasureInput, MeasureKind, Measures, betweenness_sources,
};
pub use paths::PathRules;

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

/// Which relations exist at a point in time, or in a range of years.
///
/// A relation's year is the year the sources give for the fact, else the publication year of the
/// earliest document that states it; a relation with neither is timeless and always admitted by
/// `as_of`, never by `years`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TimeFilter {
    /// Only relations dated in or before this year (the graph as that year's documents describe it).
    pub as_of: Option<i32>,
    /// Only relations dated within these years, both included.
    pub years: Option<(i32, i32)>,
}

impl TimeFilter {
    pub fn admits(&self, edge: &Edge) -> bool {
        let year = edge.effective_year();
        if let (Some(as_of), Some(year)) = (self.as_of, year)
            && year > as_of
        {
            return false;
        }
        match self.years {
            Some((from, to)) => year.is_some_and(|y| from <= y && y <= to),
            None => true,
        }
    }
}

/// How to take one step: which relation kinds, which way, at what time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub relations: KindSet,
    pub direction: Direction,
    pub time: TimeFilter,
}

impl Step {
    pub fn new(relations: KindSet, direction: Direction) -> Step {
        Step {
            relations,
            direction,
            time: TimeFilter::default(),
        }
    }

    pub fn with_time(self, time: TimeFilter) -> Step {
        Step { time, ..self }
    }

    /// Whether this step may follow `edge` at all (kind and time; direction is checked by the caller).
    pub fn admits(&self, edge: &Edge) -> bool {
        self.relations.contains(edge.kind) && self.time.admits(edge)
    }
}

/// The step to take at each hop of a traversal: the same at every hop, or one per hop (the last
/// repeating when the path is longer than the list).
#[derive(Clone, Debug)]
pub enum Hops {
    Same(Step),
    PerHop(Vec<Step>),
}

impl Hops {
    /// The step for hop `index` (0-based).
    pub fn at(&self, index: u32) -> Step {
        match self {
            Hops::Same(step) => *step,
            Hops::PerHop(steps) => {
                let last = steps.len().saturating_sub(1);
                steps[(index as usize).min(last)]
            }
        }
    }

    /// How many distinct hop positions a search must tell apart.
    fn positions(&self) -> usize {
        match self {
            Hops::Same(_) => 1,
            Hops::PerHop(steps) => steps.len().max(1),
        }
    }
}

/// What a traversal may spend. Exceeding it is an error that names the limit.
#[derive(Clone, Copy, Debug)]
pub struct Budget {
    /// Entities a traversal may visit.
    pub max_visits: usize,
    pub deadline: Instant,
    /// When the whole request this traversal works for must be answered by, if it is part of one.
    pub request_deadline: Option<Instant>,
}

impl Budget {
    pub fn new(max_visits: usize, time: Duration) -> Budget {
        Budget {
            max_visits,
            deadline: Instant::now() + time,
            request_deadline: None,
        }
    }

    /// This budget, ending no later than the request's `deadline`.
    pub fn within_request(self, deadline: Instant) -> Budget {
        Budget {
            request_deadline: Some(deadline),
            ..self
        }
    }

    fn check(&self, visits: usize) -> Result<(), TraversalError> {
        if visits > self.max_visits {
            return Err(TraversalError::VisitLimit {
                limit: self.max_visits,
            });
        }
        // Reading the clock is cheap, but not free: look at it every 256 visits.
        if visits.is_multiple_of(256) {
            let now = Instant::now();
            if self.request_deadline.is_some_and(|d| now > d) {
                return Err(TraversalError::RequestTimeLimit);
            }
            if now > self.deadline {
                return Err(TraversalError::TimeLimit);
            }
        }
        Ok(())
    }

    /// Fails once the request's time is up, whatever was visited: for work between traversals.
    pub fn check_request(&self) -> Result<(), TraversalError> {
        if self.request_deadline.is_some_and(|d| Instant::now() > d) {
            return Err(TraversalError::RequestTimeLimit);
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
    #[error("the request ran out of time: all its fields together share the execution timeout")]
    RequestTimeLimit,
}

/// The data an edge carries in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Edge {
    pub kind: RelationKind,
    /// The year the sources give for the fact.
    pub year: Option<i32>,
    /// The earliest publication year among the documents that state it.
    pub first_seen: Option<i32>,
    /// Slots (in the index's document table) of the documents that state it.
    pub documents: Box<[u16]>,
    /// The bases of its evidence, one bit per [`Basis`] (bit `basis as u8`).
    pub bases: u8,
}

/// The bit of a basis in [`Edge::bases`].
pub fn basis_bit(basis: crate::model::Basis) -> u8 {
    1 << (basis as u8)
}

impl Edge {
    /// Whether some evidence states the relation (rather than implying it by a name, a reference
    /// table or the reporting region).
    pub fn is_stated(&self) -> bool {
        self.bases & basis_bit(crate::model::Basis::Stated) != 0
    }

    /// The bases of its evidence, in the order of [`crate::model::Basis::ALL`].
    pub fn basis_list(&self) -> Vec<crate::model::Basis> {
        crate::model::Basis::ALL
            .into_iter()
            .filter(|&b| self.bases & basis_bit(b) != 0)
            .collect()
    }

    /// The year the relation is dated by: its own year, else the year it was first published.
    pub fn effective_year(&self) -> Option<i32> {
        self.year.or(self.first_seen)
    }
}

/// An entity in the index, with its rank: a number that orders like its id, so that traversals visit
/// neighbours in id order without comparing strings (see [`GraphIndex::rank_for`]).
#[derive(Clone, Debug)]
pub struct Node {
    pub entity: Arc<Entity>,
    rank: u64,
}

impl Node {
    fn new(entity: Entity, rank: u64) -> Node {
        Node {
            entity: Arc::new(entity),
            rank,
        }
    }

    /// Orders nodes like their ids.
    pub fn order(&self, other: &Node) -> std::cmp::Ordering {
        self.rank.cmp(&other.rank)
    }
}

/// Room between consecutive ranks when they are numbered afresh: 2^24 entities can be inserted at one
/// place in the id order before the ranks must be renumbered.
const RANK_GAP: u64 = 1 << 24;

/// One relation as seen from one of its ends, in that end's adjacency list: what a traversal step
/// needs, contiguous in memory (petgraph's own edge lists are linked lists scattered over the edge
/// array, a cache miss per edge on a large graph).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Adjacent {
    /// The neighbour's rank, copied here so that sorting neighbours reads no other memory (kept in
    /// step by [`GraphIndex::renumber`], the only place ranks of existing nodes change).
    pub(crate) rank: u64,
    pub(crate) neighbour: NodeIndex,
    pub(crate) edge: EdgeIndex,
    pub(crate) kind: RelationKind,
    /// Whether this end is the relation's source.
    outgoing: bool,
}

impl Adjacent {
    /// The order of an adjacency list: by neighbour id, then relation kind, outgoing first. Every
    /// list is kept in it, so traversals visit neighbours in an order decided by content alone.
    fn order_key(&self) -> (u64, RelationKind, bool) {
        (self.rank, self.kind, !self.outgoing)
    }
}

impl std::ops::Deref for Node {
    type Target = Entity;

    fn deref(&self) -> &Entity {
        &self.entity
    }
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
    graph: StableDiGraph<Node, Edge>,
    /// Entity id → node; ordered so that listings page by id.
    nodes: BTreeMap<String, NodeIndex>,
    documents: BTreeMap<String, Arc<Document>>,
    /// Documents by slot, the compact reference edges hold; a slot is never reused.
    document_slots: Vec<Arc<Document>>,
    slot_of: HashMap<String, u16>,
    /// Increases on every change: caches of derived values (network measures) compare it.
    generation: u64,
    /// Per node index, every relation touching the node, both directions (self-loops twice).
    adjacency: Vec<Vec<Adjacent>>,
    /// The substring index of names, built by the first search.
    names: std::sync::OnceLock<names::NameIndex>,
}

impl GraphIndex {
    /// Builds the index from records already in memory (tests, benchmarks; start-up streams through
    /// [`IndexBuilder`] instead).
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
        self.generation += 1;
        let document = Arc::new(document);
        match self.slot_of.get(&document.id) {
            Some(&slot) => self.document_slots[usize::from(slot)] = document.clone(),
            None => {
                // Beyond 65,536 documents, later ones get no slot: their relations still load, but
                // cannot be filtered by document.
                if let Ok(slot) = u16::try_from(self.document_slots.len()) {
                    self.slot_of.insert(document.id.clone(), slot);
                    self.document_slots.push(document.clone());
                }
            }
        }
        self.documents.insert(document.id.clone(), document);
    }

    /// The slot of a document, for edges to refer to it compactly.
    fn document_slot(&self, id: &str) -> Option<u16> {
        self.slot_of.get(id).copied()
    }

    /// The document in a slot.
    pub fn document_in_slot(&self, slot: u16) -> Option<&Arc<Document>> {
        self.document_slots.get(usize::from(slot))
    }

    /// Increases on every change of the index.
    pub fn generation(&self) -> u64 {
        self.generation
    }

    /// Inserts an entity or replaces it in place, keeping its relations.
    pub fn put_entity(&mut self, entity: Entity) {
        self.generation += 1;
        let node = match self.nodes.get(&entity.id) {
            Some(&node) => {
                if let Some(names) = self.names.get_mut() {
                    names.forget(&self.graph[node].entity);
                }
                let rank = self.graph[node].rank;
                self.graph[node] = Node::new(entity, rank);
                node
            }
            None => {
                let rank = self.rank_for(&entity.id);
                let id = entity.id.clone();
                let node = self.add_node(id, Node::new(entity, rank.unwrap_or(0)));
                if rank.is_none() {
                    self.renumber();
                }
                node
            }
        };
        if let Some(names) = self.names.get_mut() {
            names.add(node, &self.graph[node].entity);
            if names.is_mostly_stale() {
                self.names = std::sync::OnceLock::new();
            }
        }
    }

    fn add_node(&mut self, id: String, node: Node) -> NodeIndex {
        let index = self.graph.add_node(node);
        self.nodes.insert(id, index);
        if self.adjacency.len() <= index.index() {
            self.adjacency.resize_with(index.index() + 1, Vec::new);
        }
        index
    }

    /// A rank for a new id between the ranks of the ids before and after it, or `None` when they are
    /// adjacent numbers (then every rank is numbered afresh).
    fn rank_for(&self, id: &str) -> Option<u64> {
        use std::ops::Bound::{Excluded, Unbounded};
        let rank_of = |(_, &node): (&String, &NodeIndex)| self.graph[node].rank;
        let before = self
            .nodes
            .range::<str, _>((Unbounded, Excluded(id)))
            .next_back()
            .map(rank_of);
        let after = self
            .nodes
            .range::<str, _>((Excluded(id), Unbounded))
            .next()
            .map(rank_of);
        match (before, after) {
            (None, None) => Some(1 << 62),
            (Some(before), None) => before.checked_add(RANK_GAP),
            (None, Some(after)) => after.checked_sub(RANK_GAP),
            (Some(before), Some(after)) => {
                (after - before >= 2).then(|| before + (after - before) / 2)
            }
        }
    }

    /// Numbers every rank afresh in id order, [`RANK_GAP`] apart, and copies them into the adjacency
    /// lists.
    fn renumber(&mut self) {
        for (position, &node) in self.nodes.values().enumerate() {
            self.graph[node].rank = (position as u64 + 1) * RANK_GAP;
        }
        // Ranks keep their relative order, so the lists stay sorted (unless they were built with
        // placeholder ranks: `IndexBuilder::finish` sorts them).
        for list in &mut self.adjacency {
            for adjacent in list {
                adjacent.rank = self.graph[adjacent.neighbour].rank;
            }
        }
    }

    /// Removes an entity and every relation touching it.
    pub fn remove_entity(&mut self, id: &str) -> bool {
        let Some(node) = self.nodes.remove(id) else {
            return false;
        };
        self.generation += 1;
        if let Some(names) = self.names.get_mut() {
            names.forget(&self.graph[node].entity);
        }
        for adjacent in std::mem::take(&mut self.adjacency[node.index()]) {
            self.adjacency[adjacent.neighbour.index()].retain(|a| a.edge != adjacent.edge);
        }
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
        self.generation += 1;
        let edge = self.edge(
            relation.kind,
            relation.year,
            relation.evidence.iter().map(|e| e.document.as_str()),
            relation
                .evidence
                .iter()
                .fold(0, |m, e| m | basis_bit(e.basis)),
        );
        match self.find_edge(source, relation.kind, target) {
            Some(existing) => self.graph[existing] = edge,
            None => self.add_edge(source, target, edge),
        }
        true
    }

    fn add_edge(&mut self, source: NodeIndex, target: NodeIndex, edge: Edge) {
        self.add_edge_to_lists(source, target, edge, true);
    }

    /// Adds an edge to the graph and to both ends' adjacency lists, in order when `in_order` (else at
    /// the end: the caller sorts every list afterwards).
    fn add_edge_to_lists(
        &mut self,
        source: NodeIndex,
        target: NodeIndex,
        edge: Edge,
        in_order: bool,
    ) {
        let kind = edge.kind;
        let index = self.graph.add_edge(source, target, edge);
        for (end, neighbour, outgoing) in [(source, target, true), (target, source, false)] {
            let adjacent = Adjacent {
                rank: self.graph[neighbour].rank,
                neighbour,
                edge: index,
                kind,
                outgoing,
            };
            let list = &mut self.adjacency[end.index()];
            if in_order {
                let at = list.partition_point(|a| a.order_key() < adjacent.order_key());
                list.insert(at, adjacent);
            } else {
                list.push(adjacent);
            }
        }
    }

    /// The edge data of a relation: its year, and its documents as slots and first publication year.
    fn edge<'a>(
        &self,
        kind: RelationKind,
        year: Option<i32>,
        evidence_documents: impl Iterator<Item = &'a str> + Clone,
        bases: u8,
    ) -> Edge {
        let first_seen = evidence_documents
            .clone()
            .filter_map(|d| self.documents.get(d).and_then(|d| d.year()))
            .min();
        let mut documents: Vec<u16> = evidence_documents
            .filter_map(|d| self.document_slot(d))
            .collect();
        documents.sort_unstable();
        documents.dedup();
        Edge {
            kind,
            year,
            first_seen,
            documents: documents.into_boxed_slice(),
            bases,
        }
    }

    pub fn remove_relation(&mut self, source: &str, kind: RelationKind, target: &str) -> bool {
        let (Some(&s), Some(&t)) = (self.nodes.get(source), self.nodes.get(target)) else {
            return false;
        };
        match self.find_edge(s, kind, t) {
            Some(edge) => {
                self.generation += 1;
                for end in [s, t] {
                    self.adjacency[end.index()].retain(|a| a.edge != edge);
                }
                self.graph.remove_edge(edge).is_some()
            }
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
        self.nodes.get(id).map(|&n| &self.graph[n].entity)
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
        let page: Vec<Arc<Entity>> = matching
            .by_ref()
            .take(first)
            .map(|n| n.entity.clone())
            .collect();
        let has_next = matching.next().is_some();
        (page, total, has_next)
    }

    /// The substring index of names, built on first use.
    fn name_index(&self) -> &names::NameIndex {
        self.names.get_or_init(|| {
            names::NameIndex::build(self.nodes.values().map(|&n| (n, &*self.graph[n].entity)))
        })
    }

    /// The entity of one of `kinds` named `name` (its name, English name or an alias, compared as
    /// `search` compares), if any; the first in id order when several are.
    pub fn entity_named(&self, name: &str, kinds: &[EntityKind]) -> Option<&Arc<Entity>> {
        let key = crate::extract::normalize::search_key(name);
        if key.is_empty() {
            return None;
        }
        let mut named: Vec<&Arc<Entity>> = self
            .name_index()
            .candidates(&key)
            .into_iter()
            .filter_map(|node| self.graph.node_weight(node))
            .filter(|e| kinds.contains(&e.kind))
            .filter(|e| {
                e.names()
                    .any(|n| crate::extract::normalize::search_key(n) == key)
            })
            .map(|e| &e.entity)
            .collect();
        named.sort_by(|a, b| a.id.cmp(&b.id));
        named.into_iter().next()
    }

    /// Entities whose Chinese name, English name or an alias contains `text` (case-insensitive for
    /// Latin script): exact matches first, then prefixes, then other substrings; shorter names first.
    pub fn search(
        &self,
        text: &str,
        kinds: Option<&[EntityKind]>,
        first: usize,
    ) -> Vec<Arc<Entity>> {
        let needle = crate::extract::normalize::search_key(text);
        if needle.is_empty() || first == 0 {
            return Vec::new();
        }
        let names = self.name_index();
        let mut hits: Vec<(u8, usize, &Arc<Entity>)> = names
            .candidates(&needle)
            .into_iter()
            .filter_map(|node| self.graph.node_weight(node))
            .filter(|e| kinds.is_none_or(|k| k.contains(&e.kind)))
            .filter_map(|entity| {
                entity
                    .names()
                    .filter_map(|name| {
                        let key = crate::extract::normalize::search_key(name);
                        Some((match_rank(&key, &needle)?, name.chars().count()))
                    })
                    .min()
                    .map(|(rank, len)| (rank, len, &entity.entity))
            })
            .collect();
        hits.sort_by(|a, b| (a.0, a.1, &a.2.id).cmp(&(b.0, b.1, &b.2.id)));
        hits.into_iter()
            .take(first)
            .map(|(_, _, e)| e.clone())
            .collect()
    }

    /// Every entity that may have a name or alias equal to `name` as the validator compares names
    /// (trimmed, NFC, lower-cased): those with a name containing `name` folded for search (which
    /// folds at least as much), from the name index. A superset: the caller compares exactly. Writes
    /// check new names against these instead of every entity.
    pub fn entities_possibly_named(&self, name: &str) -> Vec<Arc<Entity>> {
        let needle = crate::extract::normalize::search_key(name);
        if needle.is_empty() {
            return self
                .nodes
                .values()
                .map(|&n| self.graph[n].entity.clone())
                .collect();
        }
        self.name_index()
            .candidates(&needle)
            .into_iter()
            .filter_map(|node| self.graph.node_weight(node))
            .map(|node| node.entity.clone())
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

    /// Number of relations of an entity a step may follow (0 for an unknown id).
    pub fn degree(&self, id: &str, step: Step) -> usize {
        self.nodes
            .get(id)
            .map_or(0, |&node| self.degree_of(node, step))
    }

    pub(crate) fn degree_of(&self, node: NodeIndex, step: Step) -> usize {
        self.steps_from(node, step).count()
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
        let layers = self.bfs(&[start], &Hops::Same(step), depth, None, budget)?;
        let found: Vec<(&Arc<Entity>, u32)> = layers
            .into_iter()
            .filter(|&(_, d)| d > 0)
            .map(|(n, d)| (&self.graph[n].entity, d))
            .filter(|(e, _)| kinds.is_none_or(|k| k.contains(&e.kind)))
            .collect();
        Ok(clone_entities(&found))
    }

    /// Breadth-first search from `starts`, layer by layer, each layer sorted by entity id; enters only
    /// entities `enter` accepts (all when `None`). Returns every entity reached with its distance,
    /// starts first.
    pub(crate) fn bfs(
        &self,
        starts: &[NodeIndex],
        hops: &Hops,
        depth: u32,
        enter: Option<&dyn Fn(&Entity) -> bool>,
        budget: Budget,
    ) -> Result<Vec<(NodeIndex, u32)>, TraversalError> {
        // Sized for a typical neighbourhood, so that small searches do not grow them step by step.
        let mut seen: FxHashSet<NodeIndex> =
            FxHashSet::with_capacity_and_hasher(256, Default::default());
        seen.extend(starts.iter().copied());
        let mut order: Vec<(NodeIndex, u32)> = Vec::with_capacity(256);
        order.extend(starts.iter().map(|&n| (n, 0)));
        let mut frontier: Vec<NodeIndex> = starts.to_vec();
        let mut next: Vec<(u64, NodeIndex)> = Vec::with_capacity(256);
        for distance in 1..=depth {
            let step = hops.at(distance - 1);
            next.clear();
            for &node in &frontier {
                for adjacent in self.adjacent(node, step) {
                    let neighbour = adjacent.neighbour;
                    if !seen.contains(&neighbour)
                        && enter.is_none_or(|enter| enter(&self.graph[neighbour]))
                    {
                        seen.insert(neighbour);
                        budget.check(seen.len())?;
                        next.push((adjacent.rank, neighbour));
                    }
                }
            }
            if next.is_empty() {
                break;
            }
            next.sort_unstable_by_key(|&(rank, _)| rank);
            order.extend(next.iter().map(|&(_, n)| (n, distance)));
            frontier.clear();
            frontier.extend(next.iter().map(|&(_, n)| n));
        }
        Ok(order)
    }

    /// The entities within `depth` steps of any of `ids` (entering only entities of `kinds` when
    /// given), at most `limit` of them, nearest first, and every relation the step allows among them.
    /// Stops early, saying why in `truncated`, at the entity limit or the traversal budget.
    pub fn neighborhood(
        &self,
        ids: &[String],
        step: Step,
        depth: u32,
        kinds: Option<&[EntityKind]>,
        limit: usize,
        budget: Budget,
    ) -> SubgraphView {
        let mut starts: Vec<NodeIndex> = Vec::new();
        for id in ids {
            if let Some(&node) = self.nodes.get(id)
                && !starts.contains(&node)
            {
                starts.push(node);
            }
        }
        let enter = |e: &Entity| kinds.is_none_or(|k| k.contains(&e.kind));
        let mut truncated = None;
        // Search one past the limit, so that hitting it is known; fall back to shallower depths when
        // the budget runs out.
        let capped = Budget {
            max_visits: budget.max_visits.min(limit.saturating_add(1)),
            ..budget
        };
        let reached = match self.bfs(&starts, &Hops::Same(step), depth, Some(&enter), capped) {
            Ok(reached) => reached,
            Err(TraversalError::VisitLimit { .. }) if budget.max_visits > limit => {
                truncated = Some(format!(
                    "entity limit reached: more than {limit} entities lie within depth {depth}; \
                     {limit} returned, nearest first; raise `limit` or lower `depth`"
                ));
                self.bfs_prefix(&starts, step, depth, &enter, limit)
            }
            Err(error) => {
                truncated = Some(format!(
                    "traversal budget reached ({error}); nearest entities returned"
                ));
                self.bfs_prefix(&starts, step, depth, &enter, limit.min(budget.max_visits))
            }
        };
        let kept: Vec<NodeIndex> = reached.iter().take(limit).map(|&(n, _)| n).collect();
        let inside: FxHashSet<NodeIndex> = kept.iter().copied().collect();
        let mut edges: Vec<EdgeIndex> = Vec::new();
        for &node in &kept {
            for edge in self.graph.edges_directed(node, PgDirection::Outgoing) {
                if step.admits(edge.weight()) && inside.contains(&edge.target()) {
                    edges.push(edge.id());
                }
            }
        }
        let mut relations: Vec<RelationView> = edges.into_iter().map(|e| self.view(e)).collect();
        relations.sort_by_key(|r| r.id());
        SubgraphView {
            entities: kept.iter().map(|&n| self.graph[n].entity.clone()).collect(),
            relations,
            truncated,
        }
    }

    /// The first `count` entities of a breadth-first search, in its order (no budget: `count` bounds it).
    fn bfs_prefix(
        &self,
        starts: &[NodeIndex],
        step: Step,
        depth: u32,
        enter: &dyn Fn(&Entity) -> bool,
        count: usize,
    ) -> Vec<(NodeIndex, u32)> {
        let mut seen: FxHashSet<NodeIndex> = starts.iter().copied().collect();
        let mut order: Vec<(NodeIndex, u32)> = starts.iter().map(|&n| (n, 0)).take(count).collect();
        let mut frontier: Vec<NodeIndex> = starts.to_vec();
        for distance in 1..=depth {
            let mut next = Vec::new();
            for &node in &frontier {
                for (_, neighbour) in self.steps_from(node, step) {
                    if !seen.contains(&neighbour) && enter(&self.graph[neighbour]) {
                        seen.insert(neighbour);
                        next.push(neighbour);
                    }
                }
            }
            next.sort_by(|a, b| self.graph[*a].order(&self.graph[*b]));
            for &node in &next {
                if order.len() >= count {
                    return order;
                }
                order.push((node, distance));
            }
            if next.is_empty() {
                break;
            }
            frontier = next;
        }
        order
    }

    /// The edges a step may take from `node`, with the neighbour each leads to. Symmetric kinds are
    /// followed both ways whatever the direction.
    pub(crate) fn steps_from(
        &self,
        node: NodeIndex,
        step: Step,
    ) -> impl Iterator<Item = (EdgeIndex, NodeIndex)> + '_ {
        self.adjacent(node, step).map(|a| (a.edge, a.neighbour))
    }

    /// The adjacency entries a step may take from `node` (as [`GraphIndex::steps_from`]).
    pub(crate) fn adjacent(&self, node: NodeIndex, step: Step) -> impl Iterator<Item = &Adjacent> {
        // Without a time filter the adjacency list alone decides; with one, the edge's years too.
        let timed = step.time != TimeFilter::default();
        self.adjacency[node.index()].iter().filter(move |a| {
            step.relations.contains(a.kind)
                && match step.direction {
                    Direction::Both => true,
                    Direction::Out => a.outgoing || a.kind.is_symmetric(),
                    Direction::In => !a.outgoing || a.kind.is_symmetric(),
                }
                && (!timed || step.time.admits(&self.graph[a.edge]))
        })
    }

    pub(crate) fn view(&self, edge: EdgeIndex) -> RelationView {
        let (source, target) = self
            .graph
            .edge_endpoints(edge)
            .expect("edge indices come from this graph");
        RelationView {
            source: self.graph[source].entity.clone(),
            target: self.graph[target].entity.clone(),
            edge: self.graph[edge].clone(),
        }
    }

    /// The index's content in a canonical order: for comparing a live index with a rebuilt one.
    pub fn canonical(&self) -> Canonical {
        let entities = self
            .nodes
            .values()
            .map(|&n| (*self.graph[n]).clone())
            .collect();
        let mut relations: Vec<CanonicalRelation> = self
            .graph
            .edge_indices()
            .map(|e| {
                let edge = &self.graph[e];
                let mut documents: Vec<String> = edge
                    .documents
                    .iter()
                    .filter_map(|&slot| self.document_in_slot(slot).map(|d| d.id.clone()))
                    .collect();
                documents.sort();
                (self.view(e).id(), edge.year, edge.first_seen, documents)
            })
            .collect();
        relations.sort();
        let documents = self.documents.values().map(|d| (**d).clone()).collect();
        Canonical {
            entities,
            relations,
            documents,
        }
    }
}

/// Clones the entity handles of an answer. Each clone is an atomic increment of a count that lives
/// with the entity, somewhere in a large heap: atomic increments do not overlap, so each would wait
/// for its own cache miss. Fetching the counts a few entities ahead lets those misses overlap (a 2-hop
/// answer of hundreds of entities is mostly this).
fn clone_entities(found: &[(&Arc<Entity>, u32)]) -> Vec<(Arc<Entity>, u32)> {
    const AHEAD: usize = 16;
    for (entity, _) in found.iter().take(AHEAD) {
        prefetch_count(entity);
    }
    let mut cloned = Vec::with_capacity(found.len());
    for (position, &(entity, distance)) in found.iter().enumerate() {
        if let Some((ahead, _)) = found.get(position + AHEAD) {
            prefetch_count(ahead);
        }
        cloned.push((Arc::clone(entity), distance));
    }
    cloned
}

/// Asks the CPU to bring an `Arc`'s reference count into cache (a hint: it never faults, and does
/// nothing on targets other than x86-64).
#[inline]
fn prefetch_count(arc: &Arc<Entity>) {
    // The counts sit just before the value, in the same allocation.
    let count = Arc::as_ptr(arc)
        .cast::<i8>()
        .wrapping_sub(2 * std::mem::size_of::<usize>());
    #[cfg(target_arch = "x86_64")]
    // SAFETY: `_mm_prefetch` only hints the cache; SSE is part of every x86-64 CPU.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(count)
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = count;
}

/// How well `name` matches a lower-cased, trimmed `needle`, ignoring case: 0 equal, 1 prefix, 2
/// substring. Allocates only for names with non-ASCII letters that have case (a million English
/// names lower-cased per search would be most of its time).
fn match_rank(name: &str, needle: &str) -> Option<u8> {
    let rank = |name: &str| {
        if name == needle {
            Some(0)
        } else if name.starts_with(needle) {
            Some(1)
        } else if name.contains(needle) {
            Some(2)
        } else {
            None
        }
    };
    let has_case = |c: char| c.is_lowercase() || c.is_uppercase();
    if !needle.chars().any(has_case) {
        // Lower-casing changes only letters with case, which cannot be part of a match.
        return rank(name);
    }
    if name.is_ascii() && needle.is_ascii() {
        let (name, needle) = (name.as_bytes(), needle.as_bytes());
        let equal = |a: &[u8]| a.eq_ignore_ascii_case(needle);
        return if equal(name) {
            Some(0)
        } else if name.len() >= needle.len() && equal(&name[..needle.len()]) {
            Some(1)
        } else if name.windows(needle.len()).any(equal) {
            Some(2)
        } else {
            None
        };
    }
    if !name.chars().any(char::is_uppercase) {
        return rank(name);
    }
    rank(&name.to_lowercase())
}

/// Builds an index from a stream of records in any order, as the store's start-up scan yields them
/// (a relation may come before the entity it points to): an entity not seen yet gets a placeholder
/// node that its record fills in later.
#[derive(Default)]
pub struct IndexBuilder {
    /// The index without its id → node map (`nodes`), which `finish` fills from `ids` at once.
    index: GraphIndex,
    /// Placeholder nodes: named by a relation, their entity not read yet.
    pending: FxHashSet<NodeIndex>,
    /// The index's id → node map, hashed: ten million lookups by string in a B-tree would be most of
    /// the start-up time of a million-entity graph.
    ids: rustc_hash::FxHashMap<String, NodeIndex>,
    /// Per document id, its publication year and slot: what an edge needs of its documents, in one
    /// hashed lookup.
    documents: rustc_hash::FxHashMap<String, (Option<i32>, Option<u16>)>,
}

impl IndexBuilder {
    pub fn document(&mut self, document: Document) {
        let id = document.id.clone();
        let year = document.year();
        self.index.put_document(document);
        let slot = self.index.document_slot(&id);
        self.documents.insert(id, (year, slot));
    }

    pub fn entity(&mut self, entity: Entity) {
        match self.ids.get(&entity.id) {
            Some(&node) => {
                self.pending.remove(&node);
                self.index.graph[node] = Node::new(entity, 0);
            }
            None => {
                let id = entity.id.clone();
                let node = self.add_node(Node::new(entity, 0));
                self.ids.insert(id, node);
            }
        }
    }

    /// Adds a node to the graph and its (empty) adjacency list; not to `nodes` (see `finish`).
    fn add_node(&mut self, node: Node) -> NodeIndex {
        let index = self.index.graph.add_node(node);
        if self.index.adjacency.len() <= index.index() {
            self.index
                .adjacency
                .resize_with(index.index() + 1, Vec::new);
        }
        index
    }

    /// Adds a relation; the store holds at most one per source, kind and target, so no search for an
    /// existing edge is needed.
    pub fn relation(&mut self, relation: &crate::store::RelationRef<'_>) {
        // What `GraphIndex::edge` computes, from the builder's table of documents.
        let mut first_seen: Option<i32> = None;
        let mut documents: Vec<u16> = Vec::with_capacity(relation.evidence.len());
        let mut bases = 0;
        for evidence in &relation.evidence {
            bases |= basis_bit(evidence.basis);
            if let Some(&(year, slot)) = self.documents.get(evidence.document) {
                first_seen = match (first_seen, year) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                documents.extend(slot);
            }
        }
        documents.sort_unstable();
        documents.dedup();
        let edge = Edge {
            kind: relation.kind,
            year: relation.year,
            first_seen,
            documents: documents.into_boxed_slice(),
            bases,
        };
        let source = self.node(relation.source);
        let target = self.node(relation.target);
        // Ranks are numbered, and the lists sorted, by `finish`.
        self.index.add_edge_to_lists(source, target, edge, false);
    }

    fn node(&mut self, id: &str) -> NodeIndex {
        if let Some(&node) = self.ids.get(id) {
            return node;
        }
        let placeholder = Node::new(Entity::new(id, EntityKind::Program, id), 0);
        let node = self.add_node(placeholder);
        self.ids.insert(id.to_owned(), node);
        self.pending.insert(node);
        node
    }

    /// The index, and the ids of entities that relations named but no record held (with their
    /// relations, they are left out: the store never writes such relations, so this means damage).
    pub fn finish(mut self) -> (GraphIndex, Vec<String>) {
        // Sorted first, the map is built in one pass rather than by a million inserts.
        let mut ids: Vec<(String, NodeIndex)> = std::mem::take(&mut self.ids).into_iter().collect();
        ids.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        self.index.nodes = ids.into_iter().collect();
        let mut missing: Vec<String> = self
            .pending
            .iter()
            .map(|&node| self.index.graph[node].id.clone())
            .collect();
        missing.sort();
        for id in &missing {
            self.index.remove_entity(id);
        }
        self.index.renumber();
        // Ten million entries at a million entities: sorted on two threads, half the lists each.
        let sort = |lists: &mut [Vec<Adjacent>]| {
            for list in lists {
                list.sort_unstable_by_key(Adjacent::order_key);
            }
        };
        let (first, second) = {
            let half = self.index.adjacency.len() / 2;
            self.index.adjacency.split_at_mut(half)
        };
        std::thread::scope(|scope| {
            scope.spawn(|| sort(first));
            sort(second);
        });
        self.index.generation += 1;
        (self.index, missing)
    }
}

/// A relation as [`Canonical`] lists it: id, year, first-seen year, evidence document ids.
pub type CanonicalRelation = (String, Option<i32>, Option<i32>, Vec<String>);

/// The content of an index in canonical order, independent of insertion order and node indices.
#[derive(Debug, PartialEq)]
pub struct Canonical {
    pub entities: Vec<Entity>,
    pub relations: Vec<CanonicalRelation>,
    pub documents: Vec<Document>,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn ranks_follow_ids(index: &GraphIndex) {
        let ranks: Vec<u64> = index
            .nodes
            .values()
            .map(|&node| index.graph[node].rank)
            .collect();
        assert!(ranks.windows(2).all(|w| w[0] < w[1]), "{ranks:?}");
    }

    #[test]
    fn ranks_order_like_ids_through_inserts_that_exhaust_the_gaps() {
        let mut index = GraphIndex::default();
        for id in ["m", "z", "a"] {
            index.put_entity(Entity::new(id, EntityKind::Lab, id));
        }
        // Each id sorts just after "m" and before the previous one: the gap halves every time, so
        // ranks must be renumbered on the way (2^24 apart: after 24 halvings).
        let mut id = String::from("m");
        for _ in 0..60 {
            id.push('0');
            index.put_entity(Entity::new(id.clone(), EntityKind::Lab, "x"));
            id.pop();
            id.push('1');
        }
        for i in (0..50).rev() {
            let id = format!("b{i:02}");
            index.put_entity(Entity::new(id.clone(), EntityKind::Lab, "x"));
        }
        index.remove_entity("m");
        index.put_entity(Entity::new("m", EntityKind::Lab, "again"));
        ranks_follow_ids(&index);
    }

    #[test]
    fn adjacency_lists_follow_relations_through_removals() {
        let mut index = GraphIndex::default();
        for id in ["a", "b", "c"] {
            index.put_entity(Entity::new(id, EntityKind::Lab, id));
        }
        let relation = |source: &str, kind, target: &str| Relation {
            kind,
            source: source.to_owned(),
            target: target.to_owned(),
            year: None,
            evidence: Vec::new(),
        };
        index.put_relation(&relation("a", RelationKind::CoBuiltBy, "b"));
        index.put_relation(&relation("b", RelationKind::CooperatesWith, "c"));
        index.put_relation(&relation("c", RelationKind::LocatedIn, "c"));
        let step = |direction| Step::new(KindSet::ALL, direction);
        let neighbours = |index: &GraphIndex, id: &str, direction| -> Vec<String> {
            let mut ids: Vec<String> = index
                .steps_from(index.nodes[id], step(direction))
                .map(|(_, n)| index.graph[n].id.clone())
                .collect();
            ids.sort();
            ids
        };
        assert_eq!(neighbours(&index, "b", Direction::Out), ["c"]);
        assert_eq!(neighbours(&index, "b", Direction::In), ["a", "c"]);
        assert_eq!(neighbours(&index, "c", Direction::Both), ["b", "c", "c"]);
        index.remove_relation("a", RelationKind::CoBuiltBy, "b");
        assert_eq!(neighbours(&index, "b", Direction::Both), ["c"]);
        index.remove_entity("c");
        assert!(neighbours(&index, "b", Direction::Both).is_empty());
        // The freed node slot is reused by the next entity: it starts with no neighbours.
        index.put_entity(Entity::new("d", EntityKind::Lab, "d"));
        assert!(neighbours(&index, "d", Direction::Both).is_empty());
    }
}

#[cfg(test)]
mod search_tests {
    use super::match_rank;

    #[test]
    fn names_match_ignoring_case_in_every_script() {
        assert_eq!(
            match_rank("Zhejiang University", "zhejiang university"),
            Some(0)
        );
        assert_eq!(match_rank("Zhejiang University", "zhejiang"), Some(1));
        assert_eq!(match_rank("Zhejiang University", "univ"), Some(2));
        assert_eq!(match_rank("Zhejiang University", "tianjin"), None);
        assert_eq!(match_rank("浙江大学", "大学"), Some(2));
        assert_eq!(match_rank("Synthetic 研究院12", "研究院12"), Some(2));
        assert_eq!(match_rank("ÉCOLE Polytechnique", "école"), Some(1));
        assert_eq!(match_rank("ÉCOLE", "x"), None);
    }
}

#[cfg(test)]
mod name_index_tests {
    use super::*;

    fn ids(found: Vec<Arc<Entity>>) -> Vec<String> {
        found.iter().map(|e| e.id.clone()).collect()
    }

    #[test]
    fn search_follows_renames_removals_and_reused_slots() {
        let mut index = GraphIndex::default();
        index.put_entity(Entity::new("a", EntityKind::Lab, "Zhejiang Lab"));
        index.put_entity(Entity::new("b", EntityKind::Lab, "之江实验室"));
        assert_eq!(ids(index.search("zhejiang", None, 10)), ["a"]);
        assert_eq!(ids(index.search("实验室", None, 10)), ["b"]);
        // Built now; every change from here on updates it.
        let mut renamed = Entity::new("a", EntityKind::Lab, "West Lake Lab");
        renamed.aliases = vec!["西湖实验室".to_owned()];
        index.put_entity(renamed);
        assert!(index.search("zhejiang", None, 10).is_empty());
        assert_eq!(ids(index.search("LAKE", None, 10)), ["a"]);
        assert_eq!(ids(index.search("实验室", None, 10)), ["a", "b"]);
        index.remove_entity("b");
        index.put_entity(Entity::new(
            "c",
            EntityKind::University,
            "Zhejiang University",
        ));
        assert_eq!(ids(index.search("实验室", None, 10)), ["a"]);
        assert_eq!(ids(index.search("zhejiang", None, 10)), ["c"]);
        assert!(ids(index.search("zhejiang", Some(&[EntityKind::Lab]), 10)).is_empty());
        // Enough renames to make most entries stale: the index is dropped and built again.
        for round in 0..3000 {
            index.put_entity(Entity::new(
                "c",
                EntityKind::University,
                format!("Name {round}"),
            ));
        }
        assert_eq!(ids(index.search("name 2999", None, 10)), ["c"]);
        assert!(index.search("name 2998", None, 10).is_empty());
    }
}
