//! The staff UI: server-rendered pages under /app, sign-in under /login.
pub mod auth;
mod availability;
pub mod consent;
pub mod inbox;
mod line_login;
mod oncall;
pub mod patients;
pub mod privacy;
mod satisfaction;
pub mod search;
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

/// One audit entry by a signed-in staff member in their current clinic. `tx: Some` records it
/// inside the transaction of the change; `None` in its own (reads), so a read fails when its
/// entry cannot be written.
pub(crate) async fn audit_staff(
    tx: Option<&mut tsunagu_store::Tx>,
    state: &AppState,
    staff: &session::Staff,
    ip: &crate::client_ip::ClientIp,
    (action, subject_type): (&str, &str),
    ids: &[&str],
) -> Result<(), PageError> {
    let (clinic, actor, source_ip) = (staff.clinic.clinic_id(), staff.actor(), ip.as_string());
    let entry = tsunagu_privacy::AuditEntry {
        clinic_id: Some(&clinic),
        actor: &actor,
        action,
        subject_type: Some(subject_type),
        subject_ids: ids,
        source_ip: source_ip.as_deref(),
    };
    match tx {
        Some(tx) => {
            tsunagu_privacy::audit::record(tx.conn(), state.db.backend(), entry, state.now_ms())
                .await?
        }
        None => tsunagu_privacy::audit::record_now(&state.db, entry, state.now_ms()).await?,
    }
    Ok(())
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
        .merge(oncall::router())
        .merge(availability::router())
        .merge(auth::router())
        .merge(consent::router())
        .merge(patients::router())
        .merge(settings::router())
        .merge(verification::router())
        .merge(privacy::router())
        .merge(search::router())
        .merge(satisfaction::router())
        .merge(line_login::router())
}
