//! `POST /webhooks/{kind}/{channel_id}` (and `…/status` where the provider calls one): read the
//! body up to the cap (413), load the channel (404), verify the signature (401), parse (400) —
//! nothing stored until here — then ingest in one transaction, tell open inboxes, answer as the
//! provider expects.
use axum::extract::Request;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use tracing::field::Empty;
use tsunagu_channels::provider::receive::form_pairs;
use tsunagu_channels::provider::{Endpoint, WebhookRequest};
use tsunagu_channels::ChannelKind;
use tsunagu_inbox::ingest::inbound;
use tsunagu_inbox::LiveEvent;

use super::channel::{channel_id, load, not_found, read_capped, reply};
use crate::AppState;

/// Which URL was called.
#[derive(Clone, Copy)]
pub enum Url {
    Events,
    /// The status callback set on each send (`?message=<our message id>`).
    Status,
}

/// Spanned with our channel id and counts only: never a provider's user ids, numbers or text.
#[tracing::instrument(name = "webhook", skip_all, fields(kind = kind.as_str(), channel = Empty, events = Empty, new = Empty, duplicate = Empty))]
pub async fn receive(
    state: AppState,
    id: String,
    kind: ChannelKind,
    url: Url,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let Some(id) = channel_id(&id) else {
        return not_found();
    };
    let raw = match read_capped(body, state.settings.webhooks.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ch = match load(&state, &id, kind).await {
        Ok(ch) => ch,
        Err(r) => return r,
    };
    let query = form_pairs(parts.uri.query().unwrap_or_default().as_bytes());
    let endpoint = match url {
        Url::Events => Endpoint::Events,
        Url::Status => Endpoint::Status {
            message: query
                .iter()
                .find(|(k, _)| k == "message")
                .map(|(_, v)| v.as_str())
                .filter(|v| !v.is_empty()),
        },
    };
    // The URL as the provider signed it (Twilio): our public base, the path and the query.
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let signed_url = format!("{}{path}", state.settings.public_base());
    let delivery = WebhookRequest {
        headers: &parts.headers,
        body: &raw,
        url: &signed_url,
        endpoint,
    };
    let (adapter, creds) = (ch.loaded.adapter, &ch.loaded.creds);
    if !adapter.verify(creds, &delivery) {
        tracing::warn!(channel = %id, %kind, "webhook with a missing or wrong signature refused");
        return reply(StatusCode::UNAUTHORIZED, "bad signature");
    }
    let now_ms = state.now_ms();
    let Ok(items) = adapter.parse(&delivery, now_ms) else {
        return reply(StatusCode::BAD_REQUEST, "malformed body");
    };
    let span = tracing::Span::current();
    span.record("events", items.len());
    let report = match inbound::ingest(&state.db, ch.ingest.clone(), items, now_ms).await {
        Ok(r) => r,
        Err(e) => {
            // Not committed: the provider redelivers, and the dedupe keys make that safe.
            tracing::error!(error = %format!("{e:#}"), channel = %id, %kind, "storing a delivery");
            return reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    span.record("new", report.new_events);
    span.record("duplicate", report.duplicate_events);
    tracing::info!("delivery stored");
    let live = match url {
        Url::Events => "message.created",
        Url::Status => "message.updated",
    };
    for conversation in report.touched_conversations {
        state.live.publish(LiveEvent {
            clinic_id: ch.ingest.clinic_id.to_string(),
            conversation_id: conversation,
            kind: live,
        });
    }
    let answer = adapter.answer(endpoint);
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, answer.content_type)],
        answer.body,
    )
        .into_response()
}
