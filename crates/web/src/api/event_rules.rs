//! `/api/v1/automation/event-rules`: event rules (自動ルール). Administrators write them; anyone
//! who may read messages lists them. A rule runs when its event happens (`trigger.kind`), if all
//! its `conditions` hold, and does its `actions` in order; rules are tried in their `position`
//! and one with `stop_later` ends the run. Each firing leaves a line on the conversation.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_automation::event_rules::{store, Action, Condition, Draft, Rule, Trigger};
use tsunagu_core::Permission;
use utoipa::ToSchema;

use super::auth::{audit_change, audit_one, ApiAuth, Event};
use super::extract::{ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// What this API's changes are audited as.
const SUBJECT: &str = "event_rule";

/// A rule as written. `trigger`: `{"kind": "message_received" | "conversation_opened" |
/// "conversation_resolved" | "patient_tagged" | "friend_added" | "friend_blocked" |
/// "consent_changed", "tag"?: only this tag (patient_tagged), "purpose"?, "granted"?
/// (consent_changed)}`.
#[derive(Deserialize, ToSchema)]
pub struct EventRuleIn {
    /// 1–80 characters; staff see it in the line each firing leaves.
    #[schema(example = "発熱は看護チームへ")]
    pub name: String,
    /// Default true.
    pub enabled: Option<bool>,
    /// When it fired, rules after it are not tried for that event.
    pub stop_later: Option<bool>,
    #[schema(value_type = Object, example = json!({"kind": "patient_tagged", "tag": "発熱"}))]
    pub trigger: Trigger,
    /// All must hold. Each `{"type": …}`: `tag {tag, has}`, `field {field (key or id),
    /// value}`, `channel {channel_id}`, `text {mode: exact|contains|pattern, value}` (message
    /// events only), `time {from, to}` (clinic-local minutes after midnight), `open {open}` (the
    /// clinic calendar), `consent {purpose, allowed}`, `verified {verified}`.
    #[serde(default)]
    #[schema(value_type = Vec<Object>, example = json!([{"type": "open", "open": false}]))]
    pub conditions: Vec<Condition>,
    /// 1–10, run in order. Each `{"type": …}`: `reply {text}` (consent-checked, through the
    /// outbox, never while a person handles the conversation or on a red flag), `tag {tag}`,
    /// `assign {team_id}`, `priority {priority}`, `start_flow {flow_id}`, `enroll
    /// {sequence_id}`, `webhook {url}` (signed `X-Tsunagu-Signature` with the rule's key).
    #[schema(value_type = Vec<Object>, example = json!([{"type": "assign", "team_id": "…"}, {"type": "priority", "priority": "high"}]))]
    pub actions: Vec<Action>,
}

#[derive(Serialize, ToSchema)]
pub struct EventRuleOut {
    pub id: String,
    pub name: String,
    /// 1-based place in the order tried.
    pub position: i64,
    pub enabled: bool,
    pub stop_later: bool,
    #[schema(value_type = Object)]
    pub trigger: Trigger,
    #[schema(value_type = Vec<Object>)]
    pub conditions: Vec<Condition>,
    #[schema(value_type = Vec<Object>)]
    pub actions: Vec<Action>,
}

#[derive(Serialize, ToSchema)]
pub struct EventRuleList {
    /// In the order they are tried.
    pub items: Vec<EventRuleOut>,
}

/// Every rule of the clinic, each once, in the new order.
#[derive(Deserialize, ToSchema)]
pub struct EventRuleOrder {
    pub ids: Vec<String>,
}

fn out(r: Rule) -> EventRuleOut {
    EventRuleOut {
        id: r.id,
        name: r.name,
        position: r.position,
        enabled: r.enabled,
        stop_later: r.stop_later,
        trigger: r.trigger,
        conditions: r.conditions,
        actions: r.actions,
    }
}

fn draft(b: EventRuleIn) -> Draft {
    Draft {
        name: b.name,
        enabled: b.enabled.unwrap_or(true),
        stop_later: b.stop_later.unwrap_or(false),
        trigger: b.trigger,
        conditions: b.conditions,
        actions: b.actions,
    }
}

/// A team, flow or sequence of another clinic is not found here (as every id of theirs is).
fn refused(e: tsunagu_automation::event_rules::Invalid) -> ApiError {
    match e.code {
        "unknown_reference" => ApiError::not_found(),
        _ => ApiError::from(e.refusal()),
    }
}

async fn read(state: &AppState, auth: &ApiAuth, id: &str) -> Result<EventRuleOut, ApiError> {
    let mut conn = read_conn(state).await?;
    let rule = store::get(&mut conn, &auth.clinic, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(out(rule))
}

const INVALID: &str = "`invalid_event_rule` (the message names the part: `name_required`, `action_required`, `text_needs_message`, `invalid_pattern`, `invalid_time_window`, `unknown_purpose`, `unknown_priority`, `invalid_url`…), `invalid_request`";

/// List the clinic's event rules.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/event-rules",
    tag = "automation",
    responses(
        (status = 200, description = "Every event rule of the clinic, in the order tried", body = EventRuleList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<EventRuleList>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    let rows = store::list(&mut conn, &auth.clinic).await?;
    Ok(Json(EventRuleList {
        items: rows.into_iter().map(out).collect(),
    }))
}

/// Read one event rule.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/event-rules/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Event rule id")),
    responses(
        (status = 200, description = "The rule", body = EventRuleOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
        (status = 404, description = "No such event rule in this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
) -> Result<Json<EventRuleOut>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    Ok(Json(read(&state, &auth, &id).await?))
}

/// Add an event rule (last in the order).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.event_rule.create`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/event-rules",
    tag = "automation",
    params(IdempotencyKey),
    request_body = EventRuleIn,
    responses(
        (status = 201, description = "Stored", body = EventRuleOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "A team, flow or sequence named is not this clinic's", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<EventRuleIn>,
) -> Result<(StatusCode, Json<EventRuleOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let cipher = &state.cipher;
    let id = store::create(tx.conn(), &auth.clinic, cipher, draft(body), state.now_ms())
        .await?
        .map_err(refused)?;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.event_rule.create",
        (SUBJECT, &id),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(read(&state, &auth, &id).await?)))
}

/// Replace an event rule (its place in the order stays).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.event_rule.update`.
#[utoipa::path(
    put,
    path = "/api/v1/automation/event-rules/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Event rule id")),
    request_body = EventRuleIn,
    responses(
        (status = 200, description = "As now saved", body = EventRuleOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such event rule, or a team, flow or sequence named is not this clinic's", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<EventRuleIn>,
) -> Result<Json<EventRuleOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let done = store::update(tx.conn(), &auth.clinic, &id, draft(body), state.now_ms())
        .await?
        .map_err(refused)?;
    if !done {
        return Err(ApiError::not_found());
    }
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.event_rule.update",
        (SUBJECT, &id),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(read(&state, &auth, &id).await?))
}

/// Put the clinic's event rules in a new order.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.event_rule.reorder`.
#[utoipa::path(
    put,
    path = "/api/v1/automation/event-rules/order",
    tag = "automation",
    request_body = EventRuleOrder,
    responses(
        (status = 200, description = "The rules in their new order", body = EventRuleList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "An id is not one of this clinic's event rules", body = ErrorBody),
        (status = 422, description = "`invalid_request`: `ids` must name each of the clinic's rules once", body = ErrorBody),
    )
)]
pub async fn reorder(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<EventRuleOrder>,
) -> Result<Json<EventRuleList>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    for id in &body.ids {
        if store::get(tx.conn(), &auth.clinic, id).await?.is_none() {
            return Err(ApiError::not_found());
        }
    }
    if !store::reorder(tx.conn(), &auth.clinic, &body.ids, state.now_ms()).await? {
        return Err(ApiError::invalid(
            "ids",
            "ids must name each of the clinic's event rules once.",
        ));
    }
    let ids: Vec<&str> = body.ids.iter().map(String::as_str).collect();
    let event = Event {
        action: "api.automation.event_rule.reorder",
        subject_type: "event_rule",
        subject_ids: &ids,
    };
    audit_change(&mut tx, &state, &auth, &ip, event).await?;
    tx.commit().await?;
    list(State(state), auth).await
}

/// Remove an event rule.
///
/// Scope: `administer` (token scope `admin`). Lines already left stay. Audited as
/// `api.automation.event_rule.delete`.
#[utoipa::path(
    delete,
    path = "/api/v1/automation/event-rules/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Event rule id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such event rule in this clinic", body = ErrorBody),
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
        "api.automation.event_rule.delete",
        (SUBJECT, &id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
