//! The names the extractor knows: every name and alias of the graph's entities, and the bundled
//! universities table for universities the graph does not have yet.

use aho_corasick::{AhoCorasick, MatchKind};

use super::normalize::{Folded, key};
use crate::model::{Entity, EntityKind};

/// An entity a name stands for.
#[derive(Clone, Debug, PartialEq)]
pub struct Known {
    pub id: String,
    pub kind: EntityKind,
    /// Its display name.
    pub name: String,
    /// Whether the graph has it (else it comes from a reference table).
    pub existing: bool,
    /// Districts only: the GB/T 2260 code (its level: `xx0000` province, `xxxx00` city, else county).
    pub district_code: Option<String>,
}

/// A mention of a known name in a text.
#[derive(Clone, Debug)]
pub struct Mention<'g> {
    /// Byte range in the original text.
    pub start: usize,
    pub end: usize,
    pub known: &'g Known,
}

/// Known names, searched all at once.
pub struct Gazetteer {
    entries: Vec<Known>,
    /// (folded name, entry) pairs, in the automaton's pattern order.
    names: Vec<(String, usize)>,
    automaton: Option<AhoCorasick>,
}

/// Names shorter than this (in characters) are too ambiguous to look for (市, 省 …).
const MIN_NAME_CHARS: usize = 2;

impl Gazetteer {
    /// The names and aliases of `entities`, and the rows of the universities table (`name`, `name_en`
    /// columns) not among them.
    pub fn new<'a>(
        entities: impl IntoIterator<Item = &'a Entity>,
        universities_tsv: &str,
    ) -> Gazetteer {
        let mut entries = Vec::new();
        let mut names = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for entity in entities {
            let entry = entries.len();
            entries.push(Known {
                id: entity.id.clone(),
                kind: entity.kind,
                name: entity.name.clone(),
                existing: true,
                district_code: entity.district_code.clone(),
            });
            for name in entity.names() {
                let folded = key(name);
                if folded.chars().count() >= MIN_NAME_CHARS && seen.insert(folded.clone()) {
                    names.push((folded, entry));
                }
            }
        }
        for row in universities_tsv.lines().skip(1) {
            let mut cells = row.split('\t');
            let (Some(name), Some(name_en)) = (cells.next(), cells.next()) else {
                continue;
            };
            let folded = key(name);
            if folded.is_empty() || !seen.insert(folded.clone()) {
                continue;
            }
            let entry = entries.len();
            entries.push(Known {
                id: slug(name_en),
                kind: EntityKind::University,
                name: name.to_owned(),
                existing: false,
                district_code: None,
            });
            names.push((folded, entry));
        }
        let automaton = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(names.iter().map(|(n, _)| n.as_str()))
            .ok();
        Gazetteer {
            entries,
            names,
            automaton,
        }
    }

    /// The names of an index's entities, and the bundled universities table.
    pub fn of_index(index: &crate::graph::GraphIndex) -> Gazetteer {
        let (all, _, _) = index.page(None, None, usize::MAX);
        Gazetteer::new(all.iter().map(|e| &**e), Gazetteer::bundled_universities())
    }

    /// The bundled universities table.
    pub fn bundled_universities() -> &'static str {
        crate::seed::bundled_file("reference/universities.tsv").unwrap_or("")
    }

    /// Every mention of a known name in `text`, leftmost-longest, not overlapping.
    pub fn mentions<'g>(&'g self, text: &str) -> Vec<Mention<'g>> {
        let Some(automaton) = &self.automaton else {
            return Vec::new();
        };
        let folded = Folded::new(text);
        automaton
            .find_iter(&folded.text)
            .map(|m| Mention {
                start: folded.original(m.start()),
                end: folded.original(m.end()),
                known: &self.entries[self.names[m.pattern().as_usize()].1],
            })
            .collect()
    }

    /// The entity a whole name stands for, if known.
    pub fn lookup(&self, name: &str) -> Option<&Known> {
        let folded = key(name);
        self.names
            .iter()
            .find(|(n, _)| *n == folded)
            .map(|(_, e)| &self.entries[*e])
    }

    /// Every name and alias of a known entity, folded, with the entity.
    pub fn names(&self) -> impl Iterator<Item = (&str, &Known)> {
        self.names
            .iter()
            .map(|(n, e)| (n.as_str(), &self.entries[*e]))
    }

    /// Known entities, in no particular order.
    pub fn entries(&self) -> &[Known] {
        &self.entries
    }
}

/// An id from an English name: ASCII lowercase words joined by hyphens.
pub fn slug(name_en: &str) -> String {
    let mut out = String::new();
    for c in name_en.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    out.trim_end_matches('-').to_owned()
}

/// A deterministic id for a new entity known only by its Chinese name: `new-` and a short hash of
/// the folded name (the curator gives it a real one).
pub fn slug_of_name(name: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(key(name).as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("new-{hex}")
}
