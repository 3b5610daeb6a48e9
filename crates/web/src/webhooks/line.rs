//! LINE doc: Messaging API › Receive messages (webhook) › Verify the signature.
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use tracing::field::Empty;
use tsunagu_channels::line::{events, signature};
use tsunagu_core::ChannelId;
use tsunagu_inbox::ingest::line::{ingest, LineChannel};
use tsunagu_inbox::LiveEvent;
use tsunagu_store::channels;

use super::common::{read_capped, reply};
use crate::AppState;

/// Spanned with our channel id and counts only: never LINE's user ids or message text.
#[tracing::instrument(name = "webhook", skip_all, fields(kind = "line", channel = Empty, events = Empty, new = Empty, duplicate = Empty))]
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    req: Request,
) -> Response {
    let (parts, body) = req.into_parts();
    let headers: HeaderMap = parts.headers;
    let Ok(channel_id) = ChannelId::parse(&channel_id) else {
        return reply(StatusCode::NOT_FOUND, "unknown channel");
    };
    let span = tracing::Span::current();
    span.record("channel", tracing::field::display(&channel_id));
    let raw = match read_capped(body, state.settings.webhooks.max_body_bytes).await {
        Ok(b) => b,
        Err(r) => return r,
    };
    let channel = match load_channel(&state, &channel_id).await {
        Ok(Some(c)) => c,
        Ok(None) => return reply(StatusCode::NOT_FOUND, "unknown channel"),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "loading the LINE channel for a webhook");
            return reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let sig = headers
        .get("x-line-signature")
        .and_then(|v| v.to_str().ok());
    if !signature::verify(&channel.secret, &raw, sig) {
        tracing::warn!(channel = %channel_id, "LINE webhook with a missing or wrong signature refused");
        return reply(StatusCode::UNAUTHORIZED, "bad signature");
    }
    let body = match events::parse(&raw) {
        Ok(b) => b,
        Err(_) => return reply(StatusCode::BAD_REQUEST, "malformed body"),
    };
    span.record("events", body.events.len());
    let clinic = channel.row.clinic();
    let report = match ingest(
        &state.db,
        LineChannel {
            clinic_id: &clinic,
            channel_id: &channel_id,
        },
        &body,
        state.now_ms(),
    )
    .await
    {
        Ok(r) => r,
        Err(e) => {
            // Not committed: LINE may redeliver, and the dedupe key makes that safe.
            tracing::error!(error = %format!("{e:#}"), channel = %channel_id, "storing a LINE delivery");
            return reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    span.record("new", report.new_events);
    span.record("duplicate", report.duplicate_events);
    tracing::info!("LINE delivery stored");
    for conv in report.touched_conversations {
        state.live.publish(LiveEvent {
            clinic_id: clinic.to_string(),
            conversation_id: conv,
            kind: "message.created",
        });
    }
    reply(StatusCode::OK, "ok")
}

struct LoadedChannel {
    row: channels::Channel,
    secret: String,
}

async fn load_channel(state: &AppState, id: &ChannelId) -> anyhow::Result<Option<LoadedChannel>> {
    let mut conn = state.db.pool().acquire().await?;
    let Some(row) = channels::by_id_unscoped(&mut conn, id).await? else {
        return Ok(None);
    };
    if row.kind != "line" || row.enabled == 0 {
        return Ok(None);
    }
    let creds = state.cipher.decrypt_json(&row.credentials_enc)?;
    let secret = creds
        .get("channel_secret")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_string();
    Ok(Some(LoadedChannel { row, secret }))
}
