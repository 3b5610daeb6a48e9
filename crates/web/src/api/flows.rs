//! `/api/v1/automation/flows`: dialogue flows (フロー) as the builder keeps them — a draft that
//! may have problems, published versions that running dialogues keep, on/off (the preview is
//! `flow_preview`). Reads need `read_messages`, changes `administer`, audited in their
//! transaction.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use tsunagu_automation::flows::definition::{Definition, Problem, MAX_STEPS};
use tsunagu_automation::flows::store;
use tsunagu_core::{Code, Permission, Refusal};
use utoipa::ToSchema;

use super::auth::{audit_one, ApiAuth};
use super::extract::{rfc3339, ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::settings::flows::check_url;
use crate::{ApiError, AppState};

/// What this API's changes are audited as.
const SUBJECT: &str = "flow";

#[derive(Deserialize, ToSchema)]
pub struct FlowIn {
    /// 1–50 characters.
    #[schema(example = "初診問診")]
    pub name: String,
    /// The draft in the builder's JSON (`format` 1: `timeout_minutes`, `max_tries`,
    /// `timeout_text`, `completed_webhook`, `steps`); absent: no steps yet. Saved even with
    /// problems (listed in the answer); publishing refuses them.
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
}

/// Fields left out keep their value.
#[derive(Deserialize, ToSchema)]
pub struct FlowPatch {
    pub name: Option<String>,
    /// The whole new draft (as in `FlowIn`); running dialogues keep their published version.
    #[serde(default, deserialize_with = "some")]
    #[schema(value_type = Option<Object>)]
    pub definition: Option<Value>,
    /// Turn the flow on or off (keyword rules start only a flow that is on and published).
    pub enabled: Option<bool>,
}

fn some<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
pub struct FlowProblem {
    /// The step's position from 1 (0: the flow itself).
    pub step: usize,
    /// Stable key, e.g. `option_count`, `unknown_next`, `webhook_url`.
    pub problem: &'static str,
    /// The same in English.
    pub message: String,
}

#[derive(Serialize, ToSchema)]
pub struct FlowVersionOut {
    pub version: i64,
    /// RFC 3339 UTC.
    pub published_at: String,
    /// `staff:<id>` or `token:<id>`.
    pub published_by: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FlowOut {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    /// The version new dialogues start on (null: never published).
    pub published_version: Option<i64>,
    #[schema(value_type = Object)]
    pub draft: Value,
    /// What must be fixed before the draft can be published (empty: publishable).
    pub problems: Vec<FlowProblem>,
    /// Newest first.
    pub versions: Vec<FlowVersionOut>,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct FlowSummary {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub published_version: Option<i64>,
    /// Steps in the draft.
    pub steps: usize,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct FlowList {
    /// Oldest first, as on the flows page.
    pub items: Vec<FlowSummary>,
}

pub(super) fn problems(list: &[Problem]) -> Vec<FlowProblem> {
    list.iter()
        .map(|p| FlowProblem {
            step: p.step,
            problem: p.what,
            message: text("en", &format!("flows.problem.{}", p.what)),
        })
        .collect()
}

async fn out(
    conn: &mut sqlx::AnyConnection,
    auth: &ApiAuth,
    id: &str,
) -> Result<FlowOut, ApiError> {
    let f = store::get(conn, &auth.clinic, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let versions = store::versions(conn, &auth.clinic, id).await?;
    let def = f.draft();
    Ok(FlowOut {
        enabled: f.is_enabled(),
        draft: serde_json::to_value(&def).unwrap_or(Value::Null),
        problems: problems(&def.check()),
        versions: versions
            .into_iter()
            .map(|v| FlowVersionOut {
                version: v.version,
                published_at: rfc3339(v.published_at),
                published_by: v.published_by,
            })
            .collect(),
        id: f.id,
        name: f.name,
        published_version: f.published_version,
        created_at: rfc3339(f.created_at),
        updated_at: rfc3339(f.updated_at),
    })
}

fn name(n: &str) -> Result<(), Refusal> {
    if store::name_ok(n) {
        Ok(())
    } else {
        Err(Refusal::new(Code::InvalidFlowName).detail("a name of 1 to 50 characters"))
    }
}

/// A definition from the caller: readable, its teams the clinic's, its addresses public.
async fn definition(
    state: &AppState,
    conn: &mut sqlx::AnyConnection,
    auth: &ApiAuth,
    v: Value,
) -> Result<Definition, ApiError> {
    let def: Definition = serde_json::from_value(v).map_err(|e| {
        Refusal::new(Code::InvalidFlowDefinition)
            .detail(format!("The definition is not readable: {e}"))
    })?;
    if def.steps.len() > MAX_STEPS {
        let detail = format!("at most {MAX_STEPS} steps");
        return Err(Refusal::new(Code::InvalidFlowDefinition)
            .detail(detail)
            .into());
    }
    let (teams, urls) = def.teams_and_urls();
    let ours = tsunagu_inbox::routing::teams::list(conn, &auth.clinic).await?;
    // An empty team is a draft problem (「チームを選んでください」); another clinic's is not found.
    if teams
        .iter()
        .any(|t| !t.is_empty() && !ours.iter().any(|o| o.id == *t))
    {
        return Err(ApiError::not_found());
    }
    for url in urls.into_iter().filter(|u| !u.trim().is_empty()) {
        check_url(state, url).await.map_err(Refusal::new)?;
    }
    Ok(def)
}

const INVALID: &str =
    "`invalid_flow_name`, `invalid_flow_definition`, `outbound_address_refused`, `invalid_request`";

/// List the clinic's flows.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/flows",
    tag = "automation",
    responses(
        (status = 200, description = "Every flow of the clinic", body = FlowList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<FlowList>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    let rows = store::list(&mut conn, &auth.clinic).await?;
    let items = rows
        .into_iter()
        .map(|f| FlowSummary {
            enabled: f.is_enabled(),
            steps: f.draft().steps.len(),
            id: f.id,
            name: f.name,
            published_version: f.published_version,
            updated_at: rfc3339(f.updated_at),
        })
        .collect();
    Ok(Json(FlowList { items }))
}

/// Read one flow: its draft, the draft's problems and its published versions.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/flows/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Flow id")),
    responses(
        (status = 200, description = "The flow", body = FlowOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
        (status = 404, description = "No such flow in this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
) -> Result<Json<FlowOut>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    Ok(Json(out(&mut conn, &auth, &id).await?))
}

/// Add a flow (off and unpublished).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.flow.create`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/flows",
    tag = "automation",
    params(IdempotencyKey),
    request_body = FlowIn,
    responses(
        (status = 201, description = "Stored as a draft", body = FlowOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "A step's team is not this clinic's", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<FlowIn>,
) -> Result<(StatusCode, Json<FlowOut>), ApiError> {
    auth.require(Permission::Administer)?;
    name(&body.name)?;
    let mut tx = state.db.begin().await?;
    let def = match body.definition {
        Some(v) => definition(&state, tx.conn(), &auth, v).await?,
        None => Definition::empty(),
    };
    let now = state.now_ms();
    let id = store::create(
        tx.conn(),
        &auth.clinic,
        &body.name,
        &def,
        &state.cipher,
        now,
    )
    .await?;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.flow.create",
        (SUBJECT, &id),
    )
    .await?;
    let flow = out(tx.conn(), &auth, &id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(flow)))
}

/// Change a flow's name or draft, or turn it on or off.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.flow.update`,
/// `api.automation.flow.enable` or `api.automation.flow.disable`.
#[utoipa::path(
    patch,
    path = "/api/v1/automation/flows/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Flow id")),
    request_body = FlowPatch,
    responses(
        (status = 200, description = "As now saved", body = FlowOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such flow (or a step's team) in this clinic", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<FlowPatch>,
) -> Result<Json<FlowOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let flow = store::get(tx.conn(), &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let now = state.now_ms();
    if body.name.is_some() || body.definition.is_some() {
        let new_name = body.name.unwrap_or_else(|| flow.name.clone());
        name(&new_name)?;
        let def = match body.definition {
            Some(v) => definition(&state, tx.conn(), &auth, v).await?,
            None => flow.draft(),
        };
        store::save_draft(tx.conn(), &auth.clinic, &id, &new_name, &def, now).await?;
        audit_one(
            &mut tx,
            &state,
            &auth,
            &ip,
            "api.automation.flow.update",
            (SUBJECT, &id),
        )
        .await?;
    }
    if let Some(on) = body.enabled {
        store::set_enabled(tx.conn(), &auth.clinic, &id, on, now).await?;
        let action = if on {
            "api.automation.flow.enable"
        } else {
            "api.automation.flow.disable"
        };
        audit_one(&mut tx, &state, &auth, &ip, action, (SUBJECT, &id)).await?;
    }
    let flow = out(tx.conn(), &auth, &id).await?;
    tx.commit().await?;
    Ok(Json(flow))
}

/// Publish the draft as the next version (dialogues already running keep theirs).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.flow.publish`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/flows/{id}/publish",
    tag = "automation",
    params(("id" = String, Path, description = "Flow id"), IdempotencyKey),
    responses(
        (status = 200, description = "Published; `published_version` is the new version", body = FlowOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such flow in this clinic", body = ErrorBody),
        (status = 422, description = "`flow_has_problems` (the problems are in the message; `GET` lists them)", body = ErrorBody),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Json<FlowOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let by = format!("token:{}", auth.token_id.as_str());
    match store::publish(tx.conn(), &auth.clinic, &id, Some(&by), state.now_ms()).await? {
        Ok(Some(_)) => {}
        Ok(None) => return Err(ApiError::not_found()),
        Err(list) => {
            let detail = problems(&list)
                .iter()
                .map(|p| format!("step {}: {}", p.step, p.message))
                .collect::<Vec<_>>()
                .join(" ");
            return Err(Refusal::new(Code::FlowHasProblems).detail(detail).into());
        }
    }
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.flow.publish",
        (SUBJECT, &id),
    )
    .await?;
    let flow = out(tx.conn(), &auth, &id).await?;
    tx.commit().await?;
    Ok(Json(flow))
}

/// Remove a flow with its versions; dialogues running on it end, keyword rules that started
/// it no longer do.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.flow.delete`.
#[utoipa::path(
    delete,
    path = "/api/v1/automation/flows/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Flow id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such flow in this clinic", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !store::delete(tx.conn(), &auth.clinic, &id).await? {
        return Err(ApiError::not_found());
    }
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.flow.delete",
        (SUBJECT, &id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
