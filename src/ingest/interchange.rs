//! Interchange: the whole graph out to GraphML, GEXF 1.3, Gephi CSV, JSON Lines and Cytoscape.js
//! JSON, and back in from JSON Lines and CSV. Imports are turned into a [`Seed`] (records with their
//! file and line) so that they are validated by exactly the rules the curated seed obeys.
//!
//! JSON Lines is the lossless format: documents (with their text), entities and relations, one JSON
//! object a line, each sorted by id, so that export → import → export gives the same bytes.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Write};

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::model::{Document, Entity, EntityKind, Layer, Relation, RelationKind};
use crate::seed::{Location, RawDocument, RawEntity, RawEvidence, RawRelation, Seed};
use crate::validate::GraphData;

/// The formats the graph can be written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    GraphMl,
    Gexf,
    /// Gephi's node list (`Id,Label,…`).
    CsvNodes,
    /// Gephi's edge list (`Source,Target,Type,Label,…`).
    CsvEdges,
    JsonLines,
    Cytoscape,
}

impl Format {
    /// The media type to serve it with.
    pub fn media_type(self) -> &'static str {
        match self {
            Format::GraphMl => "application/graphml+xml; charset=utf-8",
            Format::Gexf => "application/gexf+xml; charset=utf-8",
            Format::CsvNodes | Format::CsvEdges => "text/csv; charset=utf-8",
            Format::JsonLines => "application/x-ndjson; charset=utf-8",
            Format::Cytoscape => "application/json; charset=utf-8",
        }
    }

    /// The usual file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::GraphMl => "graphml",
            Format::Gexf => "gexf",
            Format::CsvNodes => "nodes.csv",
            Format::CsvEdges => "edges.csv",
            Format::JsonLines => "jsonl",
            Format::Cytoscape => "cyjs",
        }
    }
}

/// Why an export or import failed.
#[derive(Debug, thiserror::Error)]
pub enum InterchangeError {
    #[error("cannot write: {0}")]
    Io(#[from] io::Error),
    #[error("cannot write CSV: {0}")]
    Csv(#[from] csv::Error),
    #[error("{location}: {message}")]
    Parse { location: Location, message: String },
}

/// Writes the graph in `format`.
pub fn export(
    graph: &GraphData,
    format: Format,
    out: &mut dyn Write,
) -> Result<(), InterchangeError> {
    match format {
        Format::GraphMl => graphml(graph, out),
        Format::Gexf => gexf(graph, out),
        Format::CsvNodes => csv_nodes(graph, out),
        Format::CsvEdges => csv_edges(graph, out),
        Format::JsonLines => jsonl(graph, out),
        Format::Cytoscape => {
            let value = json!({
                "format_version": "1.0",
                "generated_by": "innograph",
                "data": { "name": "innograph" },
                "elements": cytoscape_elements(&graph.entities, &graph.relations, &graph.documents_by_id(), false),
            });
            serde_json::to_writer_pretty(&mut *out, &value).map_err(io::Error::from)?;
            out.write_all(b"\n")?;
            Ok(())
        }
    }
}

impl GraphData {
    /// Sorts documents, entities and relations by id: the canonical order of every export.
    pub fn sort(&mut self) {
        self.documents.sort_by(|a, b| a.0.id.cmp(&b.0.id));
        self.entities.sort_by(|a, b| a.id.cmp(&b.id));
        self.relations.sort_by_cached_key(Relation::id);
        for relation in &mut self.relations {
            relation
                .evidence
                .sort_by(|a, b| (&a.document, &a.quote).cmp(&(&b.document, &b.quote)));
        }
    }

    fn documents_by_id(&self) -> BTreeMap<&str, &Document> {
        self.documents
            .iter()
            .map(|(d, _)| (d.id.as_str(), d))
            .collect()
    }
}

// ---------------------------------------------------------------- JSON Lines

/// One line of the JSON Lines format.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase", deny_unknown_fields)]
enum Line {
    Document {
        id: String,
        title: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title_en: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        publisher: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        date: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        region: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        index_no: Option<String>,
        file: String,
        #[serde(default)]
        reference: bool,
        text: String,
    },
    Entity {
        /// On import, the version this line updates (an existing entity is updated only with it).
        #[serde(
            default,
            rename = "expectedVersion",
            skip_serializing_if = "Option::is_none"
        )]
        expected_version: Option<u64>,
        /// Proposal-only fields of `innograph extract` (ignored on import).
        #[serde(default, skip_serializing)]
        status: Option<String>,
        #[serde(default, skip_serializing)]
        confidence: Option<f64>,
        #[serde(default, skip_serializing)]
        rule: Option<String>,
        id: String,
        kind: String,
        /// The kind's layer, `ECOSYSTEM` or `POLICY`: written for readers of the file; on import
        /// optional, and refused when it disagrees with the kind.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        layer: Option<String>,
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        name_en: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        aliases: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        description: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        established: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        legal_form: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        area: Option<String>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        focus: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        district_code: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        district_level: Option<String>,
    },
    Relation {
        /// On import, the version this line updates (an existing relation is updated only with it).
        #[serde(
            default,
            rename = "expectedVersion",
            skip_serializing_if = "Option::is_none"
        )]
        expected_version: Option<u64>,
        /// Proposal-only fields of `innograph extract` (ignored on import).
        #[serde(default, skip_serializing)]
        status: Option<String>,
        #[serde(default, skip_serializing)]
        confidence: Option<f64>,
        #[serde(default, skip_serializing)]
        rule: Option<String>,
        kind: String,
        source: String,
        target: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        year: Option<i64>,
        evidence: Vec<EvidenceLine>,
    },
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct EvidenceLine {
    document: String,
    quote: String,
    #[serde(default, skip_serializing_if = "is_stated")]
    basis: Option<String>,
}

fn is_stated(basis: &Option<String>) -> bool {
    basis.as_deref().is_none_or(|b| b == "STATED")
}

/// Evidence as the seed reader keeps it.
fn raw_evidence(lines: Vec<EvidenceLine>) -> Vec<RawEvidence> {
    lines
        .into_iter()
        .map(|e| RawEvidence {
            doc: e.document,
            quote: e.quote,
            basis: e.basis,
        })
        .collect()
}

fn jsonl(graph: &GraphData, out: &mut dyn Write) -> Result<(), InterchangeError> {
    for (document, text) in &graph.documents {
        write_document_line(out, document, text)?;
    }
    for entity in &graph.entities {
        write_entity_line(out, entity)?;
    }
    for relation in &graph.relations {
        write_relation_line(out, relation)?;
    }
    Ok(())
}

fn write_line(out: &mut dyn Write, line: &Line) -> io::Result<()> {
    serde_json::to_writer(&mut *out, line).map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Writes one document line of the JSON Lines format (with its text).
pub fn write_document_line(out: &mut dyn Write, d: &Document, text: &str) -> io::Result<()> {
    write_line(
        out,
        &Line::Document {
            id: d.id.clone(),
            title: d.title.clone(),
            title_en: d.title_en.clone(),
            publisher: d.publisher.clone(),
            date: d.date.clone(),
            region: d.region.clone(),
            index_no: d.index_no.clone(),
            file: d.file.clone(),
            reference: d.reference,
            text: text.to_owned(),
        },
    )
}

/// Writes one entity line of the JSON Lines format.
pub fn write_entity_line(out: &mut dyn Write, e: &Entity) -> io::Result<()> {
    write_line(
        out,
        &Line::Entity {
            expected_version: None,
            status: None,
            confidence: None,
            rule: None,
            id: e.id.clone(),
            kind: e.kind.to_string(),
            layer: Some(e.kind.layer().to_string()),
            name: e.name.clone(),
            name_en: e.name_en.clone(),
            aliases: e.aliases.clone(),
            description: e.description.clone(),
            established: e.established.clone(),
            legal_form: e.legal_form.clone(),
            area: e.area.clone(),
            focus: e.focus.clone(),
            district_code: e.district_code.clone(),
            district_level: e.district_level.map(|l| l.to_string()),
        },
    )
}

/// Writes one relation line of the JSON Lines format.
pub fn write_relation_line(out: &mut dyn Write, r: &Relation) -> io::Result<()> {
    write_line(
        out,
        &Line::Relation {
            expected_version: None,
            status: None,
            confidence: None,
            rule: None,
            kind: r.kind.to_string(),
            source: r.source.clone(),
            target: r.target.clone(),
            year: r.year.map(i64::from),
            evidence: r
                .evidence
                .iter()
                .map(|e| EvidenceLine {
                    document: e.document.clone(),
                    quote: e.quote.clone(),
                    basis: Some(e.basis.to_string()),
                })
                .collect(),
        },
    )
}

/// Reads JSON Lines into a seed, every record located at `name:line`. `progress` is called with the
/// bytes read so far. A line that is not a record of the format is a syntax error of the seed.
pub fn read_jsonl(name: &str, input: impl BufRead, progress: impl FnMut(u64)) -> Seed {
    let mut seed = Seed::default();
    for_each_jsonl_line(name, input, progress, |location, line| {
        let record = line.and_then(|bytes| parse_jsonl_record(bytes).map_err(Some));
        match record {
            Ok(record) => seed.add(location, record),
            Err(Some(message)) => seed.syntax_errors.push((location, message)),
            Err(None) => {}
        }
    });
    seed
}

/// One record of a JSON Lines file, as written.
pub enum JsonlRecord {
    /// A document with its text (`file` as written).
    Document(RawDocument, String),
    /// An entity, with the version it updates when it says so.
    Entity(RawEntity, Option<u64>),
    /// A relation, with the version it updates when it says so.
    Relation(RawRelation, Option<u64>),
    /// An existing entity's proposal line, which only says which entity the relations mean.
    Existing,
}

impl Seed {
    /// Adds a record of a JSON Lines file.
    pub fn add(&mut self, location: Location, record: JsonlRecord) {
        match record {
            JsonlRecord::Document(mut document, text) => {
                // The text travels inline; give it a file name of its own so validation can find it.
                document.file = format!("inline:{}", document.id);
                self.texts.insert(document.file.clone(), text);
                self.documents.push((location, document));
            }
            JsonlRecord::Entity(entity, version) => {
                if let Some(version) = version {
                    self.expected_versions.insert(entity.id.clone(), version);
                }
                self.entities.push((location, entity));
            }
            JsonlRecord::Relation(relation, version) => {
                if let Some(version) = version {
                    let id = format!("{}/{}/{}", relation.source, relation.kind, relation.target);
                    self.expected_versions.insert(id, version);
                }
                self.relations.push((location, relation));
            }
            JsonlRecord::Existing => {}
        }
    }
}

/// Calls `visit` with each line of `input` (without its newline) and its location, `name:line`;
/// `Err(None)` for a blank line, `Err(Some(message))` when the input cannot be read (the last call).
/// `progress` is called with the bytes read so far.
pub fn for_each_jsonl_line(
    name: &str,
    input: impl BufRead,
    mut progress: impl FnMut(u64),
    mut visit: impl FnMut(Location, Result<&[u8], Option<String>>),
) {
    let mut read = 0u64;
    let file: std::sync::Arc<str> = name.into();
    for (index, line) in input.split(b'\n').enumerate() {
        let location = Location {
            file: file.clone(),
            line: index + 1,
        };
        let bytes = match line {
            Ok(bytes) => bytes,
            Err(e) => {
                visit(location, Err(Some(format!("cannot read: {e}"))));
                break;
            }
        };
        read += bytes.len() as u64 + 1;
        progress(read);
        if bytes.iter().all(u8::is_ascii_whitespace) {
            visit(location, Err(None));
        } else {
            visit(location, Ok(&bytes));
        }
    }
}

/// Parses one line of JSON Lines; the error says why it is not a record of the format.
pub fn parse_jsonl_record(bytes: &[u8]) -> Result<JsonlRecord, String> {
    let parsed: Line = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a record of the JSON Lines format: {e}"))?;
    Ok(match parsed {
        Line::Document {
            id,
            title,
            title_en,
            publisher,
            date,
            region,
            index_no,
            file,
            reference,
            text,
        } => JsonlRecord::Document(
            RawDocument {
                id,
                file,
                title,
                title_en,
                publisher,
                date,
                region,
                index_no,
                reference,
            },
            text,
        ),
        Line::Entity {
            status: Some(status),
            ..
        } if status == "existing" => JsonlRecord::Existing,
        Line::Entity {
            expected_version,
            status: _,
            confidence: _,
            rule: _,
            id,
            kind,
            layer,
            name,
            name_en,
            aliases,
            description,
            established,
            legal_form,
            area,
            focus,
            district_code,
            district_level,
        } => {
            if let Some(layer) = layer {
                check_layer(&id, &kind, &layer)?;
            }
            JsonlRecord::Entity(
                RawEntity {
                    id,
                    kind,
                    name,
                    name_en,
                    aliases,
                    description,
                    established,
                    legal_form,
                    area,
                    focus,
                    district_code,
                    district_level,
                },
                expected_version,
            )
        }
        Line::Relation {
            expected_version,
            status: _,
            confidence: _,
            rule: _,
            kind,
            source,
            target,
            year,
            evidence,
        } => JsonlRecord::Relation(
            RawRelation {
                kind,
                source,
                target,
                year,
                evidence: raw_evidence(evidence),
            },
            expected_version,
        ),
    })
}

/// An entity line's `layer` must be a layer, and the layer of its kind (a kind that is not one is
/// reported by the validation of the entity).
fn check_layer(id: &str, kind: &str, layer: &str) -> Result<(), String> {
    let layer: Layer = layer.parse().map_err(|e| format!("entity `{id}`: {e}"))?;
    match kind.parse::<EntityKind>() {
        Ok(kind) if kind.layer() != layer => Err(format!(
            "entity `{id}`: layer `{layer}` disagrees with its kind: a {kind} is in the {} layer",
            kind.layer()
        )),
        _ => Ok(()),
    }
}

/// Whether a line says it is a relation (`"type": "relation"`), read without reading the rest of it.
pub fn is_relation_line(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Tag<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    serde_json::from_slice::<Tag>(bytes).is_ok_and(|tag| tag.kind == "relation")
}

/// After a JSON Lines import, documents keep the `file` they were exported with rather than the
/// inline name used during validation.
pub fn restore_document_files(graph: &mut GraphData, original: &BTreeMap<String, String>) {
    for (document, _) in &mut graph.documents {
        if let Some(file) = original.get(&document.id) {
            document.file = file.clone();
        }
    }
}

/// The `file` field of every document line, by document id (see [`restore_document_files`]).
pub fn jsonl_document_files(input: impl BufRead) -> BTreeMap<String, String> {
    #[derive(Deserialize)]
    struct Peek {
        #[serde(rename = "type")]
        kind: String,
        id: Option<String>,
        file: Option<String>,
    }
    input
        .split(b'\n')
        .map_while(Result::ok)
        .filter_map(|bytes| serde_json::from_slice::<Peek>(&bytes).ok())
        .filter(|p| p.kind == "document")
        .filter_map(|p| Some((p.id?, p.file?)))
        .collect()
}

// ---------------------------------------------------------------- CSV (Gephi)

const NODE_COLUMNS: [&str; 13] = [
    "Id",
    "Label",
    "Kind",
    "NameEn",
    "Aliases",
    "Description",
    "Established",
    "LegalForm",
    "Area",
    "Focus",
    "DistrictCode",
    "DistrictLevel",
    "Layer",
];
const EDGE_COLUMNS: [&str; 8] = [
    "Source",
    "Target",
    "Type",
    "Label",
    "Id",
    "Year",
    "Documents",
    "Evidence",
];
/// Separates list items inside one CSV cell.
const LIST_SEPARATOR: &str = "|";

fn csv_nodes(graph: &GraphData, out: &mut dyn Write) -> Result<(), InterchangeError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(NODE_COLUMNS)?;
    for e in &graph.entities {
        writer.write_record([
            e.id.as_str(),
            &e.name,
            e.kind.as_str(),
            e.name_en.as_deref().unwrap_or(""),
            &e.aliases.join(LIST_SEPARATOR),
            e.description.as_deref().unwrap_or(""),
            e.established.as_deref().unwrap_or(""),
            e.legal_form.as_deref().unwrap_or(""),
            e.area.as_deref().unwrap_or(""),
            &e.focus.join(LIST_SEPARATOR),
            e.district_code.as_deref().unwrap_or(""),
            e.district_level.map(|l| l.as_str()).unwrap_or(""),
            e.kind.layer().as_str(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

fn csv_edges(graph: &GraphData, out: &mut dyn Write) -> Result<(), InterchangeError> {
    let mut writer = csv::Writer::from_writer(out);
    writer.write_record(EDGE_COLUMNS)?;
    for r in &graph.relations {
        let documents: Vec<&str> = r.evidence.iter().map(|e| e.document.as_str()).collect();
        let evidence: Vec<Value> = r.evidence.iter().map(evidence_value).collect();
        writer.write_record([
            r.source.as_str(),
            &r.target,
            if r.kind.is_symmetric() {
                "Undirected"
            } else {
                "Directed"
            },
            r.kind.as_str(),
            &r.id(),
            &r.year.map(|y| y.to_string()).unwrap_or_default(),
            &documents.join(LIST_SEPARATOR),
            &Value::Array(evidence).to_string(),
        ])?;
    }
    writer.flush()?;
    Ok(())
}

/// Reads a Gephi CSV pair (as exported) into a seed; documents come from `documents` (the data
/// directory's), since CSV does not carry texts.
pub fn read_csv(
    nodes_name: &str,
    nodes: impl io::Read,
    edges_name: &str,
    edges: impl io::Read,
    documents: &[(Document, String)],
) -> Seed {
    let mut seed = Seed::default();
    for (document, text) in documents {
        seed.add_stored_document(document, format!("inline:{}", document.id), text.clone());
    }
    let list = |cell: &str| -> Vec<String> {
        if cell.is_empty() {
            Vec::new()
        } else {
            cell.split(LIST_SEPARATOR).map(str::to_owned).collect()
        }
    };
    let optional = |cell: &str| (!cell.is_empty()).then(|| cell.to_owned());
    read_csv_table(
        nodes_name,
        nodes,
        &NODE_COLUMNS,
        &mut seed,
        |location, row, seed| {
            seed.entities.push((
                location,
                RawEntity {
                    id: row[0].clone(),
                    kind: row[2].clone(),
                    name: row[1].clone(),
                    name_en: optional(&row[3]),
                    aliases: list(&row[4]),
                    description: optional(&row[5]),
                    established: optional(&row[6]),
                    legal_form: optional(&row[7]),
                    area: optional(&row[8]),
                    focus: list(&row[9]),
                    district_code: optional(&row[10]),
                    district_level: optional(&row[11]),
                },
            ));
        },
    );
    read_csv_table(
        edges_name,
        edges,
        &EDGE_COLUMNS,
        &mut seed,
        |location, row, seed| {
            let year = if row[5].is_empty() {
                None
            } else {
                match row[5].parse::<i64>() {
                    Ok(year) => Some(year),
                    Err(_) => {
                        seed.syntax_errors
                            .push((location, format!("Year `{}` is not a whole number", row[5])));
                        return;
                    }
                }
            };
            let evidence: Vec<EvidenceLine> = match serde_json::from_str(&row[7]) {
                Ok(evidence) => evidence,
                Err(e) => {
                    seed.syntax_errors.push((
                        location,
                        format!("Evidence is not a JSON list of {{document, quote}}: {e}"),
                    ));
                    return;
                }
            };
            seed.relations.push((
                location,
                RawRelation {
                    kind: row[3].clone(),
                    source: row[0].clone(),
                    target: row[1].clone(),
                    year,
                    evidence: raw_evidence(evidence),
                },
            ));
        },
    );
    seed
}

/// Reads one CSV table whose header must hold `columns` (in any order, extra columns ignored), calling
/// `row` with each record's cells in `columns` order.
fn read_csv_table(
    name: &str,
    input: impl io::Read,
    columns: &[&str],
    seed: &mut Seed,
    mut row: impl FnMut(Location, Vec<String>, &mut Seed),
) {
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(input);
    let header = match reader.headers() {
        Ok(header) => header.clone(),
        Err(e) => {
            seed.syntax_errors.push((
                Location {
                    file: name.into(),
                    line: 1,
                },
                format!("cannot read the header: {e}"),
            ));
            return;
        }
    };
    let mut positions = Vec::new();
    for column in columns {
        match header.iter().position(|h| h == *column) {
            Some(p) => positions.push(p),
            None => {
                let message = format!(
                    "the header has no `{column}` column (expected {})",
                    columns.join(",")
                );
                seed.syntax_errors.push((
                    Location {
                        file: name.into(),
                        line: 1,
                    },
                    message,
                ));
                return;
            }
        }
    }
    for record in reader.records() {
        match record {
            Ok(record) => {
                let line = record.position().map_or(0, |p| p.line() as usize);
                let cells = positions
                    .iter()
                    .map(|&p| record.get(p).unwrap_or("").to_owned())
                    .collect();
                row(
                    Location {
                        file: name.into(),
                        line,
                    },
                    cells,
                    seed,
                );
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line() as usize);
                seed.syntax_errors.push((
                    Location {
                        file: name.into(),
                        line,
                    },
                    format!("malformed CSV: {e}"),
                ));
            }
        }
    }
}

// ---------------------------------------------------------------- GraphML

const NODE_KEYS: [(&str, &str); 12] = [
    ("label", "string"),
    ("kind", "string"),
    ("name_en", "string"),
    ("aliases", "string"),
    ("description", "string"),
    ("established", "string"),
    ("legal_form", "string"),
    ("area", "string"),
    ("focus", "string"),
    ("district_code", "string"),
    ("district_level", "string"),
    ("layer", "string"),
];

fn node_values(e: &Entity) -> [String; 12] {
    [
        e.name.clone(),
        e.kind.to_string(),
        e.name_en.clone().unwrap_or_default(),
        e.aliases.join(LIST_SEPARATOR),
        e.description.clone().unwrap_or_default(),
        e.established.clone().unwrap_or_default(),
        e.legal_form.clone().unwrap_or_default(),
        e.area.clone().unwrap_or_default(),
        e.focus.join(LIST_SEPARATOR),
        e.district_code.clone().unwrap_or_default(),
        e.district_level.map(|l| l.to_string()).unwrap_or_default(),
        e.kind.layer().to_string(),
    ]
}

fn graphml(graph: &GraphData, out: &mut dyn Write) -> Result<(), InterchangeError> {
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("graphml").with_attributes([
        ("xmlns", "http://graphml.graphdrawing.org/xmlns"),
        ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        (
            "xsi:schemaLocation",
            "http://graphml.graphdrawing.org/xmlns http://graphml.graphdrawing.org/xmlns/1.0/graphml.xsd",
        ),
    ])))?;
    for (name, ty) in NODE_KEYS {
        let id = format!("n_{name}");
        empty(
            &mut w,
            "key",
            &[
                ("id", &id),
                ("for", "node"),
                ("attr.name", name),
                ("attr.type", ty),
            ],
        )?;
    }
    for (name, ty) in [
        ("kind", "string"),
        ("relation_id", "string"),
        ("year", "int"),
        ("documents", "string"),
        ("evidence", "string"),
        ("symmetric", "boolean"),
    ] {
        let id = format!("e_{name}");
        empty(
            &mut w,
            "key",
            &[
                ("id", &id),
                ("for", "edge"),
                ("attr.name", name),
                ("attr.type", ty),
            ],
        )?;
    }
    w.write_event(Event::Start(
        BytesStart::new("graph")
            .with_attributes([("id", "innograph"), ("edgedefault", "directed")]),
    ))?;
    for e in &graph.entities {
        w.write_event(Event::Start(
            BytesStart::new("node").with_attributes([("id", e.id.as_str())]),
        ))?;
        for ((name, _), value) in NODE_KEYS.iter().zip(node_values(e)) {
            if !value.is_empty() {
                data(&mut w, &format!("n_{name}"), &value)?;
            }
        }
        w.write_event(Event::End(BytesEnd::new("node")))?;
    }
    for r in &graph.relations {
        let id = r.id();
        w.write_event(Event::Start(BytesStart::new("edge").with_attributes([
            ("id", id.as_str()),
            ("source", r.source.as_str()),
            ("target", r.target.as_str()),
        ])))?;
        data(&mut w, "e_kind", r.kind.as_str())?;
        data(&mut w, "e_relation_id", &id)?;
        if let Some(year) = r.year {
            data(&mut w, "e_year", &year.to_string())?;
        }
        let documents: Vec<&str> = r.evidence.iter().map(|e| e.document.as_str()).collect();
        data(&mut w, "e_documents", &documents.join(LIST_SEPARATOR))?;
        data(&mut w, "e_evidence", &evidence_json(r).to_string())?;
        // COOPERATES_WITH is stored once and holds both ways: tools that want the API's measures
        // add the reverse of every symmetric edge.
        data(
            &mut w,
            "e_symmetric",
            if r.kind.is_symmetric() {
                "true"
            } else {
                "false"
            },
        )?;
        w.write_event(Event::End(BytesEnd::new("edge")))?;
    }
    w.write_event(Event::End(BytesEnd::new("graph")))?;
    w.write_event(Event::End(BytesEnd::new("graphml")))?;
    w.get_mut().write_all(b"\n")?;
    Ok(())
}

// ---------------------------------------------------------------- GEXF 1.3

fn gexf(graph: &GraphData, out: &mut dyn Write) -> Result<(), InterchangeError> {
    let documents = graph.documents_by_id();
    // A relation's time interval starts in its year (else its earliest document's year) and stays open:
    // the sources say when a tie began to hold, never when it ended. Without a year it is timeless.
    let start_of = |r: &Relation| -> Option<i32> {
        r.year.or_else(|| {
            r.evidence
                .iter()
                .filter_map(|e| documents.get(e.document.as_str()).and_then(|d| d.year()))
                .min()
        })
    };
    let dynamic = graph.relations.iter().any(|r| start_of(r).is_some());
    let mut w = Writer::new_with_indent(out, b' ', 2);
    w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    w.write_event(Event::Start(BytesStart::new("gexf").with_attributes([
        ("xmlns", "http://gexf.net/1.3"),
        ("xmlns:xsi", "http://www.w3.org/2001/XMLSchema-instance"),
        (
            "xsi:schemaLocation",
            "http://gexf.net/1.3 http://gexf.net/1.3/gexf.xsd",
        ),
        ("version", "1.3"),
    ])))?;
    w.write_event(Event::Start(BytesStart::new("meta")))?;
    element(&mut w, "creator", "innograph")?;
    element(
        &mut w,
        "description",
        "Innovation ecosystem knowledge graph; every relation carries its evidence",
    )?;
    w.write_event(Event::End(BytesEnd::new("meta")))?;
    let mut graph_tag = BytesStart::new("graph").with_attributes([("defaultedgetype", "directed")]);
    if dynamic {
        graph_tag.push_attribute(("mode", "dynamic"));
        graph_tag.push_attribute(("timeformat", "integer"));
    } else {
        graph_tag.push_attribute(("mode", "static"));
    }
    w.write_event(Event::Start(graph_tag))?;
    w.write_event(Event::Start(
        BytesStart::new("attributes").with_attributes([("class", "node"), ("mode", "static")]),
    ))?;
    for (i, (name, ty)) in NODE_KEYS.iter().enumerate().skip(1) {
        empty(
            &mut w,
            "attribute",
            &[("id", &i.to_string()), ("title", name), ("type", ty)],
        )?;
    }
    w.write_event(Event::End(BytesEnd::new("attributes")))?;
    w.write_event(Event::Start(
        BytesStart::new("attributes").with_attributes([("class", "edge"), ("mode", "static")]),
    ))?;
    for (i, (name, ty)) in [
        ("kind", "string"),
        ("relation_id", "string"),
        ("documents", "string"),
        ("evidence", "string"),
        ("symmetric", "boolean"),
    ]
    .iter()
    .enumerate()
    {
        empty(
            &mut w,
            "attribute",
            &[("id", &format!("e{i}")), ("title", name), ("type", ty)],
        )?;
    }
    w.write_event(Event::End(BytesEnd::new("attributes")))?;
    w.write_event(Event::Start(BytesStart::new("nodes")))?;
    for e in &graph.entities {
        w.write_event(Event::Start(
            BytesStart::new("node")
                .with_attributes([("id", e.id.as_str()), ("label", e.name.as_str())]),
        ))?;
        w.write_event(Event::Start(BytesStart::new("attvalues")))?;
        for (i, value) in node_values(e).iter().enumerate().skip(1) {
            if !value.is_empty() {
                empty(
                    &mut w,
                    "attvalue",
                    &[("for", &i.to_string()), ("value", value)],
                )?;
            }
        }
        w.write_event(Event::End(BytesEnd::new("attvalues")))?;
        w.write_event(Event::End(BytesEnd::new("node")))?;
    }
    w.write_event(Event::End(BytesEnd::new("nodes")))?;
    w.write_event(Event::Start(BytesStart::new("edges")))?;
    for r in &graph.relations {
        let id = r.id();
        let mut tag = BytesStart::new("edge").with_attributes([
            ("id", id.as_str()),
            ("source", r.source.as_str()),
            ("target", r.target.as_str()),
            ("label", r.kind.as_str()),
        ]);
        let start = start_of(r).map(|y| y.to_string());
        if let Some(start) = &start {
            tag.push_attribute(("start", start.as_str()));
        }
        w.write_event(Event::Start(tag))?;
        w.write_event(Event::Start(BytesStart::new("attvalues")))?;
        let documents: Vec<&str> = r.evidence.iter().map(|e| e.document.as_str()).collect();
        let values = [
            r.kind.to_string(),
            id.clone(),
            documents.join(LIST_SEPARATOR),
            evidence_json(r).to_string(),
            r.kind.is_symmetric().to_string(),
        ];
        for (i, value) in values.iter().enumerate() {
            empty(
                &mut w,
                "attvalue",
                &[("for", &format!("e{i}")), ("value", value)],
            )?;
        }
        w.write_event(Event::End(BytesEnd::new("attvalues")))?;
        w.write_event(Event::End(BytesEnd::new("edge")))?;
    }
    w.write_event(Event::End(BytesEnd::new("edges")))?;
    w.write_event(Event::End(BytesEnd::new("graph")))?;
    w.write_event(Event::End(BytesEnd::new("gexf")))?;
    w.get_mut().write_all(b"\n")?;
    Ok(())
}

fn empty<W: Write>(w: &mut Writer<W>, name: &str, attributes: &[(&str, &str)]) -> io::Result<()> {
    w.write_event(Event::Empty(
        BytesStart::new(name).with_attributes(attributes.iter().copied()),
    ))
}

fn element<W: Write>(w: &mut Writer<W>, name: &str, text: &str) -> io::Result<()> {
    w.write_event(Event::Start(BytesStart::new(name)))?;
    w.write_event(Event::Text(BytesText::new(text)))?;
    w.write_event(Event::End(BytesEnd::new(name)))
}

fn data<W: Write>(w: &mut Writer<W>, key: &str, value: &str) -> io::Result<()> {
    w.write_event(Event::Start(
        BytesStart::new("data").with_attributes([("key", key)]),
    ))?;
    w.write_event(Event::Text(BytesText::new(value)))?;
    w.write_event(Event::End(BytesEnd::new("data")))
}

fn evidence_json(r: &Relation) -> Value {
    Value::Array(r.evidence.iter().map(evidence_value).collect())
}

/// One evidence entry as the exports write it: `basis` only when it is not STATED, as in JSON Lines.
fn evidence_value(e: &crate::model::Evidence) -> Value {
    let mut value = json!({ "document": e.document, "quote": e.quote });
    if e.basis != crate::model::Basis::Stated {
        value["basis"] = json!(e.basis.as_str());
    }
    value
}

// ---------------------------------------------------------------- front-end shapes

/// Cytoscape.js elements: nodes with `data` (id, bilingual labels, kind, attributes; `parent` = the
/// district when `compound`) and `classes` (the kind); edges with the relation kind as label and the
/// evidence in `data`. With `compound`, districts that are parents are included as nodes.
pub fn cytoscape_elements(
    entities: &[Entity],
    relations: &[Relation],
    documents: &BTreeMap<&str, &Document>,
    compound: bool,
) -> Value {
    let parents = if compound {
        district_parents(entities, relations)
    } else {
        BTreeMap::new()
    };
    let mut nodes: Vec<Value> = entities
        .iter()
        .map(|e| {
            let mut data = node_data(e);
            if let Some(parent) = parents.get(e.id.as_str()) {
                data["parent"] = json!(parent);
            }
            json!({ "group": "nodes", "data": data, "classes": e.kind.as_str() })
        })
        .collect();
    nodes.sort_by(|a, b| a["data"]["id"].as_str().cmp(&b["data"]["id"].as_str()));
    let edges: Vec<Value> = relations
        .iter()
        .map(|r| json!({ "group": "edges", "data": edge_data(r, documents), "classes": r.kind.as_str() }))
        .collect();
    json!({ "nodes": nodes, "edges": edges })
}

/// AntV G6 v5 graph data: `nodes`, `edges` and (with `combos`) a combo per district holding its
/// entities.
pub fn g6_data(
    entities: &[Entity],
    relations: &[Relation],
    documents: &BTreeMap<&str, &Document>,
    combos: bool,
) -> Value {
    let parents = if combos {
        district_parents(entities, relations)
    } else {
        BTreeMap::new()
    };
    let combo_ids: std::collections::BTreeSet<&str> = parents.values().copied().collect();
    let nodes: Vec<Value> = entities
        .iter()
        .filter(|e| !combo_ids.contains(e.id.as_str()))
        .map(|e| {
            let mut node = json!({ "id": e.id, "data": node_data(e) });
            if let Some(parent) = parents.get(e.id.as_str()) {
                node["combo"] = json!(parent);
            }
            node
        })
        .collect();
    let by_id: BTreeMap<&str, &Entity> = entities.iter().map(|e| (e.id.as_str(), e)).collect();
    let combo_list: Vec<Value> = combo_ids
        .iter()
        .map(|id| {
            let label = by_id.get(id).map_or(*id, |e| e.name.as_str());
            json!({ "id": id, "data": { "label": label, "kind": "DISTRICT" } })
        })
        .collect();
    let edges: Vec<Value> = relations
        .iter()
        .filter(|r| !(combos && combo_ids.contains(r.target.as_str()) && r.kind == RelationKind::LocatedIn))
        .map(|r| json!({ "id": r.id(), "source": r.source, "target": r.target, "data": edge_data(r, documents) }))
        .collect();
    let mut value = json!({ "nodes": nodes, "edges": edges });
    if combos {
        value["combos"] = json!(combo_list);
    }
    value
}

/// An ECharts `graph` series: categories are the entity kinds.
pub fn echarts_series(
    entities: &[Entity],
    relations: &[Relation],
    documents: &BTreeMap<&str, &Document>,
) -> Value {
    let categories: Vec<Value> = EntityKind::ALL
        .iter()
        .map(|k| json!({ "name": k.as_str() }))
        .collect();
    let nodes: Vec<Value> = entities
        .iter()
        .map(|e| {
            json!({
                "id": e.id,
                "name": e.name,
                "nameEn": e.name_en,
                "category": EntityKind::ALL.iter().position(|k| *k == e.kind).unwrap_or(0),
                "value": e.kind.as_str(),
                "data": node_data(e),
            })
        })
        .collect();
    let links: Vec<Value> = relations
        .iter()
        .map(|r| {
            json!({
                "id": r.id(),
                "source": r.source,
                "target": r.target,
                "value": r.kind.as_str(),
                "label": { "show": false, "formatter": r.kind.as_str() },
                "data": edge_data(r, documents),
            })
        })
        .collect();
    json!({ "type": "graph", "layout": "force", "roam": true, "categories": categories, "data": nodes, "links": links })
}

fn node_data(e: &Entity) -> Value {
    let mut data = json!({
        "id": e.id,
        "label": e.name,
        "labelEn": e.name_en.clone().unwrap_or_else(|| e.name.clone()),
        "kind": e.kind.as_str(),
        "layer": e.kind.layer().as_str(),
    });
    let optional = [
        ("aliases", (!e.aliases.is_empty()).then(|| json!(e.aliases))),
        ("description", e.description.as_ref().map(|d| json!(d))),
        ("established", e.established.as_ref().map(|d| json!(d))),
        ("legalForm", e.legal_form.as_ref().map(|d| json!(d))),
        ("area", e.area.as_ref().map(|d| json!(d))),
        ("focus", (!e.focus.is_empty()).then(|| json!(e.focus))),
        ("districtCode", e.district_code.as_ref().map(|d| json!(d))),
        ("districtLevel", e.district_level.map(|l| json!(l.as_str()))),
    ];
    for (key, value) in optional {
        if let Some(value) = value {
            data[key] = value;
        }
    }
    data
}

fn edge_data(r: &Relation, documents: &BTreeMap<&str, &Document>) -> Value {
    let evidence: Vec<Value> = r
        .evidence
        .iter()
        .map(|e| {
            let document = documents.get(e.document.as_str());
            json!({
                "document": e.document,
                "title": document.map(|d| d.title.as_str()),
                "date": document.and_then(|d| d.date.as_deref()),
                "quote": e.quote,
                "basis": e.basis.as_str(),
            })
        })
        .collect();
    json!({
        "id": r.id(),
        "source": r.source,
        "target": r.target,
        "label": r.kind.as_str(),
        "kind": r.kind.as_str(),
        "year": r.year,
        "evidence": evidence,
        // No evidence states it: implied by a name, a reference table or the reporting region.
        "inferred": !r.evidence.iter().any(|e| e.basis == crate::model::Basis::Stated),
    })
}

/// For each entity, the district it lies in directly (its first LOCATED_IN target that is a district
/// in the same subgraph).
fn district_parents<'a>(
    entities: &'a [Entity],
    relations: &'a [Relation],
) -> BTreeMap<&'a str, &'a str> {
    let districts: std::collections::BTreeSet<&str> = entities
        .iter()
        .filter(|e| e.kind == EntityKind::District)
        .map(|e| e.id.as_str())
        .collect();
    let mut parents = BTreeMap::new();
    for r in relations {
        if r.kind == RelationKind::LocatedIn && districts.contains(r.target.as_str()) {
            parents
                .entry(r.source.as_str())
                .or_insert(r.target.as_str());
        }
    }
    parents
}

// ---------------------------------------------------------------- subgraphs for front ends

/// A front-end shape for a subgraph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// Cytoscape.js elements; `compound` puts each entity inside its district.
    Cytoscape { compound: bool },
    /// AntV G6 v5 data; `combos` groups entities in district combos.
    G6 { combos: bool },
    /// An ECharts graph series.
    Echarts,
}

impl Shape {
    /// Parses `cytoscape`, `g6` or `echarts`, with the district grouping flag.
    pub fn parse(format: &str, grouped: bool) -> Option<Shape> {
        match format {
            "cytoscape" => Some(Shape::Cytoscape { compound: grouped }),
            "g6" => Some(Shape::G6 { combos: grouped }),
            "echarts" => Some(Shape::Echarts),
            _ => None,
        }
    }
}

/// A subgraph from the index in a front-end shape, with full evidence read from the store. When the
/// shape groups by district, each entity's district (and the LOCATED_IN to it) is added if missing.
pub fn shape_subgraph(
    db: &crate::db::Db,
    view: &crate::graph::SubgraphView,
    shape: Shape,
) -> Result<Value, crate::db::DbError> {
    let grouped = matches!(
        shape,
        Shape::Cytoscape { compound: true } | Shape::G6 { combos: true }
    );
    let mut relation_views = view.relations.clone();
    let mut entities: Vec<Entity> = view.entities.iter().map(|e| (**e).clone()).collect();
    let documents: Vec<Document> = {
        let index = db.read();
        if grouped {
            let present: std::collections::HashSet<String> =
                entities.iter().map(|e| e.id.clone()).collect();
            let located = crate::graph::Step::new(
                crate::graph::KindSet::of(&[RelationKind::LocatedIn]),
                crate::graph::Direction::Out,
            );
            let mut added = std::collections::HashSet::new();
            let mut shown: std::collections::HashSet<String> =
                relation_views.iter().map(|r| r.id()).collect();
            for entity in &view.entities {
                for relation in index.relations_of(&entity.id, located) {
                    if relation.target.kind != EntityKind::District {
                        continue;
                    }
                    if !present.contains(&relation.target.id)
                        && added.insert(relation.target.id.clone())
                    {
                        entities.push((*relation.target).clone());
                    }
                    if shown.insert(relation.id()) {
                        relation_views.push(relation);
                    }
                    break;
                }
            }
        }
        index.documents().map(|d| (**d).clone()).collect()
    };
    let relations = db.full_relations(&relation_views)?;
    let documents: BTreeMap<&str, &Document> =
        documents.iter().map(|d| (d.id.as_str(), d)).collect();
    Ok(match shape {
        Shape::Cytoscape { compound } => {
            cytoscape_elements(&entities, &relations, &documents, compound)
        }
        Shape::G6 { combos } => g6_data(&entities, &relations, &documents, combos),
        Shape::Echarts => echarts_series(&entities, &relations, &documents),
    })
}
