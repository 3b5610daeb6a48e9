//! `POST /api/v1/conversations/{id}/messages`: queue a text reply (or an approved WhatsApp
//! template), at most once per `Idempotency-Key`.
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::{ConversationId, Permission};
use tsunagu_inbox::reply::{
    queue_outgoing, queue_staff_reply, Author, Outgoing, ReplyOutcome, ReplyRefused,
};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::consent::SendBasis;
use tsunagu_privacy::crypto::sha256_hex;
use tsunagu_store::{conversations, templates};
use utoipa::ToSchema;

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{ApiJson, ErrorBody, IdPath};
use super::idempotency::{self, Claim, KeyScope};
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

fn json_response(status: StatusCode, body: String, replayed: bool) -> Response {
    let mut res = (
        status,
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response();
    if replayed {
        res.headers_mut()
            .insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    res
}

/// Queue a reply to the patient: a text, an approved WhatsApp template, media, buttons or a list.
///
/// Scope: `reply` (token scopes `reply`, `admin`). The message is stored as `queued` together
/// with its send job; the worker delivers it. With an `Idempotency-Key` header, a repeat by the
/// same token within 24 hours answers with the first response (and `Idempotent-Replayed: true`)
/// without queueing again; the same key with a different body is refused. Audited as
/// `api.message.reply`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/messages",
    tag = "messages",
    params(
        ("id" = String, Path, description = "Conversation id"),
        ("Idempotency-Key" = Option<String>, Header, description = "1–255 visible ASCII characters; repeats within 24 h return the first response"),
    ),
    request_body = ReplyRequest,
    responses(
        (status = 201, description = "Queued (or the replayed first response)", body = MessageOut),
        (status = 400, description = "`invalid_idempotency_key`, `malformed_json`", body = ErrorBody),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such conversation in this clinic", body = ErrorBody),
        (status = 409, description = "`idempotency_key_in_progress`: the first request with this key has not finished", body = ErrorBody),
        (status = 422, description = "`empty_message`, `message_too_long`, `recipient_blocked`, `recipient_opted_out`, `recipient_bounced`, `outside_service_window` (WhatsApp: send a template), `template_invalid`, `unsupported_content` (the channel cannot carry it, or it breaks the provider's limits), `channel_disabled`, consent refusals, `idempotency_key_reused`, `invalid_request` (not exactly one of `text`, `template`, `media`, `buttons`, `list`)", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    headers: HeaderMap,
    ApiJson(body): ApiJson<ReplyRequest>,
) -> Result<Response, ApiError> {
    auth.require(Permission::Reply)?;
    let conv_id = ConversationId::parse(&id).map_err(|_| ApiError::not_found())?;
    let key = idempotency::key_from(&headers)?;
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
    let content = if let Some(text) = body.text.clone() {
        Content::Text(text)
    } else if let Some(t) = body.template.as_ref() {
        Content::Template(TemplateSend {
            id: t.id.clone(),
            params: t.params.clone(),
        })
    } else if let Some(m) = &body.media {
        Content::Prepared(m.outgoing())
    } else if let Some(b) = &body.buttons {
        Content::Prepared(b.outgoing())
    } else if let Some(l) = &body.list {
        Content::Prepared(l.outgoing())
    } else {
        return Err(ApiError::invalid("text", "Nothing to send."));
    };
    let mut conn = read_conn(&state).await?;
    let conversation = conversations::by_id(&mut conn, &auth.clinic, &conv_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    drop(conn);

    // The request is its route and its parsed body: whitespace in the JSON does not matter.
    let canonical = serde_json::to_string(&body).map_err(anyhow::Error::from)?;
    let request_hash = sha256_hex(
        format!("POST /api/v1/conversations/{conv_id}/messages\n{canonical}").as_bytes(),
    );
    // From taking the key to recording the outcome the work runs in its own task: a client that
    // hangs up must not strand a held key or a queued reply without its audit row.
    let work = Work {
        state,
        auth,
        ip,
        conversation,
        content,
        key,
        request_hash,
    };
    tokio::spawn(work.run())
        .await
        .map_err(|e| ApiError::from(anyhow::Error::new(e).context("the reply task")))?
}

struct Work {
    state: AppState,
    auth: ApiAuth,
    ip: ClientIp,
    conversation: conversations::Conversation,
    content: Content,
    key: Option<String>,
    request_hash: String,
}

impl Work {
    async fn run(self) -> Result<Response, ApiError> {
        let Work {
            state,
            auth,
            ip,
            conversation,
            content,
            key,
            request_hash,
        } = self;
        let scope = key.as_deref().map(|key| KeyScope {
            clinic: &auth.clinic,
            actor_id: auth.token_id.as_str(),
            key,
        });
        if let Some(scope) = &scope {
            match idempotency::claim(&state.db, scope, &request_hash, state.now_ms()).await? {
                Claim::Acquired => {}
                Claim::Replay { status, body } => {
                    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
                    return Ok(json_response(status, body, true));
                }
                Claim::Mismatch => {
                    return Err(ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "idempotency_key_reused",
                        "This Idempotency-Key was used for a different request.",
                    ))
                }
                Claim::InProgress => return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_progress",
                    "A request with this Idempotency-Key is still being processed; retry shortly.",
                )),
            }
        }

        let outcome = send(&state, &auth, &conversation, content).await;
        let message = match outcome {
            Ok(ReplyOutcome::Queued(m)) => m,
            other => {
                // Nothing was queued: give the key back so a corrected retry can use it.
                if let Some(scope) = &scope {
                    if let Err(e) = idempotency::release(&state.db, scope).await {
                        tracing::warn!(error = %format!("{e:#}"), "could not release an idempotency key");
                    }
                }
                return Err(match other {
                    Ok(ReplyOutcome::Refused(r)) => {
                        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, r.code(), r.to_string())
                    }
                    Ok(ReplyOutcome::Queued(_)) => {
                        ApiError::from(anyhow::anyhow!("a queued reply was treated as refused"))
                    }
                    Err(e) => ApiError::from(e),
                });
            }
        };

        let message_id = message.id.clone();
        let body = serde_json::to_string(&message_out(*message, Vec::new())).unwrap_or_default();
        // The reply is queued: from here on, failing the request would invite a retry that
        // sends twice. The response is stored for repeats together with the audit row; if that
        // fails it is logged, the key stays held (repeats get 409) and the client gets its 201.
        let recorded = async {
            let mut tx = state.db.begin().await?;
            if let Some(scope) = &scope {
                idempotency::store(tx.conn(), scope, StatusCode::CREATED, &body).await?;
            }
            let ids = [message_id.as_str()];
            let event = Event {
                action: "api.message.reply",
                subject_type: "message",
                subject_ids: &ids,
            };
            audit_change(&mut tx, &state, &auth, &ip, event).await?;
            tx.commit().await
        }
        .await;
        if let Err(e) = recorded {
            tracing::error!(error = %format!("{e:#}"), message_id, "a queued API reply could not be recorded");
        }
        state.live.publish(LiveEvent {
            clinic_id: auth.clinic.to_string(),
            conversation_id: conversation.id.clone(),
            kind: "message.created",
        });
        Ok(json_response(StatusCode::CREATED, body, false))
    }
}

/// Queues the content; a template is looked up (in this clinic) after the key is claimed, so a
/// repeat of a request that went out replays it even if the template has changed since.
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
        let why = ReplyRefused::Template("no such template on this channel".into());
        return Ok(ReplyOutcome::Refused(why));
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
