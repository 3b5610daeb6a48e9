//! `POST /webhooks/whatsapp/{channel_id}`: Meta doc: Graph API › Webhooks › "Validate payloads"
//! and Cloud API › Webhooks. One channel = one Meta app; entries are routed by phone number id.
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use tracing::field::Empty;
use tsunagu_channels::whatsapp::events;
use tsunagu_channels::ChannelKind;
use tsunagu_inbox::ingest::inbound::ChannelRef;
use tsunagu_inbox::ingest::whatsapp::ingest;

use super::common::{meta_verified, reply, stored};
use crate::AppState;

/// Spanned with our channel id and counts only: never Meta's user ids or message text.
#[tracing::instrument(name = "webhook", skip_all, fields(kind = "whatsapp", channel = Empty, new = Empty, duplicate = Empty))]
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    req: Request,
) -> Response {
    let (ch, raw) = match meta_verified(&state, &channel_id, ChannelKind::WhatsApp, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(body) = events::parse(&raw) else {
        return reply(StatusCode::BAD_REQUEST, "malformed body");
    };
    let at = ChannelRef {
        clinic_id: &ch.clinic,
        channel_id: &ch.id,
    };
    let report = ingest(&state.db, at, &ch.endpoints, &body, state.now_ms()).await;
    stored(&state, &ch, ChannelKind::WhatsApp, report)
}
