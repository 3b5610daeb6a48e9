//! `POST /webhooks/whatsapp/{channel_id}`: Meta doc: Graph API › Webhooks › "Validate payloads"
//! and Cloud API › Webhooks. One channel = one Meta app; entries are routed by phone number id.
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use tsunagu_channels::whatsapp::{events, signature};
use tsunagu_core::ChannelKind;
use tsunagu_inbox::ingest::inbound::ChannelRef;
use tsunagu_inbox::ingest::whatsapp::ingest;

use super::common::{load, publish, read_capped, reply};
use crate::AppState;

pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let raw = match read_capped(body, state.settings.webhooks.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let ch = match load(&state, &channel_id, ChannelKind::WhatsApp).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let sig = parts
        .headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !signature::verify(ch.cred("app_secret"), &raw, sig) {
        tracing::warn!(channel = %ch.id, "WhatsApp webhook with a missing or wrong signature refused");
        return reply(StatusCode::UNAUTHORIZED, "bad signature");
    }
    let body = match events::parse(&raw) {
        Ok(b) => b,
        Err(_) => return reply(StatusCode::BAD_REQUEST, "malformed body"),
    };
    let at = ChannelRef {
        clinic_id: &ch.clinic,
        channel_id: &ch.id,
    };
    let report = match ingest(&state.db, at, &ch.endpoints, &body, state.now_ms()).await {
        Ok(r) => r,
        Err(e) => {
            // Not committed: Meta retries, and the dedupe keys make that safe.
            tracing::error!(error = %format!("{e:#}"), channel = %ch.id, "storing a WhatsApp delivery");
            return reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    tracing::info!(channel = %ch.id, new = report.new_events, duplicate = report.duplicate_events, "WhatsApp delivery stored");
    publish(
        &state,
        &ch.clinic,
        &report.touched_conversations,
        "message.created",
    );
    reply(StatusCode::OK, "ok")
}
