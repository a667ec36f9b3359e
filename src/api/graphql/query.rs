//! The root query: lookups, listings with filters and sorting, paths and reachability, neighbourhoods,
//! aggregates and network measures. Each field checks its arguments against [`Limits`] first, then
//! reads the index under one read lock.

use async_graphql::{Context, Enum, ID, Object, Result};

use super::inputs::{
    EntityOrder, EntityWhere, HopInput, RelationWhere, YearRange, entity_filter, hops, sort_keys,
    time_filter, timed_step,
};
use super::types::{
    Change, CollaborationNetwork, CollaborationTie, CommonNeighbor, Community, DegreeCount,
    Direction, Document, Entity, EntityConnection, EntityEdge, EntityKind, EntityKindCount,
    GraphStats, GroupCount, Measure, NetworkSummary, PageInfo, Path, PathList, RankedEntity,
    ReachableConnection, ReachableEdge, Relation, RelationConnection, RelationEdge, RelationKind,
    RelationKindCount, Subgraph, entity_kinds, paginate,
};
use super::{Limits, db, known_entity, traversal_error, user_error};
use crate::graph::{
    self, Centrality, EntityFilter, IdKind, MeasureKind, PathRules, RelationGroup, SortKey,
};
use crate::model::{self, parse_relation_id};

/// What `groupCount` groups by.
#[derive(Enum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupBy {
    /// Entities per kind.
    Kind,
    /// Entities per district or platform they lie in, every level of the hierarchy counted.
    District,
    /// Relations per kind.
    RelationKind,
    /// Relations per evidence document.
    Document,
    /// Relations per year (their own, else their earliest document's).
    Year,
}

/// The root of every read.
pub struct Query;

#[Object]
impl Query {
    /// The entity with this id (or, for an entity merged away, the one it was merged into), or null
    /// when there is none (with a NOT_FOUND error naming the closest ids).
    async fn entity(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Entity>> {
        let db = db(ctx)?;
        let resolved = db
            .resolve(&id)
            .map_err(|e| super::internal_error("resolving an id", e))?;
        let index = db.read();
        let found = index.entity(&resolved).cloned().map(Entity);
        if found.is_none() {
            super::report_unknown(ctx, &index, "id", IdKind::Entity, &id);
        }
        Ok(found)
    }

    /// Entities whose Chinese name, English name or an alias contains `text` (case-insensitive for Latin
    /// script). Exact matches first, then prefix matches, then other matches; shorter names first.
    #[graphql(
        complexity = "super::cost(first.unwrap_or(10).clamp(0, 1_000) as usize, child_complexity)"
    )]
    async fn search(
        &self,
        ctx: &Context<'_>,
        text: String,
        kinds: Option<Vec<EntityKind>>,
        #[graphql(desc = "Only entities of these layers (default: both).")] layers: Option<
            Vec<super::types::Layer>,
        >,
        #[graphql(default = 10)] first: Option<i32>,
    ) -> Result<Vec<Entity>> {
        let limits = ctx.data::<Limits>()?;
        let first = limits.page_size("first", first.unwrap_or(10))?;
        if text.chars().count() > limits.max_search_text {
            return Err(user_error(
                "BAD_USER_INPUT",
                format!(
                    "`text` is longer than {} characters",
                    limits.max_search_text
                ),
            ));
        }
        let kinds = entity_kinds(super::types::with_layers(kinds, layers.as_deref()).as_deref());
        Ok(db(ctx)?
            .read()
            .search(&text, kinds.as_deref(), first)
            .into_iter()
            .map(Entity)
            .collect())
    }

    /// Entities, a page at a time: of the given kinds, matching `where`, sorted by `orderBy` (default:
    /// by id). Cursors are entity ids in the default order and `offset:N` otherwise.
    #[graphql(
        complexity = "super::cost(first.unwrap_or(50).clamp(0, 1_000) as usize, child_complexity)"
    )]
    #[allow(clippy::too_many_arguments)]
    async fn entities(
        &self,
        ctx: &Context<'_>,
        kinds: Option<Vec<EntityKind>>,
        #[graphql(default = 50)] first: Option<i32>,
        #[graphql(desc = "The `cursor` of the last entity of the previous page.")] after: Option<
            String,
        >,
        #[graphql(name = "where")] where_: Option<EntityWhere>,
        order_by: Option<Vec<EntityOrder>>,
        #[graphql(desc = "Only entities of these layers (default: both).")] layers: Option<
            Vec<super::types::Layer>,
        >,
    ) -> Result<EntityConnection> {
        let kinds = super::types::with_layers(kinds, layers.as_deref());
        let limits = ctx.data::<Limits>()?;
        let first = limits.page_size("first", first.unwrap_or(50))?;
        let filter = entity_filter(kinds.as_deref(), where_.as_ref())?;
        let keys = sort_keys(order_by.as_deref().unwrap_or_default());
        let by_id = keys.iter().all(|(k, desc)| *k == SortKey::Id && !desc);
        let db = db(ctx)?;
        // Ranks of the layers asked for (default: measured over the whole graph).
        let measured: Vec<model::Layer> = layers
            .as_deref()
            .map(|l| l.iter().map(|&l| l.into()).collect())
            .unwrap_or_else(|| model::Layer::ALL.to_vec());
        let mut ranks = crate::graph::Ranks::default();
        for (key, _) in &keys {
            match key {
                SortKey::PageRank if ranks.pagerank.is_none() => {
                    ranks.pagerank = Some(super::measure(ctx, &measured, MeasureKind::PageRank)?);
                }
                SortKey::Betweenness if ranks.betweenness.is_none() => {
                    ranks.betweenness =
                        Some(super::measure(ctx, &measured, MeasureKind::Betweenness)?);
                }
                _ => {}
            }
        }
        let index = db.read();
        if by_id && where_.is_none() && after.as_deref().is_none_or(|a| !a.starts_with("offset:")) {
            let kinds = entity_kinds(kinds.as_deref());
            let (page, total, more) = index.page(kinds.as_deref(), after.as_deref(), first);
            let page = page.into_iter().map(|e| (e.id.clone(), e)).collect();
            return Ok(connection(page, total, more, after.is_some()));
        }
        if let Some(where_) = &where_ {
            where_.check_ids(&index, "where")?;
        }
        let compiled = index.compile(filter);
        let mut selected = index.select(&compiled);
        if !by_id {
            index.sort(&mut selected, &keys, &ranks);
        }
        let total = selected.len();
        let start = match after.as_deref() {
            None => 0,
            Some(cursor) => resume(cursor, &selected, by_id)?,
        };
        let page: Vec<(String, std::sync::Arc<model::Entity>)> = selected
            .iter()
            .enumerate()
            .skip(start)
            .take(first)
            .map(|(i, e)| {
                (
                    if by_id {
                        e.id.clone()
                    } else {
                        format!("offset:{}", i + 1)
                    },
                    e.clone(),
                )
            })
            .collect();
        let more = start + page.len() < total;
        Ok(connection(page, total, more, start > 0))
    }

    /// Relations matching `where`, in id order, a page at a time.
    #[graphql(
        complexity = "super::cost(first.unwrap_or(50).clamp(0, 1_000) as usize, child_complexity)"
    )]
    async fn relations(
        &self,
        ctx: &Context<'_>,
        #[graphql(name = "where")] where_: Option<RelationWhere>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
        #[graphql(desc = "See the graph as the documents of this year and before describe it.")]
        as_of: Option<i32>,
    ) -> Result<RelationConnection> {
        let limits = ctx.data::<Limits>()?;
        let first = limits.page_size("first", first.unwrap_or(50))?;
        let where_ = where_.unwrap_or_default();
        let mut time = time_filter(as_of, where_.years)?;
        time.as_of = as_of;
        let index = db(ctx)?.read();
        let (source, target) = where_.ends(&index, "where", None)?;
        let document = where_.document.as_ref().map(|d| d.to_string());
        let all = index.select_relations(
            where_.kind_set(),
            time,
            document.as_deref(),
            source.as_ref(),
            target.as_ref(),
            where_.bases(),
        );
        let page = paginate(all, |r| r.id(), after.as_deref(), first)?;
        Ok(RelationConnection {
            total_count: page.total,
            page_info: page.info,
            edges: page
                .items
                .into_iter()
                .map(|(cursor, r)| RelationEdge {
                    cursor,
                    node: Relation(r),
                })
                .collect(),
        })
    }

    /// The relation with this id (`SOURCE/KIND/TARGET`), or null (with a NOT_FOUND error naming the
    /// closest ids).
    async fn relation(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Relation>> {
        let index = db(ctx)?.read();
        let found = parse_relation_id(&id)
            .and_then(|(source, kind, target)| index.relation(source, kind, target))
            .map(Relation);
        if found.is_none() {
            super::report_unknown(ctx, &index, "id", IdKind::Relation, &id);
        }
        Ok(found)
    }

    /// A shortest path from `from` to `to` over the given relations and direction (or per-hop steps in
    /// `hops`), passing only through entities of `via` kinds when given; entities listed in order; null
    /// when none exists within `maxDepth` hops.
    #[allow(clippy::too_many_arguments)]
    async fn shortest_path(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
        #[graphql(default = 6)] max_depth: Option<i32>,
        #[graphql(
            desc = "Per-hop relations and direction: hop i uses hops[i], the last repeating."
        )]
        hops: Option<Vec<HopInput>>,
        #[graphql(desc = "Kinds allowed for the entities between the two ends.")] via: Option<
            Vec<EntityKind>,
        >,
        as_of: Option<i32>,
        #[graphql(desc = "Only pass through entities of these layers (default: both).")]
        layers: Option<Vec<super::types::Layer>>,
    ) -> Result<Option<Path>> {
        let limits = ctx.data::<Limits>()?;
        let via = super::types::with_layers(via, layers.as_deref());
        let query = PathQuery::new(
            ctx,
            (&from, &to),
            max_depth.unwrap_or(6),
            (hops, relations, direction),
            via,
            as_of,
        )?;
        let (steps, max_depth, rules) = (&query.steps, query.max_depth, query.rules());
        let path = db(ctx)?
            .read()
            .shortest_path(&from, &to, steps, &rules, max_depth, limits.budget(ctx))
            .map_err(traversal_error)?;
        Ok(path.map(Path))
    }

    /// The `k` shortest simple paths from `from` to `to`, shortest first (ties by the ids along them).
    #[allow(clippy::too_many_arguments)]
    async fn k_shortest_paths(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        #[graphql(default = 3)] k: Option<i32>,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
        #[graphql(default = 6)] max_depth: Option<i32>,
        hops: Option<Vec<HopInput>>,
        via: Option<Vec<EntityKind>>,
        as_of: Option<i32>,
        #[graphql(desc = "Only pass through entities of these layers (default: both).")]
        layers: Option<Vec<super::types::Layer>>,
    ) -> Result<Vec<Path>> {
        let limits = ctx.data::<Limits>()?;
        let k = k.unwrap_or(3);
        if !(0..=limits.max_paths as i32).contains(&k) {
            return Err(user_error(
                "PAGE_SIZE_LIMIT",
                format!("`k` is {k}; it must be between 0 and {}", limits.max_paths),
            ));
        }
        let via = super::types::with_layers(via, layers.as_deref());
        let query = PathQuery::new(
            ctx,
            (&from, &to),
            max_depth.unwrap_or(6),
            (hops, relations, direction),
            via,
            as_of,
        )?;
        let (steps, max_depth, rules) = (&query.steps, query.max_depth, query.rules());
        let paths = db(ctx)?
            .read()
            .k_shortest_paths(
                &from,
                &to,
                k as usize,
                steps,
                &rules,
                max_depth,
                limits.budget(ctx),
            )
            .map_err(traversal_error)?;
        Ok(paths.into_iter().map(Path).collect())
    }

    /// Simple paths from `from` to `to` of at most `maxDepth` hops, shortest first, at most `limit`;
    /// `truncated` says when there are more.
    #[allow(clippy::too_many_arguments)]
    async fn all_paths(
        &self,
        ctx: &Context<'_>,
        from: ID,
        to: ID,
        #[graphql(default = 4)] max_depth: Option<i32>,
        #[graphql(default = 20)] limit: Option<i32>,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
        hops: Option<Vec<HopInput>>,
        via: Option<Vec<EntityKind>>,
        as_of: Option<i32>,
        #[graphql(desc = "Only pass through entities of these layers (default: both).")]
        layers: Option<Vec<super::types::Layer>>,
    ) -> Result<PathList> {
        let limits = ctx.data::<Limits>()?;
        let limit = limits.page_size("limit", limit.unwrap_or(20))?;
        let via = super::types::with_layers(via, layers.as_deref());
        let query = PathQuery::new(
            ctx,
            (&from, &to),
            max_depth.unwrap_or(4),
            (hops, relations, direction),
            via,
            as_of,
        )?;
        let (steps, max_depth, rules) = (&query.steps, query.max_depth, query.rules());
        let (paths, more) = db(ctx)?
            .read()
            .all_paths(
                &from,
                &to,
                steps,
                &rules,
                max_depth,
                limit,
                limits.budget(ctx),
            )
            .map_err(traversal_error)?;
        Ok(PathList {
            paths: paths.into_iter().map(Path).collect(),
            truncated: more,
        })
    }

    /// Every entity reachable from `from` in `minDepth..=maxDepth` hops, with its distance, nearest
    /// first then by id; `kinds` filters what is returned, not what is traversed.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "super::cost(first.unwrap_or(50).clamp(0, 1_000) as usize, child_complexity)"
    )]
    async fn reachable(
        &self,
        ctx: &Context<'_>,
        from: ID,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Out)")] direction: Option<Direction>,
        #[graphql(default = 1)] min_depth: Option<i32>,
        #[graphql(default = 3)] max_depth: Option<i32>,
        kinds: Option<Vec<EntityKind>>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
        hops: Option<Vec<HopInput>>,
        as_of: Option<i32>,
        #[graphql(desc = "Only entities of these layers (default: both).")] layers: Option<
            Vec<super::types::Layer>,
        >,
    ) -> Result<ReachableConnection> {
        let limits = ctx.data::<Limits>()?;
        let first = limits.page_size("first", first.unwrap_or(50))?;
        let max_depth = limits.traversal_depth("maxDepth", max_depth.unwrap_or(3))?;
        let min_depth = min_depth.unwrap_or(1);
        if min_depth < 0 || min_depth as u32 > max_depth {
            return Err(user_error(
                "BAD_USER_INPUT",
                format!("`minDepth` must lie in 0..={max_depth}, got {min_depth}"),
            ));
        }
        let steps = hops_for(
            hops.as_deref(),
            relations.as_deref(),
            direction.unwrap_or(Direction::Out),
            as_of,
        )?;
        known_entity(ctx, "from", &from)?;
        let kinds = entity_kinds(super::types::with_layers(kinds, layers.as_deref()).as_deref());
        let found = db(ctx)?
            .read()
            .reachable(
                &from,
                &steps,
                min_depth as u32,
                max_depth,
                kinds.as_deref(),
                limits.budget(ctx),
            )
            .map_err(traversal_error)?;
        let page = paginate(found, |(e, _)| e.id.clone(), after.as_deref(), first)?;
        Ok(ReachableConnection {
            total_count: page.total,
            page_info: page.info,
            edges: page
                .items
                .into_iter()
                .map(|(cursor, (e, distance))| ReachableEdge {
                    cursor,
                    distance,
                    node: Entity(e),
                })
                .collect(),
        })
    }

    /// Entities reachable from both `a` and `b` within `depth` hops (of `kinds` when given), with their
    /// distance from each; e.g. the districts hosting institutes of both 浙江大学 and 天津大学.
    #[allow(clippy::too_many_arguments)]
    async fn common_neighbors(
        &self,
        ctx: &Context<'_>,
        a: ID,
        b: ID,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
        #[graphql(default = 1)] depth: Option<i32>,
        kinds: Option<Vec<EntityKind>>,
        hops: Option<Vec<HopInput>>,
        as_of: Option<i32>,
    ) -> Result<Vec<CommonNeighbor>> {
        let limits = ctx.data::<Limits>()?;
        let depth = limits.traversal_depth("depth", depth.unwrap_or(1))?;
        let steps = hops_for(
            hops.as_deref(),
            relations.as_deref(),
            direction.unwrap_or(Direction::Both),
            as_of,
        )?;
        known_entity(ctx, "a", &a)?;
        known_entity(ctx, "b", &b)?;
        let kinds = entity_kinds(kinds.as_deref());
        let common = db(ctx)?
            .read()
            .common_neighbors(&a, &b, &steps, depth, kinds.as_deref(), limits.budget(ctx))
            .map_err(traversal_error)?;
        Ok(common
            .into_iter()
            .map(|(e, da, db)| CommonNeighbor {
                entity: Entity(e),
                distance_from_a: da,
                distance_from_b: db,
            })
            .collect())
    }

    /// The entities within `depth` hops of any of `ids` (entering only entities of `kinds` when given;
    /// at most `limit`, nearest first) and the relations among them; `truncated` and `reason` say when
    /// and why it stops short.
    #[allow(clippy::too_many_arguments)]
    #[graphql(
        complexity = "super::cost(limit.unwrap_or(500).clamp(1, 1_000) as usize, child_complexity)"
    )]
    async fn neighborhood(
        &self,
        ctx: &Context<'_>,
        ids: Vec<ID>,
        #[graphql(default = 1)] depth: Option<i32>,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
        #[graphql(default = 500)] limit: Option<i32>,
        kinds: Option<Vec<EntityKind>>,
        as_of: Option<i32>,
        #[graphql(desc = "Only entities of these layers (default: both).")] layers: Option<
            Vec<super::types::Layer>,
        >,
    ) -> Result<Subgraph> {
        let limits = ctx.data::<Limits>()?;
        let depth = limits.traversal_depth("depth", depth.unwrap_or(1))?;
        let limit = limits.page_size("limit", limit.unwrap_or(500))?.max(1);
        let direction = direction.unwrap_or(Direction::Both);
        if ids.len() > limits.max_ids {
            return Err(user_error(
                "BAD_USER_INPUT",
                format!(
                    "`ids` holds {} ids, above the limit of {}",
                    ids.len(),
                    limits.max_ids
                ),
            ));
        }
        for (i, id) in ids.iter().enumerate() {
            known_entity(ctx, &format!("ids[{i}]"), id)?;
        }
        let ids: Vec<String> = ids.into_iter().map(|id| id.0).collect();
        let step = timed_step(relations.as_deref(), direction, time_filter(as_of, None)?);
        let kinds = entity_kinds(super::types::with_layers(kinds, layers.as_deref()).as_deref());
        let subgraph = db(ctx)?.read().neighborhood(
            &ids,
            step,
            depth,
            kinds.as_deref(),
            limit,
            limits.budget(ctx),
        );
        Ok(Subgraph(subgraph))
    }

    /// Counts grouped by entity kind, district (rolled up the LOCATED_IN hierarchy), relation kind,
    /// document or year. Entity groupings count entities matching `where`; relation groupings count
    /// relations matching `relations`. For DISTRICT, `within` keeps the places inside one place and
    /// `level` keeps districts of one level.
    #[allow(clippy::too_many_arguments)]
    async fn group_count(
        &self,
        ctx: &Context<'_>,
        by: GroupBy,
        #[graphql(name = "where")] where_: Option<EntityWhere>,
        relations: Option<RelationWhere>,
        within: Option<ID>,
        level: Option<super::types::DistrictLevel>,
        #[graphql(desc = "The layers measured (default: the ecosystem).")] layers: Option<
            Vec<super::types::Layer>,
        >,
    ) -> Result<Vec<GroupCount>> {
        let index = db(ctx)?.read();
        let layers = super::types::measured_layers(layers.as_deref());
        let in_layers: Option<Vec<EntityKind>> =
            (layers.len() < model::Layer::ALL.len()).then(|| {
                model::Layer::kinds(&layers)
                    .into_iter()
                    .map(EntityKind::from)
                    .collect()
            });
        let filter = entity_filter(in_layers.as_deref(), where_.as_ref())?;
        if let Some(where_) = &where_ {
            where_.check_ids(&index, "where")?;
        }
        match by {
            GroupBy::Kind => {
                let compiled = index.compile(filter);
                let selected = index.select(&compiled);
                let mut counts: Vec<GroupCount> = model::EntityKind::ALL
                    .iter()
                    .map(|&k| GroupCount {
                        key: k.to_string(),
                        label: k.to_string(),
                        count: selected.iter().filter(|e| e.kind == k).count(),
                        entity: None,
                    })
                    .filter(|g| g.count > 0)
                    .collect();
                counts.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.key.cmp(&b.key)));
                Ok(counts)
            }
            GroupBy::District => {
                if let Some(within) = &within {
                    super::check_id(&index, "within", IdKind::Place, within)?;
                }
                let compiled = index.compile(filter);
                let counts = index.count_by_place(
                    &compiled,
                    within.as_ref().map(|w| w.as_str()),
                    level.map(Into::into),
                );
                Ok(counts
                    .into_iter()
                    .map(|(place, count)| GroupCount {
                        key: place.id.clone(),
                        label: place.name.clone(),
                        count,
                        entity: Some(Entity(place)),
                    })
                    .collect())
            }
            GroupBy::RelationKind | GroupBy::Document | GroupBy::Year => {
                let where_r = relations.unwrap_or_default();
                let time = time_filter(None, where_r.years)?;
                let also = (!matches!(filter, EntityFilter::True)).then_some(filter);
                let (source, target) = where_r.ends(&index, "relations", also)?;
                let document = where_r.document.as_ref().map(|d| d.to_string());
                let selected = index.select_relations(
                    where_r.kind_set(),
                    time,
                    document.as_deref(),
                    source.as_ref(),
                    target.as_ref(),
                    where_r.bases(),
                );
                let group = match by {
                    GroupBy::RelationKind => RelationGroup::Kind,
                    GroupBy::Document => RelationGroup::Document,
                    _ => RelationGroup::Year,
                };
                Ok(index
                    .count_relations(&selected, group)
                    .into_iter()
                    .map(|(key, label, count)| GroupCount {
                        key,
                        label,
                        count,
                        entity: None,
                    })
                    .collect())
            }
        }
    }

    /// How many entities (of `kinds`) have each degree over the given relations and direction.
    async fn degree_distribution(
        &self,
        ctx: &Context<'_>,
        relations: Option<Vec<RelationKind>>,
        #[graphql(default_with = "Some(Direction::Both)")] direction: Option<Direction>,
        kinds: Option<Vec<EntityKind>>,
    ) -> Result<Vec<DegreeCount>> {
        let step = super::types::step(relations.as_deref(), direction.unwrap_or(Direction::Both));
        let kinds = entity_kinds(kinds.as_deref());
        Ok(db(ctx)?
            .read()
            .degree_distribution(step, kinds.as_deref())
            .into_iter()
            .map(|(degree, count)| DegreeCount { degree, count })
            .collect())
    }

    /// The most central entities by a measure (of `kinds` when given), highest first.
    async fn top_entities(
        &self,
        ctx: &Context<'_>,
        measure: Measure,
        kinds: Option<Vec<EntityKind>>,
        #[graphql(default = 10)] first: Option<i32>,
        #[graphql(desc = "The layers measured (default: the ecosystem).")] layers: Option<
            Vec<super::types::Layer>,
        >,
    ) -> Result<Vec<RankedEntity>> {
        let limits = ctx.data::<Limits>()?;
        let first = limits.page_size("first", first.unwrap_or(10))?;
        let kinds = entity_kinds(kinds.as_deref());
        let db = db(ctx)?;
        let centrality = match measure {
            Measure::PageRank => Centrality::PageRank,
            Measure::Betweenness => Centrality::Betweenness,
            Measure::Degree => Centrality::Degree,
        };
        // Degree comes with every measure: the quickest (components) serves it.
        let kind = match centrality {
            Centrality::PageRank => MeasureKind::PageRank,
            Centrality::Betweenness => MeasureKind::Betweenness,
            Centrality::Degree => MeasureKind::Components,
        };
        let measured = super::types::measured_layers(layers.as_deref());
        let ranked = super::measure(ctx, &measured, kind)?;
        let index = db.read();
        Ok(ranked
            .ranking(centrality)
            .into_iter()
            .filter_map(|i| index.entity(&ranked.base.ids[i]).cloned().map(|e| (i, e)))
            .filter(|(_, e)| kinds.as_ref().is_none_or(|k| k.contains(&e.kind)))
            .take(first)
            .enumerate()
            .map(|(rank, (i, e))| RankedEntity {
                rank: rank + 1,
                score: match centrality {
                    Centrality::Degree => ranked.base.degree[i] as f64,
                    _ => ranked.scores[i],
                },
                entity: Entity(e),
            })
            .collect())
    }

    /// Leiden communities, largest first.
    async fn communities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 10)] first: Option<i32>,
        #[graphql(desc = "The layers measured (default: the ecosystem).")] layers: Option<
            Vec<super::types::Layer>,
        >,
    ) -> Result<Vec<Community>> {
        let limits = ctx.data::<Limits>()?;
        let first = limits.page_size("first", first.unwrap_or(10))?;
        let layers = super::types::measured_layers(layers.as_deref());
        let communities = super::measure(ctx, &layers, MeasureKind::Communities)?;
        Ok((0..communities.group_sizes.len())
            .take(first)
            .map(|id| Community {
                id,
                size: communities.group_sizes[id],
                communities: communities.clone(),
                layers: layers.clone(),
            })
            .collect())
    }

    /// Network-level figures: components, modularity, and how betweenness was computed.
    async fn network(
        &self,
        #[graphql(desc = "The layers measured (default: the ecosystem).")] layers: Option<
            Vec<super::types::Layer>,
        >,
    ) -> Result<NetworkSummary> {
        Ok(NetworkSummary {
            layers: super::types::measured_layers(layers.as_deref()),
        })
    }

    /// The collaboration network of entities of `kinds` (universities by default): two are tied when
    /// they co-built the same entity, co-built with the same partner, or co-built entities in the same
    /// district or platform; the weight counts the shared entities, partners and places.
    async fn collaboration_network(
        &self,
        ctx: &Context<'_>,
        #[graphql(default_with = "Some(vec![EntityKind::University])")] kinds: Option<
            Vec<EntityKind>,
        >,
        #[graphql(
            desc = "The layers the co-built entities are taken from (default: the ecosystem)."
        )]
        layers: Option<Vec<super::types::Layer>>,
    ) -> Result<CollaborationNetwork> {
        let kinds =
            entity_kinds(kinds.as_deref()).unwrap_or_else(|| vec![model::EntityKind::University]);
        let through = model::Layer::kinds(&super::types::measured_layers(layers.as_deref()));
        let ties = db(ctx)?
            .read()
            .collaboration_network(&kinds, Some(&through));
        let mut members: Vec<std::sync::Arc<model::Entity>> = ties
            .iter()
            .flat_map(|t| [t.a.clone(), t.b.clone()])
            .collect();
        members.sort_by(|a, b| a.id.cmp(&b.id));
        members.dedup_by(|a, b| a.id == b.id);
        Ok(CollaborationNetwork {
            entities: members.into_iter().map(Entity).collect(),
            ties: ties.into_iter().map(CollaborationTie).collect(),
        })
    }

    /// The changes made to one entity or relation through the API, oldest first; empty with a
    /// NOT_FOUND error naming the closest ids when nothing has that id and nothing had.
    async fn history(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default = 50)] first: Option<i32>,
    ) -> Result<Vec<Change>> {
        let first = ctx
            .data::<Limits>()?
            .page_size("first", first.unwrap_or(50))?;
        let db = db(ctx)?;
        let records = crate::edit::changes(db, 0, first, Some(&id))
            .map_err(|e| super::internal_error("reading history", e))?;
        if records.is_empty() {
            // No change, and nothing of that id now: most likely a mistyped id.
            let index = db.read();
            let kind = if id.contains('/') {
                IdKind::Relation
            } else {
                IdKind::Entity
            };
            super::report_unknown(ctx, &index, "id", kind, &id);
        }
        Ok(records.into_iter().map(Change).collect())
    }

    /// Every change after the change `since` (0: from the start), oldest first, at most `first`;
    /// `after` takes the `id` of the last change of the previous page (the same as `since`).
    async fn changes(
        &self,
        ctx: &Context<'_>,
        since: Option<i64>,
        #[graphql(default = 50)] first: Option<i32>,
        after: Option<String>,
    ) -> Result<Vec<Change>> {
        let first = ctx
            .data::<Limits>()?
            .page_size("first", first.unwrap_or(50))?;
        let since = u64::try_from(since.unwrap_or(0))
            .map_err(|_| user_error("BAD_USER_INPUT", "`since` must not be negative"))?;
        let after = match after {
            None => 0,
            Some(cursor) => cursor.parse::<u64>().map_err(|_| {
                user_error(
                    "BAD_USER_INPUT",
                    format!("`after`: `{cursor}` is not the id of a change"),
                )
            })?,
        };
        let records = crate::edit::changes(db(ctx)?, since.max(after), first, None)
            .map_err(|e| super::internal_error("reading changes", e))?;
        Ok(records.into_iter().map(Change).collect())
    }

    /// Every document the graph cites, in id order.
    async fn documents(&self, ctx: &Context<'_>) -> Result<Vec<Document>> {
        Ok(db(ctx)?.read().documents().cloned().map(Document).collect())
    }

    /// The document with this id, or null (with a NOT_FOUND error naming the closest ids).
    async fn document(&self, ctx: &Context<'_>, id: ID) -> Result<Option<Document>> {
        let index = db(ctx)?.read();
        let found = index.document(&id).cloned().map(Document);
        if found.is_none() {
            super::report_unknown(ctx, &index, "id", IdKind::Document, &id);
        }
        Ok(found)
    }

    /// Proposes the organisations, places and relations a report states (nothing is written): each
    /// relation with a quote verified verbatim against `text`, entities linked to the graph's where
    /// their names are known. `jsonl` is ready for `importBatch` once reviewed (the `/review` page).
    async fn extract(
        &self,
        ctx: &Context<'_>,
        text: String,
        document: super::extraction::DocumentInput,
    ) -> Result<super::extraction::Proposals> {
        super::extraction::run(ctx, text, document)
    }

    /// Counts of entities, relations and documents, by kind.
    async fn stats(&self, ctx: &Context<'_>) -> Result<GraphStats> {
        let index = db(ctx)?.read();
        Ok(GraphStats {
            entities: index.entity_count(),
            relations: index.relation_count(),
            documents: index.documents().count(),
            entities_by_kind: index
                .entity_counts()
                .into_iter()
                .map(|(kind, count)| EntityKindCount {
                    kind: kind.into(),
                    count,
                })
                .collect(),
            relations_by_kind: index
                .relation_counts()
                .into_iter()
                .map(|(kind, count)| RelationKindCount {
                    kind: kind.into(),
                    count,
                })
                .collect(),
        })
    }
}

/// The arguments every path search shares, checked: hops, intermediate kinds, depth, known ends.
struct PathQuery {
    steps: graph::Hops,
    via: Option<Vec<model::EntityKind>>,
    max_depth: u32,
}

impl PathQuery {
    fn new(
        ctx: &Context<'_>,
        (from, to): (&ID, &ID),
        max_depth: i32,
        (hops, relations, direction): (
            Option<Vec<HopInput>>,
            Option<Vec<RelationKind>>,
            Option<Direction>,
        ),
        via: Option<Vec<EntityKind>>,
        as_of: Option<i32>,
    ) -> Result<PathQuery> {
        let max_depth = ctx.data::<Limits>()?.path_depth("maxDepth", max_depth)?;
        let steps = path_hops(hops.as_deref(), relations.as_deref(), direction, as_of)?;
        known_entity(ctx, "from", from)?;
        known_entity(ctx, "to", to)?;
        Ok(PathQuery {
            steps,
            via: entity_kinds(via.as_deref()),
            max_depth,
        })
    }

    fn rules(&self) -> PathRules<'_> {
        PathRules {
            via: self.via.as_deref(),
        }
    }
}

/// Hops for a path search (default direction BOTH).
fn path_hops(
    hops: Option<&[HopInput]>,
    relations: Option<&[RelationKind]>,
    direction: Option<Direction>,
    as_of: Option<i32>,
) -> Result<graph::Hops> {
    hops_for(hops, relations, direction.unwrap_or(Direction::Both), as_of)
}

fn hops_for(
    hops_input: Option<&[HopInput]>,
    relations: Option<&[RelationKind]>,
    direction: Direction,
    as_of: Option<i32>,
) -> Result<graph::Hops> {
    hops(
        hops_input,
        relations,
        direction,
        time_filter(as_of, None::<YearRange>)?,
    )
}

/// Where a page resumes after `cursor`: an id in id order, `offset:N` otherwise.
fn resume(cursor: &str, selected: &[std::sync::Arc<model::Entity>], by_id: bool) -> Result<usize> {
    if let Some(offset) = cursor.strip_prefix("offset:") {
        return offset
            .parse::<usize>()
            .ok()
            .filter(|&o| o <= selected.len())
            .ok_or_else(|| {
                user_error(
                    "BAD_USER_INPUT",
                    format!("`after`: `{cursor}` is not a cursor of this listing"),
                )
            });
    }
    if by_id {
        return Ok(selected.partition_point(|e| e.id.as_str() <= cursor));
    }
    Err(user_error(
        "BAD_USER_INPUT",
        format!(
            "`after`: `{cursor}` is an id cursor, but this listing is sorted; use the `offset:N` cursors it returns"
        ),
    ))
}

fn connection(
    page: Vec<(String, std::sync::Arc<model::Entity>)>,
    total_count: usize,
    has_next_page: bool,
    has_previous_page: bool,
) -> EntityConnection {
    let edges: Vec<EntityEdge> = page
        .into_iter()
        .map(|(cursor, e)| EntityEdge {
            cursor,
            node: Entity(e),
        })
        .collect();
    EntityConnection {
        total_count,
        page_info: PageInfo {
            has_next_page,
            has_previous_page,
            start_cursor: edges.first().map(|e| e.cursor.clone()),
            end_cursor: edges.last().map(|e| e.cursor.clone()),
        },
        edges,
    }
}
