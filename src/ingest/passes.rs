//! Validating a large JSON Lines import in passes over the file, so that memory grows with the
//! number of ids and names rather than with the size of the file (a million entities and five
//! million relations: about 1.3 GB of JSON Lines, which held whole took 5 GB).
//!
//! The first pass reads documents (with their texts, which every quote is looked up in) and entities,
//! keeping of each entity only what the rules on relations need ([`GraphRules`]); the second reads
//! relations and checks each against that, handing every record to the caller while nothing has been
//! found wrong, so that the import can write as it goes and undo it all when a later record fails.
//! The rules are [`validate`](crate::validate)'s, record for record: the diagnostics are those
//! [`validate_seed_with`](crate::validate::validate_seed_with) gives for the same file.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, BufRead};

use rustc_hash::FxHashSet;

use crate::interchange::{self, JsonlRecord};
use crate::model::{Document, Entity, Relation};
use crate::seed::{Location, Seed};
use crate::validate::{self, Diagnostic, GraphRules, Quotes, Severity};

/// Records that passed validation, handed over: the documents after the first pass, entities and
/// relations during the second.
pub enum Record<'a> {
    Documents(&'a [(Document, String)]),
    Entity(Entity),
    Relation(Relation),
}

/// What the passes found.
pub struct Checked {
    /// Errors and warnings, sorted.
    pub diagnostics: Vec<Diagnostic>,
    pub documents: usize,
    pub entities: usize,
    pub relations: usize,
}

impl Checked {
    pub fn errors(&self) -> usize {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count()
    }
}

/// The input of the passes: a JSON Lines file that can be read more than once.
pub struct JsonlFile<'a> {
    /// How the file is named in diagnostics.
    pub name: &'a str,
    pub open: &'a dyn Fn() -> io::Result<Box<dyn BufRead>>,
    /// Called with the bytes read so far in the current pass.
    pub progress: &'a dyn Fn(u64),
}

/// Validates `file` in passes. `stored(id)` gives an entity outside the file that relations may
/// point to (one already in the data directory). When the first pass found nothing wrong, `write`
/// receives the documents, with their texts, then every entity and relation, until it fails or an
/// error is found. Whether the import may be kept is
/// `checked.errors() == 0`.
pub fn validate_jsonl<E: From<io::Error>>(
    file: &JsonlFile<'_>,
    mut stored: impl FnMut(&str) -> Result<Option<Entity>, E>,
    mut write: impl FnMut(Record<'_>) -> Result<(), E>,
) -> Result<Checked, E> {
    let mut diagnostics = Vec::new();

    // First pass: documents and entities; relation lines are only recognised.
    let mut seed = Seed::default();
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    let mut rules = GraphRules::default();
    let mut entity_lines: Vec<(Location, String)> = Vec::new();
    let mut entities = 0;
    interchange::for_each_jsonl_line(
        file.name,
        (file.open)()?,
        file.progress,
        |location, line| {
            let bytes = match line {
                Ok(bytes) if !interchange::is_relation_line(bytes) => bytes,
                Ok(_) | Err(None) => return,
                Err(Some(message)) => return error(&mut diagnostics, &location, message),
            };
            match interchange::parse_jsonl_record(bytes) {
                Err(message) => error(&mut diagnostics, &location, message),
                Ok(JsonlRecord::Document(document, text)) => {
                    files.insert(document.id.clone(), document.file.clone());
                    seed.add(location, JsonlRecord::Document(document, text));
                }
                Ok(JsonlRecord::Entity(raw, _)) => {
                    let (entity, problems) = validate::judge_entity(&raw);
                    for problem in problems {
                        error(&mut diagnostics, &location, problem);
                    }
                    if let Some(entity) = entity {
                        entities += 1;
                        let problems = rules.add_entity(&entity).into_iter();
                        for problem in problems.chain(rules.claim_names(&entity)) {
                            error(&mut diagnostics, &location, problem);
                        }
                        entity_lines.push((location, entity.id));
                    }
                }
                // A relation the tag did not show (it cannot parse as one without the tag).
                Ok(JsonlRecord::Relation(..) | JsonlRecord::Existing) => {}
            }
        },
    );
    let (mut valid_documents, index) =
        validate::judge_documents(&seed, &mut |location, message| {
            error(&mut diagnostics, location, message)
        });
    drop(seed);
    // Documents keep the `file` they were exported with rather than the inline name.
    for (document, _) in &mut valid_documents {
        if let Some(file) = files.remove(&document.id) {
            document.file = file;
        }
    }
    let mut writing = diagnostics.is_empty();
    if writing {
        write(Record::Documents(&valid_documents))?;
    }
    let quotes = Quotes::new(&valid_documents, &index);

    // Second pass: relations, checked against the first; records written while all is well.
    let mut looked_up: FxHashSet<String> = FxHashSet::default();
    let mut relations = 0;
    let mut failure: Option<E> = None;
    let mut second = |location: Location, line: Result<&[u8], Option<String>>| {
        let Ok(bytes) = line else { return };
        if failure.is_some() {
            return;
        }
        if !interchange::is_relation_line(bytes) {
            if let (true, Ok(JsonlRecord::Entity(raw, _))) =
                (writing, interchange::parse_jsonl_record(bytes))
                && let (Some(entity), _) = validate::judge_entity(&raw)
                && let Err(e) = write(Record::Entity(entity))
            {
                failure = Some(e);
            }
            return;
        }
        let (relation, problems) = match interchange::parse_jsonl_record(bytes) {
            Ok(JsonlRecord::Relation(raw, _)) => {
                validate::judge_relation(&raw, |id, quote| quotes.found(id, quote))
            }
            Ok(_) => return,
            Err(message) => (None, vec![message]),
        };
        let mut problems = problems;
        if let Some(relation) = &relation {
            relations += 1;
            for end in [&relation.source, &relation.target] {
                if !rules.is_entity(end) && looked_up.insert(end.clone()) {
                    match stored(end) {
                        Ok(Some(entity)) => rules.add_known(&entity),
                        Ok(None) => {}
                        Err(e) => failure = Some(e),
                    }
                }
            }
            problems.extend(rules.add_relation(relation));
        }
        if !problems.is_empty() {
            writing = false;
        }
        for problem in problems {
            error(&mut diagnostics, &location, problem);
        }
        if let (true, Some(relation)) = (writing, relation)
            && let Err(e) = write(Record::Relation(relation))
        {
            failure = Some(e);
        }
    };
    interchange::for_each_jsonl_line(file.name, (file.open)()?, file.progress, &mut second);
    if let Some(e) = failure {
        return Err(e);
    }
    drop(quotes);
    valid_documents.clear();

    // Entities no relation starts or ends at are reported (not refused).
    for (location, id) in &entity_lines {
        if !rules.is_related(id) {
            diagnostics.push(Diagnostic {
                location: location.clone(),
                severity: Severity::Warning,
                message: String::new(),
            });
        }
    }
    name_unrelated(file, &mut diagnostics)?;
    diagnostics.sort();
    Ok(Checked {
        diagnostics,
        documents: index.len(),
        entities,
        relations,
    })
}

fn error(diagnostics: &mut Vec<Diagnostic>, location: &Location, message: String) {
    diagnostics.push(Diagnostic {
        location: location.clone(),
        severity: Severity::Error,
        message,
    });
}

/// Words the warnings about entities without relations, whose names the passes did not keep: one
/// more reading of the file, only when there are such entities.
fn name_unrelated(file: &JsonlFile<'_>, diagnostics: &mut [Diagnostic]) -> io::Result<()> {
    let mut unworded: HashMap<usize, &mut Diagnostic> = diagnostics
        .iter_mut()
        .filter(|d| d.severity == Severity::Warning && d.message.is_empty())
        .map(|d| (d.location.line, d))
        .collect();
    if unworded.is_empty() {
        return Ok(());
    }
    interchange::for_each_jsonl_line(
        file.name,
        (file.open)()?,
        file.progress,
        |location, line| {
            if let (Some(diagnostic), Ok(bytes)) = (unworded.get_mut(&location.line), line)
                && let Ok(JsonlRecord::Entity(raw, _)) = interchange::parse_jsonl_record(bytes)
            {
                diagnostic.message = format!("entity `{}` ({}) has no relation", raw.id, raw.name);
            }
        },
    );
    Ok(())
}
