//! The staff UI: server-rendered pages under /app, sign-in under /login.
pub mod auth;
pub mod consent;
pub mod inbox;
pub mod patients;
pub mod privacy;
pub mod session;
pub mod settings;
pub mod verification;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(session::router())
        .merge(inbox::router())
        .merge(auth::router())
        .merge(consent::router())
        .merge(patients::router())
        .merge(settings::router())
        .merge(verification::router())
        .merge(privacy::router())
}
