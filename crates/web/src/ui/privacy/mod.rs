//! Data subject requests for staff: `/app/patients/{id}/privacy` (export the patient's file as
//! JSON or a printable page; erase them after typing their name and a reason) and
//! `/app/settings/retention` for owners and admins.
mod page;
mod retention;

use axum::response::Html;
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use tsunagu_privacy::export::PatientExport;

use crate::{AppState, PageError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/patients/{id}/privacy", get(page::show))
        .route(
            "/app/patients/{id}/privacy/export.json",
            get(page::export_json),
        )
        .route(
            "/app/patients/{id}/privacy/export.html",
            get(page::export_html),
        )
        .route("/app/patients/{id}/privacy/erase", post(page::erase))
        .route("/app/patients/privacy/erased", get(page::erased))
        .route("/app/settings/retention", get(retention::show))
        .route("/app/settings/retention", post(retention::save))
}

fn render(state: &AppState, name: &str, ctx: impl Serialize) -> Result<Html<String>, PageError> {
    let tmpl = state
        .templates
        .get_template(name)
        .map_err(|e| anyhow::anyhow!("template {name}: {e:#}"))?;
    let html = tmpl
        .render(ctx)
        .map_err(|e| anyhow::anyhow!("rendering {name}: {e:#}"))?;
    Ok(Html(html))
}

#[derive(Serialize)]
struct ExportCtx<'a> {
    lang: &'a str,
    file: &'a PatientExport,
}

/// The printable page of a patient's file (shared by the API and the staff page).
pub fn render_export(state: &AppState, file: &PatientExport, lang: &str) -> anyhow::Result<String> {
    let tmpl = state
        .templates
        .get_template("privacy/export.html")
        .map_err(|e| anyhow::anyhow!("template privacy/export.html: {e:#}"))?;
    tmpl.render(ExportCtx { lang, file })
        .map_err(|e| anyhow::anyhow!("rendering the patient's file: {e:#}"))
}
