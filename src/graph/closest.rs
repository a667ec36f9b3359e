//! What an unknown id is closest to: the one check every id argument goes through (GraphQL's and
//! `/api/subgraph`'s), and the suggestions its NOT_FOUND error makes.
//!
//! Suggestions are restricted to what the argument accepts (`locatedIn` and `within` take districts
//! and platforms) and ranked by how the id was likely meant: an entity whose name is exactly the text
//! given (a Chinese or English name typed as an id), then ids the text begins (`shaoxing` →
//! `shaoxing-city`), ids whose hyphen-separated segments the text's segments begin, ids containing
//! it, and last ids a few typos away, segment by segment or as a whole. On a large graph only ids
//! sharing a prefix with the text are ranked, so that an error costs little however large the graph.

use super::GraphIndex;
use crate::extract::normalize::search_key;
use crate::model::{EntityKind, parse_relation_id};

/// What an id argument names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IdKind {
    /// Any entity.
    Entity,
    /// A district or platform (`locatedIn`, `within`): suggestions are of those kinds only. Any
    /// entity is known (a filter on another kind matches nothing rather than failing).
    Place,
    Document,
    /// `SOURCE/KIND/TARGET`.
    Relation,
}

impl IdKind {
    /// What the error says has no such id.
    pub fn noun(self) -> &'static str {
        match self {
            IdKind::Entity => "entity",
            IdKind::Place => "district or platform",
            IdKind::Document => "document",
            IdKind::Relation => "relation",
        }
    }

    fn kinds(self) -> Option<&'static [EntityKind]> {
        match self {
            IdKind::Place => Some(&[EntityKind::District, EntityKind::Platform]),
            _ => None,
        }
    }
}

/// Up to this many candidates are ranked one by one; above, only those sharing a prefix with the id.
const EXHAUSTIVE: usize = 50_000;
/// Most candidates read through prefixes (on a large graph), or around a relation's ends.
const BUDGET: usize = 20_000;
/// How many closest ids an error names.
pub const SUGGESTIONS: usize = 3;

impl GraphIndex {
    /// Whether `id` names something an argument of `kind` accepts.
    pub fn knows(&self, kind: IdKind, id: &str) -> bool {
        match kind {
            IdKind::Entity | IdKind::Place => self.contains(id),
            IdKind::Document => self.document(id).is_some(),
            IdKind::Relation => parse_relation_id(id).is_some_and(|(source, kind, target)| {
                self.relation(source, kind, target).is_some()
            }),
        }
    }

    /// The message of a NOT_FOUND error for `id` given as `argument` (its full path, e.g.
    /// `where.AND[0].locatedIn`), naming the closest known ids; `None` when `id` is known.
    pub fn not_found(&self, argument: &str, kind: IdKind, id: &str) -> Option<String> {
        if self.knows(kind, id) {
            return None;
        }
        let closest = self.closest_ids(kind, id, SUGGESTIONS);
        let mut message = format!("`{argument}`: no {} has id `{id}`", kind.noun());
        if kind == IdKind::Relation && parse_relation_id(id).is_none() {
            message.push_str(" (relation ids are SOURCE/KIND/TARGET)");
        }
        if !closest.is_empty() {
            message.push_str("; closest: ");
            message.push_str(&closest.join(", "));
        }
        Some(message)
    }

    /// Up to `most` known ids of `kind` closest to `id`, closest first.
    pub fn closest_ids(&self, kind: IdKind, id: &str, most: usize) -> Vec<String> {
        match kind {
            IdKind::Entity | IdKind::Place => self.closest_entities(kind.kinds(), id, most),
            IdKind::Document => {
                let ids: Vec<&str> = self.documents().map(|d| d.id.as_str()).collect();
                rank(id, ids.into_iter(), most)
            }
            IdKind::Relation => {
                let ids = self.relations_near(id);
                rank(id, ids.iter().map(String::as_str), most)
            }
        }
    }

    fn closest_entities(&self, kinds: Option<&[EntityKind]>, id: &str, most: usize) -> Vec<String> {
        let wanted = |kind: EntityKind| kinds.is_none_or(|k| k.contains(&kind));
        // A name given where an id belongs (Chinese, or with capitals or spaces, which ids have not):
        // the entities so named come first. A slug-like id is not looked up among the names, which
        // would cost a name search for every mistyped id.
        let slug = id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_/.".contains(&b));
        let key = if slug { String::new() } else { search_key(id) };
        let mut out: Vec<String> = Vec::new();
        if key.chars().count() >= 2 {
            for entity in self.search(id, kinds, most) {
                if entity.names().any(|name| search_key(name) == key) {
                    out.push(entity.id.clone());
                }
            }
        }
        let by_id = if self.nodes.len() <= EXHAUSTIVE {
            let ids = self
                .nodes
                .iter()
                .filter(|(_, n)| wanted(self.graph[**n].kind))
                .map(|(id, _)| id.as_str());
            rank(id, ids, most + out.len())
        } else {
            // Ids sharing a prefix with `id`: its first segment, else its first few characters.
            let lower = id.to_lowercase();
            let first = lower.split(is_separator).next().unwrap_or("");
            let prefix: String = if first.chars().count() >= 3 {
                first.to_owned()
            } else {
                lower.chars().take(3).collect()
            };
            let ids = self
                .nodes
                .range::<str, _>((
                    std::ops::Bound::Included(prefix.as_str()),
                    std::ops::Bound::Unbounded,
                ))
                .take_while(|(id, _)| id.starts_with(prefix.as_str()))
                .take(BUDGET)
                .filter(|(_, n)| wanted(self.graph[**n].kind))
                .map(|(id, _)| id.as_str());
            rank(id, ids, most + out.len())
        };
        for candidate in by_id {
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
        // Names containing the text fill what is left.
        if out.len() < most && key.chars().count() >= 2 {
            for entity in self.search(id, kinds, most) {
                if !out.contains(&entity.id) {
                    out.push(entity.id.clone());
                }
            }
        }
        out.truncate(most);
        out
    }

    /// Ids of the relations touching the ends a relation id names (or, for an end that is not an
    /// entity, the entity closest to it).
    fn relations_near(&self, id: &str) -> Vec<String> {
        let parts: Vec<&str> = id.split('/').collect();
        let ends: Vec<&str> = if parts.len() == 3 {
            vec![parts[0], parts[2]]
        } else {
            vec![parts[0]]
        };
        let mut out = Vec::new();
        for end in ends {
            let end = if self.contains(end) {
                end.to_owned()
            } else {
                match self.closest_entities(None, end, 1).pop() {
                    Some(closest) => closest,
                    None => continue,
                }
            };
            let Some(&node) = self.nodes.get(&end) else {
                continue;
            };
            for adjacent in self.adjacency[node.index()].iter().take(BUDGET) {
                out.push(self.view(adjacent.edge).id());
            }
        }
        out.sort();
        out.dedup();
        out
    }
}

fn is_separator(c: char) -> bool {
    matches!(c, '-' | '_' | '/' | '.' | ' ')
}

/// Up to `most` of `candidates` closest to `word`, closest first (see the module's description);
/// candidates that are not close at all are left out.
pub fn rank<'a>(word: &str, candidates: impl Iterator<Item = &'a str>, most: usize) -> Vec<String> {
    let word = word.trim().to_lowercase();
    if word.is_empty() || most == 0 {
        return Vec::new();
    }
    let shape = Shape::of(&word);
    let mut scored: Vec<((u8, usize, usize), &str)> = candidates
        .filter_map(|candidate| {
            let (tier, distance) = similarity(&shape, candidate)?;
            Some(((tier, distance, candidate.len()), candidate))
        })
        .collect();
    scored.sort();
    scored
        .into_iter()
        .take(most)
        .map(|(_, c)| c.to_owned())
        .collect()
}

/// What the ranking compares of the word asked for, computed once.
struct Shape<'w> {
    word: &'w str,
    segments: Vec<&'w str>,
    /// The word without separators.
    joined: String,
    /// How many typos still count as close.
    typos: usize,
}

impl<'w> Shape<'w> {
    fn of(word: &'w str) -> Shape<'w> {
        let joined: String = word.chars().filter(|&c| !is_separator(c)).collect();
        Shape {
            word,
            segments: word.split(is_separator).filter(|s| !s.is_empty()).collect(),
            typos: (joined.chars().count() / 5).clamp(1, 3),
            joined,
        }
    }
}

/// How close `candidate` is to the word: a tier (lower is closer) and a distance within it; `None`
/// when it is not close.
fn similarity(shape: &Shape<'_>, candidate: &str) -> Option<(u8, usize)> {
    let lowered;
    let candidate = if candidate.bytes().any(|b| b.is_ascii_uppercase()) {
        lowered = candidate.to_lowercase();
        lowered.as_str()
    } else {
        candidate
    };
    let word = shape.word;
    let extra = candidate.len().abs_diff(word.len());
    if candidate == word {
        return Some((0, 0));
    }
    if let Some(rest) = candidate.strip_prefix(word) {
        // At a segment boundary (`shaoxing` → `shaoxing-city`) before inside a segment.
        let tier = if rest.starts_with(is_separator) { 1 } else { 2 };
        return Some((tier, extra));
    }
    let segments: Vec<&str> = candidate
        .split(is_separator)
        .filter(|s| !s.is_empty())
        .collect();
    if segments_begin(&shape.segments, &segments) {
        return Some((3, extra));
    }
    if candidate.contains(word) || word.contains(candidate) {
        return Some((4, extra));
    }
    // Typos: each segment of the word against the candidate's closest segment (or a prefix of it).
    let mut typos = 0;
    for segment in &shape.segments {
        let best = segments
            .iter()
            .filter_map(|s| bounded_distance(segment, s, shape.typos))
            .min();
        match best {
            Some(d) => typos += d,
            None => {
                typos = usize::MAX;
                break;
            }
        }
    }
    if typos <= shape.typos {
        return Some((5, typos * 100 + extra));
    }
    // Or as a whole, separators aside (`shaoxingcity` → `shaoxing-city`).
    let joined: String = candidate.chars().filter(|&c| !is_separator(c)).collect();
    bounded_distance(&shape.joined, &joined, shape.typos).map(|d| (6, d * 100 + extra))
}

/// Whether each of `word`'s segments begins one of `candidate`'s, in order.
fn segments_begin(word: &[&str], candidate: &[&str]) -> bool {
    if word.len() < 2 && candidate.len() < 2 {
        return false;
    }
    let mut rest = candidate.iter();
    word.iter().all(|w| rest.by_ref().any(|c| c.starts_with(w)))
}

/// The Damerau–Levenshtein distance (adjacent transpositions count one) between `a` and `b`, or
/// `None` when it exceeds `limit` (decided early when the lengths alone say so).
pub fn bounded_distance(a: &str, b: &str, limit: usize) -> Option<usize> {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    if a.len().abs_diff(b.len()) > limit {
        return None;
    }
    let d = distance_chars(&a, &b);
    (d <= limit).then_some(d)
}

/// The Damerau–Levenshtein distance between two strings, over characters.
pub fn distance(a: &str, b: &str) -> usize {
    let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    distance_chars(&a, &b)
}

fn distance_chars(a: &[char], b: &[char]) -> usize {
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            d[i][j] = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                d[i][j] = d[i][j].min(d[i - 2][j - 2] + 1);
            }
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn closest(word: &str, candidates: &[&str]) -> Vec<String> {
        rank(word, candidates.iter().copied(), 3)
    }

    #[test]
    fn ids_are_ranked_by_how_they_were_likely_meant() {
        let places = [
            "shangyu-district",
            "shaoxing-city",
            "shaoxing-keqiao-economic-development-zone",
            "yuecheng-district",
            "keqiao-district",
        ];
        // The word begins the id at a segment boundary: the shortest such id first.
        assert_eq!(closest("shaoxing", &places)[0], "shaoxing-city");
        assert_eq!(closest("shangyu", &places)[0], "shangyu-district");
        // A typo in one segment, a missing separator, segments abbreviated.
        assert_eq!(closest("shaoxng-city", &places)[0], "shaoxing-city");
        assert_eq!(closest("shaoxingcity", &places)[0], "shaoxing-city");
        assert_eq!(closest("yue-dist", &places)[0], "yuecheng-district");
        assert_eq!(closest("Shaoxing-City", &places)[0], "shaoxing-city");
        // Nothing close: no suggestion rather than noise.
        assert!(closest("nowhere", &places).is_empty());
        // A word containing a candidate.
        assert_eq!(closest("minii", &["mini", "divisions"]), ["mini"]);
    }

    #[test]
    fn distances_are_bounded() {
        assert_eq!(bounded_distance("district", "distirct", 1), Some(1));
        assert_eq!(bounded_distance("abc", "abcdef", 2), None);
        assert_eq!(distance("kitten", "sitting"), 3);
    }
}
