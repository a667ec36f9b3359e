//! The substring index behind `search`: every entity name (as `normalize::search_key` folds it:
//! full/half width, Traditional/Simplified, case, spacing), in one string that
//! `memchr::memmem` scans in milliseconds at a million entities, instead of visiting every entity.
//!
//! It only proposes candidates: `search` checks each against the entity's current names, so entries
//! left behind by renamed or removed entities cost time, never correctness. It is built on the first
//! search (start-up does not pay for it), extended as entities are written, and dropped to be built
//! again when most of it is stale.

use petgraph::stable_graph::NodeIndex;
use rustc_hash::FxHashSet;

use crate::model::Entity;

#[derive(Clone, Debug, Default)]
pub(super) struct NameIndex {
    /// `\0name\0name…`, every name lower-cased.
    text: String,
    /// Where each name starts in `text`, and whose it is, in offset order.
    owners: Vec<(usize, NodeIndex)>,
    /// Entries of entities since renamed or removed.
    stale: usize,
}

impl NameIndex {
    pub(super) fn build<'a>(entities: impl Iterator<Item = (NodeIndex, &'a Entity)>) -> NameIndex {
        let mut index = NameIndex::default();
        for (node, entity) in entities {
            index.add(node, entity);
        }
        index
    }

    /// Adds the names of an entity (new, or replacing one whose entries [`NameIndex::forget`] counted).
    pub(super) fn add(&mut self, node: NodeIndex, entity: &Entity) {
        for name in entity.names() {
            self.text.push('\0');
            self.owners.push((self.text.len(), node));
            self.text
                .push_str(&crate::extract::normalize::search_key(name));
        }
    }

    /// Counts the entries of an entity being renamed or removed as stale.
    pub(super) fn forget(&mut self, entity: &Entity) {
        self.stale += entity.names().count();
    }

    /// Whether most entries are stale, so that building afresh is cheaper than scanning them.
    pub(super) fn is_mostly_stale(&self) -> bool {
        self.stale > 1024 && self.stale > self.owners.len() / 2
    }

    /// Every node with a name containing `needle` (lower-cased), each once; possibly more (stale).
    pub(super) fn candidates(&self, needle: &str) -> Vec<NodeIndex> {
        let mut seen = FxHashSet::default();
        let mut found = Vec::new();
        for position in memchr::memmem::find_iter(self.text.as_bytes(), needle.as_bytes()) {
            let slot = self.owners.partition_point(|&(start, _)| start <= position);
            if let Some(&(_, node)) = slot.checked_sub(1).and_then(|s| self.owners.get(s))
                && seen.insert(node)
            {
                found.push(node);
            }
        }
        found
    }
}
