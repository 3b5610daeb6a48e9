//! The staff UI: server-rendered pages under /app, sign-in under /login.
pub mod session;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(session::router())
}
