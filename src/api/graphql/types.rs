//! The GraphQL output types: entities, relations, evidence, documents, paths, subgraphs, pages.
//!
//! Each wraps a value from the index (an `Arc<Entity>`, a `RelationView`) and resolves its fields from
//! it; fields that need more (neighbours, evidence) read the [`Db`] from the context.

use std::sync::Arc;

use async_graphql::{Context, Enum, ID, Json, Object, Result, SimpleObject};

use crate::interchange::Shape;

use super::inputs::{RelationWhere, time_filter, timed_step};
use super::{Limits, db};
use crate::graph::{self, KindSet, PathView, RelationView, Step, SubgraphView};
use crate::graph::{EXACT_BETWEENNESS_LIMIT, MeasureKind};
use crate::model;

/// What sort of organisation, place or programme an entity is.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "model::EntityKind")]
pub enum EntityKind {
    /// Universities and colleges.
    University,
    /// Research institutes, co-built institutes (共建研究院), innovation and technology centres.
    ResearchInstitute,
    /// Laboratories: provincial labs (省实验室), national key labs (全国重点实验室) and others.
    Lab,
    /// Companies.
    Enterprise,
    /// Government bodies: bureaus, people's governments, committees.
    Government,
    /// Administrative divisions at every level (province, prefecture city, district, county,
    /// county-level city), with their GB/T 2260 code and level.
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

/// The two layers of the graph.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "model::Layer")]
pub enum Layer {
    /// Organisations and places: universities, institutes, labs, enterprises, government bodies,
    /// districts, platforms, facilities, alliances.
    Ecosystem,
    /// The programmes and policies the reports name.
    Policy,
}

/// How a piece of evidence supports its relation.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq, Default)]
#[graphql(remote = "model::Basis")]
pub enum Basis {
    /// The quote states the relation.
    #[default]
    Stated,
    /// Implied by the entity's own name (浙江大学湖州研究院 → 浙江大学, 湖州); the quote is the name.
    Name,
    /// Cited to a bundled reference table; the quote is its row.
    Reference,
    /// The reporting region: the report presents the thing as the region's own, no finer place known
    /// (or a unit it names bare as its publisher's own).
    Region,
}

/// The entity kinds among `kinds` that belong to `layers` (`None`: no restriction). Both layers
/// restrict nothing.
pub(super) fn with_layers(
    kinds: Option<Vec<EntityKind>>,
    layers: Option<&[Layer]>,
) -> Option<Vec<EntityKind>> {
    let Some(layers) = layers else {
        return kinds;
    };
    let layers: Vec<model::Layer> = layers.iter().map(|&l| l.into()).collect();
    if model::Layer::ALL.iter().all(|l| layers.contains(l)) {
        return kinds;
    }
    let in_layers = |k: &EntityKind| layers.contains(&model::EntityKind::from(*k).layer());
    Some(match kinds {
        Some(kinds) => kinds.into_iter().filter(in_layers).collect(),
        None => model::EntityKind::ALL
            .into_iter()
            .map(EntityKind::from)
            .filter(in_layers)
            .collect(),
    })
}

/// The layers a measure field works on: those asked for, else the ecosystem.
pub(super) fn measured_layers(layers: Option<&[Layer]>) -> Vec<model::Layer> {
    match layers {
        Some(layers) if !layers.is_empty() => layers.iter().map(|&l| l.into()).collect(),
        _ => vec![model::Layer::Ecosystem],
    }
}

/// The type of a directed tie between two entities.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "model::RelationKind")]
pub enum RelationKind {
    /// The built thing → each of its builders (由…与…联合共建, 共建, 引进共建).
    CoBuiltBy,
    /// An entity → the district or platform it is in; a district → its parent district.
    LocatedIn,
    /// A leader → what it leads or is responsible for (牵头, 责任单位, 以…为核心).
    Leads,
    /// A component → the whole it belongs to.
    PartOf,
    /// A dependent → the base it relies on (依托).
    ReliesOn,
    /// Cooperation between two entities; stored once, followed both ways whatever the direction asked.
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

/// Level of an administrative division.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "model::DistrictLevel")]
pub enum DistrictLevel {
    /// 省.
    Province,
    /// 直辖市.
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

/// Which way to follow relations.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "graph::Direction")]
pub enum Direction {
    /// From source to target.
    Out,
    /// From target to source.
    In,
    /// Either way.
    Both,
}

pub(super) fn step(relations: Option<&[RelationKind]>, direction: Direction) -> Step {
    let kinds: Option<Vec<model::RelationKind>> =
        relations.map(|r| r.iter().map(|&k| k.into()).collect());
    Step::new(KindSet::from_option(kinds.as_deref()), direction.into())
}

pub(super) fn entity_kinds(kinds: Option<&[EntityKind]>) -> Option<Vec<model::EntityKind>> {
    kinds.map(|k| k.iter().map(|&k| k.into()).collect())
}

/// A list of entities (GraphQL `[Entity!]!`) that answers a plain selection — fields of `Entity`
/// without arguments whose value is stored on the entity (`id`, `name`, `kind` …), with aliases, and
/// `__typename` — by writing each entity's values directly, instead of resolving one `Entity` object
/// (a future per field) per entity: large neighbourhoods spent most of their time there. Any other
/// selection (arguments, directives, fragments, computed fields) goes through the usual resolvers,
/// so answers and errors are the same either way.
pub struct Entities(pub Vec<Arc<model::Entity>>);

impl async_graphql::OutputType for Entities {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <Vec<Entity> as async_graphql::OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<Entity> as async_graphql::OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <Vec<Entity> as async_graphql::OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> async_graphql::ServerResult<async_graphql::Value> {
        if let Some(plain) = PlainSelection::of(&ctx.item.node) {
            return Ok(async_graphql::Value::List(
                self.0.iter().map(|entity| plain.value_of(entity)).collect(),
            ));
        }
        let list: Vec<Entity> = self.0.iter().cloned().map(Entity).collect();
        async_graphql::OutputType::resolve(&list, ctx, field).await
    }
}

/// A stored field of `Entity` that [`Entities`] writes directly.
#[derive(Clone, Copy)]
enum PlainField {
    Typename,
    Id,
    Kind,
    Name,
    NameEn,
    Aliases,
    Description,
    Established,
    LegalForm,
    Area,
    Focus,
    DistrictCode,
    DistrictLevel,
    Layer,
}

/// A selection on `Entity` made only of plain fields: each response key with its field.
pub(super) struct PlainSelection(Vec<(async_graphql::Name, PlainField)>);

impl PlainSelection {
    /// `None` when the selection holds anything but plain fields without arguments or directives.
    pub(super) fn of(set: &async_graphql::parser::types::SelectionSet) -> Option<PlainSelection> {
        use async_graphql::parser::types::Selection;
        let mut fields = Vec::with_capacity(set.items.len());
        for item in &set.items {
            let Selection::Field(field) = &item.node else {
                return None;
            };
            let field = &field.node;
            if !field.arguments.is_empty()
                || !field.directives.is_empty()
                || !field.selection_set.node.items.is_empty()
            {
                return None;
            }
            let plain = match field.name.node.as_str() {
                "__typename" => PlainField::Typename,
                "id" => PlainField::Id,
                "kind" => PlainField::Kind,
                "name" => PlainField::Name,
                "nameEn" => PlainField::NameEn,
                "aliases" => PlainField::Aliases,
                "description" => PlainField::Description,
                "established" => PlainField::Established,
                "legalForm" => PlainField::LegalForm,
                "area" => PlainField::Area,
                "focus" => PlainField::Focus,
                "districtCode" => PlainField::DistrictCode,
                "districtLevel" => PlainField::DistrictLevel,
                "layer" => PlainField::Layer,
                _ => return None,
            };
            let key = field.alias.as_ref().unwrap_or(&field.name).node.clone();
            fields.push((key, plain));
        }
        Some(PlainSelection(fields))
    }

    /// How many fields it selects.
    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    /// The entity's response object: its values in the order of the selection.
    fn value_of(&self, entity: &model::Entity) -> async_graphql::Value {
        use async_graphql::{InputType, Value};
        let text = |value: &Option<String>| value.clone().map_or(Value::Null, Value::String);
        let list =
            |values: &[String]| Value::List(values.iter().cloned().map(Value::String).collect());
        let mut object = async_graphql::indexmap::IndexMap::with_capacity(self.0.len());
        for (key, field) in &self.0 {
            let value = match field {
                PlainField::Typename => Value::String("Entity".to_owned()),
                PlainField::Id => Value::String(entity.id.clone()),
                PlainField::Kind => EntityKind::from(entity.kind).to_value(),
                PlainField::Name => Value::String(entity.name.clone()),
                PlainField::NameEn => text(&entity.name_en),
                PlainField::Aliases => list(&entity.aliases),
                PlainField::Description => text(&entity.description),
                PlainField::Established => text(&entity.established),
                PlainField::LegalForm => text(&entity.legal_form),
                PlainField::Area => text(&entity.area),
                PlainField::Focus => list(&entity.focus),
                PlainField::DistrictCode => text(&entity.district_code),
                PlainField::DistrictLevel => entity
                    .district_level
                    .map_or(Value::Null, |level| DistrictLevel::from(level).to_value()),
                PlainField::Layer => Layer::from(entity.kind.layer()).to_value(),
            };
            object.insert(key.clone(), value);
        }
        Value::Object(object)
    }
}

/// An organisation, place or programme of the innovation ecosystem.
pub struct Entity(pub Arc<model::Entity>);

#[Object]
impl Entity {
    /// Stable readable id (ASCII slug), never reused.
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn kind(&self) -> EntityKind {
        self.0.kind.into()
    }

    /// Official Chinese name.
    async fn name(&self) -> &str {
        &self.0.name
    }

    /// Official English name where one exists, otherwise a faithful translation.
    async fn name_en(&self) -> Option<&str> {
        self.0.name_en.as_deref()
    }

    /// Abbreviations and former names the sources use.
    async fn aliases(&self) -> &[String] {
        &self.0.aliases
    }

    /// One line saying what the entity is.
    async fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }

    /// Date of establishment as the sources give it (YYYY, YYYY-MM or YYYY-MM-DD).
    async fn established(&self) -> Option<&str> {
        self.0.established.as_deref()
    }

    /// Legal form as the sources state it (事业单位, 民办非企业单位 …).
    async fn legal_form(&self) -> Option<&str> {
        self.0.legal_form.as_deref()
    }

    /// Area as the sources state it.
    async fn area(&self) -> Option<&str> {
        self.0.area.as_deref()
    }

    /// Research or industry fields the sources name.
    async fn focus(&self) -> &[String] {
        &self.0.focus
    }

    /// Districts only: the six-digit GB/T 2260 administrative division code.
    async fn district_code(&self) -> Option<&str> {
        self.0.district_code.as_deref()
    }

    /// Districts only: the level in the administrative hierarchy.
    async fn district_level(&self) -> Option<DistrictLevel> {
        self.0.district_level.map(Into::into)
    }

    /// ECOSYSTEM for organisations and places, POLICY for programmes and policies.
    async fn layer(&self) -> Layer {
        self.0.kind.layer().into()
    }

    /// Every entity reachable in 1..=depth hops over the given relations and direction, each once,
    /// nearest first (then by id), never this entity. `kinds` filters what is returned.
    #[graphql(
        complexity = "super::cost(10 * depth.unwrap_or(1).clamp(1, 6) as usize, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn neighbors(
        &self,
        ctx: &Context<'_>,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Out)")] direction: Option<Direction>,
        #[graphql(default = 1)] depth: Option<i32>,
        kinds: Option<Vec<EntityKind>>,
        #[graphql(desc = "See the graph as the documents of this year and before describe it.")]
        as_of: Option<i32>,
        #[graphql(desc = "Return only entities of these layers (default: both).")] layers: Option<
            Vec<Layer>,
        >,
    ) -> Result<Entities> {
        let limits = ctx.data::<Limits>()?;
        let depth = limits.traversal_depth("depth", depth.unwrap_or(1))?;
        let direction = direction.unwrap_or(Direction::Out);
        let kinds = entity_kinds(with_layers(kinds, layers.as_deref()).as_deref());
        let step = timed_step(relations.as_deref(), direction, time_filter(as_of, None)?);
        let found = db(ctx)?
            .read()
            .neighbors(
                &self.0.id,
                step,
                depth,
                kinds.as_deref(),
                limits.budget(ctx),
            )
            .map_err(super::traversal_error)?;
        Ok(Entities(found.into_iter().map(|(e, _)| e).collect()))
    }

    /// The relations of this entity over the given kinds and direction, sorted by kind, then by the
    /// other entity's id; `where` filters further (years, document, the other end).
    async fn relations(
        &self,
        ctx: &Context<'_>,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
        #[graphql(name = "where")] where_: Option<RelationWhere>,
        as_of: Option<i32>,
    ) -> Result<Relations> {
        let direction = direction.unwrap_or(Direction::Both);
        let where_ = where_.unwrap_or_default();
        let time = time_filter(as_of, where_.years)?;
        let kinds: Option<Vec<RelationKind>> = match (relations, where_.kinds.clone()) {
            (Some(a), Some(b)) => Some(a.into_iter().filter(|k| b.contains(k)).collect()),
            (a, b) => a.or(b),
        };
        let index = db(ctx)?.read();
        let (source, target) = where_.ends(&index, "where", None)?;
        let document = where_.document.as_ref().map(|d| d.to_string());
        let views = index.relations_of(&self.0.id, timed_step(kinds.as_deref(), direction, time));
        let views = views
            .into_iter()
            .filter(|v| {
                document.as_deref().is_none_or(|d| {
                    v.edge
                        .documents
                        .iter()
                        .any(|&slot| index.document_in_slot(slot).is_some_and(|doc| doc.id == d))
                })
            })
            .map(|v| facing_away(v, &self.0.id))
            .filter(|v| source.as_ref().is_none_or(|f| f.matches_id(&v.source.id)))
            .filter(|v| target.as_ref().is_none_or(|f| f.matches_id(&v.target.id)))
            .collect::<Vec<_>>();
        Ok(Relations(views))
    }

    /// The same relations as `relations`, a page at a time (Relay), for entities with many.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "super::cost(first.unwrap_or(50).clamp(0, 1_000) as usize, child_complexity)"
    )]
    async fn relation_connection(
        &self,
        ctx: &Context<'_>,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
        #[graphql(name = "where")] where_: Option<RelationWhere>,
        as_of: Option<i32>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<RelationConnection> {
        let first = ctx
            .data::<Limits>()?
            .page_size("first", first.unwrap_or(50))?;
        let all = self
            .relations(ctx, relations, direction, where_, as_of)
            .await?
            .0;
        let page = paginate(all, |r| r.id(), after.as_deref(), first)?;
        Ok(RelationConnection {
            total_count: page.total,
            page_info: page.info,
            edges: page
                .items
                .into_iter()
                .map(|(cursor, node)| RelationEdge {
                    cursor,
                    node: Relation(node),
                })
                .collect(),
        })
    }

    /// Increases with every change made through the API; give it as `expectedVersion` to update.
    async fn version(&self, ctx: &Context<'_>) -> Result<u64> {
        db(ctx)?
            .store()
            .version(&self.0.id)
            .map_err(|e| super::internal_error("reading a version", e))
    }

    /// Number of relations of this entity over the given kinds and direction.
    async fn degree(
        &self,
        ctx: &Context<'_>,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
    ) -> Result<usize> {
        let direction = direction.unwrap_or(Direction::Both);
        Ok(db(ctx)?
            .read()
            .degree(&self.0.id, step(relations.as_deref(), direction)))
    }

    /// PageRank over directed relations (damping 0.85; sums to 1), measured over the ecosystem layer:
    /// null for programmes and policies (rank both layers with `topEntities(layers: …)`).
    async fn page_rank(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        let measure = super::measure(ctx, &[model::Layer::Ecosystem], MeasureKind::PageRank)?;
        Ok(measure.base.position(&self.0.id).map(|i| measure.scores[i]))
    }

    /// Normalised betweenness centrality on the undirected ecosystem layer (estimated on large graphs:
    /// see `network.betweennessSampled`); null for programmes and policies.
    async fn betweenness(&self, ctx: &Context<'_>) -> Result<Option<f64>> {
        let measure = super::measure(ctx, &[model::Layer::Ecosystem], MeasureKind::Betweenness)?;
        Ok(measure.base.position(&self.0.id).map(|i| measure.scores[i]))
    }

    /// The Leiden community of the ecosystem layer this entity belongs to (0 is the largest; see
    /// `communities`); null for programmes and policies.
    async fn community(&self, ctx: &Context<'_>) -> Result<Option<usize>> {
        let measure = super::measure(ctx, &[model::Layer::Ecosystem], MeasureKind::Communities)?;
        Ok(measure.base.position(&self.0.id).map(|i| measure.groups[i]))
    }

    /// The weakly connected component of the ecosystem layer this entity belongs to (0 is the
    /// largest); null for programmes and policies.
    async fn component(&self, ctx: &Context<'_>) -> Result<Option<usize>> {
        let measure = super::measure(ctx, &[model::Layer::Ecosystem], MeasureKind::Components)?;
        Ok(measure.base.position(&self.0.id).map(|i| measure.groups[i]))
    }

    /// What this entity co-built: the sources of incoming CO_BUILT_BY relations.
    async fn co_built(&self, ctx: &Context<'_>) -> Result<Vec<Entity>> {
        self.one_hop(ctx, model::RelationKind::CoBuiltBy, graph::Direction::In)
    }

    /// Its co-builders: the targets of outgoing CO_BUILT_BY relations.
    async fn co_built_by(&self, ctx: &Context<'_>) -> Result<Vec<Entity>> {
        self.one_hop(ctx, model::RelationKind::CoBuiltBy, graph::Direction::Out)
    }

    /// Where it is: the targets of its LOCATED_IN relations.
    async fn located_in(&self, ctx: &Context<'_>) -> Result<Vec<Entity>> {
        self.one_hop(ctx, model::RelationKind::LocatedIn, graph::Direction::Out)
    }
}

impl Entity {
    fn one_hop(
        &self,
        ctx: &Context<'_>,
        kind: model::RelationKind,
        direction: graph::Direction,
    ) -> Result<Vec<Entity>> {
        let step = Step::new(KindSet::of(&[kind]), direction);
        let views = db(ctx)?.read().relations_of(&self.0.id, step);
        Ok(views
            .into_iter()
            .map(|v| {
                if v.source.id == self.0.id {
                    v.target
                } else {
                    v.source
                }
            })
            .map(Entity)
            .collect())
    }
}

/// A directed, typed tie between two entities, with the evidence that states it.
pub struct Relation(pub RelationView);

/// A list of relations (GraphQL `[Relation!]!`) that answers a plain selection — `id`, `kind`,
/// `year`, `inferred`, `bases`, `__typename`, and `source`/`target` with a plain entity selection
/// (see [`Entities`]) — by writing values directly; any other selection goes through the resolvers.
pub struct Relations(pub Vec<RelationView>);

impl async_graphql::OutputType for Relations {
    fn type_name() -> std::borrow::Cow<'static, str> {
        <Vec<Relation> as async_graphql::OutputType>::type_name()
    }

    fn qualified_type_name() -> String {
        <Vec<Relation> as async_graphql::OutputType>::qualified_type_name()
    }

    fn create_type_info(registry: &mut async_graphql::registry::Registry) -> String {
        <Vec<Relation> as async_graphql::OutputType>::create_type_info(registry)
    }

    async fn resolve(
        &self,
        ctx: &async_graphql::ContextSelectionSet<'_>,
        field: &async_graphql::Positioned<async_graphql::parser::types::Field>,
    ) -> async_graphql::ServerResult<async_graphql::Value> {
        if let Some(plain) = PlainRelationSelection::of(&ctx.item.node) {
            let db = ctx
                .data::<Arc<crate::db::Db>>()
                .map_err(|e| e.into_server_error(field.pos))?;
            let index = db.read();
            return Ok(async_graphql::Value::List(
                self.0
                    .iter()
                    .map(|view| plain.value_of(view, &index))
                    .collect(),
            ));
        }
        let list: Vec<Relation> = self.0.iter().cloned().map(Relation).collect();
        async_graphql::OutputType::resolve(&list, ctx, field).await
    }
}

/// A field of `Relation` that [`Relations`] writes directly.
enum PlainRelationField {
    Typename,
    Id,
    Kind,
    Source(PlainSelection),
    Target(PlainSelection),
    Year,
    Inferred,
    Bases,
}

/// A selection on `Relation` made only of plain fields.
struct PlainRelationSelection(Vec<(async_graphql::Name, PlainRelationField)>);

impl PlainRelationSelection {
    fn of(set: &async_graphql::parser::types::SelectionSet) -> Option<PlainRelationSelection> {
        use async_graphql::parser::types::Selection;
        let mut fields = Vec::with_capacity(set.items.len());
        for item in &set.items {
            let Selection::Field(field) = &item.node else {
                return None;
            };
            let field = &field.node;
            if !field.arguments.is_empty() || !field.directives.is_empty() {
                return None;
            }
            let nested = &field.selection_set.node;
            let leaf = nested.items.is_empty();
            let plain = match field.name.node.as_str() {
                "__typename" if leaf => PlainRelationField::Typename,
                "id" if leaf => PlainRelationField::Id,
                "kind" if leaf => PlainRelationField::Kind,
                "year" if leaf => PlainRelationField::Year,
                "inferred" if leaf => PlainRelationField::Inferred,
                "bases" if leaf => PlainRelationField::Bases,
                "source" if !leaf => PlainRelationField::Source(PlainSelection::of(nested)?),
                "target" if !leaf => PlainRelationField::Target(PlainSelection::of(nested)?),
                _ => return None,
            };
            let key = field.alias.as_ref().unwrap_or(&field.name).node.clone();
            fields.push((key, plain));
        }
        Some(PlainRelationSelection(fields))
    }

    fn value_of(&self, view: &RelationView, index: &graph::GraphIndex) -> async_graphql::Value {
        use async_graphql::{InputType, Value};
        let mut object = async_graphql::indexmap::IndexMap::with_capacity(self.0.len());
        for (key, field) in &self.0 {
            let value = match field {
                PlainRelationField::Typename => Value::String("Relation".to_owned()),
                PlainRelationField::Id => Value::String(stored_id(view, index)),
                PlainRelationField::Kind => RelationKind::from(view.edge.kind).to_value(),
                PlainRelationField::Source(entity) => entity.value_of(&view.source),
                PlainRelationField::Target(entity) => entity.value_of(&view.target),
                PlainRelationField::Year => view.edge.year.map_or(Value::Null, Value::from),
                PlainRelationField::Inferred => Value::Boolean(!view.edge.is_stated()),
                PlainRelationField::Bases => Value::List(
                    view.edge
                        .basis_list()
                        .into_iter()
                        .map(|basis| Basis::from(basis).to_value())
                        .collect(),
                ),
            };
            object.insert(key.clone(), value);
        }
        Value::Object(object)
    }
}

/// The ends of a relation in the order it is stored: a symmetric relation shown facing away from an
/// entity may be stored the other way round.
fn stored_ends(view: &RelationView, index: &graph::GraphIndex) -> (String, String) {
    let (source, target) = (&view.source.id, &view.target.id);
    if view.edge.kind.is_symmetric() && index.relation(source, view.edge.kind, target).is_none() {
        return (target.clone(), source.clone());
    }
    (source.clone(), target.clone())
}

/// The id a relation is stored under (see [`stored_ends`]).
fn stored_id(view: &RelationView, index: &graph::GraphIndex) -> String {
    let (source, target) = stored_ends(view, index);
    model::relation_id(&source, view.edge.kind, &target)
}

/// A symmetric relation seen from `entity`: the other entity as the far end (COOPERATES_WITH is stored
/// once, in either order).
fn facing_away(view: graph::RelationView, entity: &str) -> graph::RelationView {
    if view.edge.kind.is_symmetric() && view.target.id == entity && view.source.id != entity {
        graph::RelationView {
            source: view.target,
            target: view.source,
            edge: view.edge,
        }
    } else {
        view
    }
}

impl Relation {
    /// The ends in the order the relation is stored (a symmetric one may be shown the other way).
    fn stored_ends(&self, ctx: &Context<'_>) -> Result<(String, String)> {
        Ok(stored_ends(&self.0, &db(ctx)?.read()))
    }

    /// The id it is stored under.
    fn stored_id(&self, ctx: &Context<'_>) -> Result<String> {
        let (source, target) = self.stored_ends(ctx)?;
        Ok(model::relation_id(&source, self.0.edge.kind, &target))
    }
}

#[Object]
impl Relation {
    /// `SOURCE/KIND/TARGET`: a pair of entities has at most one relation of each kind.
    async fn id(&self, ctx: &Context<'_>) -> Result<ID> {
        Ok(ID(self.stored_id(ctx)?))
    }

    async fn kind(&self) -> RelationKind {
        self.0.edge.kind.into()
    }

    async fn source(&self) -> Entity {
        Entity(self.0.source.clone())
    }

    async fn target(&self) -> Entity {
        Entity(self.0.target.clone())
    }

    /// Increases with every change made through the API; give it as `expectedVersion` to update.
    async fn version(&self, ctx: &Context<'_>) -> Result<u64> {
        db(ctx)?
            .store()
            .version(&self.stored_id(ctx)?)
            .map_err(|e| super::internal_error("reading a version", e))
    }

    /// The year the sources give for this fact, if any.
    async fn year(&self) -> Option<i32> {
        self.0.edge.year
    }

    /// True when no evidence states the relation: it is implied by an entity's name, a reference
    /// table or the reporting region (see `evidence.basis`).
    async fn inferred(&self) -> bool {
        !self.0.edge.is_stated()
    }

    /// The bases of its evidence.
    async fn bases(&self) -> Vec<Basis> {
        self.0
            .edge
            .basis_list()
            .into_iter()
            .map(Into::into)
            .collect()
    }

    /// The documents and verbatim quotes that state this relation; never empty.
    async fn evidence(&self, ctx: &Context<'_>) -> Result<Vec<Evidence>> {
        let stored = self.stored_ends(ctx)?;
        let db = db(ctx)?;
        let stored = db
            .store()
            .relation(&stored.0, self.0.edge.kind, &stored.1)
            .map_err(|e| super::internal_error("reading evidence", e))?;
        let Some(relation) = stored else {
            return Ok(Vec::new());
        };
        let index = db.read();
        Ok(relation
            .evidence
            .into_iter()
            .filter_map(|e| {
                let document = index.document(&e.document)?.clone();
                Some(Evidence {
                    document: Document(document),
                    quote: e.quote,
                    basis: e.basis.into(),
                })
            })
            .collect())
    }
}

/// A document's support for a relation.
pub struct Evidence {
    document: Document,
    quote: String,
    basis: Basis,
}

#[Object]
impl Evidence {
    /// How the quote supports the relation: stated by it, implied by an entity's name, cited to a
    /// reference table, or the reporting region (no finer place known).
    async fn basis(&self) -> Basis {
        self.basis
    }

    async fn document(&self) -> &Document {
        &self.document
    }

    /// The verbatim words of the document; `[…]` marks an elision within one line.
    async fn quote(&self) -> &str {
        &self.quote
    }
}

/// A source report or reference table that evidence points into.
pub struct Document(pub Arc<model::Document>);

#[Object]
impl Document {
    async fn id(&self) -> ID {
        ID(self.0.id.clone())
    }

    async fn title(&self) -> &str {
        &self.0.title
    }

    async fn title_en(&self) -> Option<&str> {
        self.0.title_en.as_deref()
    }

    /// The publisher as the document prints it.
    async fn publisher(&self) -> Option<&str> {
        self.0.publisher.as_deref()
    }

    /// The publisher's English name, when the publisher is a government body of the graph (an entity
    /// whose name or an alias is the publisher as printed, compared as `search` compares) that has
    /// one; null otherwise.
    async fn publisher_en(&self, ctx: &Context<'_>) -> Result<Option<String>> {
        let Some(publisher) = self.0.publisher.as_deref() else {
            return Ok(None);
        };
        let index = db(ctx)?.read();
        Ok(index
            .entity_named(publisher, &[model::EntityKind::Government])
            .and_then(|e| e.name_en.clone()))
    }

    /// Publication date as printed (YYYY, YYYY-MM or YYYY-MM-DD).
    async fn date(&self) -> Option<&str> {
        self.0.date.as_deref()
    }

    /// The region the document is about.
    async fn region(&self) -> Option<&str> {
        self.0.region.as_deref()
    }

    /// Official index number (索引号), when it has one.
    async fn index_no(&self) -> Option<&str> {
        self.0.index_no.as_deref()
    }

    /// Path of the text in the seed (`sources/…` or `reference/…`).
    async fn file(&self) -> &str {
        &self.0.file
    }

    /// True for a bundled reference table (division codes) rather than a source report.
    async fn reference(&self) -> bool {
        self.0.reference
    }
}

/// A path between two entities.
pub struct Path(pub PathView);

#[Object]
impl Path {
    /// Number of hops (relations).
    async fn length(&self) -> usize {
        self.0.relations.len()
    }

    /// The entities from start to end, in order.
    async fn entities(&self) -> Entities {
        Entities(self.0.entities.clone())
    }

    /// The relation taken at each hop, in order.
    async fn relations(&self) -> Relations {
        Relations(self.0.relations.clone())
    }
}

/// Entities and the relations among them.
pub struct Subgraph(pub SubgraphView);

#[Object]
impl Subgraph {
    async fn entities(&self) -> Entities {
        Entities(self.0.entities.clone())
    }

    async fn relations(&self) -> Relations {
        Relations(self.0.relations.clone())
    }

    /// True when the subgraph stops short of what was asked (see `reason`).
    async fn truncated(&self) -> bool {
        self.0.truncated.is_some()
    }

    /// Why the subgraph was truncated, and how to get the rest.
    async fn reason(&self) -> Option<&str> {
        self.0.truncated.as_deref()
    }

    /// Cytoscape.js elements (`{nodes, edges}`): bilingual labels, kind as class, relation kind as edge
    /// label, evidence in edge data; `compound` puts each entity inside its district.
    async fn cytoscape(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] compound: bool,
    ) -> Result<Json<serde_json::Value>> {
        self.shape(ctx, Shape::Cytoscape { compound })
    }

    /// AntV G6 v5 graph data (`{nodes, edges, combos}`); `combos` groups entities by district.
    async fn g6(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] combos: bool,
    ) -> Result<Json<serde_json::Value>> {
        self.shape(ctx, Shape::G6 { combos })
    }

    /// An ECharts `graph` series: categories are the entity kinds.
    async fn echarts(&self, ctx: &Context<'_>) -> Result<Json<serde_json::Value>> {
        self.shape(ctx, Shape::Echarts)
    }
}

impl Subgraph {
    fn shape(&self, ctx: &Context<'_>, shape: Shape) -> Result<Json<serde_json::Value>> {
        let db = db(ctx)?;
        crate::interchange::shape_subgraph(db, &self.0, shape)
            .map(Json)
            .map_err(|e| super::internal_error("shaping the subgraph", e))
    }
}

/// A page of entities (Relay cursor connection).
#[derive(SimpleObject)]
pub struct EntityConnection {
    /// All entities that match, over all pages.
    pub total_count: usize,
    pub edges: Vec<EntityEdge>,
    pub page_info: PageInfo,
}

/// One entity of a page, with the cursor to continue after it.
#[derive(SimpleObject)]
pub struct EntityEdge {
    pub cursor: String,
    pub node: Entity,
}

/// Relay page information.
#[derive(SimpleObject)]
pub struct PageInfo {
    pub has_next_page: bool,
    pub has_previous_page: bool,
    pub start_cursor: Option<String>,
    pub end_cursor: Option<String>,
}

/// Size of the graph.
#[derive(SimpleObject)]
pub struct GraphStats {
    pub entities: usize,
    pub relations: usize,
    pub documents: usize,
    /// Entities per kind, every kind listed.
    pub entities_by_kind: Vec<EntityKindCount>,
    /// Relations per kind, every kind listed.
    pub relations_by_kind: Vec<RelationKindCount>,
}

#[derive(SimpleObject)]
pub struct EntityKindCount {
    pub kind: EntityKind,
    pub count: usize,
}

#[derive(SimpleObject)]
pub struct RelationKindCount {
    pub kind: RelationKind,
    pub count: usize,
}

/// A centrality measure.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum Measure {
    /// PageRank over directed relations (damping 0.85).
    PageRank,
    /// Normalised betweenness on the undirected graph (exact, or sampled on large graphs: see `network`).
    Betweenness,
    /// Number of relations.
    Degree,
}

/// An entity with its score and rank under a measure.
#[derive(SimpleObject)]
pub struct RankedEntity {
    /// 1 for the highest score.
    pub rank: usize,
    pub score: f64,
    pub entity: Entity,
}

/// A community found by Leiden (modularity, resolution 1; every community connected).
pub struct Community {
    pub id: usize,
    pub size: usize,
    pub communities: Arc<graph::Measure>,
    pub layers: Vec<model::Layer>,
}

#[Object]
impl Community {
    /// 0 for the largest community.
    async fn id(&self) -> usize {
        self.id
    }

    async fn size(&self) -> usize {
        self.size
    }

    /// Its members, by PageRank (highest first), at most `first`.
    async fn members(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: Option<i32>,
    ) -> Result<Vec<Entity>> {
        let first = ctx
            .data::<Limits>()?
            .page_size("first", first.unwrap_or(20))?;
        let pagerank = super::measure(ctx, &self.layers, MeasureKind::PageRank)?;
        let base = &self.communities.base;
        let mut members: Vec<usize> = (0..base.len())
            .filter(|&i| self.communities.groups[i] == self.id)
            .collect();
        members.sort_by(|&a, &b| {
            pagerank
                .score_of(&base.ids[b])
                .total_cmp(&pagerank.score_of(&base.ids[a]))
                .then_with(|| base.ids[a].cmp(&base.ids[b]))
        });
        let index = db(ctx)?.read();
        Ok(members
            .into_iter()
            .filter_map(|i| index.entity(&base.ids[i]).cloned())
            .take(first)
            .map(Entity)
            .collect())
    }
}

/// Network-level figures. Each field waits only for the measure it reads (components, communities
/// or betweenness), each computed on its own in the background.
pub struct NetworkSummary {
    pub layers: Vec<model::Layer>,
}

impl NetworkSummary {
    fn measure(&self, ctx: &Context<'_>, kind: MeasureKind) -> Result<Arc<graph::Measure>> {
        super::measure(ctx, &self.layers, kind)
    }

    /// The measures computed so far (waiting for the quickest, components, when there are none).
    fn computed(&self, ctx: &Context<'_>) -> Result<Vec<Arc<graph::Measure>>> {
        let computed = db(ctx)?.measures_computed(&self.layers);
        if computed.is_empty() {
            return Ok(vec![self.measure(ctx, MeasureKind::Components)?]);
        }
        Ok(computed)
    }
}

#[Object]
impl NetworkSummary {
    async fn entities(&self, ctx: &Context<'_>) -> Result<usize> {
        Ok(self.measure(ctx, MeasureKind::Components)?.base.len())
    }

    /// Weakly connected components.
    async fn components(&self, ctx: &Context<'_>) -> Result<usize> {
        Ok(self
            .measure(ctx, MeasureKind::Components)?
            .group_sizes
            .len())
    }

    async fn largest_component(&self, ctx: &Context<'_>) -> Result<usize> {
        let components = self.measure(ctx, MeasureKind::Components)?;
        Ok(components.group_sizes.first().copied().unwrap_or(0))
    }

    /// Leiden communities (each connected).
    async fn communities(&self, ctx: &Context<'_>) -> Result<usize> {
        Ok(self
            .measure(ctx, MeasureKind::Communities)?
            .group_sizes
            .len())
    }

    /// Modularity of the Leiden partition.
    async fn modularity(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(self
            .measure(ctx, MeasureKind::Communities)?
            .modularity
            .unwrap_or(0.0))
    }

    /// True when betweenness is estimated from a sample of sources (graphs above 5,000 entities).
    async fn betweenness_sampled(&self, ctx: &Context<'_>) -> Result<bool> {
        let n = self.measure(ctx, MeasureKind::Components)?.base.len();
        Ok(n > EXACT_BETWEENNESS_LIMIT)
    }

    /// How many source entities the betweenness computation uses: every entity up to 5,000, else a
    /// fixed sample of 64 to 512, as many as a bounded amount of work allows (136 at 1M entities with
    /// 5M relations); `betweennessStandardError` says how precise that is.
    async fn betweenness_sources(&self, ctx: &Context<'_>) -> Result<usize> {
        let base = self.measure(ctx, MeasureKind::Components)?.base.clone();
        Ok(graph::betweenness_sources(
            base.len(),
            base.degree.iter().sum(),
        ))
    }

    /// The error of sampled betweenness: the largest standard error of an entity's estimate, in the
    /// units of `Entity.betweenness` (about 68 % of estimates lie within one standard error of the
    /// exact value, 95 % within two); 0 when betweenness is exact.
    async fn betweenness_standard_error(&self, ctx: &Context<'_>) -> Result<f64> {
        Ok(self.measure(ctx, MeasureKind::Betweenness)?.standard_error)
    }

    /// The generation of the graph (it grows with every write) of the oldest measure computed so far.
    async fn generation(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(self
            .computed(ctx)?
            .iter()
            .map(|m| m.generation())
            .min()
            .unwrap_or(0))
    }

    /// When the oldest measure computed so far was computed, in seconds since the Unix epoch.
    async fn computed_at(&self, ctx: &Context<'_>) -> Result<u64> {
        Ok(self
            .computed(ctx)?
            .iter()
            .map(|m| unix_seconds(m.computed_at))
            .min()
            .unwrap_or(0))
    }

    /// True while the graph has changed since a measure was computed: measures are recomputed in the
    /// background once writes settle, and the previous ones are served meanwhile (as every measure
    /// field does).
    async fn stale(&self, ctx: &Context<'_>) -> Result<bool> {
        let db = db(ctx)?;
        Ok(self.computed(ctx)?.iter().any(|m| !db.measure_current(m)))
    }

    /// Each measure on its own: whether it is computed, of which generation, how long it took.
    async fn measures(&self, ctx: &Context<'_>) -> Result<Vec<MeasureStatus>> {
        let db = db(ctx)?;
        let computed = db.measures_computed(&self.layers);
        Ok(MeasureKind::ALL
            .iter()
            .map(|&kind| {
                let measure = computed.iter().find(|m| m.kind == kind);
                MeasureStatus {
                    measure: kind.into(),
                    ready: measure.is_some(),
                    generation: measure.map(|m| m.generation()),
                    computed_at: measure.map(|m| unix_seconds(m.computed_at)),
                    took_ms: measure.map(|m| m.took.as_secs_f64() * 1e3),
                    stale: measure.is_some_and(|m| !db.measure_current(m)),
                }
            })
            .collect())
    }
}

fn unix_seconds(time: std::time::SystemTime) -> u64 {
    time.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// A network measure, computed on its own.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
#[graphql(remote = "MeasureKind")]
pub enum NetworkMeasure {
    /// Weakly connected components (and degree).
    Components,
    PageRank,
    /// Leiden communities.
    Communities,
    Betweenness,
}

/// Where one network measure stands.
#[derive(SimpleObject)]
pub struct MeasureStatus {
    pub measure: NetworkMeasure,
    /// False until its first computation since the server started has finished.
    pub ready: bool,
    /// The generation of the graph it was computed from.
    pub generation: Option<u64>,
    /// When it was computed, in seconds since the Unix epoch.
    pub computed_at: Option<u64>,
    /// How long its computation took, in milliseconds.
    pub took_ms: Option<f64>,
    /// True while the graph has changed since it was computed.
    pub stale: bool,
}

/// The collaboration network of universities (or other kinds).
#[derive(SimpleObject)]
pub struct CollaborationNetwork {
    /// Members with at least one tie, by id.
    pub entities: Vec<Entity>,
    /// Ties, heaviest first.
    pub ties: Vec<CollaborationTie>,
}

/// A tie between two members and why it exists.
pub struct CollaborationTie(pub graph::CollaborationTie);

#[Object]
impl CollaborationTie {
    async fn a(&self) -> Entity {
        Entity(self.0.a.clone())
    }

    async fn b(&self) -> Entity {
        Entity(self.0.b.clone())
    }

    /// Shared co-built entities + shared partners + shared places.
    async fn weight(&self) -> usize {
        self.0.weight
    }

    /// Entities both co-built.
    async fn co_built(&self) -> Vec<Entity> {
        self.0.co_built.iter().cloned().map(Entity).collect()
    }

    /// Partners each co-built something with.
    async fn shared_partners(&self) -> Vec<Entity> {
        self.0.shared_partners.iter().cloned().map(Entity).collect()
    }

    /// Districts or platforms where both co-built something.
    async fn shared_places(&self) -> Vec<Entity> {
        self.0.shared_places.iter().cloned().map(Entity).collect()
    }
}

/// An entity reachable from both ends of a `commonNeighbors` query.
#[derive(SimpleObject)]
pub struct CommonNeighbor {
    pub entity: Entity,
    pub distance_from_a: u32,
    pub distance_from_b: u32,
}

/// How many entities have a degree.
#[derive(SimpleObject)]
pub struct DegreeCount {
    pub degree: usize,
    pub count: usize,
}

/// One group of a `groupCount`.
#[derive(SimpleObject)]
pub struct GroupCount {
    /// The kind name, entity id, document id or year.
    pub key: String,
    /// A readable label: the kind, the place's name, the document's title, the year.
    pub label: String,
    pub count: usize,
    /// The district or platform, for DISTRICT groups.
    pub entity: Option<Entity>,
}

/// Paths, and whether more exist than were returned.
#[derive(SimpleObject)]
pub struct PathList {
    pub paths: Vec<Path>,
    pub truncated: bool,
}

/// Entities reachable from a start, a page at a time.
#[derive(SimpleObject)]
pub struct ReachableConnection {
    pub total_count: usize,
    pub edges: Vec<ReachableEdge>,
    pub page_info: PageInfo,
}

/// A reachable entity with its distance (hops) from the start.
#[derive(SimpleObject)]
pub struct ReachableEdge {
    pub cursor: String,
    pub distance: u32,
    pub node: Entity,
}

/// Relations, a page at a time.
#[derive(SimpleObject)]
pub struct RelationConnection {
    pub total_count: usize,
    pub edges: Vec<RelationEdge>,
    pub page_info: PageInfo,
}

/// A relation of a page, with its cursor (its id).
#[derive(SimpleObject)]
pub struct RelationEdge {
    pub cursor: String,
    pub node: Relation,
}

/// One Relay page of a listing: the items after the one whose cursor is `after`, at most `first`.
pub(super) struct Page<T> {
    pub items: Vec<(String, T)>,
    pub total: usize,
    pub info: PageInfo,
}

/// Cuts a page out of `items` (in their order), `cursor` naming each item.
pub(super) fn paginate<T>(
    items: Vec<T>,
    cursor: impl Fn(&T) -> String,
    after: Option<&str>,
    first: usize,
) -> Result<Page<T>> {
    let total = items.len();
    let start = match after {
        None => 0,
        Some(after) => items
            .iter()
            .position(|item| cursor(item) == after)
            .map(|p| p + 1)
            .ok_or_else(|| {
                super::user_error(
                    "BAD_USER_INPUT",
                    format!("`after`: `{after}` is not a cursor of this listing"),
                )
            })?,
    };
    let items: Vec<(String, T)> = items
        .into_iter()
        .skip(start)
        .take(first)
        .map(|item| (cursor(&item), item))
        .collect();
    let info = PageInfo {
        has_next_page: start + items.len() < total,
        has_previous_page: start > 0,
        start_cursor: items.first().map(|(c, _)| c.clone()),
        end_cursor: items.last().map(|(c, _)| c.clone()),
    };
    Ok(Page { items, total, info })
}

/// One recorded change: who, when, what, and the records before and after.
pub struct Change(pub crate::store::ChangeRecord);

#[Object]
impl Change {
    /// Increasing; use it as `since` to read the changes after this one.
    async fn id(&self) -> u64 {
        self.0.id
    }

    /// Seconds since the Unix epoch.
    async fn at(&self) -> u64 {
        self.0.at
    }

    /// The name of the token that made the change.
    async fn actor(&self) -> &str {
        &self.0.actor
    }

    /// The mutation: createEntity, updateEntity, deleteEntity, createRelation, updateRelation,
    /// addEvidence, deleteRelation.
    async fn operation(&self) -> &str {
        &self.0.operation
    }

    /// Ids of the entities and relations the change touched.
    async fn subjects(&self) -> &[String] {
        &self.0.subjects
    }

    /// Each touched record before the change (null when it did not exist).
    async fn before(&self) -> Json<Vec<serde_json::Value>> {
        Json(self.0.before.clone())
    }

    /// Each touched record after the change (null when it was deleted).
    async fn after(&self) -> Json<Vec<serde_json::Value>> {
        Json(self.0.after.clone())
    }
}
