//! `GET /api/v1/patients/{id}`: a patient record with its channel identities.
use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use tsunagu_core::{PatientId, Permission};
use tsunagu_store::{channels, flag, patients};
use utoipa::ToSchema;

use super::auth::{audit_read, ApiAuth, Event};
use super::extract::{rfc3339, ErrorBody, IdPath};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Serialize, ToSchema)]
pub struct IdentityOut {
    pub channel_id: String,
    /// The channel's kind (`line`, …).
    pub kind: String,
    /// The provider's user id (LINE `U…`).
    pub external_id: String,
    pub display_name: Option<String>,
    pub picture_url: Option<String>,
    /// `following`, `blocked` or `unknown`.
    pub follow_state: String,
    /// Linked to the record after proof (card number and birth date, or a code).
    pub verified: bool,
}

#[derive(Serialize, ToSchema)]
pub struct PatientOut {
    pub id: String,
    pub display_name: String,
    pub kana: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub picture_url: Option<String>,
    /// Created from a first message and not yet matched to a clinic record.
    pub provisional: bool,
    pub identities: Vec<IdentityOut>,
    /// RFC 3339 UTC.
    pub created_at: String,
}

/// Read a patient record.
///
/// Scope: `read_patients` (token scopes `read`, `reply`, `broadcast`, `admin`). Audited as
/// `api.patient.read`.
#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}",
    tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The patient", body = PatientOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Json<PatientOut>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let patient_id = PatientId::parse(&id).map_err(|_| ApiError::not_found())?;
    let mut conn = read_conn(&state).await?;
    let p = patients::by_id(&mut conn, &auth.clinic, &patient_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let identities = patients::identities_of(&mut conn, &auth.clinic, &patient_id).await?;
    let kinds: HashMap<String, String> = channels::list(&mut conn, &auth.clinic)
        .await?
        .into_iter()
        .map(|c| (c.id, c.kind))
        .collect();
    drop(conn);

    let event = Event {
        action: "api.patient.read",
        subject_type: "patient",
        subject_ids: &[p.id.as_str()],
    };
    audit_read(&state, &auth, &ip, event).await?;
    let identities = identities
        .into_iter()
        .map(|i| IdentityOut {
            kind: kinds.get(&i.channel_id).cloned().unwrap_or_default(),
            channel_id: i.channel_id,
            external_id: i.external_id,
            display_name: i.display_name,
            picture_url: i.picture_url,
            follow_state: i.follow_state,
            verified: flag(i.verified),
        })
        .collect();
    Ok(Json(PatientOut {
        id: p.id,
        display_name: p.display_name,
        kana: p.kana,
        birth_date: p.birth_date,
        phone: p.phone,
        email: p.email,
        language: p.language,
        picture_url: p.picture_url,
        provisional: flag(p.provisional),
        identities,
        created_at: rfc3339(p.created_at),
    }))
}
