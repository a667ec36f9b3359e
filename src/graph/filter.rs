//! Filtering, sorting and grouping entities and relations on the index: the engine behind `where`,
//! `orderBy` and `groupCount`. Filters are built by the API from its inputs, compiled once per query
//! against the index (resolving ids and the transitive `locatedIn` sets), then evaluated per entity.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use petgraph::Direction as PgDirection;
use petgraph::stable_graph::{EdgeIndex, NodeIndex};
use petgraph::visit::{EdgeRef, IntoEdgeReferences};

use rustc_hash::FxHashSet;

use super::{Direction, Edge, GraphIndex, KindSet, Measure, RelationView, Step, TimeFilter};
use crate::extract::normalize::search_key;
use crate::model::{DistrictLevel, Entity, EntityKind, RelationKind};

/// A text field of an entity that a filter can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextField {
    Id,
    Name,
    NameEn,
    /// Any one of the aliases.
    Alias,
    /// The Chinese name, the English name or any alias.
    AnyName,
    Description,
    Established,
    DistrictCode,
    LegalForm,
    /// Any one of the focus fields.
    Focus,
}

/// A test on text: `Eq` and `In` are exact; `Contains` and `StartsWith` compare both sides as
/// `search` does (`normalize::search_key`: full/half width, Traditional/Simplified, case, spacing).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TextOp {
    Eq(String),
    In(Vec<String>),
    Contains(String),
    StartsWith(String),
}

impl TextOp {
    /// Whether `value` passes; the needles of `Contains` and `StartsWith` must already be folded
    /// ([`GraphIndex::compile`] folds them).
    fn test(&self, value: &str) -> bool {
        match self {
            TextOp::Eq(v) => value == v,
            TextOp::In(vs) => vs.iter().any(|v| v == value),
            TextOp::Contains(v) => search_key(value).contains(v.as_str()),
            TextOp::StartsWith(v) => search_key(value).starts_with(v.as_str()),
        }
    }

    /// The folded needle of `Contains` and `StartsWith`.
    fn needle(&self) -> Option<&str> {
        match self {
            TextOp::Contains(v) | TextOp::StartsWith(v) => Some(v),
            TextOp::Eq(_) | TextOp::In(_) => None,
        }
    }
}

/// Whether a field holds only names, which the name index covers.
fn is_name(field: TextField) -> bool {
    matches!(
        field,
        TextField::Name | TextField::NameEn | TextField::Alias | TextField::AnyName
    )
}

/// Folds the needles of `Contains` and `StartsWith` (see [`TextOp`]) and collects those tested on
/// names.
fn fold_needles(filter: &mut EntityFilter, on_names: &mut Vec<String>) {
    match filter {
        EntityFilter::Text(field, TextOp::Contains(v) | TextOp::StartsWith(v)) => {
            *v = search_key(v);
            if is_name(*field) && !v.is_empty() {
                on_names.push(v.clone());
            }
        }
        EntityFilter::And(list) | EntityFilter::Or(list) => {
            list.iter_mut().for_each(|f| fold_needles(f, on_names))
        }
        EntityFilter::Not(inner) => fold_needles(inner, on_names),
        EntityFilter::Relations { predicate, .. } => {
            if let Some(other) = &mut predicate.other {
                fold_needles(other, on_names);
            }
        }
        EntityFilter::True
        | EntityFilter::Text(..)
        | EntityFilter::Kind(_)
        | EntityFilter::DistrictLevel(_)
        | EntityFilter::LocatedIn(_) => {}
    }
}

/// How many of an entity's relations (in a scope) must satisfy a predicate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quantifier {
    /// At least one.
    Some,
    /// Every one (true when there are none).
    All,
    /// Not one.
    None,
}

/// What a relation must satisfy, seen from one of its ends.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RelationPredicate {
    /// The entity at the other end.
    pub other: Option<Box<EntityFilter>>,
    pub time: TimeFilter,
    /// Id of a document among its evidence.
    pub document: Option<String>,
}

/// A condition on entities.
#[derive(Clone, Debug, PartialEq)]
pub enum EntityFilter {
    True,
    And(Vec<EntityFilter>),
    Or(Vec<EntityFilter>),
    Not(Box<EntityFilter>),
    Text(TextField, TextOp),
    Kind(Vec<EntityKind>),
    DistrictLevel(Vec<DistrictLevel>),
    /// In the given district or platform, directly or through any chain of LOCATED_IN (sub-districts,
    /// platforms inside districts); the place itself is not included.
    LocatedIn(String),
    /// A quantifier over the relations in `scope` (kinds and direction; the scope's time applies too).
    Relations {
        quantifier: Quantifier,
        scope: Step,
        predicate: RelationPredicate,
    },
}

/// A filter resolved against one index: ids looked up, `locatedIn` closures computed.
pub struct Compiled<'g> {
    index: &'g GraphIndex,
    located: HashMap<String, HashSet<NodeIndex>>,
    /// For each folded needle tested on names: the entities with a name containing it, from the
    /// name index (a superset, checked against the names themselves), so that a name filter folds
    /// the names of those few entities only, not of every entity.
    named: HashMap<String, FxHashSet<NodeIndex>>,
    filter: EntityFilter,
}

impl GraphIndex {
    /// Prepares a filter for evaluation on this index.
    pub fn compile(&self, mut filter: EntityFilter) -> Compiled<'_> {
        let mut places = Vec::new();
        collect_places(&filter, &mut places);
        let located = places.into_iter().map(|place| {
            let inside = self.located_within(&place);
            (place, inside)
        });
        let mut needles = Vec::new();
        fold_needles(&mut filter, &mut needles);
        let named = needles
            .into_iter()
            .map(|needle| {
                let found = self.name_index().candidates(&needle).into_iter().collect();
                (needle, found)
            })
            .collect();
        Compiled {
            index: self,
            located: located.collect(),
            named,
            filter,
        }
    }

    /// Every entity whose LOCATED_IN chain reaches `place`.
    pub fn located_within(&self, place: &str) -> HashSet<NodeIndex> {
        let mut inside = HashSet::new();
        let Some(&root) = self.nodes.get(place) else {
            return inside;
        };
        let mut stack = vec![root];
        while let Some(node) = stack.pop() {
            for edge in self.graph.edges_directed(node, PgDirection::Incoming) {
                if edge.weight().kind == RelationKind::LocatedIn
                    && edge.source() != root
                    && inside.insert(edge.source())
                {
                    stack.push(edge.source());
                }
            }
        }
        inside
    }

    /// Entities matching a filter, in id order.
    pub fn select(&self, filter: &Compiled<'_>) -> Vec<Arc<Entity>> {
        self.nodes
            .values()
            .filter(|&&n| filter.matches(n))
            .map(|&n| self.graph[n].entity.clone())
            .collect()
    }

    /// Sorts entities by the given keys (each ascending or descending), then by id.
    pub fn sort(&self, entities: &mut [Arc<Entity>], keys: &[(SortKey, bool)], ranks: &Ranks) {
        let value = |entity: &Entity, key: &SortKey| -> SortValue {
            match key {
                SortKey::Id => SortValue::Text(entity.id.clone()),
                SortKey::Name => SortValue::Text(entity.name.clone()),
                SortKey::NameEn => {
                    SortValue::Text(entity.name_en.clone().unwrap_or_default().to_lowercase())
                }
                SortKey::Kind => SortValue::Number(entity.kind as i64 as f64),
                SortKey::Degree(step) => SortValue::Number(
                    self.nodes
                        .get(&entity.id)
                        .map_or(0, |&n| self.degree_of(n, *step)) as f64,
                ),
                SortKey::PageRank => SortValue::Number(
                    ranks
                        .pagerank
                        .as_ref()
                        .map_or(0.0, |m| m.score_of(&entity.id)),
                ),
                SortKey::Betweenness => SortValue::Number(
                    ranks
                        .betweenness
                        .as_ref()
                        .map_or(0.0, |m| m.score_of(&entity.id)),
                ),
            }
        };
        let mut keyed: Vec<(Vec<SortValue>, Arc<Entity>)> = entities
            .iter()
            .map(|e| (keys.iter().map(|(k, _)| value(e, k)).collect(), e.clone()))
            .collect();
        keyed.sort_by(|a, b| {
            for (i, (_, descending)) in keys.iter().enumerate() {
                let order = a.0[i].cmp(&b.0[i]);
                let order = if *descending { order.reverse() } else { order };
                if order != std::cmp::Ordering::Equal {
                    return order;
                }
            }
            a.1.id.cmp(&b.1.id)
        });
        for (slot, (_, entity)) in entities.iter_mut().zip(keyed) {
            *slot = entity;
        }
    }

    /// Relations matching kinds, time and document, whose ends match the given filters; by id.
    pub fn select_relations(
        &self,
        relations: KindSet,
        time: TimeFilter,
        document: Option<&str>,
        source: Option<&Compiled<'_>>,
        target: Option<&Compiled<'_>>,
        bases: u8,
    ) -> Vec<RelationView> {
        let slot = document.map(|d| self.slot_of.get(d).copied());
        let mut edges: Vec<EdgeIndex> = self
            .graph
            .edge_references()
            .filter(|e| relations.contains(e.weight().kind) && time.admits(e.weight()))
            .filter(|e| bases == 0 || e.weight().bases & bases != 0)
            .filter(|e| match slot {
                None => true,
                Some(None) => false,
                Some(Some(slot)) => e.weight().documents.contains(&slot),
            })
            .filter(|e| {
                source.is_none_or(|f| f.matches(e.source()))
                    && target.is_none_or(|f| f.matches(e.target()))
            })
            .map(|e| e.id())
            .collect();
        edges.sort_by_cached_key(|&e| self.view(e).id());
        edges.into_iter().map(|e| self.view(e)).collect()
    }

    /// Counts entities matching `filter` per district or platform they lie in, every level of the
    /// LOCATED_IN hierarchy counted (an institute in 上虞区 counts for 上虞区, 绍兴市 and 浙江省).
    /// `within` keeps only places inside that place; `level` only districts of that level.
    pub fn count_by_place(
        &self,
        filter: &Compiled<'_>,
        within: Option<&str>,
        level: Option<DistrictLevel>,
    ) -> Vec<(Arc<Entity>, usize)> {
        let allowed: Option<HashSet<NodeIndex>> = within.map(|w| self.located_within(w));
        let mut counts: HashMap<NodeIndex, usize> = HashMap::new();
        for &node in self.nodes.values() {
            if !filter.matches(node) {
                continue;
            }
            for place in self.places_of(node) {
                *counts.entry(place).or_default() += 1;
            }
        }
        let mut out: Vec<(Arc<Entity>, usize)> = counts
            .into_iter()
            .filter(|(place, _)| allowed.as_ref().is_none_or(|a| a.contains(place)))
            .filter(|(place, _)| level.is_none_or(|l| self.graph[*place].district_level == Some(l)))
            .map(|(place, count)| (self.graph[place].entity.clone(), count))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.id.cmp(&b.0.id)));
        out
    }

    /// Every place an entity lies in, following LOCATED_IN transitively.
    fn places_of(&self, node: NodeIndex) -> HashSet<NodeIndex> {
        let mut places = HashSet::new();
        let mut stack = vec![node];
        while let Some(current) = stack.pop() {
            for edge in self.graph.edges_directed(current, PgDirection::Outgoing) {
                if edge.weight().kind == RelationKind::LocatedIn
                    && edge.target() != node
                    && places.insert(edge.target())
                {
                    stack.push(edge.target());
                }
            }
        }
        places
    }

    /// Counts relations by a key: kind, evidence document or year.
    pub fn count_relations(
        &self,
        relations: &[RelationView],
        by: RelationGroup,
    ) -> Vec<(String, String, usize)> {
        let mut counts: BTreeMap<String, (String, usize)> = BTreeMap::new();
        for relation in relations {
            let keys: Vec<(String, String)> = match by {
                RelationGroup::Kind => vec![(
                    relation.edge.kind.to_string(),
                    relation.edge.kind.to_string(),
                )],
                RelationGroup::Year => {
                    let year = relation.edge.effective_year();
                    vec![(
                        year.map_or("undated".to_owned(), |y| y.to_string()),
                        year.map_or("undated".to_owned(), |y| y.to_string()),
                    )]
                }
                RelationGroup::Document => relation
                    .edge
                    .documents
                    .iter()
                    .filter_map(|&slot| self.document_in_slot(slot))
                    .map(|d| (d.id.clone(), d.title.clone()))
                    .collect(),
            };
            for (key, label) in keys {
                counts.entry(key).or_insert((label, 0)).1 += 1;
            }
        }
        let mut out: Vec<(String, String, usize)> =
            counts.into_iter().map(|(k, (l, c))| (k, l, c)).collect();
        out.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

/// What to sort entities by.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum SortKey {
    Id,
    Name,
    NameEn,
    Kind,
    /// Degree over a step (relation kinds and direction).
    Degree(Step),
    PageRank,
    Betweenness,
}

/// What to group relations by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RelationGroup {
    Kind,
    Document,
    Year,
}

#[derive(Clone, Debug, PartialEq)]
enum SortValue {
    Text(String),
    Number(f64),
}

impl Eq for SortValue {}

impl PartialOrd for SortValue {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortValue {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (SortValue::Text(a), SortValue::Text(b)) => a.cmp(b),
            (SortValue::Number(a), SortValue::Number(b)) => a.total_cmp(b),
            (SortValue::Text(_), SortValue::Number(_)) => std::cmp::Ordering::Less,
            (SortValue::Number(_), SortValue::Text(_)) => std::cmp::Ordering::Greater,
        }
    }
}

fn collect_places(filter: &EntityFilter, out: &mut Vec<String>) {
    match filter {
        EntityFilter::LocatedIn(place) => out.push(place.clone()),
        EntityFilter::And(list) | EntityFilter::Or(list) => {
            list.iter().for_each(|f| collect_places(f, out))
        }
        EntityFilter::Not(inner) => collect_places(inner, out),
        EntityFilter::Relations { predicate, .. } => {
            if let Some(other) = &predicate.other {
                collect_places(other, out);
            }
        }
        EntityFilter::True
        | EntityFilter::Text(..)
        | EntityFilter::Kind(_)
        | EntityFilter::DistrictLevel(_) => {}
    }
}

impl Compiled<'_> {
    /// Whether the entity at `node` satisfies the filter.
    pub fn matches(&self, node: NodeIndex) -> bool {
        self.eval(&self.filter, node)
    }

    pub fn matches_id(&self, id: &str) -> bool {
        self.index.nodes.get(id).is_some_and(|&n| self.matches(n))
    }

    fn eval(&self, filter: &EntityFilter, node: NodeIndex) -> bool {
        let entity = &self.index.graph[node];
        match filter {
            EntityFilter::True => true,
            EntityFilter::And(list) => list.iter().all(|f| self.eval(f, node)),
            EntityFilter::Or(list) => list.iter().any(|f| self.eval(f, node)),
            EntityFilter::Not(inner) => !self.eval(inner, node),
            EntityFilter::Kind(kinds) => kinds.contains(&entity.kind),
            EntityFilter::DistrictLevel(levels) => {
                entity.district_level.is_some_and(|l| levels.contains(&l))
            }
            EntityFilter::Text(field, op) => {
                let named = op
                    .needle()
                    .filter(|_| is_name(*field))
                    .and_then(|needle| self.named.get(needle));
                if named.is_some_and(|found| !found.contains(&node)) {
                    return false;
                }
                text_values(entity, *field).any(|v| op.test(v))
            }
            EntityFilter::LocatedIn(place) => self
                .located
                .get(place)
                .is_some_and(|set| set.contains(&node)),
            EntityFilter::Relations {
                quantifier,
                scope,
                predicate,
            } => {
                let slot = predicate
                    .document
                    .as_deref()
                    .map(|d| self.index.slot_of.get(d).copied());
                let mut satisfied = self.index.steps_from(node, *scope).map(|(edge, other)| {
                    let weight: &Edge = &self.index.graph[edge];
                    predicate.time.admits(weight)
                        && match slot {
                            None => true,
                            Some(None) => false,
                            Some(Some(slot)) => weight.documents.contains(&slot),
                        }
                        && predicate
                            .other
                            .as_deref()
                            .is_none_or(|f| self.eval(f, other))
                });
                match quantifier {
                    Quantifier::Some => satisfied.any(|ok| ok),
                    Quantifier::All => satisfied.all(|ok| ok),
                    Quantifier::None => !satisfied.any(|ok| ok),
                }
            }
        }
    }
}

fn text_values(entity: &Entity, field: TextField) -> Box<dyn Iterator<Item = &str> + '_> {
    match field {
        TextField::Id => Box::new(std::iter::once(entity.id.as_str())),
        TextField::Name => Box::new(std::iter::once(entity.name.as_str())),
        TextField::NameEn => Box::new(entity.name_en.as_deref().into_iter()),
        TextField::Alias => Box::new(entity.aliases.iter().map(String::as_str)),
        TextField::AnyName => Box::new(entity.names()),
        TextField::Description => Box::new(entity.description.as_deref().into_iter()),
        TextField::Established => Box::new(entity.established.as_deref().into_iter()),
        TextField::DistrictCode => Box::new(entity.district_code.as_deref().into_iter()),
        TextField::LegalForm => Box::new(entity.legal_form.as_deref().into_iter()),
        TextField::Focus => Box::new(entity.focus.iter().map(String::as_str)),
    }
}

/// The default scope of a relation quantifier: every kind, outgoing.
pub fn default_scope() -> Step {
    Step::new(KindSet::ALL, Direction::Out)
}

/// The measures an ordering by PageRank or betweenness reads (absent: every score 0).
#[derive(Default)]
pub struct Ranks {
    pub pagerank: Option<std::sync::Arc<Measure>>,
    pub betweenness: Option<std::sync::Arc<Measure>>,
}
