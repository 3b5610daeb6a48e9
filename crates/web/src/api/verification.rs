//! Verification over the API: staff-side links of a channel identity to a record (reason
//! required, undoable) and the patient's proxies. Linking needs `merge`; reading `read_patients`.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{Code, Permission, Refusal};
use tsunagu_privacy::verification::link::{self, LinkActor};
use tsunagu_privacy::verification::proxies::{self, ProxyOf, ProxyRow};
use tsunagu_privacy::verification::{self as v, LinkRow};
use tsunagu_store::patients;
use utoipa::ToSchema;

use super::auth::{audit_read, ApiAuth, Event};
use super::extract::{rfc3339, ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
pub struct LinkRequest {
    pub patient_id: String,
    /// Why staff link without the patient's proof in chat (required).
    #[schema(example = "受付で保険証と診察券を確認")]
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct LinkOut {
    pub id: String,
    pub identity_id: String,
    pub from_patient_id: String,
    pub to_patient_id: String,
    /// `chat`, `code` or `staff`.
    pub how: String,
    pub reason: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub at: String,
    pub undone_at: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct ProxyRequest {
    /// The channel identity acting for the patient (or `proxy_patient_id`).
    pub proxy_identity_id: Option<String>,
    /// The patient record acting for the patient (or `proxy_identity_id`).
    pub proxy_patient_id: Option<String>,
    /// `parent`, `child`, `spouse`, `family`, `caregiver` or `other`.
    #[schema(example = "parent")]
    pub relationship: String,
}

#[derive(Serialize, ToSchema)]
pub struct ProxyOut {
    pub id: String,
    pub patient_id: String,
    pub proxy_identity_id: Option<String>,
    pub proxy_patient_id: Option<String>,
    pub relationship: String,
    pub created_at: String,
    pub revoked_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ProxyList {
    pub items: Vec<ProxyOut>,
}

fn link_out(l: LinkRow) -> LinkOut {
    LinkOut {
        id: l.id,
        identity_id: l.identity_id,
        from_patient_id: l.from_patient_id,
        to_patient_id: l.to_patient_id,
        how: l.how,
        reason: l.reason,
        actor_kind: l.actor_kind,
        actor_id: l.actor_id,
        at: rfc3339(l.at),
        undone_at: l.undone_at.map(rfc3339),
    }
}

fn proxy_out(p: ProxyRow) -> ProxyOut {
    ProxyOut {
        id: p.id,
        patient_id: p.patient_id,
        proxy_identity_id: p.proxy_identity_id,
        proxy_patient_id: p.proxy_patient_id,
        relationship: p.relationship,
        created_at: rfc3339(p.created_at),
        revoked_at: p.revoked_at.map(rfc3339),
    }
}

/// The identity or link named in the path is 404 like any id this clinic does not have; the
/// rest keep their code (`already_linked`… are 409 by it).
fn link_refused(r: Refusal) -> ApiError {
    match r.code {
        Code::UnknownIdentity | Code::UnknownLink => ApiError::not_found(),
        _ => r.into(),
    }
}

/// Link a channel identity to a patient record (staff check instead of the patient's proof).
///
/// Scope: `merge` (token scope `admin`). A provisional patient's conversations, identities and
/// consents move to the record; undo with `POST /api/v1/links/{id}/undo`. Audited as `identity.linked`.
#[utoipa::path(
    post,
    path = "/api/v1/identities/{id}/link",
    tag = "patients",
    params(("id" = String, Path, description = "Channel identity id"), IdempotencyKey),
    request_body = LinkRequest,
    responses(
        (status = 201, description = "Linked", body = LinkOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `merge`", body = ErrorBody),
        (status = 404, description = "No such identity in this clinic", body = ErrorBody),
        (status = 409, description = "`already_linked`", body = ErrorBody),
        (status = 422, description = "`reason_required`, `unknown_patient`", body = ErrorBody),
    )
)]
pub async fn link(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<LinkRequest>,
) -> Result<(StatusCode, Json<LinkOut>), ApiError> {
    auth.require(Permission::Merge)?;
    let actor = LinkActor::Token(auth.token_id.to_string());
    let ip = ip.as_string();
    let out = v::link_by_staff(
        &state.db,
        &auth.clinic,
        &id,
        &body.patient_id,
        &body.reason,
        actor,
        ip.as_deref(),
        state.now_ms(),
    )
    .await?;
    let link_id = out.map_err(link_refused)?;
    let mut conn = read_conn(&state).await?;
    let row = link::by_id(&mut conn, &auth.clinic, &link_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, Json(link_out(row))))
}

/// Undo a link: everything it moved goes back. Scope: `merge`. Audited as `identity.link_undone`.
#[utoipa::path(
    post,
    path = "/api/v1/links/{id}/undo",
    tag = "patients",
    params(("id" = String, Path, description = "Link id"), IdempotencyKey),
    responses(
        (status = 200, description = "Undone", body = LinkOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `merge`", body = ErrorBody),
        (status = 404, description = "No such link in this clinic", body = ErrorBody),
        (status = 409, description = "`already_undone`, `not_latest_link`", body = ErrorBody),
    )
)]
pub async fn undo(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Json<LinkOut>, ApiError> {
    auth.require(Permission::Merge)?;
    let ip = ip.as_string();
    match v::undo(
        &state.db,
        &auth.clinic,
        &id,
        &auth.actor,
        ip.as_deref(),
        state.now_ms(),
    )
    .await?
    {
        Ok(row) => Ok(Json(link_out(row))),
        Err(r) => Err(link_refused(r)),
    }
}

/// A patient's proxies (revoked ones too). Scope: `read_patients`. Audited as `api.proxies.read`.
#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}/proxies",
    tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Proxies, newest first", body = ProxyList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
    )
)]
pub async fn list_proxies(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Json<ProxyList>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let patient = tsunagu_core::PatientId::parse(&id).map_err(|_| ApiError::not_found())?;
    let mut conn = read_conn(&state).await?;
    patients::by_id(&mut conn, &auth.clinic, &patient)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let rows = proxies::list(&mut conn, &auth.clinic, patient.as_str()).await?;
    drop(conn);
    let event = Event {
        action: "api.proxies.read",
        subject_type: "patient",
        subject_ids: &[patient.as_str()],
    };
    audit_read(&state, &auth, &ip, event).await?;
    Ok(Json(ProxyList {
        items: rows.into_iter().map(proxy_out).collect(),
    }))
}

/// Add someone acting for the patient, with the relationship; nothing is merged.
///
/// Scope: `merge`. Audited as `patient.proxy_added`.
#[utoipa::path(
    post,
    path = "/api/v1/patients/{id}/proxies",
    tag = "patients",
    params(("id" = String, Path, description = "Patient id"), IdempotencyKey),
    request_body = ProxyRequest,
    responses(
        (status = 201, description = "Added", body = ProxyOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `merge`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_relationship`, `unknown_proxy`, `invalid_proxy`", body = ErrorBody),
    )
)]
pub async fn add_proxy(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<ProxyRequest>,
) -> Result<(StatusCode, Json<ProxyOut>), ApiError> {
    auth.require(Permission::Merge)?;
    let proxy = match (body.proxy_identity_id, body.proxy_patient_id) {
        (Some(i), None) => ProxyOf::Identity(i),
        (None, Some(p)) => ProxyOf::Patient(p),
        _ => {
            let why = "Give exactly one of proxy_identity_id and proxy_patient_id.";
            return Err(Refusal::new(Code::InvalidProxy).detail(why).into());
        }
    };
    let ip = ip.as_string();
    match proxies::add(
        &state.db,
        &auth.clinic,
        &id,
        proxy,
        &body.relationship,
        &auth.actor,
        ip.as_deref(),
        state.now_ms(),
    )
    .await?
    {
        Ok(row) => Ok((StatusCode::CREATED, Json(proxy_out(row)))),
        // The patient in the path.
        Err(r) if r.code == Code::UnknownPatient => Err(ApiError::not_found()),
        Err(r) => Err(r.into()),
    }
}
