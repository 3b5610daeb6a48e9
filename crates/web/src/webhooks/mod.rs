//! `POST /webhooks/{kind}/{channel_id}`: verify, store once, answer fast.
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
