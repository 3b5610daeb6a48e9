//! `/webhooks/{kind}/{channel_id}`: verify the provider's signature on the raw bytes, store
//! once, answer fast. Nothing is stored for a bad signature, an oversized or malformed body.
//! Meta's kinds also answer the GET subscription handshake on the same URL.
mod common;
mod line;
mod messenger;
mod sms;
mod whatsapp;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/webhooks/line/{channel_id}", post(line::receive))
        .route(
            "/webhooks/whatsapp/{channel_id}",
            get(common::whatsapp_handshake).post(whatsapp::receive),
        )
        .route("/webhooks/sms/{channel_id}", post(sms::receive))
        .route(
            "/webhooks/sms/{channel_id}/status",
            post(sms::receive_status),
        )
        .route(
            "/webhooks/messenger/{channel_id}",
            get(common::messenger_handshake).post(messenger::receive),
        )
}
