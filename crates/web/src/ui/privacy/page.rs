//! `/app/patients/{id}/privacy`: the two exports and the erase form. Erasing needs
//! `administer`, the patient's name typed exactly and a reason; the export needs `export`.
use axum::extract::{Path, State};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::{PatientId, Permission};
use tsunagu_privacy::audit::{self, AuditEntry};
use tsunagu_privacy::erasure::erase_patient;
use tsunagu_privacy::export::{export_patient, PatientExport};
use tsunagu_store::patients;

use super::{render, render_export};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::{shell, Shell};
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EraseForm {
    pub confirm_name: String,
    pub reason: String,
}

#[derive(Serialize)]
struct PageCtx {
    lang: &'static str,
    shell: Shell,
    title: String,
    patient_id: String,
    patient_name: String,
    can_export: bool,
    can_erase: bool,
    csrf_token: String,
    error: Option<String>,
    form: EraseForm,
}

fn patient_id(id: &str) -> Result<PatientId, PageError> {
    PatientId::parse(id).map_err(|_| PageError::not_found())
}

async fn page(
    state: &AppState,
    staff: &Staff,
    id: &str,
    error: Option<String>,
    form: EraseForm,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadPatients)?;
    let pid = patient_id(id)?;
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let p = patients::by_id(&mut conn, &staff.clinic.clinic_id(), &pid)
        .await?
        .ok_or_else(PageError::not_found)?;
    drop(conn);
    let ctx = PageCtx {
        lang: staff.lang,
        shell: shell(state, staff, "patients").await?,
        title: text(staff.lang, "privacy.title"),
        patient_id: p.id,
        patient_name: p.display_name,
        can_export: staff.can(Permission::Export),
        can_erase: staff.can(Permission::Administer),
        csrf_token: staff.csrf_token.clone(),
        error,
        form,
    };
    render(state, "privacy/page.html", ctx)
}

pub async fn show(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    page(&state, &staff, &id, None, EraseForm::default()).await
}

async fn load(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &str,
) -> Result<PatientExport, PageError> {
    staff.require(Permission::Export)?;
    let pid = patient_id(id)?;
    let clinic = staff.clinic.clinic_id();
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let file = export_patient(&mut conn, &clinic, &pid, state.now_ms())
        .await?
        .ok_or_else(PageError::not_found)?;
    drop(conn);
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let entry = AuditEntry {
        clinic_id: Some(&clinic),
        actor: &actor,
        action: "patient.export",
        subject_type: Some("patient"),
        subject_ids: &[&file.patient.id],
        source_ip: source_ip.as_deref(),
    };
    audit::record_now(&state.db, entry, state.now_ms()).await?;
    Ok(file)
}

pub async fn export_json(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    let file = load(&state, &staff, &ip, &id).await?;
    let body = serde_json::to_string_pretty(&file).map_err(anyhow::Error::from)?;
    let disposition = format!("attachment; filename=\"patient-{}.json\"", file.patient.id);
    Ok((
        [
            (header::CONTENT_TYPE, "application/json".to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        body,
    )
        .into_response())
}

pub async fn export_html(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    let file = load(&state, &staff, &ip, &id).await?;
    Ok(Html(render_export(&state, &file, staff.lang)?))
}

pub async fn erase(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EraseForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let pid = patient_id(&id)?;
    let clinic = staff.clinic.clinic_id();
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let p = patients::by_id(&mut conn, &clinic, &pid)
        .await?
        .ok_or_else(PageError::not_found)?;
    drop(conn);
    let refuse = |key: &str, form: EraseForm| (Some(text(staff.lang, key)), form);
    let problem = if form.confirm_name.trim() != p.display_name.trim() {
        Some(refuse("privacy.erase.error.name", form.clone()))
    } else if form.reason.trim().is_empty() {
        Some(refuse("privacy.erase.error.reason", form.clone()))
    } else {
        None
    };
    if let Some((error, form)) = problem {
        let html = page(&state, &staff, &id, error, form).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    erase_patient(
        &state.db,
        &clinic,
        &pid,
        &staff.actor(),
        &form.reason,
        state.now_ms(),
    )
    .await?
    .ok_or_else(PageError::not_found)?;
    Ok(Redirect::to("/app/patients/privacy/erased").into_response())
}

#[derive(Serialize)]
struct ErasedCtx {
    lang: &'static str,
    shell: Shell,
    title: String,
}

pub async fn erased(
    staff: Staff,
    State(state): State<AppState>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let ctx = ErasedCtx {
        lang: staff.lang,
        shell: shell(&state, &staff, "patients").await?,
        title: text(staff.lang, "privacy.erased.title"),
    };
    render(&state, "privacy/erased.html", ctx)
}
