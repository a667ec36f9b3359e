//! Hints for validation errors: the valid values of an enum, the nearest field name to a misspelt one.
//! Read from the schema's own SDL once, so they never drift from it.

use std::collections::HashMap;
use std::sync::OnceLock;

use async_graphql::parser::types::{TypeKind, TypeSystemDefinition};

/// Field names of object and input types, and values of enums, by type name.
struct Names {
    fields: HashMap<String, Vec<String>>,
    values: HashMap<String, Vec<String>>,
}

fn names() -> &'static Names {
    static NAMES: OnceLock<Names> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names = Names {
            fields: HashMap::new(),
            values: HashMap::new(),
        };
        let Ok(document) = async_graphql::parser::parse_schema(super::sdl()) else {
            return names;
        };
        for definition in document.definitions {
            let TypeSystemDefinition::Type(ty) = definition else {
                continue;
            };
            let name = ty.node.name.node.to_string();
            match ty.node.kind {
                TypeKind::Object(object) => {
                    let fields = object.fields.iter().map(|f| f.node.name.node.to_string());
                    names.fields.insert(name, fields.collect());
                }
                TypeKind::InputObject(input) => {
                    let fields = input.fields.iter().map(|f| f.node.name.node.to_string());
                    names.fields.insert(name, fields.collect());
                }
                TypeKind::Enum(enumeration) => {
                    let values = enumeration
                        .values
                        .iter()
                        .map(|v| v.node.value.node.to_string());
                    names.values.insert(name, values.collect());
                }
                _ => {}
            }
        }
        names
    })
}

/// A hint to add to a validation message, if one helps.
pub(super) fn hint(message: &str) -> Option<String> {
    if let Some(ty) = between(message, "enumeration type \"", "\"") {
        let values = names().values.get(ty)?;
        return Some(format!("(valid values: {})", values.join(", ")));
    }
    if let (Some(field), Some(ty)) = (
        between(message, "Unknown field \"", "\""),
        between(message, "\" on type \"", "\""),
    ) {
        let nearest = nearest(field, names().fields.get(ty)?)?;
        return Some(format!("Did you mean \"{nearest}\"?"));
    }
    None
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

/// The candidate closest to `word` by edit distance (case-insensitive), if close enough to be a typo.
fn nearest<'a>(word: &str, candidates: &'a [String]) -> Option<&'a str> {
    let word = word.to_lowercase();
    candidates
        .iter()
        .map(|c| (distance(&word, &c.to_lowercase()), c))
        .filter(|(d, c)| *d <= (c.chars().count() / 3).max(2))
        .min_by_key(|(d, c)| (*d, c.len()))
        .map(|(_, c)| c.as_str())
}

fn distance(a: &str, b: &str) -> usize {
    crate::graph::edit_distance(a, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_fields_and_enum_values_get_hints() {
        assert_eq!(
            hint("Unknown field \"nmae\" on type \"Entity\".").as_deref(),
            Some("Did you mean \"name\"?")
        );
        let values = hint("Invalid value for argument \"measure\", enumeration type \"Measure\" does not contain the value \"PAGERANK\"").unwrap();
        assert!(
            values.contains("PAGE_RANK") && values.contains("BETWEENNESS"),
            "{values}"
        );
        assert_eq!(hint("Unknown field \"zzzzzz\" on type \"Entity\"."), None);
    }
}
