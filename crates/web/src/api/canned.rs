//! `/api/v1/canned-responses`: the clinic's canned responses (定型文). Administrators write
//! them; anyone who may read messages lists them. Bodies are returned as saved, with their
//! `{{variables}}`; the inbox fills them in for a conversation.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_inbox::canned::{self, Canned, Draft};
use utoipa::ToSchema;

use super::auth::{audit_one, ApiAuth};
use super::extract::{rfc3339, ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// What this API's changes are audited as.
const SUBJECT: &str = "canned_response";

#[derive(Deserialize, ToSchema)]
pub struct CannedIn {
    /// Typed after `/` in the reply box: 1–30 characters, no spaces or `/`. Unique in the
    /// clinic, ignoring width, kana and case.
    #[schema(example = "駐車場")]
    pub shortcut: String,
    /// 1–100 characters.
    #[schema(example = "駐車場のご案内")]
    pub title: String,
    /// 1–5000 characters. Variables: `{{patient.name}}`, `{{clinic.name}}`,
    /// `{{clinic.phone}}`, `{{staff.name}}`, `{{appointment.next}}` (empty until booking
    /// exists); any other `{{…}}` is refused with `unknown_canned_variable`.
    #[schema(example = "{{patient.name}}様、駐車場は建物の裏に5台分ございます。")]
    pub body: String,
}

/// Fields left out keep their value.
#[derive(Deserialize, ToSchema)]
pub struct CannedPatch {
    pub shortcut: Option<String>,
    pub title: Option<String>,
    pub body: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CannedOut {
    pub id: String,
    pub shortcut: String,
    pub title: String,
    pub body: String,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct CannedList {
    pub items: Vec<CannedOut>,
}

fn out(c: Canned) -> CannedOut {
    CannedOut {
        id: c.id,
        shortcut: c.shortcut,
        title: c.title,
        body: c.body,
        created_at: rfc3339(c.created_at),
        updated_at: rfc3339(c.updated_at),
    }
}

/// List the clinic's canned responses.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`). By shortcut.
#[utoipa::path(
    get,
    path = "/api/v1/canned-responses",
    tag = "canned",
    responses(
        (status = 200, description = "Every canned response of the clinic", body = CannedList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<CannedList>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    let rows = canned::list(&mut conn, &auth.clinic).await?;
    Ok(Json(CannedList {
        items: rows.into_iter().map(out).collect(),
    }))
}

/// Add a canned response.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.canned.create`.
#[utoipa::path(
    post,
    path = "/api/v1/canned-responses",
    tag = "canned",
    params(IdempotencyKey),
    request_body = CannedIn,
    responses(
        (status = 201, description = "Stored", body = CannedOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 409, description = "`canned_shortcut_exists`", body = ErrorBody),
        (status = 422, description = "`invalid_canned_shortcut`, `invalid_canned_title`, `invalid_canned_body`, `unknown_canned_variable`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<CannedIn>,
) -> Result<(StatusCode, Json<CannedOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let draft = Draft {
        shortcut: &body.shortcut,
        title: &body.title,
        body: &body.body,
    };
    let mut tx = state.db.begin().await?;
    let row = canned::create(tx.conn(), &auth.clinic, draft, state.now_ms())
        .await?
        .map_err(|e| ApiError::from(e.refusal()))?;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.canned.create",
        (SUBJECT, &row.id),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(out(row))))
}

/// Change a canned response.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.canned.update`.
#[utoipa::path(
    patch,
    path = "/api/v1/canned-responses/{id}",
    tag = "canned",
    params(("id" = String, Path, description = "Canned response id")),
    request_body = CannedPatch,
    responses(
        (status = 200, description = "As now saved", body = CannedOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such canned response in this clinic", body = ErrorBody),
        (status = 409, description = "`canned_shortcut_exists`", body = ErrorBody),
        (status = 422, description = "`invalid_canned_shortcut`, `invalid_canned_title`, `invalid_canned_body`, `unknown_canned_variable`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<CannedPatch>,
) -> Result<Json<CannedOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let now = canned::by_id(tx.conn(), &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let draft = Draft {
        shortcut: body.shortcut.as_deref().unwrap_or(&now.shortcut),
        title: body.title.as_deref().unwrap_or(&now.title),
        body: body.body.as_deref().unwrap_or(&now.body),
    };
    let row = canned::update(tx.conn(), &auth.clinic, &id, draft, state.now_ms())
        .await?
        .map_err(|e| ApiError::from(e.refusal()))?
        .ok_or_else(ApiError::not_found)?;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.canned.update",
        (SUBJECT, &row.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(out(row)))
}

/// Remove a canned response.
///
/// Scope: `administer` (token scope `admin`). Replies already sent keep their text. Audited as
/// `api.canned.delete`.
#[utoipa::path(
    delete,
    path = "/api/v1/canned-responses/{id}",
    tag = "canned",
    params(("id" = String, Path, description = "Canned response id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such canned response in this clinic", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !canned::delete(tx.conn(), &auth.clinic, &id).await? {
        return Err(ApiError::not_found());
    }
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.canned.delete",
        (SUBJECT, &id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
