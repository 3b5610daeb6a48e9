//! Changing a conversation through the API: `PATCH /api/v1/conversations/{id}` (status, snooze
//! time, priority) and its labels. Each change goes through `inbox::state` (system line, audit)
//! and is published live. Scope: `reply`.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use tsunagu_core::{ConversationId, ConversationStatus, Permission, Priority};
use tsunagu_inbox::state::{self, By, Change};
use tsunagu_inbox::LiveEvent;
use tsunagu_store::{conversations, labels};
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::conversations::{out, ConversationOut, LabelOut};
use super::extract::{ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConversationPatch {
    /// `open`, `pending`, `snoozed` (with `snoozed_until`) or `resolved`.
    #[schema(value_type = Option<String>)]
    pub status: Option<ConversationStatus>,
    /// RFC 3339, in the future: when a snoozed conversation opens again.
    pub snoozed_until: Option<String>,
    /// `urgent`, `high`, `normal` or `low`.
    #[schema(value_type = Option<String>)]
    pub priority: Option<Priority>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LabelRef {
    pub label_id: String,
}

fn conv_id(id: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(id).map_err(|_| ApiError::not_found())
}

async fn current(
    state: &AppState,
    auth: &ApiAuth,
    id: &ConversationId,
) -> Result<ConversationOut, ApiError> {
    let mut conn = read_conn(state).await?;
    let c = conversations::by_id(&mut conn, &auth.clinic, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let l = labels::of_conversations(&mut conn, &auth.clinic, &[c.id.as_str()])
        .await?
        .remove(&c.id)
        .unwrap_or_default();
    let clocks = tsunagu_inbox::sla::Clocks::load(&mut conn, &auth.clinic).await?;
    Ok(out(
        c,
        l,
        auth.can(Permission::ReadMessages),
        clocks.as_ref(),
        state.now_ms(),
    ))
}

fn publish(state: &AppState, auth: &ApiAuth, id: &ConversationId) {
    state.live.publish(LiveEvent {
        clinic_id: auth.clinic.as_str().to_owned(),
        conversation_id: id.as_str().to_owned(),
        kind: "conversation.updated",
    });
}

/// Change a conversation's state or priority.
///
/// Scope: `reply`. `snoozed` needs `snoozed_until` in the future; a patient's next message
/// reopens a pending, snoozed or resolved conversation. Each change is a line in the
/// conversation and an audit entry (`conversation.status`, `conversation.priority`).
#[utoipa::path(
    patch,
    path = "/api/v1/conversations/{id}",
    tag = "conversations",
    params(("id" = String, Path, description = "Conversation id")),
    request_body = ConversationPatch,
    responses(
        (status = 200, description = "The conversation as changed", body = ConversationOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such conversation in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_request` (status, snoozed_until, priority)", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ConversationPatch>,
) -> Result<Json<ConversationOut>, ApiError> {
    auth.require(Permission::Reply)?;
    let id = conv_id(&id)?;
    let now = state.now_ms();
    let until = body
        .snoozed_until
        .as_deref()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis())
                .ok()
                .filter(|t| *t > now)
                .ok_or_else(|| {
                    ApiError::invalid(
                        "snoozed_until",
                        "snoozed_until must be an RFC 3339 time in the future.",
                    )
                })
        })
        .transpose()?;
    let mut changes = Vec::new();
    match (body.status, until) {
        (Some(ConversationStatus::Snoozed), None) => {
            return Err(ApiError::invalid(
                "snoozed_until",
                "snoozing needs snoozed_until.",
            ))
        }
        (Some(ConversationStatus::Snoozed), u) => {
            changes.push(Change::Status(ConversationStatus::Snoozed, u))
        }
        (Some(s), None) => changes.push(Change::Status(s, None)),
        (_, Some(_)) => {
            return Err(ApiError::invalid(
                "snoozed_until",
                "snoozed_until goes with status snoozed.",
            ))
        }
        (None, None) => {}
    }
    changes.extend(body.priority.map(Change::Priority));
    if changes.is_empty() {
        return Err(ApiError::invalid("status", "send status or priority."));
    }
    let ip = ip.as_string();
    for change in changes {
        let by = By {
            actor: &auth.actor,
            staff_id: None,
            ip: ip.as_deref(),
        };
        if !state::change(&state.db, &auth.clinic, &id, change, by, now).await? {
            return Err(ApiError::not_found());
        }
    }
    publish(&state, &auth, &id);
    Ok(Json(current(&state, &auth, &id).await?))
}

/// The clinic's labels, by name.
///
/// Scope: `read_patients`.
#[utoipa::path(
    get,
    path = "/api/v1/labels",
    tag = "conversations",
    responses(
        (status = 200, description = "The clinic's labels", body = [LabelOut]),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
    )
)]
pub async fn list_labels(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<Vec<LabelOut>>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let mut conn = read_conn(&state).await?;
    let all = labels::list(&mut conn, &auth.clinic).await?;
    Ok(Json(all.into_iter().map(LabelOut::from).collect()))
}

/// Put one of the clinic's labels on a conversation.
///
/// Scope: `reply`. Audited as `conversation.label_add`. 404 when the conversation or the label
/// is not this clinic's; 200 with nothing changed when the label is already there.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/labels",
    tag = "conversations",
    params(("id" = String, Path, description = "Conversation id"), IdempotencyKey),
    request_body = LabelRef,
    responses(
        (status = 200, description = "The conversation with its labels", body = ConversationOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such conversation or label in this clinic", body = ErrorBody),
    )
)]
pub async fn add_label(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<LabelRef>,
) -> Result<Json<ConversationOut>, ApiError> {
    auth.require(Permission::Reply)?;
    let id = conv_id(&id)?;
    let mut conn = read_conn(&state).await?;
    let found = conversations::by_id(&mut conn, &auth.clinic, &id)
        .await?
        .is_some()
        && labels::get(&mut conn, &auth.clinic, &body.label_id)
            .await?
            .is_some();
    drop(conn);
    if !found {
        return Err(ApiError::not_found());
    }
    let ip = ip.as_string();
    let by = By {
        actor: &auth.actor,
        staff_id: None,
        ip: ip.as_deref(),
    };
    if state::label(
        &state.db,
        &auth.clinic,
        &id,
        &body.label_id,
        true,
        by,
        state.now_ms(),
    )
    .await?
    {
        publish(&state, &auth, &id);
    }
    Ok(Json(current(&state, &auth, &id).await?))
}

/// Take a label off a conversation.
///
/// Scope: `reply`. Audited as `conversation.label_remove`; 404 when it does not carry it.
#[utoipa::path(
    delete,
    path = "/api/v1/conversations/{id}/labels/{label_id}",
    tag = "conversations",
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("label_id" = String, Path, description = "Label id"),
    ),
    responses(
        (status = 204, description = "Taken off"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "The conversation does not carry that label", body = ErrorBody),
    )
)]
pub async fn remove_label(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    Path((id, label_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::Reply)?;
    let id = conv_id(&id)?;
    let ip = ip.as_string();
    let by = By {
        actor: &auth.actor,
        staff_id: None,
        ip: ip.as_deref(),
    };
    if !state::label(
        &state.db,
        &auth.clinic,
        &id,
        &label_id,
        false,
        by,
        state.now_ms(),
    )
    .await?
    {
        return Err(ApiError::not_found());
    }
    publish(&state, &auth, &id);
    Ok(StatusCode::NO_CONTENT)
}
