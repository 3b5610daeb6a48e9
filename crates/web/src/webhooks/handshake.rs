//! `GET /webhooks/{kind}/{channel_id}` for providers that verify the URL first (Meta doc: Graph
//! API › Webhooks › "Verification Requests"): the right verify token → 200 with the challenge
//! as the body; anything else → 403.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracing::field::Empty;
use tsunagu_channels::provider::receive::form_pairs;
use tsunagu_channels::ChannelKind;

use super::channel::{channel_id, load, not_found, reply};
use crate::AppState;

#[tracing::instrument(name = "webhook", skip_all, fields(kind = kind.as_str(), channel = Empty))]
pub async fn answer(
    state: AppState,
    id: String,
    kind: ChannelKind,
    query: Option<String>,
) -> Response {
    let Some(id) = channel_id(&id) else {
        return not_found();
    };
    let ch = match load(&state, &id, kind).await {
        Ok(ch) => ch,
        Err(r) => return r,
    };
    let query = form_pairs(query.unwrap_or_default().as_bytes());
    match ch.loaded.adapter.handshake(&ch.loaded.creds, &query) {
        Some(challenge) => (StatusCode::OK, challenge).into_response(),
        None => {
            tracing::warn!(channel = %id, %kind, "webhook verification with a wrong token refused");
            reply(StatusCode::FORBIDDEN, "verification failed")
        }
    }
}
