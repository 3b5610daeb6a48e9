//! `GET /api/v1/conversations`: the clinic's inbox, newest activity first.
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{Permission, StaffId};
use tsunagu_store::conversations::{self, Conversation, InboxFilter};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_read, ApiAuth, Event};
use super::extract::{decode_cursor, encode_cursor, page_limit, rfc3339, ApiQuery, ErrorBody};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

const STATUSES: [&str; 4] = ["open", "pending", "snoozed", "resolved"];

/// With a `status` filter, at most this many conversations are scanned per request; a page may
/// then hold fewer than `limit` items while `next_cursor` still points further on.
const STATUS_SCAN_BUDGET: usize = 1000;

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListConversations {
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: Option<String>,
    /// A staff id, or `none` for unassigned conversations.
    pub assignee: Option<String>,
    /// 1–100, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationOut {
    pub id: String,
    pub channel_id: String,
    /// `direct`, `group` or `room`.
    pub kind: String,
    pub patient_id: Option<String>,
    pub title: Option<String>,
    pub status: String,
    pub assignee_id: Option<String>,
    pub unread_count: i64,
    /// RFC 3339 UTC.
    pub last_message_at: String,
    /// Only for tokens that may read message bodies (`read_messages`); omitted otherwise.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_message_preview: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConversationPage {
    pub items: Vec<ConversationOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

fn out(c: Conversation, with_preview: bool) -> ConversationOut {
    ConversationOut {
        id: c.id,
        channel_id: c.channel_id,
        kind: c.kind,
        patient_id: c.patient_id,
        title: c.title,
        status: c.status,
        assignee_id: c.assignee_id,
        unread_count: c.unread_count,
        last_message_at: rfc3339(c.last_message_at),
        last_message_preview: if with_preview {
            c.last_message_preview
        } else {
            None
        },
    }
}

/// List conversations, most recent activity first.
///
/// Scope: `read_patients` (token scopes `read`, `reply`, `broadcast`, `admin`). The last
/// message preview is included only with `read_messages` as well. Each page is one audit event
/// (`api.conversations.list`) naming the conversations returned.
#[utoipa::path(
    get,
    path = "/api/v1/conversations",
    tag = "conversations",
    params(ListConversations),
    responses(
        (status = 200, description = "A page of conversations", body = ConversationPage),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 422, description = "`invalid_request` (status, assignee), `invalid_limit`, `invalid_cursor`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiQuery(q): ApiQuery<ListConversations>,
) -> Result<Json<ConversationPage>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let limit = page_limit(q.limit)? as usize;
    let mut scan_cursor: Option<(i64, String)> = decode_cursor(q.cursor.as_deref())?;
    let status = q.status.as_deref().filter(|s| !s.is_empty());
    if status.is_some_and(|s| !STATUSES.contains(&s)) {
        return Err(ApiError::invalid(
            "status",
            "status must be open, pending, snoozed or resolved.",
        ));
    }
    let assignee = match q.assignee.as_deref().filter(|s| !s.is_empty()) {
        None => None,
        Some("none") => Some(None),
        Some(s) => Some(Some(StaffId::parse(s).map_err(|_| {
            ApiError::invalid("assignee", "assignee must be a staff id or none.")
        })?)),
    };
    let filter = match &assignee {
        None => InboxFilter::All,
        Some(None) => InboxFilter::Unassigned,
        Some(Some(s)) => InboxFilter::AssignedTo(s.as_str()),
    };

    // One row beyond the page tells whether there is a next page. The store filters by clinic
    // and assignee; a status filter is applied here over a bounded scan.
    let want = limit + 1;
    let batch = if status.is_some() { 200 } else { want };
    let mut conn = read_conn(&state).await?;
    let mut rows: Vec<Conversation> = Vec::new();
    let mut scanned = 0usize;
    let mut exhausted = false;
    while rows.len() < want {
        let cursor = scan_cursor.as_ref().map(|(at, id)| (*at, id.as_str()));
        let fetched =
            conversations::list(&mut conn, &auth.clinic, filter, cursor, batch as i64).await?;
        let n = fetched.len();
        for c in fetched {
            scanned += 1;
            scan_cursor = Some((c.last_message_at, c.id.clone()));
            if status.is_none_or(|s| c.status == s) {
                rows.push(c);
                if rows.len() == want {
                    break;
                }
            }
        }
        if n < batch {
            exhausted = true;
            break;
        }
        if scanned >= STATUS_SCAN_BUDGET {
            break;
        }
    }
    drop(conn);

    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last()
            .map(|c| encode_cursor(&(c.last_message_at, &c.id)))
    } else if exhausted {
        None
    } else {
        scan_cursor.map(|k| encode_cursor(&k))
    };

    if !rows.is_empty() {
        let ids: Vec<&str> = rows.iter().map(|c| c.id.as_str()).collect();
        let event = Event {
            action: "api.conversations.list",
            subject_type: "conversation",
            subject_ids: &ids,
        };
        audit_read(&state, &auth, &ip, event).await?;
    }
    let with_preview = auth.can(Permission::ReadMessages);
    let items = rows.into_iter().map(|c| out(c, with_preview)).collect();
    Ok(Json(ConversationPage { items, next_cursor }))
}
