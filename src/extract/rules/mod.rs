//! The offline rules: mentions of known names, new names by their suffixes ([`names`]), and
//! relations from the forms reports use ([`forms`]). Every rule says its name in `rule`; `verify`
//! (in `mod.rs`) checks what they propose.

mod forms;
mod names;
mod text;

use std::collections::HashMap;

use sha2::{Digest, Sha256};

use super::gazetteer::Gazetteer;
pub(crate) use super::gazetteer::Known;
pub(crate) use super::normalize::key;
use super::{EntityProposal, Raw, RelationProposal, Status};
use crate::model::{Basis, EntityKind, Layer, RelationKind};

/// An entity the rules talk about.
#[derive(Clone, Debug)]
pub(crate) struct Ent {
    pub id: String,
    pub kind: EntityKind,
    pub name: String,
    pub existing: bool,
    pub from_table: bool,
    pub rule: &'static str,
    pub district_code: Option<String>,
    pub aliases: Vec<String>,
    pub offset: usize,
}

/// A mention of an entity: byte range in the text.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub start: usize,
    pub end: usize,
    pub ent: usize,
    /// A name spelled in parts: the phrase holding them all (quoted for what the name implies).
    pub whole: Option<(usize, usize)>,
}

/// What the rules know about one text.
pub(crate) struct Doc<'a> {
    pub text: &'a str,
    pub gazetteer: &'a Gazetteer,
    pub ents: Vec<Ent>,
    by_id: HashMap<String, usize>,
    /// Mentions, sorted by start, not overlapping.
    pub spans: Vec<Span>,
    /// The reporting regions (district entities) with the names that stand for them.
    pub regions: Vec<(usize, Vec<String>)>,
    /// For each reporting region (by entity), the names of the province above it (浙江省, 浙江),
    /// from the division table; none when the region is a province or municipality itself.
    pub provinces: Vec<(usize, Vec<String>)>,
    pub relations: Vec<RelationProposal>,
    /// District stems (绍兴 for 绍兴市) and full names, to find places inside names.
    pub district_names: Vec<(String, usize)>,
    /// Sentences whose subject is a bureau (byte range, the bureau), for its own actions.
    pub openers: Vec<(usize, usize, usize)>,
    /// The publisher the report's metadata gives (for texts without a `发布机构` line).
    pub publisher: Option<&'a str>,
    /// New entities a better reading replaced (科工研究院 by 杭电现代产业学院科工研究院): not proposed.
    retired: Vec<usize>,
}

/// Proposes entities and relations for `text`; `region` is the reporting region and `publisher`
/// the publishing body as the report's metadata write them.
pub fn extract(
    text: &str,
    region: Option<&str>,
    publisher: Option<&str>,
    gazetteer: &Gazetteer,
) -> Raw {
    let mut doc = Doc::new(text, gazetteer);
    doc.publisher = publisher;
    doc.find_mentions();
    doc.find_regions(region);
    forms::apply(&mut doc);
    doc.into_raw()
}

/// A new entity's id: `new-` and a short hash of its folded name (the curator renames it).
pub fn new_id(name: &str) -> String {
    let digest = Sha256::digest(key(name).as_bytes());
    let hex: String = digest.iter().take(5).map(|b| format!("{b:02x}")).collect();
    format!("new-{hex}")
}

impl<'a> Doc<'a> {
    fn new(text: &'a str, gazetteer: &'a Gazetteer) -> Doc<'a> {
        Doc {
            text,
            gazetteer,
            ents: Vec::new(),
            by_id: HashMap::new(),
            spans: Vec::new(),
            regions: Vec::new(),
            provinces: Vec::new(),
            relations: Vec::new(),
            district_names: Vec::new(),
            openers: Vec::new(),
            publisher: None,
            retired: Vec::new(),
        }
    }

    /// The entity for a known entry, added once.
    pub fn known(&mut self, known: &Known, offset: usize) -> usize {
        let rule = if known.existing {
            "gazetteer"
        } else {
            "universities-table"
        };
        self.add(Ent {
            id: known.id.clone(),
            kind: known.kind,
            name: known.name.clone(),
            existing: known.existing,
            from_table: !known.existing,
            rule,
            district_code: known.district_code.clone(),
            aliases: Vec::new(),
            offset,
        })
    }

    /// The entity a name stands for: a known one, else a new one of `kind`.
    pub fn named(
        &mut self,
        name: &str,
        kind: EntityKind,
        rule: &'static str,
        offset: usize,
    ) -> usize {
        if let Some(known) = self.gazetteer.lookup(name) {
            let known = known.clone();
            let at = self.known(&known, offset);
            if name != self.ents[at].name && !self.ents[at].aliases.iter().any(|a| a == name) {
                self.ents[at].aliases.push(name.to_owned());
            }
            return at;
        }
        self.add(Ent {
            id: new_id(name),
            kind,
            name: name.to_owned(),
            existing: false,
            from_table: false,
            rule,
            district_code: None,
            aliases: Vec::new(),
            offset,
        })
    }

    fn add(&mut self, ent: Ent) -> usize {
        if let Some(&at) = self.by_id.get(&ent.id) {
            self.ents[at].offset = self.ents[at].offset.min(ent.offset);
            return at;
        }
        self.by_id.insert(ent.id.clone(), self.ents.len());
        self.ents.push(ent);
        self.ents.len() - 1
    }

    /// Mentions: the gazetteer's, and new names where no known name covers them; a new name that
    /// contains known names keeps them as its parts (for the relations its name implies).
    fn find_mentions(&mut self) {
        let text = self.text;
        type Composed = Option<(String, (usize, usize))>;
        type Found = (
            usize,
            usize,
            Option<Known>,
            EntityKind,
            &'static str,
            Composed,
        );
        let mut spans: Vec<Found> = Vec::new();
        for m in self.gazetteer.mentions(text) {
            spans.push((
                m.start,
                m.end,
                Some(m.known.clone()),
                m.known.kind,
                "",
                None,
            ));
        }
        let mut candidates = names::suffix_names(text);
        candidates.extend(names::shared_suffix_names(text));
        candidates.extend(names::policy_titles(text));
        candidates.extend(names::versioned_policies(text));
        candidates.extend(names::quoted_programmes(text));
        candidates.extend(names::quoted_term_programmes(text));
        candidates.extend(names::carried_out_programmes(text));
        candidates.extend(names::heading_programmes(text));
        candidates.sort_by_key(|c| (c.start, std::cmp::Reverse(c.end)));
        for mut c in candidates {
            // An institute's name starts at the university it is named after (中央创新城|浙大…研究院),
            // unless joined to a partner by a dash (晶盛—浙大创新研究中心).
            if matches!(c.kind, EntityKind::ResearchInstitute | EntityKind::Lab) {
                let university = spans
                    .iter()
                    .find(|s| s.3 == EntityKind::University && c.start < s.0 && s.1 < c.end);
                if let Some(u) = university
                    && !text[..u.0].ends_with(['—', '-', '－'])
                {
                    c.start = u.0;
                }
            }
            // A left end cut inside a known name (海大学… of 上海大学…, where 上 reads as a
            // preposition) moves back to the known name's start.
            if let Some(s) = spans
                .iter()
                .find(|s| s.2.is_some() && s.0 < c.start && c.start < s.1 && s.1 < c.end)
            {
                c.start = s.0;
            }
            // A candidate inside or crossing a known name yields to it; one containing known
            // names replaces them.
            let crossing = spans
                .iter()
                .any(|s| (s.0 < c.end && c.start < s.1) && !(c.start <= s.0 && s.1 <= c.end));
            // A list's item (上虞 of 2家高新区(新昌、上虞)) is the name it shares a suffix in.
            let same = c.composed.is_none() && spans.iter().any(|s| s.0 == c.start && s.1 == c.end);
            if crossing || same {
                continue;
            }
            spans.retain(|s| !(c.start <= s.0 && s.1 <= c.end));
            spans.push((c.start, c.end, None, c.kind, c.rule, c.composed));
        }
        spans.sort_by_key(|s| s.0);
        for (start, end, known, kind, rule, composed) in spans {
            let whole = composed.as_ref().map(|c| c.1);
            let ent = match known {
                Some(known) => {
                    let at = self.known(&known, start);
                    let surface = &text[start..end];
                    if surface != self.ents[at].name
                        && !self.ents[at].aliases.iter().any(|a| a == surface)
                    {
                        self.ents[at].aliases.push(surface.to_owned());
                    }
                    at
                }
                None => match &composed {
                    Some((name, _)) => self.named(name, kind, rule, start),
                    None => self.named(&text[start..end], kind, rule, start),
                },
            };
            self.spans.push(Span {
                start,
                end,
                ent,
                whole,
            });
        }
        // Districts by full name and by stem (绍兴市 → 绍兴), for places inside names.
        for (name, known) in self.gazetteer.names() {
            if known.kind != EntityKind::District {
                continue;
            }
            self.district_names.push((name.to_owned(), usize::MAX));
            let stem = name.trim_end_matches(['市', '区', '县', '省']);
            if stem.chars().count() >= 2 && stem != name {
                self.district_names.push((stem.to_owned(), usize::MAX));
            }
        }
        self.district_names
            .sort_by_key(|(n, _)| std::cmp::Reverse(n.len()));
    }

    /// The district a name (full or stem) stands for.
    pub fn district(&mut self, name: &str, offset: usize) -> Option<usize> {
        let known = self.gazetteer.lookup(name).cloned().or_else(|| {
            ["市", "区", "县", "省"]
                .iter()
                .find_map(|s| self.gazetteer.lookup(&format!("{name}{s}")).cloned())
        })?;
        (known.kind == EntityKind::District).then(|| self.known(&known, offset))
    }

    /// The districts named inside `surface` (longest names first, not overlapping), finest last.
    pub fn districts_in(&mut self, surface: &str, offset: usize) -> Vec<usize> {
        let mut found: Vec<(usize, String)> = Vec::new();
        let names: Vec<String> = self.district_names.iter().map(|(n, _)| n.clone()).collect();
        let folded = key(surface);
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for name in &names {
            let mut from = 0;
            while let Some(at) = folded[from..].find(name.as_str()) {
                let at = from + at;
                let end = at + name.len();
                if !taken.iter().any(|&(s, e)| s < end && at < e) {
                    taken.push((at, end));
                    found.push((at, name.clone()));
                }
                from = end;
            }
        }
        found.sort();
        let mut out = Vec::new();
        for (_, name) in found {
            if let Some(d) = self.district(&name, offset)
                && !out.contains(&d)
            {
                out.push(d);
            }
        }
        out
    }

    /// The level of a district: 0 province or municipality, 1 city, 2 county.
    pub fn level(&self, ent: usize) -> u8 {
        match self.ents[ent].district_code.as_deref() {
            Some(code) if code.ends_with("0000") => 0,
            Some(code) if code.ends_with("00") => 1,
            Some(_) => 2,
            None => 3,
        }
    }

    fn find_regions(&mut self, region: Option<&str>) {
        let Some(region) = region else { return };
        for part in region.split(['、', ',', '，', ';']) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            if let Some(d) = self.district(part, 0) {
                let stem = part.trim_end_matches(['市', '区', '县', '省']).to_owned();
                let mut names = vec![part.to_owned()];
                if stem.chars().count() >= 2 && stem != part {
                    names.push(stem);
                }
                let province = self.province_names(d);
                self.provinces.push((d, province));
                self.regions.push((d, names));
            }
        }
    }

    /// The names of the province above district `region` (浙江省 and 浙江, from the division table
    /// by the region's code); none when the region is a province or municipality.
    fn province_names(&self, region: usize) -> Vec<String> {
        let Some(code) = self.ents[region].district_code.as_deref() else {
            return Vec::new();
        };
        let Some(prefix) = code.get(..2) else {
            return Vec::new();
        };
        let province = format!("{prefix}0000");
        if code == province {
            return Vec::new();
        }
        let mut names: Vec<String> = self
            .gazetteer
            .names()
            .filter(|(_, k)| {
                k.kind == crate::model::EntityKind::District
                    && k.district_code.as_deref() == Some(&province)
            })
            .map(|(n, _)| n.to_owned())
            .collect();
        let stems: Vec<String> = names
            .iter()
            .map(|n| n.trim_end_matches('省').to_owned())
            .filter(|stem| stem.chars().count() >= 2)
            .collect();
        names.extend(stems);
        names.sort();
        names.dedup();
        names
    }

    /// The reporting region a position belongs to: with several, the last one named before it.
    pub fn region_at(&self, at: usize) -> Option<usize> {
        if self.regions.len() <= 1 {
            return self.regions.first().map(|r| r.0);
        }
        let before = &self.text[..at.min(self.text.len())];
        self.regions
            .iter()
            .filter_map(|(d, names)| {
                names
                    .iter()
                    .filter_map(|n| before.rfind(n.as_str()))
                    .max()
                    .map(|p| (p, *d))
            })
            .max()
            .map(|(_, d)| d)
            .or(self.regions.first().map(|r| r.0))
    }

    #[allow(clippy::too_many_arguments)]
    pub fn relate(
        &mut self,
        kind: RelationKind,
        source: usize,
        target: usize,
        quote: String,
        basis: Basis,
        confidence: f64,
        rule: &'static str,
    ) {
        if source == target
            || quote.trim().is_empty()
            || self.is_retired(source)
            || self.is_retired(target)
        {
            return;
        }
        self.relations.push(RelationProposal {
            kind,
            source: self.ents[source].id.clone(),
            target: self.ents[target].id.clone(),
            quote,
            basis,
            confidence,
            rule: rule.to_owned(),
        });
    }

    /// Replaces the mentions of `start..end` by one of `ent`; gives the new entities left without
    /// mentions (for the caller to retire, if the better reading replaces them).
    pub fn remention(&mut self, start: usize, end: usize, ent: usize) -> Vec<usize> {
        let replaced: Vec<usize> = self
            .spans
            .iter()
            .filter(|s| s.start < end && start < s.end && s.ent != ent)
            .map(|s| s.ent)
            .collect();
        self.spans.retain(|s| s.end <= start || end <= s.start);
        self.spans.push(Span {
            start,
            end,
            ent,
            whole: None,
        });
        self.spans.sort_by_key(|s| s.start);
        replaced
            .into_iter()
            .filter(|&old| !self.ents[old].existing && !self.spans.iter().any(|s| s.ent == old))
            .collect()
    }

    /// Entities a better reading replaced: not proposed.
    pub fn retire(&mut self, ents: Vec<usize>) {
        self.retired.extend(ents);
    }

    pub fn is_retired(&self, ent: usize) -> bool {
        self.retired.contains(&ent)
    }

    pub fn has_relation(&self, kind: RelationKind, source: usize) -> bool {
        let id = &self.ents[source].id;
        self.relations
            .iter()
            .any(|r| r.kind == kind && &r.source == id)
    }

    pub fn is_ecosystem(&self, ent: usize) -> bool {
        self.ents[ent].kind.layer() == Layer::Ecosystem
    }

    fn into_raw(self) -> Raw {
        let mut raw = Raw::default();
        let related: std::collections::HashSet<&str> = self
            .relations
            .iter()
            .flat_map(|r| [r.source.as_str(), r.target.as_str()])
            .collect();
        let retired: std::collections::HashSet<&str> = self
            .retired
            .iter()
            .map(|&r| self.ents[r].id.as_str())
            .collect();
        let keep: Vec<bool> = self
            .ents
            .iter()
            .map(|e| {
                (e.kind != EntityKind::District || related.contains(e.id.as_str()))
                    && !retired.contains(e.id.as_str())
            })
            .collect();
        for (ent, keep) in self.ents.into_iter().zip(keep) {
            if !keep {
                continue;
            }
            let confidence = if ent.existing {
                0.95
            } else if ent.from_table {
                0.8
            } else {
                0.6
            };
            raw.entities.push(EntityProposal {
                id: ent.id,
                kind: ent.kind,
                name: ent.name,
                aliases: ent.aliases,
                status: if ent.existing {
                    Status::Existing
                } else {
                    Status::New
                },
                confidence,
                rule: ent.rule.to_owned(),
                offset: ent.offset,
            });
        }
        raw.relations = self.relations;
        raw
    }
}
