//! 予約送信 through the API (issue 11 item 9): a conversation's scheduled messages
//! (`GET /api/v1/conversations/{id}/scheduled`, `…/{scheduled_id}`), a new one (`POST`), a
//! change of text, purpose or time while it is still scheduled (`PATCH`) and a cancel
//! (`POST …/{scheduled_id}/cancel`). The same rules as the conversation page
//! (`web/src/ui/inbox/scheduled.rs`, `tsunagu_inbox::scheduled`): scope `reply`, the purpose
//! within the token's scopes, a time in the future within a year; at its time the job sends it
//! through the checks of a reply sent now, and a refusal then shows in `state`/`refusal_code`.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{Code, ConversationId, Permission, Refusal};
use tsunagu_inbox::scheduled::{self, Draft, Scheduled};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::consent::Purpose;
use tsunagu_store::{clinics, conversations};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_queued, audit_read, ApiAuth, Event};
use super::extract::{page_limit, rfc3339, ApiJson, ApiQuery, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use super::refusal;
use crate::client_ip::ClientIp;
use crate::ui::inbox::view::Zone;
use crate::{ApiError, AppState};

/// A scheduled message and what became of it.
#[derive(Serialize, ToSchema)]
pub struct ScheduledOut {
    pub id: String,
    pub conversation_id: String,
    /// The text to send.
    pub text: String,
    /// The consent purpose it is sent for (`care`, `reminders`, …); null: a reply in the
    /// conversation.
    pub purpose: Option<String>,
    /// When it leaves, RFC 3339 UTC.
    pub send_at: String,
    /// `scheduled` (may still be changed or cancelled), `sending`, `sent`, `refused` (see
    /// `refusal_code`) or `cancelled`.
    pub state: String,
    /// Why it was refused at its time (`recipient_opted_out`, `outside_service_window`, …).
    pub refusal_code: Option<String>,
    /// The refusal in English, for developers.
    pub refusal_message: Option<String>,
    /// The message it became once sent (`GET /api/v1/conversations/{id}/messages`).
    pub message_id: Option<String>,
    /// The staff member who scheduled it; null when an API token did.
    pub author_staff_id: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// RFC 3339 UTC.
    pub updated_at: String,
}

fn out(s: Scheduled) -> ScheduledOut {
    let refusal_message = s
        .refusal_code
        .as_deref()
        .and_then(Code::parse)
        .map(|c| refusal::message(&Refusal::new(c)));
    ScheduledOut {
        id: s.id,
        conversation_id: s.conversation_id,
        text: s.body,
        purpose: s.purpose,
        send_at: rfc3339(s.send_at),
        state: s.state,
        refusal_code: s.refusal_code,
        refusal_message,
        message_id: s.message_id,
        author_staff_id: s.author_staff_id,
        created_at: rfc3339(s.created_at),
        updated_at: rfc3339(s.updated_at),
    }
}

#[derive(Serialize, ToSchema)]
pub struct ScheduledList {
    /// Those still to leave first (soonest first), then the rest newest first.
    pub items: Vec<ScheduledOut>,
}

/// When: either `send_at`, or `date` and `time` on the clinic's calendar (as the conversation
/// page takes it).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ScheduleRequest {
    /// 1–5000 characters after trimming.
    #[schema(example = "明日10時のご予約をお待ちしております。")]
    pub text: String,
    /// A consent purpose (`care`, `reminders`, `health_information`, `marketing`,
    /// `photo_publication`) within the token's scopes; omitted: a reply in the conversation.
    #[serde(default)]
    pub purpose: Option<String>,
    /// RFC 3339 with an offset, in the future and at most a year ahead.
    #[serde(default)]
    #[schema(example = "2026-04-01T09:30:00+09:00")]
    pub send_at: Option<String>,
    /// Clinic-local `YYYY-MM-DD` (with `time`, instead of `send_at`).
    #[serde(default)]
    pub date: Option<String>,
    /// Clinic-local `HH:MM` (with `date`).
    #[serde(default)]
    pub time: Option<String>,
}

/// What to change; what is omitted stays.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SchedulePatch {
    #[serde(default)]
    pub text: Option<String>,
    /// A consent purpose, or `""` to make it a reply in the conversation.
    #[serde(default)]
    pub purpose: Option<String>,
    /// RFC 3339 with an offset (or `date` and `time`).
    #[serde(default)]
    pub send_at: Option<String>,
    #[serde(default)]
    pub date: Option<String>,
    #[serde(default)]
    pub time: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// 1–100, default 50.
    pub limit: Option<i64>,
}

fn conv_id(id: &str) -> Result<ConversationId, ApiError> {
    ConversationId::parse(id).map_err(|_| ApiError::not_found())
}

/// The purpose asked for, if the token's scopes may send it; `""`/absent: a reply.
fn purpose(auth: &ApiAuth, code: Option<&str>) -> Result<Option<Purpose>, ApiError> {
    let code = code.map(str::trim).unwrap_or("");
    if code.is_empty() {
        return Ok(None);
    }
    let p = Purpose::parse(code).ok_or_else(|| {
        Refusal::new(Code::InvalidPurpose).detail(format!("Unknown purpose `{code}`."))
    })?;
    if !p.sent_with().iter().any(|perm| auth.can(*perm)) {
        let why = format!("This token may not send `{code}` messages.");
        return Err(Refusal::new(Code::ScopeForbidsPurpose).detail(why).into());
    }
    Ok(Some(p))
}

/// `send_at`, or `date` + `time` in the clinic's zone; `None` when none was given.
fn when(
    zone: Zone,
    send_at: Option<&str>,
    date: Option<&str>,
    time: Option<&str>,
) -> Result<Option<i64>, ApiError> {
    let bad = |why: &str| -> ApiError {
        Refusal::new(Code::InvalidScheduleTime)
            .detail(why.to_owned())
            .into()
    };
    match (send_at, date, time) {
        (None, None, None) => Ok(None),
        (Some(s), None, None) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.timestamp_millis()))
            .map_err(|_| bad("send_at must be RFC 3339 with an offset.")),
        (None, Some(d), Some(t)) => zone
            .parse_local(d.trim(), t.trim())
            .map(Some)
            .ok_or_else(|| bad("date must be YYYY-MM-DD and time HH:MM, clinic-local.")),
        _ => Err(bad("Give either send_at, or date and time.")),
    }
}

async fn zone_of(state: &AppState, auth: &ApiAuth) -> Result<Zone, ApiError> {
    let mut conn = read_conn(state).await?;
    let clinic = clinics::by_id(&mut conn, &auth.clinic)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Zone::of(&clinic))
}

/// The conversation, 404 unless it is this clinic's.
async fn conversation(
    state: &AppState,
    auth: &ApiAuth,
    id: &str,
) -> Result<ConversationId, ApiError> {
    let id = conv_id(id)?;
    let mut conn = read_conn(state).await?;
    conversations::by_id(&mut conn, &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(id)
}

async fn one(
    state: &AppState,
    auth: &ApiAuth,
    conv: &ConversationId,
    sid: &str,
) -> Result<Scheduled, ApiError> {
    let mut conn = read_conn(state).await?;
    scheduled::find(&mut conn, &auth.clinic, conv, sid)
        .await?
        .ok_or_else(ApiError::not_found)
}

async fn changed(
    state: &AppState,
    auth: &ApiAuth,
    ip: &ClientIp,
    action: &'static str,
    conv: &ConversationId,
    sid: &str,
) {
    let ids = [conv.as_str(), sid];
    let event = Event {
        action,
        subject_type: "conversation",
        subject_ids: &ids,
    };
    audit_queued(state, auth, ip, event).await;
    state.live.publish(LiveEvent {
        clinic_id: auth.clinic.to_string(),
        conversation_id: conv.as_str().to_owned(),
        kind: "conversation.updated",
    });
}

async fn audit_seen(
    state: &AppState,
    auth: &ApiAuth,
    ip: &ClientIp,
    conv: &ConversationId,
) -> Result<(), ApiError> {
    let ids = [conv.as_str()];
    let event = Event {
        action: "api.conversation.read",
        subject_type: "conversation",
        subject_ids: &ids,
    };
    audit_read(state, auth, ip, event).await
}

/// List a conversation's scheduled messages.
///
/// Scope: `reply`. Those still to leave first (soonest first), then those sent, refused or
/// cancelled, newest first. Audited as `api.conversation.read`.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/scheduled",
    tag = "messages",
    params(("id" = String, Path, description = "Conversation id"), ListParams),
    responses(
        (status = 200, description = "The conversation's scheduled messages", body = ScheduledList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such conversation in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_limit`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiQuery(p): ApiQuery<ListParams>,
) -> Result<Json<ScheduledList>, ApiError> {
    auth.require(Permission::Reply)?;
    let limit = page_limit(p.limit)?;
    let conv = conversation(&state, &auth, &id).await?;
    let mut conn = read_conn(&state).await?;
    let rows = scheduled::list(&mut conn, &auth.clinic, &conv, limit).await?;
    drop(conn);
    audit_seen(&state, &auth, &ip, &conv).await?;
    Ok(Json(ScheduledList {
        items: rows.into_iter().map(out).collect(),
    }))
}

/// Read one scheduled message.
///
/// Scope: `reply`. Its `state` tells whether it left, and `refusal_code` why not.
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/scheduled/{scheduled_id}",
    tag = "messages",
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("scheduled_id" = String, Path, description = "Scheduled message id"),
    ),
    responses(
        (status = 200, description = "The scheduled message", body = ScheduledOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such scheduled message in this conversation of this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Json<ScheduledOut>, ApiError> {
    auth.require(Permission::Reply)?;
    let conv = conversation(&state, &auth, &id).await?;
    let row = one(&state, &auth, &conv, &sid).await?;
    audit_seen(&state, &auth, &ip, &conv).await?;
    Ok(Json(out(row)))
}

/// Schedule a message in a conversation.
///
/// Scope: `reply` (and, for a purpose, a scope that may send it). A reply in the conversation,
/// or a message for a consent `purpose`, to leave at `send_at` or at `date` `time` on the
/// clinic's calendar. At its time it goes through the checks of a message sent now (consent,
/// reachability, the service window); a refusal then shows in `state` and `refusal_code`.
/// Audited as `api.message.schedule`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/scheduled",
    tag = "messages",
    params(("id" = String, Path, description = "Conversation id"), IdempotencyKey),
    request_body = ScheduleRequest,
    responses(
        (status = 201, description = "Scheduled (or the replayed first response)", body = ScheduledOut),
        (status = 400, description = "`malformed_json`", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`forbidden`: the token lacks `reply`; `scope_forbids_purpose`", body = ErrorBody),
        (status = 404, description = "No such conversation in this clinic", body = ErrorBody),
        (status = 422, description = "`empty_message`, `message_too_long`, `invalid_purpose`, `invalid_schedule_time`, `scheduled_time_past`, `scheduled_too_far`", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ScheduleRequest>,
) -> Result<(StatusCode, Json<ScheduledOut>), ApiError> {
    auth.require(Permission::Reply)?;
    let conv = conversation(&state, &auth, &id).await?;
    let purpose = purpose(&auth, body.purpose.as_deref())?;
    let zone = zone_of(&state, &auth).await?;
    let send_at = when(
        zone,
        body.send_at.as_deref(),
        body.date.as_deref(),
        body.time.as_deref(),
    )?
    .ok_or_else(|| {
        ApiError::from(
            Refusal::new(Code::InvalidScheduleTime).detail("Give send_at, or date and time."),
        )
    })?;
    let draft = Draft {
        body: &body.text,
        purpose,
        send_at,
    };
    let now = state.now_ms();
    let sid = scheduled::schedule(&state.db, &auth.clinic, &conv, None, draft, now).await??;
    let row = one(&state, &auth, &conv, &sid).await?;
    changed(&state, &auth, &ip, "api.message.schedule", &conv, &sid).await;
    Ok((StatusCode::CREATED, Json(out(row))))
}

/// Change a scheduled message.
///
/// Scope: `reply`. Its text, purpose or time, while it is still `scheduled`; once it left,
/// was refused or cancelled: `scheduled_not_editable`, and nothing changes. Audited as
/// `api.message.schedule_change`.
#[utoipa::path(
    patch,
    path = "/api/v1/conversations/{id}/scheduled/{scheduled_id}",
    tag = "messages",
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("scheduled_id" = String, Path, description = "Scheduled message id"),
    ),
    request_body = SchedulePatch,
    responses(
        (status = 200, description = "The scheduled message as changed", body = ScheduledOut),
        (status = 400, description = "`malformed_json`", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`forbidden`: the token lacks `reply`; `scope_forbids_purpose`", body = ErrorBody),
        (status = 404, description = "No such scheduled message in this conversation of this clinic", body = ErrorBody),
        (status = 422, description = "`scheduled_not_editable`, `empty_message`, `message_too_long`, `invalid_purpose`, `invalid_schedule_time`, `scheduled_time_past`, `scheduled_too_far`", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    Path((id, sid)): Path<(String, String)>,
    ApiJson(body): ApiJson<SchedulePatch>,
) -> Result<Json<ScheduledOut>, ApiError> {
    auth.require(Permission::Reply)?;
    let conv = conversation(&state, &auth, &id).await?;
    let row = one(&state, &auth, &conv, &sid).await?;
    if row.state != "scheduled" {
        return Err(not_editable());
    }
    let purpose = match body.purpose.as_deref() {
        Some(code) => purpose(&auth, Some(code))?,
        None => row.purpose.as_deref().and_then(Purpose::parse),
    };
    let zone = zone_of(&state, &auth).await?;
    let send_at = when(
        zone,
        body.send_at.as_deref(),
        body.date.as_deref(),
        body.time.as_deref(),
    )?
    .unwrap_or(row.send_at);
    let draft = Draft {
        body: body.text.as_deref().unwrap_or(&row.body),
        purpose,
        send_at,
    };
    let now = state.now_ms();
    scheduled::edit(&state.db, &auth.clinic, &conv, &sid, draft, now)
        .await?
        .ok_or_else(ApiError::not_found)??;
    let row = one(&state, &auth, &conv, &sid).await?;
    changed(
        &state,
        &auth,
        &ip,
        "api.message.schedule_change",
        &conv,
        &sid,
    )
    .await;
    Ok(Json(out(row)))
}

/// Cancel a scheduled message.
///
/// Scope: `reply`. Only while it is still `scheduled` (else `scheduled_not_editable`); it
/// stays listed as `cancelled`. Audited as `api.message.schedule_cancel`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/scheduled/{scheduled_id}/cancel",
    tag = "messages",
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("scheduled_id" = String, Path, description = "Scheduled message id"),
        IdempotencyKey,
    ),
    responses(
        (status = 200, description = "Cancelled (or the replayed first response)", body = ScheduledOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such scheduled message in this conversation of this clinic", body = ErrorBody),
        (status = 422, description = "`scheduled_not_editable`", body = ErrorBody),
    )
)]
pub async fn cancel(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    Path((id, sid)): Path<(String, String)>,
) -> Result<Json<ScheduledOut>, ApiError> {
    auth.require(Permission::Reply)?;
    let conv = conversation(&state, &auth, &id).await?;
    let now = state.now_ms();
    scheduled::cancel(&state.db, &auth.clinic, &conv, &sid, now)
        .await?
        .ok_or_else(ApiError::not_found)??;
    let row = one(&state, &auth, &conv, &sid).await?;
    changed(
        &state,
        &auth,
        &ip,
        "api.message.schedule_cancel",
        &conv,
        &sid,
    )
    .await;
    Ok(Json(out(row)))
}

fn not_editable() -> ApiError {
    Refusal::new(Code::ScheduledNotEditable)
        .detail("It has already left, been refused or cancelled.")
        .into()
}
