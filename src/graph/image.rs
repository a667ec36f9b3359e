//! The index as bytes, for the index snapshot (`storage::snapshot` frames, checks and stores
//! them): [`GraphIndex::encode`] and [`GraphIndex::decode`].
//!
//! Node and edge indices are not kept as they are in memory (a live index has holes where entities
//! were removed): entities are numbered by their position in id order and edges by their position
//! in the edge list, and decoding lays the graph out afresh in that order. Ranks are numbered afresh
//! too, as a rebuild numbers them, so a decoded index is the one a rebuild from the same store
//! would give, except for node indices, which nothing outside the index sees. Adjacency lists are
//! kept in their order, so decoding sorts nothing. The name index is not kept (the first search
//! builds it, as after a rebuild).
//!
//! The body is two postcard sections, the entities and the relations, preceded by the length of the
//! first, so that the two decode on two threads.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::Arc;

use petgraph::stable_graph::{EdgeIndex, NodeIndex, StableDiGraph};
use petgraph::visit::{EdgeIndexable, NodeIndexable};
use serde::{Deserialize, Serialize};

use super::{Adjacent, Edge, GraphIndex, Node, RANK_GAP};
use crate::model::{Document, Entity, RelationKind};

/// Documents (those with a slot first, in slot order) and entities in id order.
#[derive(Serialize, Deserialize)]
struct EntitySection<D, E> {
    documents: Vec<D>,
    /// How many of `documents` have a slot (the first ones).
    slotted: u32,
    entities: Vec<E>,
}

/// Every relation, then each entity's adjacency list (entities in id order); `L` is a list of
/// `u32` (owned when decoding, borrowed when encoding).
#[derive(Serialize, Deserialize)]
struct RelationSection<S, L> {
    edges: Vec<EdgeRecord<S>>,
    /// Per entity, the length of its adjacency list.
    degrees: L,
    /// The lists one after the other; each entry is an edge's position times two, plus one when the
    /// entity is the edge's target (an incoming entry).
    adjacency: L,
}

/// An edge with its ends as positions in the entity list.
#[derive(Serialize, Deserialize)]
struct EdgeRecord<S> {
    source: u32,
    target: u32,
    kind: RelationKind,
    year: Option<i32>,
    first_seen: Option<i32>,
    documents: S,
    bases: u8,
}

/// What a snapshot's body is encoded from, copied out of the index: shared entities and documents
/// and plain integers, so that the copy is quick (the index's read lock is held only for it) and the
/// encoding, the slow part, runs without the lock. Ends and adjacency entries are still the index's
/// own node and edge indices (renumbering them reads memory at random: done by `encode`).
#[derive(Default)]
pub struct IndexImage {
    documents: Vec<Arc<Document>>,
    slotted: u32,
    entities: Vec<Arc<Entity>>,
    /// Edges whose `documents` is a range of `slots`.
    edges: Vec<EdgeRecord<(u32, u32)>>,
    slots: Vec<u16>,
    degrees: Vec<u32>,
    adjacency: Vec<u32>,
    /// Node index → position in id order.
    position: Vec<u32>,
    /// Edge index → position in `edges`.
    edge_position: Vec<u32>,
}

/// A copy of the index for a snapshot, under way ([`GraphIndex::copy_step`]).
#[derive(Default)]
pub struct ImageCopy {
    image: IndexImage,
    started: bool,
    /// The id of the last entity copied by the last step that stopped among the entities.
    last_id: Option<String>,
    entities_done: bool,
    /// The next edge index to copy, once every entity is.
    next_edge: usize,
}

impl ImageCopy {
    /// The copy, once [`GraphIndex::copy_step`] said it is whole.
    pub fn finish(self) -> IndexImage {
        self.image
    }
}

impl GraphIndex {
    /// The index as the body of an index snapshot.
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        self.image()?.encode()
    }

    /// A copy of what the snapshot's body holds (see [`IndexImage`]), in one go.
    pub fn image(&self) -> Result<IndexImage, String> {
        let mut copy = ImageCopy::default();
        while !self.copy_step(&mut copy, usize::MAX)? {}
        Ok(copy.image)
    }

    /// Copies about `budget` more entities, adjacency entries or relations into `copy`; true once
    /// the copy is whole. Between steps the caller may let writes in, but must then check that
    /// none changed the index (its generation) before going on: a step resumes by position.
    pub fn copy_step(&self, copy: &mut ImageCopy, budget: usize) -> Result<bool, String> {
        let too_many = |what: &str| format!("too many {what} for a snapshot");
        let image = &mut copy.image;
        if !copy.started {
            copy.started = true;
            // Room for the direction bit of adjacency entries.
            if self.graph.edge_bound() >= 1 << 31 || self.graph.node_bound() > u32::MAX as usize {
                return Err(too_many("relations"));
            }
            image.position = vec![u32::MAX; self.graph.node_bound()];
            image.edge_position = vec![u32::MAX; self.graph.edge_bound()];
            image.documents = self.document_slots.clone();
            image.slotted = image.documents.len() as u32;
            image.documents.extend(
                self.documents
                    .values()
                    .filter(|d| !self.slot_of.contains_key(&d.id))
                    .cloned(),
            );
            image.entities.reserve(self.nodes.len());
            image.degrees.reserve(self.nodes.len());
            image.adjacency.reserve(2 * self.graph.edge_count());
            image.edges.reserve(self.graph.edge_count());
        }
        let mut spent = 0;
        // Entities in id order, each with its adjacency list, from where the last step stopped.
        use std::ops::Bound::{Excluded, Unbounded};
        let after = match &copy.last_id {
            Some(id) => Excluded(id.as_str()),
            None => Unbounded,
        };
        let mut entities = self.nodes.range::<str, _>((after, Unbounded)).peekable();
        if !copy.entities_done {
            while let Some((id, &node)) = entities.next() {
                let list = &self.adjacency[node.index()];
                image.position[node.index()] = image.entities.len() as u32;
                image.entities.push(self.graph[node].entity.clone());
                image
                    .degrees
                    .push(u32::try_from(list.len()).map_err(|_| too_many("relations"))?);
                image.adjacency.extend(
                    list.iter()
                        .map(|a| (a.edge.index() as u32) << 1 | u32::from(!a.outgoing)),
                );
                spent += 1 + list.len();
                if spent >= budget && entities.peek().is_some() {
                    copy.last_id = Some(id.clone());
                    return Ok(false);
                }
            }
            copy.entities_done = true;
        }
        // Relations by edge index (holes skipped).
        while copy.next_edge < self.graph.edge_bound() {
            if spent >= budget {
                return Ok(false);
            }
            let edge = EdgeIndex::new(copy.next_edge);
            copy.next_edge += 1;
            let (Some((source, target)), Some(data)) = (
                self.graph.edge_endpoints(edge),
                self.graph.edge_weight(edge),
            ) else {
                continue;
            };
            image.edge_position[edge.index()] = image.edges.len() as u32;
            let from =
                u32::try_from(image.slots.len()).map_err(|_| too_many("evidence documents"))?;
            image.slots.extend_from_slice(&data.documents);
            image.edges.push(EdgeRecord {
                source: source.index() as u32,
                target: target.index() as u32,
                kind: data.kind,
                year: data.year,
                first_seen: data.first_seen,
                documents: (from, image.slots.len() as u32),
                bases: data.bases,
            });
            spent += 1;
        }
        Ok(true)
    }

    /// The index an [`GraphIndex::encode`]d body holds, its two sections decoded on two threads;
    /// every position in it is checked, so a body that decodes but does not hang together is an
    /// error, not a panic.
    pub fn decode(body: &[u8]) -> Result<GraphIndex, String> {
        let split = body
            .get(..8)
            .and_then(|len| <[u8; 8]>::try_from(len).ok())
            .map(u64::from_le_bytes)
            .and_then(|len| usize::try_from(len).ok())
            .and_then(|len| len.checked_add(8))
            .filter(|&end| end <= body.len())
            .ok_or("the body is shorter than its first section")?;
        let (first, second) = (&body[8..split], &body[split..]);
        type Entities = EntitySection<Document, Entity>;
        let (entities, relations) = std::thread::scope(|scope| {
            let entities = scope.spawn(
                || -> Result<(Entities, BTreeMap<String, NodeIndex>), String> {
                    let section: Entities =
                        postcard::from_bytes(first).map_err(|e| e.to_string())?;
                    if !section.entities.windows(2).all(|w| w[0].id < w[1].id) {
                        return Err("entities are not in id order".to_owned());
                    }
                    // Sorted input: the map is built in one pass.
                    let nodes = section
                        .entities
                        .iter()
                        .enumerate()
                        .map(|(at, e)| (e.id.clone(), NodeIndex::new(at)))
                        .collect();
                    Ok((section, nodes))
                },
            );
            let relations: Result<RelationSection<Box<[u16]>, Vec<u32>>, String> =
                postcard::from_bytes(second).map_err(|e| e.to_string());
            let entities = entities
                .join()
                .unwrap_or_else(|_| Err("decoding panicked".to_owned()));
            (entities, relations)
        });
        let (entities, nodes) = entities?;
        let relations = relations?;
        assemble(entities, nodes, relations)
    }
}

impl IndexImage {
    /// The body of an index snapshot: the entity section's length, then the two sections.
    pub fn encode(&self) -> Result<Vec<u8>, String> {
        let entities = EntitySection {
            documents: self.documents.iter().map(Arc::as_ref).collect(),
            slotted: self.slotted,
            entities: self.entities.iter().map(Arc::as_ref).collect::<Vec<_>>(),
        };
        let relations = RelationSection {
            edges: self
                .edges
                .iter()
                .map(|e| EdgeRecord {
                    source: self.position[e.source as usize],
                    target: self.position[e.target as usize],
                    kind: e.kind,
                    year: e.year,
                    first_seen: e.first_seen,
                    documents: &self.slots[e.documents.0 as usize..e.documents.1 as usize],
                    bases: e.bases,
                })
                .collect(),
            degrees: &self.degrees,
            adjacency: &self
                .adjacency
                .iter()
                .map(|&entry| self.edge_position[(entry >> 1) as usize] << 1 | entry & 1)
                .collect::<Vec<u32>>(),
        };
        let encoded = |error: postcard::Error| error.to_string();
        let first = postcard::to_allocvec(&entities).map_err(encoded)?;
        let mut body = Vec::with_capacity(8 + first.len() * 2);
        body.extend_from_slice(&(first.len() as u64).to_le_bytes());
        body.extend_from_slice(&first);
        drop(first);
        postcard::to_extend(&relations, body).map_err(encoded)
    }
}

/// Lays out the graph from decoded sections, checking every position.
fn assemble(
    section: EntitySection<Document, Entity>,
    nodes: BTreeMap<String, NodeIndex>,
    relations: RelationSection<Box<[u16]>, Vec<u32>>,
) -> Result<GraphIndex, String> {
    let count = section.entities.len();
    let slotted = section.slotted as usize;
    if slotted > section.documents.len() || slotted > usize::from(u16::MAX) + 1 {
        return Err("more document slots than documents".to_owned());
    }
    if relations.degrees.len() != count
        || relations.degrees.iter().map(|&d| d as usize).sum::<usize>() != relations.adjacency.len()
        || relations.adjacency.len() != 2 * relations.edges.len()
    {
        return Err("adjacency lists do not add up to the relations".to_owned());
    }
    let mut index = GraphIndex::default();
    let mut documents = section.documents.into_iter().map(Arc::new);
    index.document_slots = documents.by_ref().take(slotted).collect();
    index.slot_of = index
        .document_slots
        .iter()
        .enumerate()
        .map(|(slot, d)| (d.id.clone(), slot as u16))
        .collect::<HashMap<_, _>>();
    index.documents = index
        .document_slots
        .iter()
        .cloned()
        .chain(documents)
        .map(|d| (d.id.clone(), d))
        .collect();

    let rank = |at: usize| (at as u64 + 1) * RANK_GAP;
    let mut graph: StableDiGraph<Node, Edge> =
        StableDiGraph::with_capacity(count, relations.edges.len());
    for (at, entity) in section.entities.into_iter().enumerate() {
        graph.add_node(Node::new(entity, rank(at)));
    }
    let node = |at: u32| (at as usize) < count;
    for edge in relations.edges.iter() {
        if !node(edge.source) || !node(edge.target) {
            return Err("a relation's end is not an entity".to_owned());
        }
        if edge
            .documents
            .iter()
            .any(|&slot| usize::from(slot) >= slotted)
        {
            return Err("a relation names a document slot that is not there".to_owned());
        }
    }
    let ends: Vec<(u32, u32, RelationKind)> = relations
        .edges
        .iter()
        .map(|e| (e.source, e.target, e.kind))
        .collect();
    for edge in relations.edges {
        graph.add_edge(
            NodeIndex::new(edge.source as usize),
            NodeIndex::new(edge.target as usize),
            Edge {
                kind: edge.kind,
                year: edge.year,
                first_seen: edge.first_seen,
                documents: edge.documents,
                bases: edge.bases,
            },
        );
    }
    let mut adjacency = Vec::with_capacity(count);
    let mut entries = relations.adjacency.into_iter();
    for (at, &degree) in relations.degrees.iter().enumerate() {
        let mut list = Vec::with_capacity(degree as usize);
        for entry in entries.by_ref().take(degree as usize) {
            let position = (entry >> 1) as usize;
            let outgoing = entry & 1 == 0;
            let &(source, target, kind) = ends
                .get(position)
                .ok_or("an adjacency entry names no relation")?;
            let (this, neighbour) = if outgoing {
                (source, target)
            } else {
                (target, source)
            };
            if this as usize != at {
                return Err("an adjacency entry is not a relation of its entity".to_owned());
            }
            list.push(Adjacent {
                rank: rank(neighbour as usize),
                neighbour: NodeIndex::new(neighbour as usize),
                edge: EdgeIndex::new(position),
                kind,
                outgoing,
            });
        }
        adjacency.push(list);
    }
    index.graph = graph;
    index.nodes = nodes;
    index.adjacency = adjacency;
    index.generation = 1;
    Ok(index)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Basis, EntityKind, Evidence, Relation};

    fn relation(source: &str, kind: RelationKind, target: &str, document: &str) -> Relation {
        Relation {
            kind,
            source: source.to_owned(),
            target: target.to_owned(),
            year: Some(2020),
            evidence: vec![Evidence {
                document: document.to_owned(),
                quote: "q".to_owned(),
                basis: Basis::Stated,
            }],
        }
    }

    #[test]
    fn a_decoded_index_equals_the_encoded_one_and_walks_the_same() {
        let mut index = GraphIndex::default();
        let mut document = Document {
            id: "d".to_owned(),
            title: "t".to_owned(),
            title_en: None,
            publisher: None,
            date: Some("2019".to_owned()),
            region: None,
            index_no: None,
            file: "f".to_owned(),
            reference: false,
        };
        index.put_document(document.clone());
        document.id = "e".to_owned();
        index.put_document(document);
        for id in ["c", "a", "b", "gone", "d"] {
            index.put_entity(Entity::new(id, EntityKind::Lab, id));
        }
        index.put_relation(&relation("a", RelationKind::CooperatesWith, "b", "d"));
        index.put_relation(&relation("gone", RelationKind::PartOf, "a", "e"));
        index.put_relation(&relation("c", RelationKind::PartOf, "a", "e"));
        index.put_relation(&relation("c", RelationKind::LocatedIn, "c", "d"));
        index.put_relation(&relation("d", RelationKind::PartOf, "c", "d"));
        // Holes in the node and edge lists.
        index.remove_entity("gone");

        let decoded = GraphIndex::decode(&index.encode().unwrap()).unwrap();
        assert_eq!(decoded, index);
        // Copied a little at a time, as `Db::write_snapshot` does, it encodes the same.
        for budget in [1, 2, 3, 5] {
            let mut copy = ImageCopy::default();
            while !index.copy_step(&mut copy, budget).unwrap() {}
            assert_eq!(copy.finish().encode(), index.encode(), "budget {budget}");
        }
        for (id, &node) in &index.nodes {
            let walk = |index: &GraphIndex, node: usize| -> Vec<(String, RelationKind, bool)> {
                index.adjacency[node]
                    .iter()
                    .map(|a: &Adjacent| (index.graph[a.neighbour].id.clone(), a.kind, a.outgoing))
                    .collect()
            };
            assert_eq!(
                walk(&decoded, decoded.nodes[id].index()),
                walk(&index, node.index()),
                "{id}"
            );
        }
    }

    #[test]
    fn a_body_that_does_not_hang_together_is_an_error() {
        let mut index = GraphIndex::default();
        for id in ["a", "b"] {
            index.put_entity(Entity::new(id, EntityKind::Lab, id));
        }
        index.put_relation(&relation("a", RelationKind::PartOf, "b", "none"));
        let body = index.encode().unwrap();
        for cut in [0, 5, 9, body.len() / 2, body.len() - 1] {
            assert!(GraphIndex::decode(&body[..cut]).is_err(), "cut at {cut}");
        }
        // Every single-byte change either decodes to a consistent index or is refused; none panics.
        for at in 0..body.len() {
            let mut changed = body.clone();
            changed[at] ^= 0x41;
            let _ = GraphIndex::decode(&changed);
        }
    }
}
