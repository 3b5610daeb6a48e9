//! Data subject requests over the API: a patient's whole file (JSON, or a printable HTML page)
//! and erasure; and the clinic's retention settings.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{Code, PatientId, Permission, Refusal};
use tsunagu_privacy::erasure;
use tsunagu_privacy::export::{export_patient, PatientExport};
use tsunagu_privacy::retention::{self, RetentionSettings};
use utoipa::ToSchema;

use super::auth::{audit_read, ApiAuth, Event};
use super::extract::{ApiJson, ErrorBody, IdPath};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// The whole file: record, tags, custom fields, identities, every conversation with every
/// message and attachment (base64), consent events, verification links and proxies.
#[derive(Serialize, ToSchema)]
#[serde(transparent)]
#[schema(value_type = Object)]
pub struct PatientExportOut(pub PatientExport);

#[derive(Deserialize, ToSchema)]
pub struct EraseRequest {
    /// Why (e.g. the patient's request). Do not write the patient's name: it is blanked anyway.
    #[schema(example = "本人からの削除請求(窓口で本人確認済み)")]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ErasureOut {
    pub erasure_id: String,
    /// Rows deleted per table (`webhook_events`: raw bodies blanked; the dedupe row stays 8 days).
    pub counts: BTreeMap<String, i64>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct RetentionIo {
    /// Raw provider event bodies are blanked after this many days (1–3650; default 30).
    #[schema(example = 30)]
    pub raw_webhook_body_days: i64,
    /// Conversations whose last message is older than this are deleted (1–100; default 5).
    #[schema(example = 5)]
    pub conversation_years: i64,
}

async fn load(state: &AppState, auth: &ApiAuth, id: &str) -> Result<PatientExport, ApiError> {
    auth.require(Permission::Export)?;
    let patient = PatientId::parse(id).map_err(|_| ApiError::not_found())?;
    let mut conn = read_conn(state).await?;
    export_patient(&mut conn, &auth.clinic, &patient, state.now_ms())
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Export everything about a patient as JSON.
///
/// Scope: `admin` (permission `export`). Audited as `patient.export`.
#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}/export",
    tag = "privacy",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The patient's file", body = PatientExportOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `export`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
    )
)]
pub async fn export_json(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Json<PatientExportOut>, ApiError> {
    let file = load(&state, &auth, &id).await?;
    let e = Event {
        action: "patient.export",
        subject_type: "patient",
        subject_ids: &[&file.patient.id],
    };
    audit_read(&state, &auth, &ip, e).await?;
    Ok(Json(PatientExportOut(file)))
}

/// Export everything about a patient as a printable HTML page (Japanese labels when the
/// clinic's locale is ja, times in the clinic's zone).
///
/// Scope: `admin` (permission `export`). Audited as `patient.export`.
#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}/export.html",
    tag = "privacy",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The patient's file as HTML", content_type = "text/html", body = String),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `export`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
    )
)]
pub async fn export_html(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    let file = load(&state, &auth, &id).await?;
    let mut conn = read_conn(&state).await?;
    let clinic = tsunagu_store::clinics::by_id(&mut conn, &auth.clinic)
        .await?
        .ok_or_else(ApiError::not_found)?;
    drop(conn);
    let html =
        crate::ui::privacy::render_export(&state, &file, crate::i18n::lang_for(&clinic.locale))?;
    let e = Event {
        action: "patient.export",
        subject_type: "patient",
        subject_ids: &[&file.patient.id],
    };
    audit_read(&state, &auth, &ip, e).await?;
    Ok(([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response())
}

/// Erase a patient: messages, attachments, raw provider events (bodies), jobs, identities,
/// tags, custom values, verification rows, consent events and the record, in one transaction.
///
/// Scope: `admin` (permission `administer`). Audited as `patient.erased`; the audit trail
/// and the erasure ledger keep ids and counts only. Cannot be undone.
#[utoipa::path(
    delete,
    path = "/api/v1/patients/{id}",
    tag = "privacy",
    params(("id" = String, Path, description = "Patient id")),
    request_body = EraseRequest,
    responses(
        (status = 200, description = "Erased", body = ErasureOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
        (status = 422, description = "`reason_required`", body = ErrorBody),
    )
)]
pub async fn erase(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<EraseRequest>,
) -> Result<Json<ErasureOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let patient = PatientId::parse(&id).map_err(|_| ApiError::not_found())?;
    if body.reason.trim().is_empty() {
        let why = "Give the reason for the erasure.";
        return Err(Refusal::new(Code::ReasonRequired).detail(why).into());
    }
    let report = erasure::erase_patient(
        &state.db,
        &auth.clinic,
        &patient,
        &auth.actor,
        &body.reason,
        state.now_ms(),
    )
    .await?
    .ok_or_else(ApiError::not_found)?;
    Ok(Json(ErasureOut {
        erasure_id: report.erasure_id,
        counts: report.counts,
    }))
}

/// The clinic's retention settings (defaults until saved).
///
/// Scope: `admin` (permission `administer`).
#[utoipa::path(
    get,
    path = "/api/v1/settings/retention",
    tag = "privacy",
    responses(
        (status = 200, description = "Current settings", body = RetentionIo),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
    )
)]
pub async fn get_retention(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<RetentionIo>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut conn = read_conn(&state).await?;
    let s = retention::settings(&mut conn, &auth.clinic).await?;
    Ok(Json(RetentionIo {
        raw_webhook_body_days: s.raw_webhook_body_days,
        conversation_years: s.conversation_years,
    }))
}

/// Change the clinic's retention settings; the daily pass applies them.
///
/// Scope: `admin` (permission `administer`). Audited as `retention.updated`.
#[utoipa::path(
    put,
    path = "/api/v1/settings/retention",
    tag = "privacy",
    request_body = RetentionIo,
    responses(
        (status = 200, description = "Saved", body = RetentionIo),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 422, description = "`invalid_raw_webhook_body_days`, `invalid_conversation_years`", body = ErrorBody),
    )
)]
pub async fn put_retention(
    State(state): State<AppState>,
    auth: ApiAuth,
    ApiJson(body): ApiJson<RetentionIo>,
) -> Result<Json<RetentionIo>, ApiError> {
    auth.require(Permission::Administer)?;
    let s = RetentionSettings {
        raw_webhook_body_days: body.raw_webhook_body_days,
        conversation_years: body.conversation_years,
    };
    s.check()?;
    retention::save_settings(&state.db, &auth.clinic, &s, &auth.actor, state.now_ms()).await?;
    Ok(Json(body))
}
