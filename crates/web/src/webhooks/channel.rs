//! What the webhook endpoints share: the capped body read, and the channel the URL names, with
//! its adapter and typed credentials (`outbox::channel::load`, the one loader, through
//! `channel_cache`).
use std::sync::Arc;

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use tsunagu_channels::provider::BadCredentials;
use tsunagu_channels::ChannelKind;
use tsunagu_core::ChannelId;

use crate::channel_cache::WebhookChannel;
use crate::AppState;

pub fn reply(status: StatusCode, msg: &'static str) -> Response {
    (status, msg).into_response()
}

/// Reads the body up to the configured cap: 413 beyond it, before anything else happens.
pub async fn read_capped(body: Body, cap: usize) -> Result<bytes::Bytes, Response> {
    match Limited::new(body, cap).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(reply(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))
        }
        Err(_) => Err(reply(StatusCode::BAD_REQUEST, "could not read body")),
    }
}

/// The id in the URL, recorded in the `webhook` span (ours, never the provider's); `None` (404)
/// when it is not one.
pub fn channel_id(raw: &str) -> Option<ChannelId> {
    let id = ChannelId::parse(raw).ok()?;
    tracing::Span::current().record("channel", tracing::field::display(&id));
    Some(id)
}

pub fn not_found() -> Response {
    reply(StatusCode::NOT_FOUND, "unknown channel")
}

/// The enabled channel `id` of the endpoint's kind: 404 for an unknown id, another kind, a kind
/// no adapter serves or a disabled channel; 401 when its stored credentials do not read as its
/// provider's (nothing could verify); 500 if it cannot be read. From `channel_cache` (a channel
/// disabled on another instance is refused here within its TTL).
pub async fn load(
    state: &AppState,
    id: &ChannelId,
    kind: ChannelKind,
) -> Result<Arc<WebhookChannel>, Response> {
    match state.channel_cache.load(&state.db, &state.cipher, id).await {
        Ok(Some(ch)) if ch.loaded.kind == kind && ch.loaded.enabled() => Ok(ch),
        Ok(_) => Err(not_found()),
        Err(e) if e.downcast_ref::<BadCredentials>().is_some() => {
            tracing::warn!(channel = %id, %kind, "webhook for a channel whose credentials do not read refused");
            Err(reply(StatusCode::UNAUTHORIZED, "bad signature"))
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), channel = %id, %kind, "loading the channel for a webhook");
            Err(reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}
