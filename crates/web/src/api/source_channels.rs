//! `/api/v1/automation/sources/channels`: the channels inflow sources can use, each with the
//! public address its links open (LINE basic id, number, Page username) and, for LINE, the
//! LINE Login channel linked for the add-friend option — the settings the sources page sets,
//! checked by the same `tsunagu_automation::{source_edits, line_login}` functions.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_automation::source_edits::{self, KINDS};
use tsunagu_automation::{line_login, sources};
use tsunagu_core::Permission;
use utoipa::ToSchema;

use super::auth::{audit_one, ApiAuth};
use super::extract::{ApiJson, ErrorBody, IdPath};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// What this API's changes are audited as.
const SUBJECT: &str = "channel";

#[derive(Serialize, ToSchema)]
pub struct SourceChannel {
    pub id: String,
    pub name: String,
    /// `line`, `whatsapp`, `sms` or `messenger`.
    pub kind: String,
    /// What its sources' links open; null until set (no link, no QR code yet).
    pub address: Option<String>,
    /// LINE only: the linked LINE Login channel's id (its secret is never shown), or null.
    pub line_login_channel_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SourceChannelList {
    pub items: Vec<SourceChannel>,
}

#[derive(Deserialize, ToSchema)]
pub struct AddressIn {
    /// LINE: the basic id (`@sakura-clinic`); WhatsApp, SMS: the number with its country code;
    /// Messenger: the Facebook Page's username (what follows `m.me/`).
    #[schema(example = "@sakura-clinic")]
    pub address: String,
}

#[derive(Deserialize, ToSchema)]
pub struct LineLoginIn {
    /// The LINE Login channel's id (digits), of the same provider as the Messaging API channel.
    #[schema(example = "1660000000")]
    pub login_channel_id: String,
    /// Its channel secret (32 hex characters); stored encrypted, never returned.
    pub login_channel_secret: String,
}

async fn all(state: &AppState, auth: &ApiAuth) -> Result<Vec<SourceChannel>, ApiError> {
    let mut conn = read_conn(state).await?;
    let logins = line_login::link::list(&mut conn, &auth.clinic).await?;
    let mut out = Vec::new();
    for ch in tsunagu_store::channels::list(&mut conn, &auth.clinic).await? {
        if !KINDS.contains(&ch.kind.as_str()) {
            continue;
        }
        let address = sources::address(&mut conn, &auth.clinic, &ch.id).await?;
        let login = logins
            .iter()
            .find(|(c, _)| c == &ch.id)
            .map(|l| l.1.clone());
        out.push(SourceChannel {
            address,
            line_login_channel_id: login,
            id: ch.id,
            name: ch.name,
            kind: ch.kind,
        });
    }
    Ok(out)
}

async fn one(state: &AppState, auth: &ApiAuth, id: &str) -> Result<SourceChannel, ApiError> {
    all(state, auth)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(ApiError::not_found)
}

/// List the channels inflow sources can use, with their addresses and LINE Login links.
///
/// Scope: `read_figures` (token scopes `read`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sources/channels",
    tag = "automation",
    responses(
        (status = 200, description = "LINE, WhatsApp, SMS and Messenger channels of the clinic", body = SourceChannelList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_figures`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<SourceChannelList>, ApiError> {
    auth.require(Permission::ReadFigures)?;
    let items = all(&state, &auth).await?;
    Ok(Json(SourceChannelList { items }))
}

/// Set the public address a channel's source links open.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.source.address`.
#[utoipa::path(
    put,
    path = "/api/v1/automation/sources/channels/{id}/address",
    tag = "automation",
    params(("id" = String, Path, description = "Channel id")),
    request_body = AddressIn,
    responses(
        (status = 200, description = "As now saved", body = SourceChannel),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such LINE, WhatsApp, SMS or Messenger channel in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_source_address`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn set_address(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AddressIn>,
) -> Result<Json<SourceChannel>, ApiError> {
    auth.require(Permission::Administer)?;
    let kind = one(&state, &auth, &id).await?.kind;
    let address = source_edits::check_address(&kind, &body.address)?;
    let mut tx = state.db.begin().await?;
    sources::set_address(tx.conn(), &auth.clinic, &id, &address, state.now_ms()).await?;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.source.address",
        (SUBJECT, &id),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(one(&state, &auth, &id).await?))
}

/// Link a LINE Login channel to a LINE channel: its sources' links then open LINE Login with
/// the add-friend option (`bot_prompt=aggressive`) and attribute the patient without a message.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.source.line_login`.
#[utoipa::path(
    put,
    path = "/api/v1/automation/sources/channels/{id}/line-login",
    tag = "automation",
    params(("id" = String, Path, description = "A LINE channel's id")),
    request_body = LineLoginIn,
    responses(
        (status = 200, description = "Linked", body = SourceChannel),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such LINE channel in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_line_login`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn set_line_login(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<LineLoginIn>,
) -> Result<Json<SourceChannel>, ApiError> {
    auth.require(Permission::Administer)?;
    if one(&state, &auth, &id).await?.kind != "line" {
        return Err(ApiError::not_found());
    }
    let (login, secret) =
        line_login::link::check(&body.login_channel_id, &body.login_channel_secret)?;
    let mut tx = state.db.begin().await?;
    let pair = (login.as_str(), secret.as_str());
    let now = state.now_ms();
    line_login::link::set(tx.conn(), &state.cipher, &auth.clinic, &id, pair, now).await?;
    let action = "api.automation.source.line_login";
    audit_one(&mut tx, &state, &auth, &ip, action, (SUBJECT, &id)).await?;
    tx.commit().await?;
    Ok(Json(one(&state, &auth, &id).await?))
}

/// Unlink a LINE channel's LINE Login channel: its sources' links go back to the prefilled
/// message (printed posters keep working).
///
/// Scope: `administer` (token scope `admin`). Audited as
/// `api.automation.source.line_login_remove`.
#[utoipa::path(
    delete,
    path = "/api/v1/automation/sources/channels/{id}/line-login",
    tag = "automation",
    params(("id" = String, Path, description = "A LINE channel's id")),
    responses(
        (status = 204, description = "Unlinked"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such LINE channel in this clinic, or none linked", body = ErrorBody),
    )
)]
pub async fn remove_line_login(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !line_login::link::remove(tx.conn(), &auth.clinic, &id).await? {
        return Err(ApiError::not_found());
    }
    let action = "api.automation.source.line_login_remove";
    audit_one(&mut tx, &state, &auth, &ip, action, (SUBJECT, &id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
