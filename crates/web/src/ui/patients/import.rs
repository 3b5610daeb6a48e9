//! `/app/patients/import`: upload a CSV, see every row of the dry run with its refusals, and
//! confirm — the confirm button appears only when no row is refused. The confirm form carries
//! the file back (base64) with the plan's token, so nothing is kept between the two requests
//! and a plan that changed meanwhile is refused rather than applied.
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Serialize};
use tsunagu_contacts::import::{self, ApplyError, Author, ImportPlan};
use tsunagu_core::Permission;

use super::multipart::CsrfMultipart;
use super::{audit_read, conn, render, today};
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

/// The file twice over (the upload, or base64 in the confirm form) with room for the rest.
pub const MAX_FORM_BYTES: usize = import::MAX_BYTES * 2 + 64 * 1024;

#[derive(Deserialize)]
pub struct Done {
    created: Option<usize>,
    updated: Option<usize>,
}

#[derive(Serialize)]
struct CellView {
    column: String,
    text: String,
}

#[derive(Serialize)]
struct RowView {
    line: u64,
    action: &'static str,
    action_label: String,
    name: String,
    patient_href: Option<String>,
    errors: Vec<CellView>,
}

#[derive(Serialize)]
struct PlanView {
    encoding: Option<&'static str>,
    file_errors: Vec<CellView>,
    rows: Vec<RowView>,
    summary_text: String,
    valid: bool,
    token: String,
    /// The file for the confirm form; only when the plan may be applied.
    csv_b64: Option<String>,
}

fn plan_view(lang: &str, p: ImportPlan, csv: &[u8]) -> PlanView {
    let cell = |c: import::CellError| CellView {
        column: c.column,
        text: i18n::code(lang, c.code),
    };
    let valid = p.is_valid();
    PlanView {
        encoding: p.encoding,
        file_errors: p.file_errors.into_iter().map(cell).collect(),
        rows: p
            .rows
            .into_iter()
            .map(|r| RowView {
                line: r.line,
                action: r.action,
                action_label: text(lang, &format!("patients.import.action.{}", r.action)),
                name: r.name,
                patient_href: r.patient_id.map(|id| format!("/app/patients/{id}")),
                errors: r.errors.into_iter().map(cell).collect(),
            })
            .collect(),
        summary_text: text(lang, "patients.import.summary")
            .replace("{rows}", &p.summary.rows.to_string())
            .replace("{create}", &p.summary.create.to_string())
            .replace("{update}", &p.summary.update.to_string())
            .replace("{error}", &p.summary.error.to_string()),
        valid,
        token: p.token,
        csv_b64: valid.then(|| B64.encode(csv)),
    }
}

async fn show(
    state: &AppState,
    staff: &Staff,
    plan: Option<PlanView>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "patients").await?, title => text(lang, "patients.import.title"),
        plan, notice, csrf_token => &staff.csrf_token,
    };
    render(state, "patients/import.html", ctx)
}

/// `GET /app/patients/import`: the upload form (and the result after an import).
pub async fn page(
    staff: Staff,
    State(state): State<AppState>,
    Query(d): Query<Done>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = match (d.created, d.updated) {
        (Some(c), Some(u)) => Some(
            text(staff.lang, "patients.import.done")
                .replace("{created}", &c.to_string())
                .replace("{updated}", &u.to_string()),
        ),
        _ => None,
    };
    show(&state, &staff, None, notice).await
}

/// `POST /app/patients/import`: `file` → the dry run; `csv` + `plan_token` → the import.
pub async fn submit(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    form: CsrfMultipart,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let lang = staff.lang;
    if let Some(token) = form.text("plan_token") {
        let csv = form
            .text("csv")
            .and_then(|b| B64.decode(b.trim()).ok())
            .unwrap_or_default();
        let (actor, source_ip) = (staff.actor(), ip.as_string());
        let by = Author {
            actor: &actor,
            source_ip: source_ip.as_deref(),
        };
        let now = state.now_ms();
        return match import::apply(
            &state.db,
            &clinic,
            &csv,
            Some(&token),
            by,
            today(&state, &staff),
            now,
        )
        .await
        {
            Ok(done) => {
                let to = format!(
                    "/app/patients/import?created={}&updated={}",
                    done.created.len(),
                    done.updated.len()
                );
                Ok(Redirect::to(&to).into_response())
            }
            Err(ApplyError::Invalid(p)) => {
                let html = show(
                    &state,
                    &staff,
                    Some(plan_view(lang, *p, &csv)),
                    Some(text(lang, "patients.import.refused")),
                )
                .await?;
                Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
            }
            Err(ApplyError::Changed(p)) => {
                let html = show(
                    &state,
                    &staff,
                    Some(plan_view(lang, *p, &csv)),
                    Some(text(lang, "patients.import.changed")),
                )
                .await?;
                Ok((axum::http::StatusCode::CONFLICT, html).into_response())
            }
            Err(ApplyError::Internal(e)) => Err(e.into()),
        };
    }
    let csv = form.0.get("file").cloned().unwrap_or_default();
    if csv.is_empty() {
        let html = show(
            &state,
            &staff,
            None,
            Some(text(lang, "patients.import.no_file")),
        )
        .await?;
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    let mut conn = conn(&state).await?;
    let plan = import::plan(&mut conn, &clinic, &csv, today(&state, &staff)).await?;
    drop(conn);
    let matched: Vec<&str> = plan
        .rows
        .iter()
        .filter_map(|r| r.patient_id.as_deref())
        .collect();
    audit_read(&state, &staff, &ip, "patient.import_plan", &matched).await?;
    Ok(
        show(&state, &staff, Some(plan_view(lang, plan, &csv)), None)
            .await?
            .into_response(),
    )
}
