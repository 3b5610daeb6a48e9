//! `GET /api/v1/conversations`: the clinic's inbox through the views' one filter
//! (`conversation_filter`), urgent first then newest unless `sort=newest`.
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{ConversationStatus, Permission, Priority};
use tsunagu_inbox::sla::{Clock, Clocks, Level, ServiceLevel};
use tsunagu_store::conversations::filter::Cursor;
use tsunagu_store::conversations::Conversation;
use tsunagu_store::labels::{self, Label};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_read, ApiAuth, Event};
use super::extract::{decode_cursor, encode_cursor, page_limit, rfc3339, ApiQuery, ErrorBody};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::conversation_filter::FilterParams;
use crate::{ApiError, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// 1–100, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page (of the same filter and sort).
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LabelOut {
    pub id: String,
    pub name: String,
    /// A palette name: red, orange, yellow, green, blue, purple, gray.
    pub color: String,
}

impl From<Label> for LabelOut {
    fn from(l: Label) -> Self {
        LabelOut {
            id: l.id,
            name: l.name,
            color: l.color,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConversationOut {
    pub id: String,
    pub channel_id: String,
    /// `direct`, `group` or `room`.
    pub kind: String,
    pub patient_id: Option<String>,
    pub title: Option<String>,
    /// `open`, `pending`, `snoozed` or `resolved`; a snoozed conversation whose time has come is
    /// `open`.
    #[schema(value_type = String)]
    pub status: ConversationStatus,
    /// RFC 3339 UTC, while snoozed.
    pub snoozed_until: Option<String>,
    /// `urgent`, `high`, `normal` or `low`.
    #[schema(value_type = String)]
    pub priority: Priority,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub labels: Vec<LabelOut>,
    pub unread_count: i64,
    /// RFC 3339 UTC.
    pub last_message_at: String,
    /// Only for tokens that may read message bodies (`read_messages`); omitted otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message_preview: Option<String>,
    /// The clinic's service-level clocks (set on the サービスレベル settings page), counted in
    /// opening hours; null when none runs (no target, resolved, snoozed, nobody waiting).
    pub service_level: Option<ServiceLevelOut>,
}

/// Where a conversation stands against the clinic's service levels.
#[derive(Serialize, ToSchema)]
pub struct ServiceLevelOut {
    /// RFC 3339 UTC: when the first staff reply is due (the patient's earliest unanswered
    /// message plus the first-response target in opening time); null when that clock does
    /// not run (answered, pending, or no target).
    pub first_response_due_at: Option<String>,
    /// RFC 3339 UTC: when resolving it is due (from when the patient opened it); null when
    /// that clock does not run.
    pub resolution_due_at: Option<String>,
    /// The worse of the two: `ok`, `warning` (within the clinic's warning before a deadline)
    /// or `breached`.
    #[schema(value_type = String)]
    pub state: Level,
}

impl ServiceLevelOut {
    fn of(sl: &ServiceLevel) -> Self {
        let at = |c: Option<Clock>| c.map(|c| rfc3339(c.due_at.timestamp_millis()));
        ServiceLevelOut {
            first_response_due_at: at(sl.first_response),
            resolution_due_at: at(sl.resolution),
            state: sl.level(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct ConversationPage {
    pub items: Vec<ConversationOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

pub fn out(
    c: Conversation,
    labels: Vec<Label>,
    with_preview: bool,
    clocks: Option<&Clocks>,
    now_ms: i64,
) -> ConversationOut {
    let status = ConversationStatus::effective(&c.status, c.snoozed_until, now_ms);
    let service_level = clocks
        .and_then(|k| k.of(&c, now_ms))
        .map(|sl| ServiceLevelOut::of(&sl));
    ConversationOut {
        service_level,
        snoozed_until: (status == ConversationStatus::Snoozed)
            .then_some(c.snoozed_until)
            .flatten()
            .map(rfc3339),
        id: c.id,
        channel_id: c.channel_id,
        kind: c.kind,
        patient_id: c.patient_id,
        title: c.title,
        status,
        priority: Priority::from_i64(c.priority),
        assignee_id: c.assignee_id,
        team_id: c.team_id,
        labels: labels.into_iter().map(LabelOut::from).collect(),
        unread_count: c.unread_count,
        last_message_at: rfc3339(c.last_message_at),
        last_message_preview: if with_preview {
            c.last_message_preview
        } else {
            None
        },
    }
}

/// List conversations (every state unless `status` says which), urgent first then newest.
///
/// Scope: `read_patients` (token scopes `read`, `reply`, `broadcast`, `admin`). The last
/// message preview is included only with `read_messages` as well. Each page is one audit event
/// (`api.conversations.list`) naming the conversations returned.
#[utoipa::path(
    get,
    path = "/api/v1/conversations",
    tag = "conversations",
    params(FilterParams, PageParams),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationPage),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 422, description = "`invalid_request` (a filter parameter), `invalid_limit`, `invalid_cursor`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiQuery(params): ApiQuery<FilterParams>,
    ApiQuery(q): ApiQuery<PageParams>,
) -> Result<Json<ConversationPage>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let limit = page_limit(q.limit)?;
    let cursor = decode_cursor::<(i64, i64, String)>(q.cursor.as_deref())?
        .map(|(priority, at, id)| Cursor { priority, at, id });
    let mut conn = read_conn(&state).await?;
    let tz = super::clinic_zone(&mut conn, &auth.clinic).await?;
    // Integrators listed every state before states had views: no `status` still means all.
    let params = FilterParams {
        status: params.status.or(Some("all".into())),
        ..params
    };
    let filter = params.to_filter(None, tz).map_err(|bad| {
        ApiError::invalid(
            bad.0,
            "this filter parameter does not read (see the API document).",
        )
    })?;
    let now = state.now_ms();
    let mut rows = filter
        .list(&mut conn, &auth.clinic, now, cursor.as_ref(), limit + 1)
        .await?;
    let next_cursor = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|c| {
            let lead = Cursor::after_in(c, filter.sort).priority;
            encode_cursor(&(lead, c.last_message_at, &c.id))
        })
    } else {
        None
    };
    let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
    let mut tags = labels::of_conversations(&mut conn, &auth.clinic, &ids).await?;
    let clocks = Clocks::load(&mut conn, &auth.clinic).await?;
    drop(conn);
    if !ids.is_empty() {
        let event = Event {
            action: "api.conversations.list",
            subject_type: "conversation",
            subject_ids: &ids,
        };
        audit_read(&state, &auth, &ip, event).await?;
    }
    let with_preview = auth.can(Permission::ReadMessages);
    let items = rows
        .into_iter()
        .map(|c| {
            let l = tags.remove(&c.id).unwrap_or_default();
            out(c, l, with_preview, clocks.as_ref(), now)
        })
        .collect();
    Ok(Json(ConversationPage { items, next_cursor }))
}
