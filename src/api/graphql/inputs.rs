//! GraphQL input types (`where`, `orderBy`, hops, year ranges) and their translation into the index's
//! filters. Every translation checks its argument and names it in the error.

use async_graphql::{Enum, ID, InputObject, Result};

use super::types::{Direction, DistrictLevel, EntityKind, RelationKind, step};
use super::user_error;
use crate::graph::{
    self, EntityFilter, IdKind, KindSet, Quantifier, RelationPredicate, SortKey, Step, TextField,
    TextOp, TimeFilter,
};
use crate::model;

/// Deepest nesting of `AND`/`OR`/`NOT`/relation quantifiers a `where` may have.
const MAX_FILTER_NESTING: usize = 8;

/// A test on a text field. `eq` and `in` are exact; `contains` and `startsWith` compare as `search`
/// does, ignoring full/half width, Traditional/Simplified characters, case and spaces. Give exactly
/// one.
#[derive(InputObject, Clone, Debug, Default)]
pub struct StringFilter {
    pub eq: Option<String>,
    #[graphql(name = "in")]
    pub in_: Option<Vec<String>>,
    pub contains: Option<String>,
    pub starts_with: Option<String>,
}

/// A test on an entity's kind. Give `eq` or `in`.
#[derive(InputObject, Clone, Debug, Default)]
pub struct EntityKindFilter {
    pub eq: Option<EntityKind>,
    #[graphql(name = "in")]
    pub in_: Option<Vec<EntityKind>>,
}

/// An inclusive range of years; either end may be open.
#[derive(InputObject, Clone, Copy, Debug, Default)]
pub struct YearRange {
    pub from: Option<i32>,
    pub to: Option<i32>,
}

/// Conditions on entities; all given fields must hold. Combine with `AND`, `OR`, `NOT`.
#[derive(InputObject, Clone, Debug, Default)]
pub struct EntityWhere {
    pub id: Option<StringFilter>,
    pub name: Option<StringFilter>,
    pub name_en: Option<StringFilter>,
    /// Any one alias.
    pub aliases: Option<StringFilter>,
    /// The Chinese name, the English name or any alias.
    pub any_name: Option<StringFilter>,
    pub description: Option<StringFilter>,
    pub established: Option<StringFilter>,
    pub legal_form: Option<StringFilter>,
    /// Any one focus field.
    pub focus: Option<StringFilter>,
    pub district_code: Option<StringFilter>,
    pub kind: Option<EntityKindFilter>,
    pub district_level: Option<Vec<DistrictLevel>>,
    /// Lies in this district or platform, directly or through sub-districts and platforms.
    pub located_in: Option<ID>,
    /// Conditions on the entity's relations.
    pub relations: Option<RelationQuantifier>,
    #[graphql(name = "AND")]
    pub and: Option<Vec<EntityWhere>>,
    #[graphql(name = "OR")]
    pub or: Option<Vec<EntityWhere>>,
    #[graphql(name = "NOT")]
    pub not: Option<Box<EntityWhere>>,
}

/// How many of the entity's relations must match: `some` (at least one), `all` (every one, true when
/// there are none) or `none`. Several given: all must hold.
#[derive(InputObject, Clone, Debug, Default)]
pub struct RelationQuantifier {
    pub some: Option<RelationMatch>,
    pub all: Option<RelationMatch>,
    pub none: Option<RelationMatch>,
}

/// Which relations a quantifier looks at (`kinds`, `direction`) and what they must satisfy (`other`,
/// `years`, `document`).
#[derive(InputObject, Clone, Debug, Default)]
pub struct RelationMatch {
    /// Relation kinds in scope; all when omitted.
    pub kinds: Option<Vec<RelationKind>>,
    /// Direction from the entity; OUT when omitted.
    pub direction: Option<Direction>,
    /// The entity at the other end must match.
    pub other: Option<Box<EntityWhere>>,
    pub years: Option<YearRange>,
    /// A document among the relation's evidence.
    pub document: Option<ID>,
}

/// Conditions on relations.
#[derive(InputObject, Clone, Debug, Default)]
pub struct RelationWhere {
    pub kinds: Option<Vec<RelationKind>>,
    /// The relation's year (its own, else the year of its earliest document) lies in the range.
    pub years: Option<YearRange>,
    /// A document among the relation's evidence.
    pub document: Option<ID>,
    /// The source entity must match.
    pub source: Option<EntityWhere>,
    /// The target entity must match.
    pub target: Option<EntityWhere>,
    /// Some evidence has one of these bases: `[STATED]` keeps what a quote states, `[NAME, REFERENCE,
    /// REGION]` what is inferred.
    pub basis: Option<Vec<super::types::Basis>>,
}

impl RelationWhere {
    /// NOT_FOUND for the first id this input names that the index does not hold (`document`, and those
    /// in `source` and `target`), naming its full path under `path`.
    pub fn check_ids(&self, index: &graph::GraphIndex, path: &str) -> Result<()> {
        if let Some(document) = &self.document {
            super::check_id(
                index,
                &format!("{path}.document"),
                IdKind::Document,
                document,
            )?;
        }
        for (end, name) in [(&self.source, "source"), (&self.target, "target")] {
            if let Some(end) = end {
                end.check_ids(index, &format!("{path}.{name}"))?;
            }
        }
        Ok(())
    }

    /// `basis` as a mask of [`crate::graph::basis_bit`]s; 0 for any.
    pub fn bases(&self) -> u8 {
        self.basis.as_deref().map_or(0, |list| {
            list.iter()
                .fold(0, |m, &b| m | crate::graph::basis_bit(b.into()))
        })
    }
}

/// The step to take at one hop of a path: relation kinds and direction.
#[derive(InputObject, Clone, Debug, Default)]
pub struct HopInput {
    pub relations: Option<Vec<RelationKind>>,
    /// BOTH when omitted.
    pub direction: Option<Direction>,
}

/// What to sort entities by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntitySortField {
    Id,
    Name,
    NameEn,
    Kind,
    /// Number of relations, over `relations` and `direction` of the order item.
    Degree,
    PageRank,
    Betweenness,
}

#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SortDirection {
    #[default]
    Asc,
    Desc,
}

/// One sort key; a list of them sorts by the first, then the next. Ties end by id.
#[derive(InputObject, Clone, Debug)]
pub struct EntityOrder {
    pub field: EntitySortField,
    #[graphql(default)]
    pub direction: SortDirection,
    /// For DEGREE: which relation kinds count (all when omitted).
    pub relations: Option<Vec<RelationKind>>,
    /// For DEGREE: which direction counts (BOTH when omitted).
    pub degree_direction: Option<Direction>,
}

impl RelationWhere {
    /// The relation kinds as a set: all when `kinds` is omitted.
    pub fn kind_set(&self) -> KindSet {
        let kinds: Option<Vec<model::RelationKind>> = self
            .kinds
            .as_ref()
            .map(|k| k.iter().map(|&k| k.into()).collect());
        KindSet::from_option(kinds.as_deref())
    }

    /// The `source` and `target` conditions compiled against `index`; `also_source` is and-ed to the
    /// source's. NOT_FOUND first for an unknown id anywhere in the input ([`RelationWhere::check_ids`]).
    pub fn ends<'g>(
        &self,
        index: &'g graph::GraphIndex,
        path: &str,
        also_source: Option<EntityFilter>,
    ) -> Result<(Option<graph::Compiled<'g>>, Option<graph::Compiled<'g>>)> {
        let source = match (
            self.source
                .as_ref()
                .map(|w| w.to_filter(&format!("{path}.source")))
                .transpose()?,
            also_source,
        ) {
            (Some(a), Some(b)) => Some(EntityFilter::And(vec![b, a])),
            (a, b) => a.or(b),
        };
        let target = self
            .target
            .as_ref()
            .map(|w| w.to_filter(&format!("{path}.target")))
            .transpose()?;
        self.check_ids(index, path)?;
        Ok((
            source.map(|f| index.compile(f)),
            target.map(|f| index.compile(f)),
        ))
    }
}

impl YearRange {
    pub fn to_filter(self, argument: &str) -> Result<(i32, i32)> {
        let from = self.from.unwrap_or(i32::MIN);
        let to = self.to.unwrap_or(i32::MAX);
        if from > to {
            return Err(user_error(
                "BAD_USER_INPUT",
                format!("`{argument}`: `from` {from} is after `to` {to}"),
            ));
        }
        Ok((from, to))
    }
}

/// The time filter of a traversal: `asOf` and `years`.
pub fn time_filter(as_of: Option<i32>, years: Option<YearRange>) -> Result<TimeFilter> {
    Ok(TimeFilter {
        as_of,
        years: years.map(|y| y.to_filter("years")).transpose()?,
    })
}

/// A step with relations, direction and time.
pub fn timed_step(
    relations: Option<&[RelationKind]>,
    direction: Direction,
    time: TimeFilter,
) -> Step {
    step(relations, direction).with_time(time)
}

/// Per-hop steps when `hops` is given, else the same step at every hop.
pub fn hops(
    hops: Option<&[HopInput]>,
    relations: Option<&[RelationKind]>,
    direction: Direction,
    time: TimeFilter,
) -> Result<graph::Hops> {
    match hops {
        None => Ok(graph::Hops::Same(timed_step(relations, direction, time))),
        Some([]) => Err(user_error(
            "BAD_USER_INPUT",
            "`hops` must list at least one hop, or be omitted",
        )),
        Some(list) => Ok(graph::Hops::PerHop(
            list.iter()
                .map(|h| {
                    timed_step(
                        h.relations.as_deref(),
                        h.direction.unwrap_or(Direction::Both),
                        time,
                    )
                })
                .collect(),
        )),
    }
}

impl StringFilter {
    fn to_op(&self, argument: &str) -> Result<TextOp> {
        let given = [
            self.eq.is_some(),
            self.in_.is_some(),
            self.contains.is_some(),
            self.starts_with.is_some(),
        ];
        if given.iter().filter(|&&g| g).count() != 1 {
            return Err(user_error(
                "BAD_USER_INPUT",
                format!("`{argument}` needs exactly one of `eq`, `in`, `contains`, `startsWith`"),
            ));
        }
        Ok(if let Some(v) = &self.eq {
            TextOp::Eq(v.clone())
        } else if let Some(v) = &self.in_ {
            TextOp::In(v.clone())
        } else if let Some(v) = &self.contains {
            TextOp::Contains(v.clone())
        } else {
            TextOp::StartsWith(self.starts_with.clone().unwrap_or_default())
        })
    }
}

impl EntityWhere {
    /// NOT_FOUND for the first id this condition names (`locatedIn`, a quantifier's `document`, at any
    /// depth) that the index does not hold, naming its full path under `path`. Call it after
    /// [`EntityWhere::to_filter`], which bounds the nesting.
    pub fn check_ids(&self, index: &graph::GraphIndex, path: &str) -> Result<()> {
        if let Some(place) = &self.located_in {
            super::check_id(index, &format!("{path}.locatedIn"), IdKind::Place, place)?;
        }
        if let Some(quantifier) = &self.relations {
            for (matcher, name) in [
                (&quantifier.some, "some"),
                (&quantifier.all, "all"),
                (&quantifier.none, "none"),
            ] {
                let Some(matcher) = matcher else { continue };
                let here = format!("{path}.relations.{name}");
                if let Some(document) = &matcher.document {
                    super::check_id(
                        index,
                        &format!("{here}.document"),
                        IdKind::Document,
                        document,
                    )?;
                }
                if let Some(other) = &matcher.other {
                    other.check_ids(index, &format!("{here}.other"))?;
                }
            }
        }
        for (list, name) in [(&self.and, "AND"), (&self.or, "OR")] {
            for (i, part) in list.iter().flatten().enumerate() {
                part.check_ids(index, &format!("{path}.{name}[{i}]"))?;
            }
        }
        if let Some(not) = &self.not {
            not.check_ids(index, &format!("{path}.NOT"))?;
        }
        Ok(())
    }

    /// Translates into an index filter; `path` names the argument in errors.
    pub fn to_filter(&self, path: &str) -> Result<EntityFilter> {
        self.translate(path, 0)
    }

    fn translate(&self, path: &str, nesting: usize) -> Result<EntityFilter> {
        if nesting > MAX_FILTER_NESTING {
            return Err(user_error(
                "FILTER_NESTING_LIMIT",
                format!(
                    "`{path}` nests deeper than {MAX_FILTER_NESTING} levels of AND/OR/NOT/relations"
                ),
            ));
        }
        let mut all = Vec::new();
        let texts = [
            (&self.id, TextField::Id, "id"),
            (&self.name, TextField::Name, "name"),
            (&self.name_en, TextField::NameEn, "nameEn"),
            (&self.aliases, TextField::Alias, "aliases"),
            (&self.any_name, TextField::AnyName, "anyName"),
            (&self.description, TextField::Description, "description"),
            (&self.established, TextField::Established, "established"),
            (&self.legal_form, TextField::LegalForm, "legalForm"),
            (&self.focus, TextField::Focus, "focus"),
            (&self.district_code, TextField::DistrictCode, "districtCode"),
        ];
        for (filter, field, name) in texts {
            if let Some(filter) = filter {
                all.push(EntityFilter::Text(
                    field,
                    filter.to_op(&format!("{path}.{name}"))?,
                ));
            }
        }
        if let Some(kind) = &self.kind {
            let kinds: Vec<model::EntityKind> = match (&kind.eq, &kind.in_) {
                (Some(k), None) => vec![(*k).into()],
                (None, Some(ks)) => ks.iter().map(|&k| k.into()).collect(),
                _ => {
                    return Err(user_error(
                        "BAD_USER_INPUT",
                        format!("`{path}.kind` needs exactly one of `eq`, `in`"),
                    ));
                }
            };
            all.push(EntityFilter::Kind(kinds));
        }
        if let Some(levels) = &self.district_level {
            all.push(EntityFilter::DistrictLevel(
                levels.iter().map(|&l| l.into()).collect(),
            ));
        }
        if let Some(place) = &self.located_in {
            all.push(EntityFilter::LocatedIn(place.to_string()));
        }
        if let Some(quantifier) = &self.relations {
            for (matcher, q, name) in [
                (&quantifier.some, Quantifier::Some, "some"),
                (&quantifier.all, Quantifier::All, "all"),
                (&quantifier.none, Quantifier::None, "none"),
            ] {
                let Some(matcher) = matcher else { continue };
                let here = format!("{path}.relations.{name}");
                let scope = step(
                    matcher.kinds.as_deref(),
                    matcher.direction.unwrap_or(Direction::Out),
                );
                let predicate = RelationPredicate {
                    other: matcher
                        .other
                        .as_ref()
                        .map(|o| {
                            o.translate(&format!("{here}.other"), nesting + 1)
                                .map(Box::new)
                        })
                        .transpose()?,
                    time: TimeFilter {
                        as_of: None,
                        years: matcher
                            .years
                            .map(|y| y.to_filter(&format!("{here}.years")))
                            .transpose()?,
                    },
                    document: matcher.document.as_ref().map(|d| d.to_string()),
                };
                all.push(EntityFilter::Relations {
                    quantifier: q,
                    scope,
                    predicate,
                });
            }
        }
        if let Some(list) = &self.and {
            let parts = list
                .iter()
                .enumerate()
                .map(|(i, w)| w.translate(&format!("{path}.AND[{i}]"), nesting + 1));
            all.push(EntityFilter::And(parts.collect::<Result<_>>()?));
        }
        if let Some(list) = &self.or {
            let parts = list
                .iter()
                .enumerate()
                .map(|(i, w)| w.translate(&format!("{path}.OR[{i}]"), nesting + 1));
            all.push(EntityFilter::Or(parts.collect::<Result<_>>()?));
        }
        if let Some(not) = &self.not {
            all.push(EntityFilter::Not(Box::new(
                not.translate(&format!("{path}.NOT"), nesting + 1)?,
            )));
        }
        Ok(match all.len() {
            0 => EntityFilter::True,
            1 => all.pop().unwrap_or(EntityFilter::True),
            _ => EntityFilter::And(all),
        })
    }
}

/// Combines the legacy `kinds` argument with a `where`.
pub fn entity_filter(
    kinds: Option<&[EntityKind]>,
    where_: Option<&EntityWhere>,
) -> Result<EntityFilter> {
    let mut all = Vec::new();
    if let Some(kinds) = kinds {
        all.push(EntityFilter::Kind(
            kinds.iter().map(|&k| k.into()).collect(),
        ));
    }
    if let Some(where_) = where_ {
        all.push(where_.to_filter("where")?);
    }
    Ok(if all.is_empty() {
        EntityFilter::True
    } else {
        EntityFilter::And(all)
    })
}

/// The sort keys of an `orderBy`, each with whether it is descending.
pub fn sort_keys(order: &[EntityOrder]) -> Vec<(SortKey, bool)> {
    order
        .iter()
        .map(|o| {
            let key = match o.field {
                EntitySortField::Id => SortKey::Id,
                EntitySortField::Name => SortKey::Name,
                EntitySortField::NameEn => SortKey::NameEn,
                EntitySortField::Kind => SortKey::Kind,
                EntitySortField::Degree => SortKey::Degree(Step::new(
                    KindSet::from_option(
                        o.relations
                            .as_ref()
                            .map(|r| r.iter().map(|&k| k.into()).collect::<Vec<_>>())
                            .as_deref(),
                    ),
                    o.degree_direction.unwrap_or(Direction::Both).into(),
                )),
                EntitySortField::PageRank => SortKey::PageRank,
                EntitySortField::Betweenness => SortKey::Betweenness,
            };
            (key, o.direction == SortDirection::Desc)
        })
        .collect()
}
