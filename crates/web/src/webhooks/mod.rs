//! `POST /webhooks/{kind}/{channel_id}`: verify the provider's signature on the raw bytes, store
//! once, answer fast. Nothing is stored for a bad signature, an oversized or malformed body.
mod line;

use axum::routing::post;
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().route("/webhooks/line/{channel_id}", post(line::receive))
}
