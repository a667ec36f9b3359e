//! Reading seed directories: the human-edited TOML files under `seed/` and the texts they cite.
//!
//! A seed is read into [`Seed`], records with the file and line they came from, without judging them;
//! `validate` judges. The bundled seed is embedded in the binary ([`bundled`]) so that `serve` runs from
//! anywhere; [`SeedFiles::from_dir`] reads any directory of the same layout (see `seed/README.md`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use include_dir::{Dir, include_dir};
use serde::Deserialize;
use toml::Spanned;

static BUNDLED: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/seed");

/// The file listing the documents, relative to the seed directory.
pub const DOCUMENTS_FILE: &str = "documents.toml";
/// The folder whose `*.toml` files hold entities and relations.
pub const GRAPH_DIR: &str = "graph";

/// Where a record came from: a file of the seed and a 1-based line.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    /// Shared: a million records of one file hold one copy of its name.
    pub file: std::sync::Arc<str>,
    pub line: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// The raw bytes of a seed: every file it consists of, by path relative to the seed directory.
#[derive(Clone, Debug, Default)]
pub struct SeedFiles {
    /// Shown in messages before the relative paths, e.g. `seed/`.
    pub root: String,
    pub files: BTreeMap<String, Vec<u8>>,
}

/// A seed directory could not be read at all (as opposed to holding bad records).
#[derive(Debug, thiserror::Error)]
pub enum SeedReadError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a seed directory: it has no {DOCUMENTS_FILE}")]
    NotASeed { path: PathBuf },
}

impl SeedFiles {
    /// Reads `documents.toml`, every `graph/*.toml` and every other file below `dir` (the texts).
    pub fn from_dir(dir: &Path) -> Result<SeedFiles, SeedReadError> {
        if !dir.join(DOCUMENTS_FILE).is_file() {
            return Err(SeedReadError::NotASeed {
                path: dir.to_owned(),
            });
        }
        let mut files = BTreeMap::new();
        read_tree(dir, dir, &mut files)?;
        let mut root = dir.display().to_string();
        if !root.ends_with('/') {
            root.push('/');
        }
        Ok(SeedFiles { root, files })
    }

    /// The path of a file for messages: the root joined with the relative path.
    pub fn display_path(&self, relative: &str) -> String {
        format!("{}{relative}", self.root)
    }
}

fn read_tree(
    root: &Path,
    dir: &Path,
    out: &mut BTreeMap<String, Vec<u8>>,
) -> Result<(), SeedReadError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SeedReadError::Io { path, source }
    };
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let entry = entry.map_err(io(dir))?;
        let path = entry.path();
        let file_type = entry.file_type().map_err(io(&path))?;
        if file_type.is_dir() {
            read_tree(root, &path, out)?;
        } else if file_type.is_file() {
            let Ok(relative) = path.strip_prefix(root) else {
                continue;
            };
            let relative = relative.to_string_lossy().replace('\\', "/");
            let bytes = std::fs::read(&path).map_err(io(&path))?;
            out.insert(relative, bytes);
        }
    }
    Ok(())
}

/// One file of the bundled seed, as text (e.g. `reference/universities.tsv`).
pub fn bundled_file(path: &str) -> Option<&'static str> {
    BUNDLED.get_file(path).and_then(|f| f.contents_utf8())
}

/// The seed bundled with this binary (the repository's `seed/` at build time).
pub fn bundled() -> SeedFiles {
    let mut files = BTreeMap::new();
    collect_embedded(&BUNDLED, &mut files);
    SeedFiles {
        root: "seed/".to_owned(),
        files,
    }
}

fn collect_embedded(dir: &Dir<'static>, out: &mut BTreeMap<String, Vec<u8>>) {
    for file in dir.files() {
        out.insert(
            file.path().to_string_lossy().replace('\\', "/"),
            file.contents().to_vec(),
        );
    }
    for sub in dir.dirs() {
        collect_embedded(sub, out);
    }
}

/// A seed as written, record by record, each with its location. Nothing here has been judged yet.
#[derive(Debug, Default)]
pub struct Seed {
    pub documents: Vec<(Location, RawDocument)>,
    pub entities: Vec<(Location, RawEntity)>,
    pub relations: Vec<(Location, RawRelation)>,
    /// Document texts by the document's `file` path; missing files are absent.
    pub texts: BTreeMap<String, String>,
    /// Files that are not valid TOML of the seed format, or texts that are not UTF-8.
    pub syntax_errors: Vec<(Location, String)>,
    /// The versions an import's records say they update (`expectedVersion` of a JSON Lines record),
    /// by entity or relation id.
    pub expected_versions: BTreeMap<String, u64>,
}

impl Seed {
    /// Relation ends the seed does not define (sorted, once each): for an import into a data directory,
    /// the entities it must already hold.
    pub fn foreign_ends(&self) -> Vec<&str> {
        let defined: std::collections::HashSet<&str> =
            self.entities.iter().map(|(_, e)| e.id.as_str()).collect();
        let mut ends: Vec<&str> = self
            .relations
            .iter()
            .flat_map(|(_, r)| [r.source.as_str(), r.target.as_str()])
            .filter(|id| !defined.contains(id))
            .collect();
        ends.sort_unstable();
        ends.dedup();
        ends
    }

    /// Adds a document already in the data directory, with its text under `file`, so that the records
    /// of an import (JSON Lines batch, CSV) may cite it.
    pub fn add_stored_document(
        &mut self,
        document: &crate::model::Document,
        file: String,
        text: String,
    ) {
        self.texts.insert(file.clone(), text);
        let raw = RawDocument {
            id: document.id.clone(),
            file,
            title: document.title.clone(),
            title_en: document.title_en.clone(),
            publisher: document.publisher.clone(),
            date: document.date.clone(),
            region: document.region.clone(),
            index_no: document.index_no.clone(),
            reference: document.reference,
        };
        let location = Location {
            file: "(data directory)".into(),
            line: 0,
        };
        self.documents.push((location, raw));
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFile {
    #[serde(default)]
    document: Vec<Spanned<RawDocument>>,
    #[serde(default)]
    entity: Vec<Spanned<RawEntity>>,
    #[serde(default)]
    relation: Vec<Spanned<RawRelation>>,
}

/// A `[[document]]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDocument {
    pub id: String,
    pub file: String,
    pub title: String,
    pub title_en: Option<String>,
    pub publisher: Option<String>,
    pub date: Option<String>,
    pub region: Option<String>,
    pub index_no: Option<String>,
    #[serde(default)]
    pub reference: bool,
}

/// An `[[entity]]` table; kinds are kept as text so that a wrong one is reported with its line.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEntity {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub name_en: Option<String>,
    #[serde(default)]
    pub aliases: Vec<String>,
    pub description: Option<String>,
    pub established: Option<String>,
    pub legal_form: Option<String>,
    pub area: Option<String>,
    #[serde(default)]
    pub focus: Vec<String>,
    pub district_code: Option<String>,
    pub district_level: Option<String>,
}

/// A `[[relation]]` table.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRelation {
    pub kind: String,
    pub source: String,
    pub target: String,
    pub year: Option<i64>,
    #[serde(default)]
    pub evidence: Vec<RawEvidence>,
}

/// One `{ doc, quote }` entry of a relation's evidence.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawEvidence {
    pub doc: String,
    pub quote: String,
    /// STATED (the default), NAME, REFERENCE or REGION.
    #[serde(default)]
    pub basis: Option<String>,
}

/// Parses every TOML file of the seed; never fails, problems land in `syntax_errors`.
pub fn parse(files: &SeedFiles) -> Seed {
    let mut seed = Seed::default();
    let toml_files = files.files.iter().filter(|(path, _)| {
        path.as_str() == DOCUMENTS_FILE
            || (path.starts_with(&format!("{GRAPH_DIR}/")) && path.ends_with(".toml"))
    });
    for (path, bytes) in toml_files {
        let shown = files.display_path(path);
        let text = match std::str::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                let line = line_of(
                    &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
                    usize::MAX,
                );
                seed.syntax_errors.push((
                    Location {
                        file: shown.as_str().into(),
                        line,
                    },
                    "not valid UTF-8".to_owned(),
                ));
                continue;
            }
        };
        let raw: RawFile = match toml::from_str(text) {
            Ok(raw) => raw,
            Err(e) => {
                let line = e.span().map_or(1, |span| line_of(text, span.start));
                let message = e.message().to_owned();
                seed.syntax_errors.push((
                    Location {
                        file: shown.as_str().into(),
                        line,
                    },
                    message,
                ));
                continue;
            }
        };
        let at = |span: std::ops::Range<usize>| Location {
            file: shown.as_str().into(),
            line: line_of(text, span.start),
        };
        for record in raw.document {
            seed.documents
                .push((at(record.span()), record.into_inner()));
        }
        for record in raw.entity {
            seed.entities.push((at(record.span()), record.into_inner()));
        }
        for record in raw.relation {
            seed.relations
                .push((at(record.span()), record.into_inner()));
        }
    }
    for (location, document) in &seed.documents {
        let Some(bytes) = files.files.get(&document.file) else {
            continue;
        };
        match String::from_utf8(bytes.clone()) {
            Ok(text) => {
                seed.texts.insert(document.file.clone(), text);
            }
            Err(_) => seed.syntax_errors.push((
                location.clone(),
                format!("document file {} is not valid UTF-8", document.file),
            )),
        }
    }
    seed
}

/// The 1-based line of byte offset `at` in `text` (the last line when `at` is past the end).
fn line_of(text: &str, at: usize) -> usize {
    let at = at.min(text.len());
    text.as_bytes()[..at]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn files(entries: &[(&str, &str)]) -> SeedFiles {
        SeedFiles {
            root: "t/".to_owned(),
            files: entries
                .iter()
                .map(|(p, c)| (p.to_string(), c.as_bytes().to_vec()))
                .collect(),
        }
    }

    #[test]
    fn records_carry_their_line() {
        let seed = parse(&files(&[
            (
                DOCUMENTS_FILE,
                "[[document]]\nid = \"d\"\nfile = \"sources/d.txt\"\ntitle = \"T\"\n",
            ),
            ("sources/d.txt", "text"),
            (
                "graph/a.toml",
                "# comment\n\n[[entity]]\nid = \"a\"\nkind = \"LAB\"\nname = \"甲\"\n\n[[entity]]\nid = \"b\"\nkind = \"LAB\"\nname = \"乙\"\n",
            ),
        ]));
        assert!(seed.syntax_errors.is_empty(), "{:?}", seed.syntax_errors);
        let lines: Vec<String> = seed.entities.iter().map(|(l, _)| l.to_string()).collect();
        assert_eq!(lines, ["t/graph/a.toml:3", "t/graph/a.toml:8"]);
        assert_eq!(seed.texts["sources/d.txt"], "text");
    }

    #[test]
    fn syntax_errors_name_file_and_line() {
        let seed = parse(&files(&[
            (DOCUMENTS_FILE, ""),
            ("graph/a.toml", "[[entity]]\nid = \"a\"\nbogus = 1\n"),
        ]));
        assert_eq!(seed.syntax_errors.len(), 1);
        let (location, message) = &seed.syntax_errors[0];
        assert_eq!(&*location.file, "t/graph/a.toml");
        assert!(
            message.contains("bogus") || message.contains("unknown field"),
            "{message}"
        );
    }

    #[test]
    fn the_bundled_seed_is_embedded() {
        let bundled = bundled();
        assert!(bundled.files.contains_key(DOCUMENTS_FILE));
        assert!(
            bundled
                .files
                .contains_key("sources/000_c1b41fb531957d5f.txt")
        );
    }
}
