//! The root mutation: thin wrappers over `edit`, each allowed only to an editor or admin token (the
//! transport refuses anonymous and read-only callers before execution; these checks are the second
//! line).

use async_graphql::{Context, ID, InputObject, Object, Result};

use super::types::{DistrictLevel, Entity, EntityKind, Relation, RelationKind};
use super::{db, internal_error, user_error};
use crate::edit::{self, Actor, EditError};
use crate::graph::IdKind;
use crate::model;

/// Who is calling, as the transport resolved their bearer token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub name: String,
    pub role: Role,
}

/// What a token may do.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Reads (when reads require a token).
    Reader,
    /// Reads and writes.
    Editor,
    /// Reads, writes and administration.
    Admin,
}

impl Role {
    pub fn parse(text: &str) -> Option<Role> {
        match text {
            "reader" => Some(Role::Reader),
            "editor" => Some(Role::Editor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn can_write(self) -> bool {
        matches!(self, Role::Editor | Role::Admin)
    }
}

/// An entity to create, or the new fields of one to update.
#[derive(InputObject, Clone, Debug)]
pub struct EntityInput {
    /// ASCII kebab-case slug, never reused.
    pub id: ID,
    pub kind: EntityKind,
    pub name: String,
    pub name_en: Option<String>,
    #[graphql(default)]
    pub aliases: Vec<String>,
    pub description: Option<String>,
    pub established: Option<String>,
    pub legal_form: Option<String>,
    pub area: Option<String>,
    #[graphql(default)]
    pub focus: Vec<String>,
    pub district_code: Option<String>,
    pub district_level: Option<DistrictLevel>,
}

/// Text as the graph stores it: Unicode normal form C, so that one name has one spelling.
fn nfc(text: String) -> String {
    use unicode_normalization::UnicodeNormalization;
    if unicode_normalization::is_nfc(&text) {
        text
    } else {
        text.nfc().collect()
    }
}

impl From<EntityInput> for model::Entity {
    fn from(input: EntityInput) -> model::Entity {
        model::Entity {
            id: input.id.0,
            kind: input.kind.into(),
            name: nfc(input.name),
            name_en: input.name_en.map(nfc),
            aliases: input.aliases.into_iter().map(nfc).collect(),
            description: input.description.map(nfc),
            established: input.established,
            legal_form: input.legal_form.map(nfc),
            area: input.area.map(nfc),
            focus: input.focus.into_iter().map(nfc).collect(),
            district_code: input.district_code,
            district_level: input.district_level.map(Into::into),
        }
    }
}

/// A document's support for a relation: the document's id and a verbatim quote of it.
#[derive(InputObject, Clone, Debug)]
pub struct EvidenceInput {
    pub document: ID,
    pub quote: String,
    /// How the quote supports the relation (default: STATED, the quote says it).
    #[graphql(default)]
    pub basis: super::types::Basis,
}

impl From<EvidenceInput> for model::Evidence {
    fn from(input: EvidenceInput) -> model::Evidence {
        model::Evidence {
            document: input.document.to_string(),
            quote: input.quote,
            basis: input.basis.into(),
        }
    }
}

/// A relation to create; evidence is required.
#[derive(InputObject, Clone, Debug)]
pub struct RelationInput {
    pub kind: RelationKind,
    pub source: ID,
    pub target: ID,
    pub year: Option<i32>,
    pub evidence: Vec<EvidenceInput>,
}

fn actor(ctx: &Context<'_>) -> Result<Actor> {
    match ctx.data_opt::<Caller>() {
        Some(caller) if caller.role.can_write() => Ok(Actor(caller.name.clone())),
        Some(_) => Err(user_error(
            "FORBIDDEN",
            "this token may not write; writes need an editor or admin token",
        )),
        None => Err(user_error(
            "UNAUTHENTICATED",
            "writes need a bearer token (Authorization: Bearer …)",
        )),
    }
}

fn version(argument: &str, value: i64) -> Result<u64> {
    u64::try_from(value).map_err(|_| {
        user_error(
            "BAD_USER_INPUT",
            format!("`{argument}` must not be negative"),
        )
    })
}

fn edit_error(error: EditError) -> async_graphql::Error {
    match error {
        EditError::Invalid(message) => user_error("BAD_USER_INPUT", message),
        EditError::NotFound { .. } => user_error("NOT_FOUND", error.to_string()),
        EditError::Exists { .. } => user_error("ALREADY_EXISTS", error.to_string()),
        EditError::Conflict { .. } => user_error("VERSION_CONFLICT", error.to_string()),
        EditError::Internal(detail) => internal_error("editing the graph", detail),
        EditError::Unavailable(message) => user_error("STORAGE_UNAVAILABLE", message),
        EditError::LogUnavailable(message) => user_error("LOG_UNAVAILABLE", message),
    }
}

/// [`edit_error`], naming for an unknown id the argument that gave it (from `arguments`: name and
/// value) and the closest known ids.
fn edit_error_at<'a>(
    ctx: &'a Context<'_>,
    arguments: &'a [(&'a str, &'a str)],
) -> impl FnOnce(EditError) -> async_graphql::Error + 'a {
    move |error| {
        if let EditError::NotFound { what, id } = &error {
            let kind = match *what {
                "entity" => Some(IdKind::Entity),
                "relation" => Some(IdKind::Relation),
                _ => None,
            };
            let argument = arguments
                .iter()
                .find(|(_, value)| value == id)
                .map_or("input", |(name, _)| name);
            if let (Some(kind), Ok(db)) = (kind, db(ctx))
                && let Some(message) = db.read().not_found(argument, kind, id)
            {
                return user_error("NOT_FOUND", message);
            }
        }
        edit_error(error)
    }
}

fn entity(ctx: &Context<'_>, id: &str) -> Result<Entity> {
    db(ctx)?
        .read()
        .entity(id)
        .cloned()
        .map(Entity)
        .ok_or_else(|| internal_error("reading back an edit", format!("entity `{id}` vanished")))
}

fn relation(ctx: &Context<'_>, id: &str) -> Result<Relation> {
    let (source, kind, target) = model::parse_relation_id(id)
        .ok_or_else(|| user_error("NOT_FOUND", format!("no relation has id `{id}`")))?;
    db(ctx)?
        .read()
        .relation(source, kind, target)
        .map(Relation)
        .ok_or_else(|| internal_error("reading back an edit", format!("relation `{id}` vanished")))
}

/// Every write. Each is validated like the seed, durable when it returns, and recorded in `changes`.
pub struct Mutation;

#[Object]
impl Mutation {
    /// Creates an entity.
    async fn create_entity(&self, ctx: &Context<'_>, input: EntityInput) -> Result<Entity> {
        let actor = actor(ctx)?;
        let id = input.id.to_string();
        edit::create_entity(db(ctx)?, &actor, input.into()).map_err(edit_error)?;
        entity(ctx, &id)
    }

    /// Replaces an entity's fields (found by `input.id`), if it is still at `expectedVersion`.
    async fn update_entity(
        &self,
        ctx: &Context<'_>,
        expected_version: i64,
        input: EntityInput,
    ) -> Result<Entity> {
        let actor = actor(ctx)?;
        let id = input.id.to_string();
        edit::update_entity(
            db(ctx)?,
            &actor,
            version("expectedVersion", expected_version)?,
            input.into(),
        )
        .map_err(edit_error_at(ctx, &[("input.id", &id)]))?;
        entity(ctx, &id)
    }

    /// Deletes an entity and every relation touching it, if it is still at `expectedVersion`.
    async fn delete_entity(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
    ) -> Result<bool> {
        let actor = actor(ctx)?;
        edit::delete_entity(
            db(ctx)?,
            &actor,
            &id,
            version("expectedVersion", expected_version)?,
        )
        .map_err(edit_error_at(ctx, &[("id", &id)]))?;
        Ok(true)
    }

    /// Creates a relation; its evidence must quote stored documents verbatim.
    async fn create_relation(&self, ctx: &Context<'_>, input: RelationInput) -> Result<Relation> {
        let actor = actor(ctx)?;
        let new_relation = model::Relation {
            kind: input.kind.into(),
            source: input.source.to_string(),
            target: input.target.to_string(),
            year: input.year,
            evidence: input.evidence.into_iter().map(Into::into).collect(),
        };
        let id = new_relation.id();
        let ends = [
            ("input.source", new_relation.source.clone()),
            ("input.target", new_relation.target.clone()),
        ];
        let ends = ends.each_ref().map(|(name, value)| (*name, value.as_str()));
        edit::create_relation(db(ctx)?, &actor, new_relation).map_err(edit_error_at(ctx, &ends))?;
        relation(ctx, &id)
    }

    /// Sets a relation's year (null clears it), if it is still at `expectedVersion`.
    async fn update_relation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        year: Option<i32>,
    ) -> Result<Relation> {
        let actor = actor(ctx)?;
        edit::update_relation(
            db(ctx)?,
            &actor,
            &id,
            version("expectedVersion", expected_version)?,
            year,
        )
        .map_err(edit_error_at(ctx, &[("id", &id)]))?;
        relation(ctx, &id)
    }

    /// Adds a piece of evidence to a relation, if it is still at `expectedVersion`.
    async fn add_evidence(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
        evidence: EvidenceInput,
    ) -> Result<Relation> {
        let actor = actor(ctx)?;
        let evidence = evidence.into();
        edit::add_evidence(
            db(ctx)?,
            &actor,
            &id,
            version("expectedVersion", expected_version)?,
            evidence,
        )
        .map_err(edit_error_at(ctx, &[("id", &id)]))?;
        relation(ctx, &id)
    }

    /// Merges `merged` into `survivor` (both at their expected versions): names become aliases,
    /// relations and evidence move to the survivor, and the merged id resolves to the survivor.
    async fn merge_entities(
        &self,
        ctx: &Context<'_>,
        survivor: ID,
        merged: ID,
        survivor_version: i64,
        merged_version: i64,
    ) -> Result<Entity> {
        let actor = actor(ctx)?;
        let versions = (
            version("survivorVersion", survivor_version)?,
            version("mergedVersion", merged_version)?,
        );
        edit::merge_entities(db(ctx)?, &actor, &survivor, &merged, versions).map_err(
            edit_error_at(ctx, &[("survivor", &survivor), ("merged", &merged)]),
        )?;
        entity(ctx, &survivor)
    }

    /// Imports a batch in the JSON Lines format of `innograph export --format jsonl` (documents,
    /// entities, relations; relations may cite documents and entities already stored), validated like
    /// the seed, all or nothing, as one change. At most `--max-batch-records` records (10,000).
    async fn import_batch(&self, ctx: &Context<'_>, jsonl: String) -> Result<String> {
        let actor = actor(ctx)?;
        let (documents, entities, relations) = edit::import_batch(
            db(ctx)?,
            &actor,
            &jsonl,
            ctx.data::<super::Limits>()?.max_batch_records,
        )
        .map_err(edit_error)?;
        Ok(format!(
            "imported {documents} documents, {entities} entities, {relations} relations"
        ))
    }

    /// Undoes the change `changeId` (see `changes`, `history`): the records it touched return to how
    /// they were, provided none changed since. Returns the id of the new change the revert makes.
    async fn revert(&self, ctx: &Context<'_>, change_id: i64) -> Result<u64> {
        let actor = actor(ctx)?;
        let id = u64::try_from(change_id)
            .map_err(|_| user_error("BAD_USER_INPUT", "`changeId` must not be negative"))?;
        edit::revert(db(ctx)?, &actor, id).map_err(edit_error)
    }

    /// Deletes a relation, if it is still at `expectedVersion`.
    async fn delete_relation(
        &self,
        ctx: &Context<'_>,
        id: ID,
        expected_version: i64,
    ) -> Result<bool> {
        let actor = actor(ctx)?;
        edit::delete_relation(
            db(ctx)?,
            &actor,
            &id,
            version("expectedVersion", expected_version)?,
        )
        .map_err(edit_error_at(ctx, &[("id", &id)]))?;
        Ok(true)
    }
}
