//! `POST /api/v1/conversations/{id}/messages`: queue a text reply (or an approved WhatsApp
//! template, media, buttons or a list); `Idempotency-Key` is honoured by `api::post`.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{Code, ConversationId, Permission, Refusal};
use tsunagu_inbox::reply::{queue_outgoing, queue_staff_reply, Author, Outgoing, ReplyOutcome};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::consent::SendBasis;
use tsunagu_store::{conversations, templates};
use utoipa::ToSchema;

use super::auth::{audit_queued, ApiAuth, Event};
use super::extract::{ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::messages::{message_out, MessageOut};
use super::read_conn;
use super::reply_content::{ButtonsSend, ListSend, MediaSend};
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// Exactly one of `text`, `template`, `media`, `buttons`, `list`.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct ReplyRequest {
    /// 1–5000 characters after trimming.
    #[schema(example = "明日10時でご予約をお取りしました。")]
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// An approved WhatsApp template of the conversation's channel: the one kind of message
    /// WhatsApp delivers outside the 24-hour service window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<TemplateSend>,
    /// A file by link: WhatsApp, Messenger, SMS (as MMS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media: Option<MediaSend>,
    /// A text with reply buttons: WhatsApp (1–3), Messenger (quick replies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub buttons: Option<ButtonsSend>,
    /// A WhatsApp list message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list: Option<ListSend>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct TemplateSend {
    /// The template's id (`GET /api/v1/channels/{id}/templates`).
    pub id: String,
    /// One value per variable, `{{1}}` first; each on one line.
    #[serde(default)]
    #[schema(example = json!(["山田", "3月1日 10:00"]))]
    pub params: Vec<String>,
}

/// What the request asks to send.
enum Content {
    Text(String),
    Template(TemplateSend),
    Prepared(Outgoing),
}

/// Queue a reply to the patient: a text, an approved WhatsApp template, media, buttons or a list.
///
/// Scope: `reply` (token scopes `reply`, `admin`). The message is stored as `queued` together
/// with its send job; the worker delivers it. Send an `Idempotency-Key` so a retry cannot queue
/// it twice. Audited as `api.message.reply`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/messages",
    tag = "messages",
    params(
        ("id" = String, Path, description = "Conversation id"),
        IdempotencyKey,
    ),
    request_body = ReplyRequest,
    responses(
        (status = 201, description = "Queued (or the replayed first response)", body = MessageOut),
        (status = 400, description = "`malformed_json`", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such conversation in this clinic", body = ErrorBody),
        (status = 422, description = "`empty_message`, `message_too_long`, `recipient_blocked`, `recipient_opted_out`, `recipient_bounced`, `outside_service_window` (WhatsApp: send a template), `template_invalid`, `unsupported_content` (the channel cannot carry it, or it breaks the provider's limits), `channel_disabled`, consent refusals, `invalid_request` (not exactly one of `text`, `template`, `media`, `buttons`, `list`)", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ReplyRequest>,
) -> Result<(StatusCode, Json<MessageOut>), ApiError> {
    auth.require(Permission::Reply)?;
    let conv_id = ConversationId::parse(&id).map_err(|_| ApiError::not_found())?;
    let content = content(body)?;
    let mut conn = read_conn(&state).await?;
    let conversation = conversations::by_id(&mut conn, &auth.clinic, &conv_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    drop(conn);

    let message = *send(&state, &auth, &conversation, content)
        .await?
        .queued()?;
    let message_id = message.id.clone();
    let ids = [message_id.as_str()];
    let event = Event {
        action: "api.message.reply",
        subject_type: "message",
        subject_ids: &ids,
    };
    audit_queued(&state, &auth, &ip, event).await;
    state.live.publish(LiveEvent {
        clinic_id: auth.clinic.to_string(),
        conversation_id: conversation.id.clone(),
        kind: "message.created",
    });
    Ok((StatusCode::CREATED, Json(message_out(message, Vec::new()))))
}

/// Exactly one kind of content, as the request asks.
fn content(body: ReplyRequest) -> Result<Content, ApiError> {
    let given = [
        body.text.is_some(),
        body.template.is_some(),
        body.media.is_some(),
        body.buttons.is_some(),
        body.list.is_some(),
    ];
    if given.iter().filter(|g| **g).count() != 1 {
        return Err(ApiError::invalid(
            "text",
            "Send exactly one of text, template, media, buttons or list.",
        ));
    }
    Ok(if let Some(text) = body.text {
        Content::Text(text)
    } else if let Some(t) = body.template {
        Content::Template(t)
    } else if let Some(m) = &body.media {
        Content::Prepared(m.outgoing())
    } else if let Some(b) = &body.buttons {
        Content::Prepared(b.outgoing())
    } else if let Some(l) = &body.list {
        Content::Prepared(l.outgoing())
    } else {
        return Err(ApiError::invalid("text", "Nothing to send."));
    })
}

/// Queues the content; a template is looked up in this clinic.
async fn send(
    state: &AppState,
    auth: &ApiAuth,
    conversation: &conversations::Conversation,
    content: Content,
) -> anyhow::Result<ReplyOutcome> {
    let now = state.now_ms();
    let t = match content {
        Content::Text(text) => {
            return queue_staff_reply(&state.db, &auth.clinic, conversation, None, &text, now).await
        }
        Content::Template(t) => t,
        Content::Prepared(out) => {
            let basis = SendBasis::ReplyToPatient;
            let (db, clinic) = (&state.db, &auth.clinic);
            return queue_outgoing(db, clinic, conversation, Author::Api, out, basis, now).await;
        }
    };
    let mut conn = state.db.pool().acquire().await?;
    let found = templates::by_id(&mut conn, &auth.clinic, &t.id).await?;
    drop(conn);
    let Some(template) = found else {
        let why = "no such template on this channel";
        return Ok(ReplyOutcome::Refused(
            Refusal::new(Code::TemplateInvalid).detail(why),
        ));
    };
    let out = match super::templates::outgoing(&template, &conversation.channel_id, t.params) {
        Ok(o) => o,
        Err(why) => return Ok(ReplyOutcome::Refused(why)),
    };
    let basis = SendBasis::ReplyToPatient;
    queue_outgoing(
        &state.db,
        &auth.clinic,
        conversation,
        Author::Api,
        out,
        basis,
        now,
    )
    .await
}
