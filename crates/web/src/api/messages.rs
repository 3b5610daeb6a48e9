//! `GET /api/v1/conversations/{id}/messages` and `GET /api/v1/attachments/{id}`.
use std::collections::HashMap;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tsunagu_core::{AttachmentId, ClinicId, ConversationId, Permission};
use tsunagu_store::conversations::{self, Message};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_read, ApiAuth, Event};
use super::extract::{
    decode_cursor, encode_cursor, page_limit, rfc3339, ApiQuery, ErrorBody, IdPath,
};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AttachmentRef {
    pub id: String,
    pub content_type: String,
    /// Download it here with the same token.
    #[schema(example = "/api/v1/attachments/0196…")]
    pub url: String,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct MessageOut {
    pub id: String,
    /// `in` (from the patient) or `out`.
    pub direction: String,
    /// `text`, `image`, `video`, `audio`, `file`, `location`, `sticker`, `postback`, …
    pub kind: String,
    /// Null for non-text messages and for messages the patient unsent.
    pub text: Option<String>,
    /// `received`, `queued`, `sending`, `sent`, `delivered`, `read`, `failed`, `in_doubt`.
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
    /// `patient`, `staff`, `automation` or `system`.
    pub author_kind: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The patient took the message back; its body and attachments are gone.
    pub unsent: bool,
    pub attachments: Vec<AttachmentRef>,
    /// What red-flag triage found in a patient's text (null when nothing was assessed: our
    /// messages, non-text, messages from before triage).
    pub triage: Option<TriageOut>,
}

/// Red-flag triage of one patient message (local, explainable; never a diagnosis).
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TriageOut {
    /// A red flag: the conversation was made `urgent` and the on-call rota alerted.
    pub urgent: bool,
    /// A crisis hit (suicidal intent): the crisis lines were sent instead of the guidance.
    pub crisis: bool,
    /// The categories found (`chest_pain`, `breathing`, …), in the order found.
    pub categories: Vec<String>,
    /// The words that matched.
    pub phrases: Vec<String>,
    /// `positive`, `neutral` or `negative`; for sorting only, never clinical.
    pub sentiment: String,
}

impl From<&tsunagu_safety::hits::Triage> for TriageOut {
    fn from(t: &tsunagu_safety::hits::Triage) -> Self {
        TriageOut {
            urgent: t.urgent,
            crisis: t.crisis,
            categories: t.categories(),
            phrases: t.phrases(),
            sentiment: t.sentiment.clone(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessagePage {
    pub items: Vec<MessageOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListMessages {
    /// 1–100, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

pub fn message_out(m: Message, attachments: Vec<AttachmentRef>) -> MessageOut {
    let unsent = m.unsent_at.is_some();
    MessageOut {
        text: if unsent { None } else { m.body },
        id: m.id,
        direction: m.direction,
        kind: m.kind,
        status: m.status,
        failure_code: m.failure_code,
        failure_reason: m.failure_reason,
        author_kind: m.author_kind,
        created_at: rfc3339(m.created_at),
        unsent,
        attachments,
        triage: None,
    }
}

/// The attachments of a page of messages in one query: `(message_id, reference)`.
async fn attachments_of(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    messages: &[Message],
) -> anyhow::Result<Vec<(String, AttachmentRef)>> {
    let ids: Vec<&str> = messages.iter().map(|m| m.id.as_str()).collect();
    let rows = tsunagu_store::attachments::attachments_of_messages(conn, clinic, &ids).await?;
    Ok(rows
        .into_iter()
        .map(|(id, message_id, content_type)| {
            let url = format!("/api/v1/attachments/{id}");
            (
                message_id,
                AttachmentRef {
                    id,
                    content_type,
                    url,
                },
            )
        })
        .collect())
}

/// List a conversation's messages, oldest first.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`). Each page is one audit event
/// (`api.conversation.read`).
#[utoipa::path(
    get,
    path = "/api/v1/conversations/{id}/messages",
    tag = "messages",
    params(("id" = String, Path, description = "Conversation id"), ListMessages),
    responses(
        (status = 200, description = "A page of messages", body = MessagePage),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
        (status = 404, description = "No such conversation in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_limit`, `invalid_cursor`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<ListMessages>,
) -> Result<Json<MessagePage>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let conv_id = ConversationId::parse(&id).map_err(|_| ApiError::not_found())?;
    let limit = page_limit(q.limit)? as usize;
    let after: Option<(i64, String)> = decode_cursor(q.cursor.as_deref())?;
    let mut conn = read_conn(&state).await?;
    conversations::by_id(&mut conn, &auth.clinic, &conv_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let cursor = after.as_ref().map(|(at, id)| (*at, id.as_str()));
    let mut rows =
        conversations::messages(&mut conn, &auth.clinic, &conv_id, cursor, limit as i64 + 1)
            .await?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|m| encode_cursor(&(m.created_at, &m.id)))
    } else {
        None
    };
    let mut by_message: HashMap<String, Vec<AttachmentRef>> = HashMap::new();
    for (message_id, a) in attachments_of(&mut conn, &auth.clinic, &rows).await? {
        by_message.entry(message_id).or_default().push(a);
    }
    let ids: Vec<&str> = rows.iter().map(|m| m.id.as_str()).collect();
    let triage = tsunagu_safety::hits::of_messages(&mut conn, &auth.clinic, &ids).await?;
    drop(conn);

    let event = Event {
        action: "api.conversation.read",
        subject_type: "conversation",
        subject_ids: &[conv_id.as_str()],
    };
    audit_read(&state, &auth, &ip, event).await?;
    let items = rows
        .into_iter()
        .map(|m| {
            let attachments = by_message.remove(&m.id).unwrap_or_default();
            let t = triage.get(&m.id).map(TriageOut::from);
            MessageOut {
                triage: t,
                ..message_out(m, attachments)
            }
        })
        .collect();
    Ok(Json(MessagePage { items, next_cursor }))
}

/// Download an attachment's bytes, with its content type.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`). Audited as
/// `api.attachment.read`.
#[utoipa::path(
    get,
    path = "/api/v1/attachments/{id}",
    tag = "messages",
    params(("id" = String, Path, description = "Attachment id")),
    responses(
        (status = 200, description = "The bytes, with the stored Content-Type", content_type = "application/octet-stream", body = String),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
        (status = 404, description = "No such attachment in this clinic", body = ErrorBody),
    )
)]
pub async fn attachment(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let att_id = AttachmentId::parse(&id).map_err(|_| ApiError::not_found())?;
    let mut conn = read_conn(&state).await?;
    let att = conversations::attachment(&mut conn, &auth.clinic, att_id.as_str())
        .await?
        .ok_or_else(ApiError::not_found)?;
    drop(conn);
    let event = Event {
        action: "api.attachment.read",
        subject_type: "attachment",
        subject_ids: &[att.id.as_str()],
    };
    audit_read(&state, &auth, &ip, event).await?;
    let content_type = HeaderValue::from_str(&att.content_type)
        .unwrap_or_else(|_| HeaderValue::from_static("application/octet-stream"));
    let headers = [
        (header::CONTENT_TYPE, content_type),
        (
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        ),
        (
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment"),
        ),
    ];
    Ok((StatusCode::OK, headers, Body::from(att.data)).into_response())
}
