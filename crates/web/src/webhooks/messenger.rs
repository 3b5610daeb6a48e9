//! `POST /webhooks/messenger/{channel_id}`: Meta doc: Graph API › Webhooks › "Validate payloads"
//! and Messenger Platform › Webhooks. One channel = one Meta app; entries are routed by page id
//! (Instagram accounts by their id). Only `X-Hub-Signature-256` is accepted: a body signed with
//! the legacy SHA-1 header alone is refused.
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use tracing::field::Empty;
use tsunagu_channels::messenger::events;
use tsunagu_channels::ChannelKind;
use tsunagu_inbox::ingest::inbound::ChannelRef;
use tsunagu_inbox::ingest::messenger::ingest;

use super::common::{meta_verified, reply, stored};
use crate::AppState;

/// Spanned with our channel id and counts only: never Meta's user ids or message text.
#[tracing::instrument(name = "webhook", skip_all, fields(kind = "messenger", channel = Empty, new = Empty, duplicate = Empty))]
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    req: Request,
) -> Response {
    let (ch, raw) = match meta_verified(&state, &channel_id, ChannelKind::Messenger, req).await {
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
    stored(&state, &ch, ChannelKind::Messenger, report)
}
