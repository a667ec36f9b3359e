//! The domain model: entities, relations, evidence and documents.
//!
//! This module is the vocabulary every other module speaks. It imports no storage, graph or web crate,
//! so that the seed reader, the store, the index and the API all agree on one definition of each
//! concept. Validation that needs only one record (id syntax, non-empty evidence) lives here; checks that
//! need the whole graph (dangling endpoints, quotes found in documents) live in `validate`.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What sort of organisation, place or programme an entity is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityKind {
    /// Universities and colleges.
    University,
    /// Research institutes, co-built institutes, innovation and technology centres (研究院, 创新中心).
    ResearchInstitute,
    /// Laboratories: provincial labs (省实验室), national key labs (全国重点实验室) and others.
    Lab,
    /// Companies.
    Enterprise,
    /// Government bodies: bureaus, people's governments, committees.
    Government,
    /// Administrative divisions at every level, with their GB/T 2260 code.
    District,
    /// Science cities, innovation corridors, high-tech zones, innovation bases, incubators, service
    /// complexes, pilot bases.
    Platform,
    /// Large scientific facilities.
    Facility,
    /// Alliances and innovation consortia.
    Alliance,
    /// Policy layer: a named programme, project, campaign, action plan, fund, talent scheme, award
    /// or event series.
    Program,
    /// Policy layer: a named policy document (plan, opinions, measures, rules; usually in 《》).
    Policy,
}

/// The two layers of the graph: the ecosystem of organisations and places, and the policy layer of
/// the programmes and policies the reports name beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Layer {
    Ecosystem,
    Policy,
}

impl Layer {
    pub const ALL: [Layer; 2] = [Layer::Ecosystem, Layer::Policy];

    pub fn as_str(self) -> &'static str {
        match self {
            Layer::Ecosystem => "ECOSYSTEM",
            Layer::Policy => "POLICY",
        }
    }

    /// The entity kinds of these layers.
    pub fn kinds(layers: &[Layer]) -> Vec<EntityKind> {
        EntityKind::ALL
            .into_iter()
            .filter(|k| layers.contains(&k.layer()))
            .collect()
    }
}

impl EntityKind {
    pub const ALL: [EntityKind; 11] = [
        EntityKind::University,
        EntityKind::ResearchInstitute,
        EntityKind::Lab,
        EntityKind::Enterprise,
        EntityKind::Government,
        EntityKind::District,
        EntityKind::Platform,
        EntityKind::Facility,
        EntityKind::Alliance,
        EntityKind::Program,
        EntityKind::Policy,
    ];

    /// The layer entities of this kind belong to.
    pub fn layer(self) -> Layer {
        match self {
            EntityKind::Program | EntityKind::Policy => Layer::Policy,
            _ => Layer::Ecosystem,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::University => "UNIVERSITY",
            EntityKind::ResearchInstitute => "RESEARCH_INSTITUTE",
            EntityKind::Lab => "LAB",
            EntityKind::Enterprise => "ENTERPRISE",
            EntityKind::Government => "GOVERNMENT",
            EntityKind::District => "DISTRICT",
            EntityKind::Platform => "PLATFORM",
            EntityKind::Facility => "FACILITY",
            EntityKind::Alliance => "ALLIANCE",
            EntityKind::Program => "PROGRAM",
            EntityKind::Policy => "POLICY",
        }
    }
}

/// The type of a directed tie between two entities.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RelationKind {
    /// The built thing → each of its builders (由…与…联合共建, 共建, 引进共建).
    CoBuiltBy,
    /// An entity → the district or platform it is in; a district → its parent district.
    LocatedIn,
    /// An organisation → the lab, institute, alliance or programme it leads (牵头建设, 领衔, 由…牵头组建);
    /// a 责任单位 clause gives RESPONSIBLE_FOR, 以…为核心 RELIES_ON.
    Leads,
    /// A component → the whole it belongs to.
    PartOf,
    /// A dependent → the base it relies on (依托).
    ReliesOn,
    /// Cooperation between two entities; stored once, symmetric in queries.
    CooperatesWith,
    /// An organiser → the event or programme it hosts (主办, 承办, 举办).
    Organizes,
    /// A member → the alliance, consortium or network it belongs to.
    MemberOf,
    /// A supporter → what it supports or serves (支持, 为…提供支撑, 保障).
    Supports,
    /// A participant → the event, programme or pilot it takes part in (参与, 参加, 入选, 参展).
    ParticipatesIn,
    /// A government body → the programme, policy or platform a 责任单位 / 牵头单位 clause assigns to it.
    ResponsibleFor,
    /// A policy → the government body that issued it (制定, 出台, 印发).
    IssuedBy,
    /// A programme or policy → the district it covers.
    AppliesTo,
}

impl RelationKind {
    pub const ALL: [RelationKind; 13] = [
        RelationKind::CoBuiltBy,
        RelationKind::LocatedIn,
        RelationKind::Leads,
        RelationKind::PartOf,
        RelationKind::ReliesOn,
        RelationKind::CooperatesWith,
        RelationKind::Organizes,
        RelationKind::MemberOf,
        RelationKind::Supports,
        RelationKind::ParticipatesIn,
        RelationKind::ResponsibleFor,
        RelationKind::IssuedBy,
        RelationKind::AppliesTo,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::CoBuiltBy => "CO_BUILT_BY",
            RelationKind::LocatedIn => "LOCATED_IN",
            RelationKind::Leads => "LEADS",
            RelationKind::PartOf => "PART_OF",
            RelationKind::ReliesOn => "RELIES_ON",
            RelationKind::CooperatesWith => "COOPERATES_WITH",
            RelationKind::Organizes => "ORGANIZES",
            RelationKind::MemberOf => "MEMBER_OF",
            RelationKind::Supports => "SUPPORTS",
            RelationKind::ParticipatesIn => "PARTICIPATES_IN",
            RelationKind::ResponsibleFor => "RESPONSIBLE_FOR",
            RelationKind::IssuedBy => "ISSUED_BY",
            RelationKind::AppliesTo => "APPLIES_TO",
        }
    }

    /// Symmetric kinds are stored once but traversed in both directions whatever the query asks.
    pub fn is_symmetric(self) -> bool {
        matches!(self, RelationKind::CooperatesWith)
    }
}

/// Level of an administrative division in the GB/T 2260 hierarchy.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum DistrictLevel {
    /// 省 or 自治区.
    Province,
    /// 直辖市 (Beijing, Tianjin, Shanghai, Chongqing).
    Municipality,
    /// 地级市.
    PrefectureCity,
    /// 市辖区.
    District,
    /// 县.
    County,
    /// 县级市.
    CountyCity,
}

macro_rules! impl_enum_text {
    ($ty:ty, $all:expr, $what:literal) => {
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $ty {
            type Err = UnknownName;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $all.into_iter()
                    .find(|k| k.as_str() == s)
                    .ok_or_else(|| UnknownName {
                        what: $what,
                        name: s.to_owned(),
                        expected: $all
                            .iter()
                            .map(|k| k.as_str())
                            .collect::<Vec<_>>()
                            .join(", "),
                    })
            }
        }
    };
}

impl DistrictLevel {
    pub const ALL: [DistrictLevel; 6] = [
        DistrictLevel::Province,
        DistrictLevel::Municipality,
        DistrictLevel::PrefectureCity,
        DistrictLevel::District,
        DistrictLevel::County,
        DistrictLevel::CountyCity,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DistrictLevel::Province => "PROVINCE",
            DistrictLevel::Municipality => "MUNICIPALITY",
            DistrictLevel::PrefectureCity => "PREFECTURE_CITY",
            DistrictLevel::District => "DISTRICT",
            DistrictLevel::County => "COUNTY",
            DistrictLevel::CountyCity => "COUNTY_CITY",
        }
    }
}

impl_enum_text!(EntityKind, EntityKind::ALL, "entity kind");
impl_enum_text!(RelationKind, RelationKind::ALL, "relation kind");
impl_enum_text!(DistrictLevel, DistrictLevel::ALL, "district level");
impl_enum_text!(Layer, Layer::ALL, "layer");
impl_enum_text!(Basis, Basis::ALL, "evidence basis");

/// How a piece of evidence supports its relation.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Basis {
    /// The quote states the relation.
    #[default]
    Stated,
    /// The relation is implied by the entity's own name (浙江大学湖州研究院 → 浙江大学, 湖州); the quote
    /// is that name as the document writes it.
    Name,
    /// Cited to a bundled reference table (division codes, universities); the quote is its row.
    Reference,
    /// The report presents the thing as the reporting region's own and no finer place is known (or,
    /// for a unit the report names bare, as its publisher's own: a division `PART_OF` the bureau); the
    /// quote shows the region or the publisher.
    Region,
}

impl Basis {
    pub const ALL: [Basis; 4] = [Basis::Stated, Basis::Name, Basis::Reference, Basis::Region];

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::Stated => "STATED",
            Basis::Name => "NAME",
            Basis::Reference => "REFERENCE",
            Basis::Region => "REGION",
        }
    }
}

/// A name that is not one of an enum's variants.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {what} `{name}` (expected one of {expected})")]
pub struct UnknownName {
    pub what: &'static str,
    pub name: String,
    pub expected: String,
}

/// An organisation, place or programme: a node of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entity {
    /// Stable, readable ASCII slug; never reused for another entity.
    pub id: String,
    pub kind: EntityKind,
    /// Official Chinese name, the display name.
    pub name: String,
    /// Official English name where one exists, otherwise a faithful translation.
    pub name_en: Option<String>,
    /// Abbreviations and former names used in the sources.
    pub aliases: Vec<String>,
    /// One line saying what the entity is.
    pub description: Option<String>,
    /// Date of establishment as the sources give it: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub established: Option<String>,
    /// Legal form as the sources state it (事业单位, 民办非企业单位 …).
    pub legal_form: Option<String>,
    /// Area as the sources state it (e.g. `19.7km²`).
    pub area: Option<String>,
    /// Research or industry fields the sources name.
    pub focus: Vec<String>,
    /// Districts only: the six-digit GB/T 2260 code.
    pub district_code: Option<String>,
    /// Districts only: the level in the administrative hierarchy.
    pub district_level: Option<DistrictLevel>,
}

impl Entity {
    /// An entity with only an id, a kind and a name; every other field empty.
    pub fn new(id: impl Into<String>, kind: EntityKind, name: impl Into<String>) -> Entity {
        Entity {
            id: id.into(),
            kind,
            name: name.into(),
            name_en: None,
            aliases: Vec::new(),
            description: None,
            established: None,
            legal_form: None,
            area: None,
            focus: Vec::new(),
            district_code: None,
            district_level: None,
        }
    }

    /// The Chinese name followed by every alias: all the names the entity answers to.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.name.as_str())
            .chain(self.name_en.as_deref())
            .chain(self.aliases.iter().map(String::as_str))
    }
}

/// A source document's support for a relation: which document, and the verbatim words.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Evidence {
    /// Id of a [`Document`].
    pub document: String,
    /// The verbatim span of the document that states the relation; `[…]` marks an elision.
    pub quote: String,
    /// How the quote supports the relation.
    #[serde(default)]
    pub basis: Basis,
}

/// The mark that separates the verbatim parts of an elided quote.
pub const ELISION: &str = "[…]";

/// A directed, typed, evidenced tie between two entities: an edge of the graph.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    pub kind: RelationKind,
    pub source: String,
    pub target: String,
    /// The year the sources give for this fact, if any.
    pub year: Option<i32>,
    /// Never empty: a relation without evidence is rejected everywhere.
    pub evidence: Vec<Evidence>,
}

impl Relation {
    /// The relation's id: `SOURCE/KIND/TARGET`. A pair of entities has at most one relation per kind.
    pub fn id(&self) -> String {
        relation_id(&self.source, self.kind, &self.target)
    }
}

pub fn relation_id(source: &str, kind: RelationKind, target: &str) -> String {
    format!("{source}/{kind}/{target}")
}

/// Splits a relation id into its source, kind and target; `None` when it is not of that shape.
pub fn parse_relation_id(id: &str) -> Option<(&str, RelationKind, &str)> {
    let mut parts = id.splitn(3, '/');
    let source = parts.next()?;
    let kind = parts.next()?.parse().ok()?;
    let target = parts.next()?;
    (is_valid_id(source) && is_valid_id(target)).then_some((source, kind, target))
}

/// A source or reference text that evidence quotes point into.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Document {
    pub id: String,
    pub title: String,
    pub title_en: Option<String>,
    pub publisher: Option<String>,
    /// Publication date as printed: `YYYY`, `YYYY-MM` or `YYYY-MM-DD`.
    pub date: Option<String>,
    pub region: Option<String>,
    /// Official index number (索引号), when the document has one.
    pub index_no: Option<String>,
    /// Path of the text relative to the seed directory (`sources/…` or `reference/…`).
    pub file: String,
    /// A reference table bundled for knowledge not in the sources (division codes), not a source report.
    pub reference: bool,
}

impl Document {
    /// The year the document was published, from its date.
    pub fn year(&self) -> Option<i32> {
        self.date.as_deref()?.get(..4)?.parse().ok()
    }
}

/// Whether `id` is a valid entity or document id: lowercase ASCII letters and digits in dash-separated
/// words, at most 200 bytes.
pub fn is_valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 200
        && id.split('-').all(|word| {
            !word.is_empty()
                && word
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        })
}

/// Whether `date` is `YYYY`, `YYYY-MM` or `YYYY-MM-DD` with plausible numbers.
pub fn is_valid_date(date: &str) -> bool {
    let parts: Vec<&str> = date.split('-').collect();
    let number = |s: &str, len: usize, range: std::ops::RangeInclusive<u32>| {
        s.len() == len
            && s.bytes().all(|b| b.is_ascii_digit())
            && s.parse().is_ok_and(|n| range.contains(&n))
    };
    match parts.as_slice() {
        [y] => number(y, 4, 1000..=2999),
        [y, m] => number(y, 4, 1000..=2999) && number(m, 2, 1..=12),
        [y, m, d] => number(y, 4, 1000..=2999) && number(m, 2, 1..=12) && number(d, 2, 1..=31),
        _ => false,
    }
}

/// Whether `quote` occurs in `text`: verbatim, or with `[…]` elisions whose parts occur in order on one
/// line.
pub fn quote_occurs_in(quote: &str, text: &str) -> bool {
    if quote.trim().is_empty() {
        return false;
    }
    if !quote.contains(ELISION) {
        return text.contains(quote);
    }
    let parts: Vec<&str> = quote.split(ELISION).collect();
    if parts.iter().all(|p| p.trim().is_empty()) {
        return false;
    }
    text.lines().any(|line| {
        let mut rest = line;
        parts.iter().all(|part| match rest.find(part) {
            Some(at) => {
                rest = &rest[at + part.len()..];
                true
            }
            None => false,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kebab_case_ascii() {
        assert!(is_valid_id("zhejiang-university"));
        assert!(is_valid_id("gbt2260"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("Zhejiang"));
        assert!(!is_valid_id("a--b"));
        assert!(!is_valid_id("-a"));
        assert!(!is_valid_id("浙大"));
        assert!(!is_valid_id("a/b"));
    }

    #[test]
    fn relation_ids_round_trip() {
        let id = relation_id(
            "tianmu-laboratory",
            RelationKind::CoBuiltBy,
            "zhejiang-university",
        );
        assert_eq!(id, "tianmu-laboratory/CO_BUILT_BY/zhejiang-university");
        assert_eq!(
            parse_relation_id(&id),
            Some((
                "tianmu-laboratory",
                RelationKind::CoBuiltBy,
                "zhejiang-university"
            ))
        );
        assert_eq!(parse_relation_id("a/NOPE/b"), None);
        assert_eq!(parse_relation_id("a/LEADS"), None);
    }

    #[test]
    fn kinds_parse_from_their_graphql_names() {
        for kind in EntityKind::ALL {
            assert_eq!(kind.as_str().parse::<EntityKind>(), Ok(kind));
        }
        let err = "UNIVERSITIES".parse::<EntityKind>().unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown entity kind `UNIVERSITIES`"),
            "{err}"
        );
    }

    #[test]
    fn dates() {
        assert!(is_valid_date("2023"));
        assert!(is_valid_date("2023-06"));
        assert!(is_valid_date("2023-06-30"));
        assert!(!is_valid_date("2023-13"));
        assert!(!is_valid_date("23-06-30"));
        assert!(!is_valid_date("2023/06/30"));
    }

    #[test]
    fn quotes_verbatim_and_elided() {
        let text = "1 | 曹娥江实验室 | 长长的内容 | 上虞区 |\n2 | 绍芯实验室 | 内容 | 越城区 |";
        assert!(quote_occurs_in("曹娥江实验室 | 长长", text));
        assert!(quote_occurs_in("1 | 曹娥江实验室 | […] | 上虞区 |", text));
        // Parts must be on one line and in order.
        assert!(!quote_occurs_in("1 | 曹娥江实验室 | […] | 越城区 |", text));
        assert!(!quote_occurs_in("上虞区 | […]曹娥江实验室", text));
        assert!(!quote_occurs_in("", text));
        assert!(!quote_occurs_in("[…]", text));
        assert!(!quote_occurs_in("曹娥江实验室(", text));
    }
}
