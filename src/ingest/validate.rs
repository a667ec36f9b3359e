//! Judging a graph before it is stored: every rule a seed, an import or a write must satisfy.
//!
//! [`validate_seed`] turns a parsed [`Seed`] into a [`GraphData`] or a list of [`Diagnostic`]s, each with
//! the file and line of the record at fault. The rules on one record ([`check_entity`],
//! [`check_relation`]) are shared with every other write path, so that an API write can never store what
//! the seed validator would reject.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};
use std::fmt;

use crate::model::{
    DistrictLevel, Document, Entity, EntityKind, Evidence, Relation, RelationKind, is_valid_date,
    is_valid_id, quote_occurs_in,
};
use crate::seed::{Location, RawEntity, RawRelation, Seed};

/// How bad a finding is: errors stop an import, warnings are reported and tolerated.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Error,
    Warning,
}

/// One finding about a seed: where, how bad, and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub location: Location,
    pub severity: Severity,
    pub message: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let severity = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(f, "{}: {severity}: {}", self.location, self.message)
    }
}

/// A whole graph that passed validation: what an import writes.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct GraphData {
    /// Each document with its full text.
    pub documents: Vec<(Document, String)>,
    pub entities: Vec<Entity>,
    pub relations: Vec<Relation>,
}

/// The outcome of validating a seed.
#[derive(Debug)]
pub struct Report {
    pub diagnostics: Vec<Diagnostic>,
    /// Present only when there is no error (warnings allowed).
    pub graph: Option<GraphData>,
}

impl Report {
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }
}

/// Checks one entity on its own. Returns every problem, worded for the person who wrote it.
pub fn check_entity(entity: &Entity) -> Vec<String> {
    let mut problems = Vec::new();
    if !is_valid_id(&entity.id) {
        problems.push(format!(
            "entity id `{}` is not a lowercase ASCII kebab-case slug (like `zhejiang-university`)",
            entity.id
        ));
    }
    if entity.name.trim().is_empty() {
        problems.push(format!("entity `{}` has an empty name", entity.id));
    }
    let names = std::iter::once(("name", &entity.name))
        .chain(entity.name_en.iter().map(|n| ("name_en", n)))
        .chain(entity.aliases.iter().map(|a| ("alias", a)));
    for (field, text) in names {
        if let Some(problem) = check_name_text(text) {
            problems.push(format!(
                "entity `{}`: {field} «{}» {problem}",
                entity.id,
                shorten(text)
            ));
        }
    }
    if let Some(collective) = collective_phrase(&entity.name) {
        problems.push(format!(
            "entity `{}`: «{}» is a collective phrase ({collective}…), not one body; a sentence naming it supports relations only to the units it names",
            entity.id, entity.name
        ));
    }
    if entity.aliases.len() > MAX_ALIASES {
        problems.push(format!(
            "entity `{}` has {} aliases, above the limit of {MAX_ALIASES}",
            entity.id,
            entity.aliases.len()
        ));
    }
    for (field, text) in [
        ("description", &entity.description),
        ("legal_form", &entity.legal_form),
        ("area", &entity.area),
    ] {
        if let Some(text) = text {
            if text.chars().count() > MAX_TEXT_CHARS {
                problems.push(format!(
                    "entity `{}`: {field} is longer than {MAX_TEXT_CHARS} characters",
                    entity.id
                ));
            }
            if text
                .chars()
                .any(|c| is_invisible(c) && c != '\n' && c != '\t')
            {
                problems.push(format!(
                    "entity `{}`: {field} holds control or invisible formatting characters",
                    entity.id
                ));
            }
        }
    }
    if entity.focus.len() > MAX_ALIASES || entity.focus.iter().any(|f| check_name_text(f).is_some())
    {
        problems.push(format!(
            "entity `{}`: focus holds more than {MAX_ALIASES} fields, or one that is not a plain name",
            entity.id
        ));
    }
    if entity.aliases.iter().any(|a| a.trim().is_empty()) {
        problems.push(format!("entity `{}` has an empty alias", entity.id));
    }
    if let Some(date) = &entity.established
        && !is_valid_date(date)
    {
        problems.push(format!(
            "entity `{}`: established `{date}` is not YYYY, YYYY-MM or YYYY-MM-DD",
            entity.id
        ));
    }
    let is_district = entity.kind == EntityKind::District;
    match (&entity.district_code, entity.district_level) {
        (Some(code), Some(_)) if is_district => {
            if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
                problems.push(format!("district `{}`: code `{code}` is not six digits", entity.id));
            }
        }
        (None, _) | (_, None) if is_district => {
            problems.push(format!("district `{}` needs both district_code and district_level", entity.id));
        }
        (None, None) => {}
        _ => problems.push(format!(
            "entity `{}` is a {} but has a district code or level; only DISTRICT entities have them",
            entity.id, entity.kind
        )),
    }
    problems
}

/// The collective opening of a name such as 各区县科技局, 各有关单位, 相关部门: such a phrase names no one
/// body, so it is never an entity.
fn collective_phrase(name: &str) -> Option<&'static str> {
    ["各", "相关", "有关", "全市各", "全省各"]
        .into_iter()
        .find(|prefix| name.trim().starts_with(prefix))
}

/// Longest name, English name or alias, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Most aliases (and focus fields) an entity may have.
pub const MAX_ALIASES: usize = 50;
/// Longest description, legal form or area, in characters.
pub const MAX_TEXT_CHARS: usize = 5_000;

/// Control characters, and formatting characters that are invisible or reorder text (zero-width
/// spaces and joiners, byte-order mark, bidirectional overrides and isolates): a name holding one
/// looks like another name, or like nothing.
pub fn is_invisible(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' | '\u{034F}' | '\u{061C}' | '\u{115F}' | '\u{1160}' | '\u{17B4}' | '\u{17B5}'
            | '\u{180B}'..='\u{180F}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{3164}' | '\u{FE00}'..='\u{FE0F}' | '\u{FEFF}'
            | '\u{FFA0}' | '\u{FFF0}'..='\u{FFFB}' | '\u{E0000}'..='\u{E0FFF}')
}

/// What is wrong with a name's text, if anything: invisible or control characters, length, or not
/// being in Unicode normal form C (the API normalises what it is given; files must hold NFC).
fn check_name_text(text: &str) -> Option<String> {
    if text.chars().any(is_invisible) {
        return Some(
            "holds control or invisible formatting characters (zero-width, bidi, NUL …)".to_owned(),
        );
    }
    if text.chars().count() > MAX_NAME_CHARS {
        return Some(format!("is longer than {MAX_NAME_CHARS} characters"));
    }
    if !unicode_normalization::is_nfc(text) {
        return Some("is not in Unicode normal form C".to_owned());
    }
    None
}

/// The start of a long text, for an error message.
fn shorten(text: &str) -> String {
    let short: String = text.chars().take(40).collect();
    if short.len() < text.len() {
        format!("{short}…")
    } else {
        short
    }
}

/// Checks one relation on its own; `quote_found(document, quote)` says whether the quote occurs in the
/// document, or `None` when there is no such document.
pub fn check_relation(
    relation: &Relation,
    quote_found: impl Fn(&str, &str) -> Option<bool>,
) -> Vec<String> {
    let mut problems = Vec::new();
    let id = relation.id();
    if relation.source == relation.target {
        problems.push(format!("relation `{id}` connects an entity to itself"));
    }
    if let Some(year) = relation.year
        && !(1800..=2200).contains(&year)
    {
        problems.push(format!(
            "relation `{id}`: year {year} is outside 1800..=2200"
        ));
    }
    if relation.evidence.is_empty() {
        problems.push(format!(
            "relation `{id}` has no evidence; every relation needs a document and a quote"
        ));
    }
    for evidence in &relation.evidence {
        match quote_found(&evidence.document, &evidence.quote) {
            None => problems.push(format!(
                "relation `{id}` cites unknown document `{}`",
                evidence.document
            )),
            Some(false) => problems.push(format!(
                "relation `{id}`: quote not found verbatim in document `{}`: «{}»",
                evidence.document, evidence.quote
            )),
            Some(true) => {}
        }
    }
    let mut seen = HashSet::new();
    for evidence in &relation.evidence {
        if !seen.insert(evidence) {
            problems.push(format!(
                "relation `{id}` lists the same evidence twice: «{}»",
                evidence.quote
            ));
        }
    }
    problems
}

/// Validates a parsed seed: every record on its own, then the graph as a whole.
pub fn validate_seed(seed: &Seed) -> Report {
    validate_seed_with(seed, &[])
}

/// Validates a seed that may point to entities outside it (`known`, e.g. already stored ones):
/// they count as relation endpoints, but are not judged themselves.
pub fn validate_seed_with(seed: &Seed, known: &[Entity]) -> Report {
    let mut diagnostics = Vec::new();
    let mut error = |location: &Location, message: String| {
        diagnostics.push(Diagnostic {
            location: location.clone(),
            severity: Severity::Error,
            message,
        });
    };
    for (location, message) in &seed.syntax_errors {
        error(location, message.clone());
    }

    let (documents, document_index) = judge_documents(seed, &mut error);
    let quotes = Quotes::new(&documents, &document_index);
    let quote_found = |id: &str, quote: &str| quotes.found(id, quote);

    // Entities, one by one.
    let mut entities: Vec<(Location, Entity)> = Vec::new();
    for (location, raw) in &seed.entities {
        let (entity, problems) = judge_entity(raw);
        for problem in problems {
            error(location, problem);
        }
        entities.extend(entity.map(|entity| (location.clone(), entity)));
    }

    // Relations, one by one.
    let mut relations: Vec<(Location, Relation)> = Vec::new();
    for (location, raw) in &seed.relations {
        let (relation, problems) = judge_relation(raw, quote_found);
        for problem in problems {
            error(location, problem);
        }
        relations.extend(relation.map(|relation| (location.clone(), relation)));
    }

    // The graph as a whole.
    for (location, message) in check_graph(&entities, &relations, known) {
        diagnostics.push(Diagnostic {
            location: location.clone(),
            severity: Severity::Error,
            message,
        });
    }
    let mut degree: FxHashMap<&str, usize> = FxHashMap::default();
    for (_, relation) in &relations {
        *degree.entry(&relation.source).or_default() += 1;
        *degree.entry(&relation.target).or_default() += 1;
    }
    for (location, entity) in &entities {
        if !degree.contains_key(entity.id.as_str()) {
            diagnostics.push(Diagnostic {
                location: location.clone(),
                severity: Severity::Warning,
                message: format!("entity `{}` ({}) has no relation", entity.id, entity.name),
            });
        }
    }

    drop(quotes);
    diagnostics.sort();
    let graph = diagnostics
        .iter()
        .all(|d| d.severity != Severity::Error)
        .then(|| GraphData {
            documents,
            entities: entities.into_iter().map(|(_, e)| e).collect(),
            relations: relations.into_iter().map(|(_, r)| r).collect(),
        });
    Report { diagnostics, graph }
}

/// The documents of a seed that have a text, with an index by id; reports what is wrong with each.
pub fn judge_documents(
    seed: &Seed,
    error: &mut impl FnMut(&Location, String),
) -> (Vec<(Document, String)>, HashMap<String, usize>) {
    let mut documents: Vec<(Document, String)> = Vec::new();
    let mut document_index: HashMap<String, usize> = HashMap::new();
    for (location, raw) in &seed.documents {
        if !is_valid_id(&raw.id) {
            error(
                location,
                format!(
                    "document id `{}` is not a lowercase ASCII kebab-case slug",
                    raw.id
                ),
            );
        }
        if raw.date.as_deref().is_some_and(|d| !is_valid_date(d)) {
            error(
                location,
                format!(
                    "document `{}`: date is not YYYY, YYYY-MM or YYYY-MM-DD",
                    raw.id
                ),
            );
        }
        let Some(text) = seed.texts.get(&raw.file) else {
            error(
                location,
                format!(
                    "document `{}`: file `{}` does not exist in the seed",
                    raw.id, raw.file
                ),
            );
            continue;
        };
        if document_index
            .insert(raw.id.clone(), documents.len())
            .is_some()
        {
            error(location, format!("duplicate document id `{}`", raw.id));
            continue;
        }
        let document = Document {
            id: raw.id.clone(),
            title: raw.title.clone(),
            title_en: raw.title_en.clone(),
            publisher: raw.publisher.clone(),
            date: raw.date.clone(),
            region: raw.region.clone(),
            index_no: raw.index_no.clone(),
            file: raw.file.clone(),
            reference: raw.reference,
        };
        documents.push((document, text.clone()));
    }
    (documents, document_index)
}

/// Finds quotes in the documents' texts.
pub struct Quotes<'a> {
    documents: &'a [(Document, String)],
    index: &'a HashMap<String, usize>,
    /// Each document's lines: most quotes of large imports are whole lines, looked up here before
    /// the text is searched.
    lines: Vec<FxHashSet<&'a str>>,
}

impl<'a> Quotes<'a> {
    pub fn new(documents: &'a [(Document, String)], index: &'a HashMap<String, usize>) -> Self {
        let lines = documents
            .iter()
            .map(|(_, text)| text.lines().collect())
            .collect();
        Quotes {
            documents,
            index,
            lines,
        }
    }

    /// Whether `quote` occurs in the document `id`; `None` when there is no such document.
    pub fn found(&self, id: &str, quote: &str) -> Option<bool> {
        self.index.get(id).map(|&i| {
            !quote.trim().is_empty()
                && (self.lines[i].contains(quote) || quote_occurs_in(quote, &self.documents[i].1))
        })
    }
}

/// An entity as written, judged on its own: the entity (unless it cannot even be read) and every
/// problem with it.
pub fn judge_entity(raw: &RawEntity) -> (Option<Entity>, Vec<String>) {
    match entity_from_raw(raw) {
        Ok(entity) => {
            let problems = check_entity(&entity);
            (Some(entity), problems)
        }
        Err(problem) => (None, vec![problem]),
    }
}

/// A relation as written, judged on its own (see [`check_relation`]).
pub fn judge_relation(
    raw: &RawRelation,
    quote_found: impl Fn(&str, &str) -> Option<bool>,
) -> (Option<Relation>, Vec<String>) {
    match relation_from_raw(raw) {
        Ok(relation) => {
            let problems = check_relation(&relation, quote_found);
            (Some(relation), problems)
        }
        Err(problem) => (None, vec![problem]),
    }
}

/// The rules that need more than one record: unique ids, unique names, endpoints that exist, a
/// district hierarchy whose codes nest, and the rules on each relation's ends ([`check_relation_ends`]:
/// kinds that fit, no relation made from a collective phrase). Generic over the location type so that every write path can
/// use it. `known` entities (outside the set judged) may be relation endpoints.
pub fn check_graph<'a, L>(
    entities: &'a [(L, Entity)],
    relations: &'a [(L, Relation)],
    known: &'a [Entity],
) -> Vec<(&'a L, String)> {
    let mut problems = Vec::new();
    let mut rules = GraphRules::default();
    for (location, entity) in entities {
        problems.extend(rules.add_entity(entity).map(|p| (location, p)));
    }
    for entity in known {
        rules.add_known(entity);
    }
    for (location, entity) in entities {
        problems.extend(rules.claim_names(entity).into_iter().map(|p| (location, p)));
    }
    for (location, relation) in relations {
        problems.extend(
            rules
                .add_relation(relation)
                .into_iter()
                .map(|p| (location, p)),
        );
    }
    problems
}

/// [`check_graph`] one record at a time, keeping only what the rules need: each id once, each
/// entity's kind, district code and level and the forms a sentence names it by, each name, and each
/// relation as three numbers. All entities come first (ids, then names), then known entities, then
/// relations.
#[derive(Default)]
pub struct GraphRules {
    /// Every id met, as an entity or as a relation's end, numbered in the order met.
    numbers: FxHashMap<Arc<str>, u32>,
    ids: Vec<Arc<str>>,
    /// By number: what [`check_relation_ends`] reads of an entity; `None` while no entity has the id.
    ends: Vec<Option<EndFacts>>,
    /// By number: whether a relation starts or ends there.
    related: Vec<bool>,
    /// Each name key, with the number of the entity that claimed it first.
    claimed: FxHashMap<String, u32>,
    relations: FxHashSet<(u32, RelationKind, u32)>,
}

/// The part of an entity that the relation-end rules read.
struct EndFacts {
    kind: EntityKind,
    district_code: Option<Box<str>>,
    district_level: Option<DistrictLevel>,
    /// The entity's [`unit_forms`], for the rule on collective phrases, joined by [`FORM_SEPARATOR`].
    forms: Box<str>,
}

impl GraphRules {
    /// Records an entity of the graph judged; a second entity with an id replaces the first (and is
    /// reported).
    pub fn add_entity(&mut self, entity: &Entity) -> Option<String> {
        let number = self.number(&entity.id);
        let facts = self.ends[number as usize].replace(EndFacts::of(entity));
        facts.map(|_| format!("duplicate entity id `{}`", entity.id))
    }

    /// Records an entity outside the graph judged (e.g. stored already), unless the graph has it.
    pub fn add_known(&mut self, entity: &Entity) {
        let number = self.number(&entity.id) as usize;
        if self.ends[number].is_none() {
            self.ends[number] = Some(EndFacts::of(entity));
        }
    }

    /// Whether an entity (judged or known) has this id.
    pub fn is_entity(&self, id: &str) -> bool {
        self.numbers
            .get(id)
            .is_some_and(|&n| self.ends[n as usize].is_some())
    }

    /// Whether a relation added so far starts or ends at `id`.
    pub fn is_related(&self, id: &str) -> bool {
        self.numbers
            .get(id)
            .is_some_and(|&n| self.related[n as usize])
    }

    /// Claims the entity's names and aliases; a name another entity claimed first is a problem.
    pub fn claim_names(&mut self, entity: &Entity) -> Vec<String> {
        let number = self.number(&entity.id);
        let mut names: Vec<String> = entity.names().map(name_key).collect();
        names.sort_unstable();
        names.dedup();
        let mut problems = Vec::new();
        for name in names {
            match self.claimed.get(&name) {
                Some(&other) if other != number => problems.push(format!(
                    "name or alias «{name}» of `{}` is already claimed by `{}`",
                    entity.id, self.ids[other as usize]
                )),
                Some(_) => {}
                None => {
                    self.claimed.insert(name, number);
                }
            }
        }
        problems
    }

    /// Checks a relation against the entities and the relations before it, and records it.
    pub fn add_relation(&mut self, relation: &Relation) -> Vec<String> {
        let mut problems = Vec::new();
        let kind = relation.kind;
        let (source, target) = (self.number(&relation.source), self.number(&relation.target));
        if !self.relations.insert((source, kind, target)) {
            problems.push(format!(
                "duplicate relation `{}`: add its evidence to the first one",
                relation.id()
            ));
        }
        if kind.is_symmetric()
            && source != target
            && self.relations.contains(&(target, kind, source))
        {
            problems.push(format!(
                "relation `{}` repeats `{}`: {kind} is stored once",
                relation.id(),
                crate::model::relation_id(&relation.target, kind, &relation.source),
            ));
        }
        for (end, number) in [(&relation.source, source), (&relation.target, target)] {
            self.related[number as usize] = true;
            if self.ends[number as usize].is_none() {
                problems.push(format!(
                    "relation `{}` points to unknown entity `{end}`",
                    relation.id()
                ));
            }
        }
        if let (Some(source), Some(target)) = (self.skeleton(source), self.skeleton(target)) {
            problems.extend(check_relation_ends(relation, &source, &target));
        }
        problems
    }

    fn number(&mut self, id: &str) -> u32 {
        if let Some(&number) = self.numbers.get(id) {
            return number;
        }
        let number = self.ids.len() as u32;
        let id: Arc<str> = id.into();
        self.numbers.insert(id.clone(), number);
        self.ids.push(id);
        self.ends.push(None);
        self.related.push(false);
        number
    }

    /// The entity numbered `number`, with only what [`check_relation_ends`] reads (the forms a
    /// sentence names it by stand as its aliases).
    fn skeleton(&self, number: u32) -> Option<Entity> {
        let facts = self.ends[number as usize].as_ref()?;
        let mut entity = Entity::new(&*self.ids[number as usize], facts.kind, "");
        entity.district_code = facts.district_code.as_deref().map(str::to_owned);
        entity.district_level = facts.district_level;
        entity.aliases = facts
            .forms
            .split(FORM_SEPARATOR)
            .map(str::to_owned)
            .collect();
        Some(entity)
    }
}

/// Separates an entity's [`unit_forms`] in [`EndFacts::forms`] (no name holds a control character).
const FORM_SEPARATOR: char = '\n';

impl EndFacts {
    fn of(entity: &Entity) -> EndFacts {
        let forms: Vec<String> = unit_forms(entity);
        EndFacts {
            kind: entity.kind,
            district_code: entity.district_code.as_deref().map(Box::from),
            district_level: entity.district_level,
            forms: forms.join(&FORM_SEPARATOR.to_string()).into(),
        }
    }
}

/// The rules a relation's kind sets on the entities at its ends: what every write must keep true of
/// the graph after it (the seed's validation and the API's writes both ask this).
pub fn check_relation_ends(relation: &Relation, source: &Entity, target: &Entity) -> Vec<String> {
    let mut problems = Vec::new();
    if relation.kind == RelationKind::LocatedIn
        && source.kind == EntityKind::District
        && target.kind == EntityKind::District
        && let Some(problem) = check_district_parent(source, target)
    {
        problems.push(problem);
    }
    let id = relation.id();
    let mut rule = |ok: bool, what: &str| {
        if !ok {
            problems.push(format!("relation `{id}`: {what}"));
        }
    };
    use crate::model::Layer;
    match relation.kind {
        RelationKind::LocatedIn => rule(
            source.kind.layer() == Layer::Ecosystem,
            &format!(
                "only organisations and places are LOCATED_IN; a {} APPLIES_TO the district it covers",
                source.kind
            ),
        ),
        RelationKind::ResponsibleFor => rule(
            source.kind == EntityKind::Government,
            &format!(
                "RESPONSIBLE_FOR starts at a GOVERNMENT body, not a {}",
                source.kind
            ),
        ),
        RelationKind::IssuedBy => {
            rule(
                source.kind == EntityKind::Policy,
                &format!("ISSUED_BY starts at a POLICY, not a {}", source.kind),
            );
            rule(
                target.kind == EntityKind::Government,
                &format!("ISSUED_BY ends at a GOVERNMENT body, not a {}", target.kind),
            );
        }
        RelationKind::AppliesTo => {
            rule(
                source.kind.layer() == Layer::Policy,
                &format!(
                    "APPLIES_TO starts at a PROGRAM or POLICY, not a {}",
                    source.kind
                ),
            );
            rule(
                target.kind == EntityKind::District,
                &format!("APPLIES_TO ends at a DISTRICT, not a {}", target.kind),
            );
        }
        _ => {}
    }
    if relation.kind == RelationKind::LocatedIn
        && !matches!(target.kind, EntityKind::District | EntityKind::Platform)
    {
        problems.push(format!(
            "relation `{}`: LOCATED_IN must point to a DISTRICT or PLATFORM, not a {}",
            relation.id(),
            target.kind
        ));
    }
    let (source_is_unit, target_is_unit) = unit_ends(relation.kind);
    for (is_unit, end) in [(source_is_unit, source), (target_is_unit, target)] {
        if is_unit {
            problems.extend(check_collective(relation, end));
        }
    }
    problems
}

/// The ends of a relation a collective phrase could stand for, as (source, target): the builder of
/// CO_BUILT_BY, the issuer of ISSUED_BY and the district of APPLIES_TO are targets; both parties of
/// COOPERATES_WITH; the source of every other kind (the body RESPONSIBLE_FOR or LEADing something,
/// the member, the participant, the thing LOCATED_IN or PART_OF something).
fn unit_ends(kind: RelationKind) -> (bool, bool) {
    match kind {
        RelationKind::CoBuiltBy | RelationKind::IssuedBy | RelationKind::AppliesTo => (false, true),
        RelationKind::CooperatesWith => (true, true),
        _ => (true, false),
    }
}

/// The rule on collective phrases: a phrase such as 各区县科技局, 各有关单位 or 相关部门 names no unit, so
/// a relation to one of the units it covers is supported only by a sentence naming that unit. The
/// relation is refused when a quote of its evidence holds a collective phrase and no quote names
/// `unit` (one of [`unit_forms`], outside the collective phrases).
fn check_collective(relation: &Relation, unit: &Entity) -> Option<String> {
    let phrase = relation.evidence.iter().find_map(|evidence| {
        collective_phrases(&evidence.quote)
            .first()
            .map(|range| evidence.quote[range.clone()].to_owned())
    })?;
    let forms = unit_forms(unit);
    let named = relation.evidence.iter().any(|evidence| {
        let outside = without_collective_phrases(&name_key(&evidence.quote));
        forms.iter().any(|form| outside.contains(form.as_str()))
    });
    (!named).then(|| {
        format!(
            "relation `{}`: its evidence names `{}` only through the collective phrase «{phrase}»; a collective phrase produces no relation: only units the sentence names get relations",
            relation.id(),
            unit.id
        )
    })
}

/// Openers of a collective phrase, longest first.
const COLLECTIVE_OPENERS: [&str; 5] = ["各有关", "各相关", "各", "相关", "有关"];
/// Place-level words a collective phrase may run through (各区县, 各县(市、区), 各级, 各乡镇街道).
const COLLECTIVE_PLACES: [&str; 10] =
    ["街道", "省", "市", "区", "县", "乡", "镇", "村", "地", "级"];
/// What may stand between place-level words (各区、县(市)).
const COLLECTIVE_SEPARATORS: [char; 5] = ['、', '(', ')', '（', '）'];
/// The body a collective phrase ends in (各区县科技局, 各有关单位, 相关部门, 各级政府).
const COLLECTIVE_BODIES: [&str; 11] = [
    "科技局",
    "科技部门",
    "主管部门",
    "部门",
    "单位",
    "人民政府",
    "政府",
    "委员会",
    "办公室",
    "机构",
    "处室",
];

/// Where a text names units only collectively, as byte ranges: an opener (各, 相关, 有关, 各有关,
/// 各相关), any place-level words (省 市 区 县 乡 镇 村 街道 地 级, with 、 and brackets between them),
/// then a body (科技局, 部门, 单位, 政府, 委员会 … or, after a place-level word, any bureau: up to four
/// characters and 局, as in 各区县财政局); or, with no body, two or more place-level words (各区县,
/// 各区、县(市), 相关区、县(市)). 各地, 各级, 各市 alone, 各类, 各项, 相关做法 are not collective phrases.
/// `seed/notes/check_all.py` applies the same pattern.
pub fn collective_phrases(text: &str) -> Vec<std::ops::Range<usize>> {
    let mut found = Vec::new();
    let mut start = 0;
    while start < text.len() {
        let rest = &text[start..];
        let end = COLLECTIVE_OPENERS
            .iter()
            .filter(|opener| rest.starts_with(**opener))
            .find_map(|opener| collective_end(text, start + opener.len()));
        match end {
            Some(end) => {
                found.push(start..end);
                start = end;
            }
            None => start += rest.chars().next().map_or(1, char::len_utf8),
        }
    }
    found
}

/// The end of a collective phrase whose opener ends at `from`, if one does.
fn collective_end(text: &str, from: usize) -> Option<usize> {
    let mut at = from;
    let mut places = 0;
    // Where the run of place-level words ends, without a trailing separator or opening bracket.
    let mut run_end = from;
    loop {
        let rest = &text[at..];
        if let Some(place) = COLLECTIVE_PLACES.iter().find(|p| rest.starts_with(**p)) {
            places += 1;
            at += place.len();
            run_end = at;
        } else if let Some(c) = rest
            .chars()
            .next()
            .filter(|c| COLLECTIVE_SEPARATORS.contains(c))
        {
            at += c.len_utf8();
            if matches!(c, ')' | '）') {
                run_end = at;
            }
        } else {
            break;
        }
    }
    let rest = &text[at..];
    if let Some(body) = COLLECTIVE_BODIES.iter().find(|b| rest.starts_with(**b)) {
        return Some(at + body.len());
    }
    if places >= 1 {
        let mut end = at;
        for c in rest.chars().take(5) {
            end += c.len_utf8();
            if c == '局' {
                return Some(end);
            }
            if !is_han(c) {
                break;
            }
        }
    }
    (places >= 2).then_some(run_end)
}

fn is_han(c: char) -> bool {
    matches!(c, '\u{4E00}'..='\u{9FFF}' | '\u{3400}'..='\u{4DBF}' | '\u{F900}'..='\u{FAFF}')
}

/// The text with its collective phrases blanked out (each replaced by a space).
fn without_collective_phrases(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for range in collective_phrases(text) {
        out.push_str(&text[last..range.start]);
        out.push(' ');
        last = range.end;
    }
    out.push_str(&text[last..]);
    out
}

/// The forms a sentence may name an entity by, as name keys: its names and aliases; for a bureau
/// (…科学技术局…) the short form with 科技局 and a division's own name after its bureau's (湖州市科学技术局高新处
/// → 高新处); and a short form its description gives in parentheses, two to eight Chinese characters
/// (“Foreign experts bureau (外专局) …”). Such context-dependent short forms are no aliases (they name
/// different bodies in different documents), but a sentence using one does name the unit.
pub fn unit_forms(entity: &Entity) -> Vec<String> {
    let mut forms: Vec<String> = Vec::new();
    for name in entity.names() {
        let name = name_key(name);
        if name.is_empty() {
            continue;
        }
        if let Some((_, division)) = name.split_once("科学技术局")
            && division.chars().count() >= 2
        {
            forms.push(division.to_owned());
        }
        if name.contains("科学技术局") {
            forms.push(name.replace("科学技术局", "科技局"));
        }
        forms.push(name);
    }
    if let Some(description) = &entity.description {
        for part in description.split(['(', '（']).skip(1) {
            if let Some((inner, _)) = part.split_once([')', '）'])
                && (2..=8).contains(&inner.chars().count())
                && inner.chars().all(is_han)
            {
                forms.push(name_key(inner));
            }
        }
    }
    forms.sort_unstable();
    forms.dedup();
    forms
}

/// How names are compared for uniqueness: Latin letters case-folded, surrounding space ignored.
pub(crate) fn name_key(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    name.trim().nfc().collect::<String>().to_lowercase()
}

/// A district's parent must be one level up, with the code prefix that level implies.
fn check_district_parent(child: &Entity, parent: &Entity) -> Option<String> {
    let (Some(child_code), Some(parent_code)) = (&child.district_code, &parent.district_code)
    else {
        return None;
    };
    let prefix = parent_code.trim_end_matches("00");
    let nested = child_code != parent_code && child_code.starts_with(prefix);
    let levels_fit = match parent.district_level {
        Some(DistrictLevel::Province) => {
            matches!(child.district_level, Some(DistrictLevel::PrefectureCity))
        }
        Some(DistrictLevel::Municipality) => {
            matches!(
                child.district_level,
                Some(DistrictLevel::District | DistrictLevel::County)
            )
        }
        Some(DistrictLevel::PrefectureCity) => matches!(
            child.district_level,
            Some(DistrictLevel::District | DistrictLevel::County | DistrictLevel::CountyCity)
        ),
        _ => false,
    };
    (!nested || !levels_fit).then(|| {
        format!(
            "district `{}` ({child_code}, {:?}) cannot lie in `{}` ({parent_code}, {:?}): codes or levels do not nest",
            child.id, child.district_level, parent.id, parent.district_level
        )
    })
}

fn entity_from_raw(raw: &RawEntity) -> Result<Entity, String> {
    let kind = raw
        .kind
        .parse::<EntityKind>()
        .map_err(|e| format!("entity `{}`: {e}", raw.id))?;
    let district_level = raw
        .district_level
        .as_deref()
        .map(str::parse::<DistrictLevel>)
        .transpose()
        .map_err(|e| format!("entity `{}`: {e}", raw.id))?;
    Ok(Entity {
        id: raw.id.clone(),
        kind,
        name: raw.name.clone(),
        name_en: raw.name_en.clone(),
        aliases: raw.aliases.clone(),
        description: raw.description.clone(),
        established: raw.established.clone(),
        legal_form: raw.legal_form.clone(),
        area: raw.area.clone(),
        focus: raw.focus.clone(),
        district_code: raw.district_code.clone(),
        district_level,
    })
}

fn relation_from_raw(raw: &RawRelation) -> Result<Relation, String> {
    let label = format!("{}/{}/{}", raw.source, raw.kind, raw.target);
    let kind = raw
        .kind
        .parse::<RelationKind>()
        .map_err(|e| format!("relation `{label}`: {e}"))?;
    let year = raw
        .year
        .map(i32::try_from)
        .transpose()
        .map_err(|_| format!("relation `{label}`: year is out of range"))?;
    let evidence = raw
        .evidence
        .iter()
        .map(|e| {
            let basis = match &e.basis {
                None => crate::model::Basis::Stated,
                Some(basis) => basis
                    .parse()
                    .map_err(|error| format!("relation `{label}`: {error}"))?,
            };
            Ok(Evidence {
                document: e.doc.clone(),
                quote: e.quote.clone(),
                basis,
            })
        })
        .collect::<Result<Vec<Evidence>, String>>()?;
    Ok(Relation {
        kind,
        source: raw.source.clone(),
        target: raw.target.clone(),
        year,
        evidence,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::seed::{SeedFiles, parse};

    const DOCS: &str = "[[document]]\nid = \"d\"\nfile = \"sources/d.txt\"\ntitle = \"T\"\n";
    const TEXT: &str = "由新昌县人民政府与浙江大学联合共建的事业单位。\n";

    /// Validates a seed made of the documents above and one graph file, returning the messages.
    fn check(graph: &str) -> Vec<String> {
        check_with_text(TEXT, graph)
    }

    /// [`check`] with another text as document `d`.
    fn check_with_text(text: &str, graph: &str) -> Vec<String> {
        let files = SeedFiles {
            root: "t/".to_owned(),
            files: [
                ("documents.toml", DOCS),
                ("sources/d.txt", text),
                ("graph/g.toml", graph),
            ]
            .into_iter()
            .map(|(p, c)| (p.to_owned(), c.as_bytes().to_vec()))
            .collect(),
        };
        validate_seed(&parse(&files))
            .diagnostics
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    const TWO: &str = r#"
[[entity]]
id = "tianmu"
kind = "LAB"
name = "天姥实验室"
[[entity]]
id = "zju"
kind = "UNIVERSITY"
name = "浙江大学"
aliases = ["浙大"]
"#;

    /// The layers' rules: each relation below breaks one, and is reported with its reason.
    #[test]
    fn the_layers_rules_are_enforced() {
        let entities = r#"
[[entity]]
id = "xc"
kind = "DISTRICT"
name = "新昌县"
district_code = "330624"
district_level = "COUNTY"
[[entity]]
id = "gov"
kind = "GOVERNMENT"
name = "新昌县人民政府"
[[entity]]
id = "zju"
kind = "UNIVERSITY"
name = "浙江大学"
[[entity]]
id = "plan"
kind = "PROGRAM"
name = "联合共建计划"
[[entity]]
id = "rules"
kind = "POLICY"
name = "《共建办法》"
"#;
        let relation = |kind: &str, source: &str, target: &str| {
            format!(
                "[[relation]]\nkind = \"{kind}\"\nsource = \"{source}\"\ntarget = \"{target}\"\nevidence = [{{ doc = \"d\", quote = \"新昌县人民政府\" }}]\n"
            )
        };
        let broken = [
            (
                relation("LOCATED_IN", "plan", "xc"),
                "only organisations and places are LOCATED_IN",
            ),
            (
                relation("RESPONSIBLE_FOR", "zju", "plan"),
                "RESPONSIBLE_FOR starts at a GOVERNMENT",
            ),
            (
                relation("ISSUED_BY", "plan", "gov"),
                "ISSUED_BY starts at a POLICY",
            ),
            (
                relation("ISSUED_BY", "rules", "zju"),
                "ISSUED_BY ends at a GOVERNMENT",
            ),
            (
                relation("APPLIES_TO", "gov", "xc"),
                "APPLIES_TO starts at a PROGRAM or POLICY",
            ),
            (
                relation("APPLIES_TO", "plan", "gov"),
                "APPLIES_TO ends at a DISTRICT",
            ),
        ];
        for (graph, expected) in broken {
            let findings = check(&format!("{entities}{graph}"));
            assert!(
                findings
                    .iter()
                    .any(|f| f.contains("error") && f.contains(expected)),
                "{graph}: expected «{expected}», got {findings:?}"
            );
        }
        let fine = [
            relation("LOCATED_IN", "gov", "xc"),
            relation("RESPONSIBLE_FOR", "gov", "plan"),
            relation("ISSUED_BY", "rules", "gov"),
            relation("APPLIES_TO", "plan", "xc"),
        ]
        .concat();
        let errors: Vec<String> = check(&format!("{entities}{fine}"))
            .into_iter()
            .filter(|f| f.contains("error"))
            .collect();
        assert_eq!(errors, Vec::<String>::new());
    }

    /// A collective phrase is not an entity.
    #[test]
    fn collective_phrases_are_not_entities() {
        for name in ["各区县科技局", "各有关单位", "相关部门"] {
            let graph =
                format!("[[entity]]\nid = \"c\"\nkind = \"GOVERNMENT\"\nname = \"{name}\"\n");
            let findings = check(&graph);
            assert!(
                findings
                    .iter()
                    .any(|f| f.contains("error") && f.contains("collective phrase")),
                "{name}: {findings:?}"
            );
        }
    }

    /// What is and is not a collective phrase.
    #[test]
    fn collective_phrases_are_found() {
        let phrases = |text: &str| -> Vec<String> {
            collective_phrases(text)
                .into_iter()
                .map(|range| text[range].to_owned())
                .collect()
        };
        for (text, expected) in [
            ("(责任单位:规划处,各区县科技局)", vec!["各区县科技局"]),
            ("请各有关单位积极参与", vec!["各有关单位"]),
            ("会同相关部门和有关单位推进", vec!["相关部门", "有关单位"]),
            ("编制各区、县(市)推广案例汇编", vec!["各区、县(市)"]),
            ("1月左右 | 相关区、县(市) |", vec!["相关区、县(市)"]),
            ("各县(市、区)农业农村局负责", vec!["各县(市、区)农业农村局"]),
            ("各级政府和各乡镇(街道)", vec!["各级政府", "各乡镇(街道)"]),
            ("全市各相关单位", vec!["各相关单位"]),
            ("各部门、各单位", vec!["各部门", "各单位"]),
        ] {
            assert_eq!(phrases(text), expected, "{text}");
        }
        for text in [
            "各级科技计划等成果",
            "各类科技创新创业项目",
            "各项目标任务",
            "各地与海内外高层次人才",
            "各市场主体",
            "各区域协同",
            "相关做法入选省创新案例",
            "个人有关事项报告制度",
            "省、市有关办法",
            "(责任单位:合作处)",
        ] {
            assert_eq!(phrases(text), Vec::<String>::new(), "{text}");
        }
    }

    /// A collective phrase produces no relation: a relation whose quotes name its unit end only
    /// through one is refused, naming the file and line, the relation and the phrase; a relation whose
    /// quote names the unit beside the phrase (by name, alias, the short form of a bureau or its
    /// division, or a short form its description gives) is kept.
    #[test]
    fn collective_phrases_make_no_relation() {
        let text = "(责任单位:规划处,各区县科技局)\n\
                    (责任单位:外专局,各区县科技局)\n\
                    请各有关单位积极参与青山创新大赛。\n\
                    由相关部门与青山大学联合共建青山研究院。\n\
                    编制各区、县(市)推广青山经验案例汇编。\n\
                    青山县科技局牵头组建青山产业联盟,各有关单位参加。\n";
        let entities = r#"
[[entity]]
id = "qs-county"
kind = "DISTRICT"
name = "青山县"
district_code = "339901"
district_level = "COUNTY"
[[entity]]
id = "qs-bureau"
kind = "GOVERNMENT"
name = "青山县科学技术局"
[[entity]]
id = "bs-planning"
kind = "GOVERNMENT"
name = "白水市科学技术局规划处"
[[entity]]
id = "bs-experts"
kind = "GOVERNMENT"
name = "白水市外国专家局"
description = "Foreign experts bureau (外专局) of 白水市."
[[entity]]
id = "bs-reform"
kind = "GOVERNMENT"
name = "白水市发展和改革委员会"
[[entity]]
id = "qs-university"
kind = "UNIVERSITY"
name = "青山大学"
[[entity]]
id = "qs-institute"
kind = "RESEARCH_INSTITUTE"
name = "青山研究院"
[[entity]]
id = "qs-contest"
kind = "PROGRAM"
name = "青山创新大赛"
[[entity]]
id = "qs-alliance"
kind = "ALLIANCE"
name = "青山产业联盟"
"#;
        let relation = |kind: &str, source: &str, target: &str, quote: &str| {
            format!(
                "[[relation]]\nkind = \"{kind}\"\nsource = \"{source}\"\ntarget = \"{target}\"\nevidence = [{{ doc = \"d\", quote = \"{quote}\" }}]\n"
            )
        };
        // Each relation below starts on the first line after the entities.
        let line = entities.lines().count() + 1;
        let refused = [
            (
                relation(
                    "RESPONSIBLE_FOR",
                    "qs-bureau",
                    "qs-contest",
                    "(责任单位:规划处,各区县科技局)",
                ),
                "qs-bureau/RESPONSIBLE_FOR/qs-contest",
                "qs-bureau",
                "各区县科技局",
            ),
            (
                relation(
                    "PARTICIPATES_IN",
                    "bs-reform",
                    "qs-contest",
                    "请各有关单位积极参与青山创新大赛",
                ),
                "bs-reform/PARTICIPATES_IN/qs-contest",
                "bs-reform",
                "各有关单位",
            ),
            (
                relation(
                    "CO_BUILT_BY",
                    "qs-institute",
                    "bs-reform",
                    "由相关部门与青山大学联合共建青山研究院",
                ),
                "qs-institute/CO_BUILT_BY/bs-reform",
                "bs-reform",
                "相关部门",
            ),
            (
                relation(
                    "APPLIES_TO",
                    "qs-contest",
                    "qs-county",
                    "编制各区、县(市)推广青山经验案例汇编",
                ),
                "qs-contest/APPLIES_TO/qs-county",
                "qs-county",
                "各区、县(市)",
            ),
            (
                relation(
                    "MEMBER_OF",
                    "bs-reform",
                    "qs-alliance",
                    "青山县科技局牵头组建青山产业联盟,各有关单位参加",
                ),
                "bs-reform/MEMBER_OF/qs-alliance",
                "bs-reform",
                "各有关单位",
            ),
        ];
        for (graph, id, unit, phrase) in refused {
            let findings = check_with_text(text, &format!("{entities}{graph}"));
            let expected = format!(
                "t/graph/g.toml:{line}: error: relation `{id}`: its evidence names `{unit}` only through the collective phrase «{phrase}»; a collective phrase produces no relation: only units the sentence names get relations"
            );
            assert!(
                findings.contains(&expected),
                "{graph}: expected «{expected}», got {findings:?}"
            );
        }
        let kept = [
            // The division, by its own name after its bureau's.
            relation(
                "RESPONSIBLE_FOR",
                "bs-planning",
                "qs-contest",
                "(责任单位:规划处,各区县科技局)",
            ),
            // The short form the description gives.
            relation(
                "RESPONSIBLE_FOR",
                "bs-experts",
                "qs-contest",
                "(责任单位:外专局,各区县科技局)",
            ),
            // The unit the sentence names beside the phrase.
            relation(
                "CO_BUILT_BY",
                "qs-institute",
                "qs-university",
                "由相关部门与青山大学联合共建青山研究院",
            ),
            // A bureau by the 科技局 form of its name.
            relation(
                "LEADS",
                "qs-bureau",
                "qs-alliance",
                "青山县科技局牵头组建青山产业联盟,各有关单位参加",
            ),
            // The unit end of APPLIES_TO is the district; the programme is not what the phrase stands for.
            relation(
                "ORGANIZES",
                "qs-bureau",
                "qs-contest",
                "青山县科技局牵头组建青山产业联盟,各有关单位参加",
            ),
        ]
        .concat();
        let errors: Vec<String> = check_with_text(text, &format!("{entities}{kept}"))
            .into_iter()
            .filter(|f| f.contains("error"))
            .collect();
        assert_eq!(errors, Vec::<String>::new());

        // The API's writes ask the same rule of whole entities.
        let mut bureau = Entity::new("qs-bureau", EntityKind::Government, "青山县科学技术局");
        let contest = Entity::new("qs-contest", EntityKind::Program, "青山创新大赛");
        let mut write = Relation {
            kind: RelationKind::ResponsibleFor,
            source: bureau.id.clone(),
            target: contest.id.clone(),
            year: None,
            evidence: vec![Evidence {
                document: "d".to_owned(),
                quote: "(责任单位:规划处,各区县科技局)".to_owned(),
                basis: crate::model::Basis::Stated,
            }],
        };
        let problems = check_relation_ends(&write, &bureau, &contest);
        assert!(
            problems
                .iter()
                .any(|p| p.contains("collective phrase «各区县科技局»")),
            "{problems:?}"
        );
        bureau.description = Some("County bureau (规划处) in this invented text.".to_owned());
        assert_eq!(
            check_relation_ends(&write, &bureau, &contest),
            Vec::<String>::new()
        );
        write.evidence[0].quote = "(责任单位:合作处)".to_owned();
        bureau.description = None;
        assert_eq!(
            check_relation_ends(&write, &bureau, &contest),
            Vec::<String>::new()
        );
    }

    /// An evidence basis must be one of the four.
    #[test]
    fn an_unknown_basis_is_reported() {
        let graph = format!(
            "{TWO}[[relation]]\nkind = \"CO_BUILT_BY\"\nsource = \"tianmu\"\ntarget = \"zju\"\nevidence = [{{ doc = \"d\", quote = \"浙江大学\", basis = \"GUESS\" }}]\n"
        );
        let findings = check(&graph);
        assert!(
            findings
                .iter()
                .any(|f| f.contains("unknown evidence basis `GUESS`")),
            "{findings:?}"
        );
        let named = graph.replace("GUESS", "NAME");
        assert_eq!(check(&named), Vec::<String>::new());
    }

    #[test]
    fn a_good_seed_has_no_findings() {
        let graph = format!(
            "{TWO}[[relation]]\nkind = \"CO_BUILT_BY\"\nsource = \"tianmu\"\ntarget = \"zju\"\nevidence = [{{ doc = \"d\", quote = \"与浙江大学联合共建\" }}]\n"
        );
        assert_eq!(check(&graph), Vec::<String>::new());
    }

    #[test]
    fn each_rule_reports_file_and_line() {
        let graph = format!(
            r#"{TWO}
[[entity]]
id = "zju"
kind = "COLLEGE"
name = "浙大"
[[entity]]
id = "other"
kind = "LAB"
name = "浙大"
[[relation]]
kind = "CO_BUILT_BY"
source = "tianmu"
target = "nobody"
evidence = [{{ doc = "d", quote = "由新昌县" }}]
[[relation]]
kind = "LEADS"
source = "zju"
target = "tianmu"
[[relation]]
kind = "RELIES_ON"
source = "tianmu"
target = "zju"
evidence = [{{ doc = "d", quote = "由绍兴市" }}, {{ doc = "x", quote = "q" }}]
[[relation]]
kind = "OWNS"
source = "tianmu"
target = "zju"
evidence = [{{ doc = "d", quote = "由新昌县" }}]
"#
        );
        assert_eq!(
            check(&graph),
            [
                "t/graph/g.toml:12: error: entity `zju`: unknown entity kind `COLLEGE` (expected one of UNIVERSITY, RESEARCH_INSTITUTE, LAB, ENTERPRISE, GOVERNMENT, DISTRICT, PLATFORM, FACILITY, ALLIANCE, PROGRAM, POLICY)",
                "t/graph/g.toml:16: error: name or alias «浙大» of `other` is already claimed by `zju`",
                "t/graph/g.toml:16: warning: entity `other` (浙大) has no relation",
                "t/graph/g.toml:20: error: relation `tianmu/CO_BUILT_BY/nobody` points to unknown entity `nobody`",
                "t/graph/g.toml:25: error: relation `zju/LEADS/tianmu` has no evidence; every relation needs a document and a quote",
                "t/graph/g.toml:29: error: relation `tianmu/RELIES_ON/zju` cites unknown document `x`",
                "t/graph/g.toml:29: error: relation `tianmu/RELIES_ON/zju`: quote not found verbatim in document `d`: «由绍兴市»",
                "t/graph/g.toml:34: error: relation `tianmu/OWNS/zju`: unknown relation kind `OWNS` (expected one of CO_BUILT_BY, LOCATED_IN, LEADS, PART_OF, RELIES_ON, COOPERATES_WITH, ORGANIZES, MEMBER_OF, SUPPORTS, PARTICIPATES_IN, RESPONSIBLE_FOR, ISSUED_BY, APPLIES_TO)",
            ]
        );
    }

    #[test]
    fn duplicate_ids_are_reported() {
        let graph =
            format!("{TWO}[[entity]]\nid = \"zju\"\nkind = \"UNIVERSITY\"\nname = \"另一个\"\n");
        let findings = check(&graph);
        assert!(
            findings
                .iter()
                .any(|f| f.contains("g.toml:11: error: duplicate entity id `zju`")),
            "{findings:?}"
        );
    }

    #[test]
    fn district_codes_must_nest() {
        let graph = r#"
[[entity]]
id = "shaoxing-city"
kind = "DISTRICT"
name = "绍兴市"
district_code = "330600"
district_level = "PREFECTURE_CITY"
[[entity]]
id = "yuhang-district"
kind = "DISTRICT"
name = "余杭区"
district_code = "330110"
district_level = "DISTRICT"
[[relation]]
kind = "LOCATED_IN"
source = "yuhang-district"
target = "shaoxing-city"
evidence = [{ doc = "d", quote = "新昌县" }]
"#;
        let findings = check(graph);
        assert_eq!(findings.len(), 1, "{findings:?}");
        assert!(
            findings[0].contains("cannot lie in `shaoxing-city`"),
            "{findings:?}"
        );
    }
}
