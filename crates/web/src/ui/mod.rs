//! The staff UI: server-rendered pages under /app, sign-in under /login.
pub mod auth;
pub mod consent;
pub mod inbox;
pub mod patients;
pub mod privacy;
pub mod session;
pub mod settings;
pub mod verification;

use axum::response::Html;
use axum::Router;
use serde::Serialize;
use sqlx::pool::PoolConnection;
use sqlx::Any;

use crate::{AppState, PageError};

/// Renders a template from the embedded set.
pub(crate) fn render(
    state: &AppState,
    name: &str,
    ctx: impl Serialize,
) -> Result<Html<String>, PageError> {
    let tmpl = state
        .templates
        .get_template(name)
        .map_err(|e| anyhow::anyhow!("template {name}: {e:#}"))?;
    let html = tmpl
        .render(ctx)
        .map_err(|e| anyhow::anyhow!("rendering {name}: {e:#}"))?;
    Ok(Html(html))
}

/// A pooled connection for reads.
pub(crate) async fn conn(state: &AppState) -> Result<PoolConnection<Any>, PageError> {
    Ok(state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?)
}

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
