//! `/api/v1/automation/sources`: where patients come from (流入経路). Each source with its
//! code, the chat link its QR code opens (none while its channel has no public address), its
//! numbers, daily counts and the CSV the settings page exports. Checked and stored by
//! `tsunagu_automation::{sources, source_edits}` as the page is.
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use qrcodegen::{QrCode, QrCodeEcc};
use serde::{Deserialize, Serialize};
use tsunagu_automation::line_login;
use tsunagu_automation::source_edits::{self, check};
use tsunagu_automation::sources::{self, Counted, Source};
use tsunagu_core::{Code, Permission, Refusal};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_one, ApiAuth};
use super::extract::{rfc3339, ApiJson, ApiQuery, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::{clinic_zone, read_conn};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::{ApiError, AppState};

/// What this API's changes are audited as.
const SUBJECT: &str = "inflow_source";

/// The longest range `counts` and the CSV answer, in days.
const MAX_DAYS: i64 = 366;

#[derive(Deserialize, ToSchema)]
pub struct SourceIn {
    /// A LINE, WhatsApp, SMS or Messenger channel of the clinic (fixed once created: printed
    /// codes stay valid).
    pub channel_id: String,
    /// 1–30 characters.
    #[schema(example = "待合室ポスター")]
    pub name: String,
    /// The tag given to patients who come through it (up to 30 characters); absent or empty:
    /// `流入:<name>`.
    pub tag: Option<String>,
    /// The greeting who arrives through it gets, instead of the channel's (up to 500
    /// characters; `{{patient.name}}` and the other reply variables work). Absent: none.
    pub welcome_text: Option<String>,
    /// A published, enabled flow of the clinic started on arrival. Absent: none.
    pub welcome_flow_id: Option<String>,
    /// true: on every message carrying the code (読み取るたび); false or absent: the first
    /// time the patient comes through this source (初回のみ).
    pub welcome_every: Option<bool>,
}

/// Fields left out keep their value.
#[derive(Deserialize, ToSchema)]
pub struct SourcePatch {
    pub name: Option<String>,
    pub tag: Option<String>,
    /// Empty: no greeting.
    pub welcome_text: Option<String>,
    /// Empty: no flow.
    pub welcome_flow_id: Option<String>,
    pub welcome_every: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct SourceOut {
    pub id: String,
    pub channel_id: String,
    pub name: String,
    /// The code the prefilled message ends with (Messenger: the link's `ref`), e.g. `S-7K2Q`.
    pub code: String,
    pub tag: String,
    /// What the patient's phone prefills.
    pub prefilled_text: String,
    /// The chat link (LINE `oaMessage`, `wa.me`, `sms:`, `m.me/{page}?ref=`); null until the
    /// channel's public address is set on the sources page.
    pub link: Option<String>,
    /// This API's QR code of `link` as SVG (null without a link).
    pub qr_svg_url: Option<String>,
    /// Patients first seen through it, messages carrying its code, patients it reached who
    /// still follow the channel.
    pub added: i64,
    pub messages: i64,
    pub following: i64,
    pub created_at: String,
    /// The source's greeting ('' for none), sent instead of the channel's.
    pub welcome_text: String,
    /// The flow started on arrival.
    pub welcome_flow_id: Option<String>,
    /// Welcomed on every scan (true) or the first time only (false).
    pub welcome_every: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SourceList {
    /// Oldest first.
    pub items: Vec<SourceOut>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RangeParams {
    /// First clinic-local day, `YYYY-MM-DD` (default: 29 days before `to`).
    pub from: Option<String>,
    /// Last clinic-local day, `YYYY-MM-DD` (default: today). At most 366 days in all.
    pub to: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DayCount {
    /// `YYYY-MM-DD`, clinic-local.
    pub date: String,
    pub added: i64,
    pub messages: i64,
}

#[derive(Serialize, ToSchema)]
pub struct DayCounts {
    /// Every day of the range, oldest first (zeros included).
    pub items: Vec<DayCount>,
}

/// The channels' kinds and chat addresses, for links.
async fn link_of(
    conn: &mut sqlx::AnyConnection,
    auth: &ApiAuth,
    s: &Source,
    public_base: &str,
) -> Result<Option<String>, ApiError> {
    let Some(kind) = source_edits::channel_kind(conn, &auth.clinic, &s.channel_id).await? else {
        return Ok(None);
    };
    let base = public_base;
    Ok(line_login::source_link(conn, &auth.clinic, s, &kind, base).await?)
}

async fn out(
    conn: &mut sqlx::AnyConnection,
    auth: &ApiAuth,
    c: Counted,
    public_base: &str,
) -> Result<SourceOut, ApiError> {
    let link = link_of(conn, auth, &c.source, public_base).await?;
    let s = c.source;
    Ok(SourceOut {
        qr_svg_url: link
            .as_ref()
            .map(|_| format!("/api/v1/automation/sources/{}/qr.svg", s.id)),
        link,
        prefilled_text: sources::prefilled_text(&s.code),
        added: c.added,
        messages: c.messages,
        following: c.following,
        created_at: rfc3339(s.created_at),
        welcome_every: s.welcome_every != 0,
        welcome_text: s.welcome_text,
        welcome_flow_id: s.welcome_flow_id,
        id: s.id,
        channel_id: s.channel_id,
        name: s.name,
        code: s.code,
        tag: s.tag,
    })
}

async fn one(
    conn: &mut sqlx::AnyConnection,
    auth: &ApiAuth,
    id: &str,
    public_base: &str,
) -> Result<SourceOut, ApiError> {
    let c = sources::counted(conn, &auth.clinic)
        .await?
        .into_iter()
        .find(|c| c.source.id == id)
        .ok_or_else(ApiError::not_found)?;
    out(conn, auth, c, public_base).await
}

/// The range asked for, in the clinic's days.
fn range(
    q: &RangeParams,
    tz: chrono_tz::Tz,
    now_ms: i64,
) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let bad = || {
        Refusal::new(Code::InvalidDateRange)
            .detail("from and to are YYYY-MM-DD, from not after to, at most 366 days")
    };
    let date = |s: &str| NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad());
    let to = match &q.to {
        Some(t) => date(t)?,
        None => tsunagu_core::clock::from_ms(now_ms)
            .with_timezone(&tz)
            .date_naive(),
    };
    let from = match &q.from {
        Some(f) => date(f)?,
        None => to - chrono::Duration::days(29),
    };
    let days = (to - from).num_days();
    if !(0..MAX_DAYS).contains(&days) {
        return Err(bad().into());
    }
    Ok((from, to))
}

/// List the clinic's inflow sources with their numbers and links.
///
/// Scope: `read_figures` (token scopes `read`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sources",
    tag = "automation",
    responses(
        (status = 200, description = "Every source of the clinic", body = SourceList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_figures`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<SourceList>, ApiError> {
    auth.require(Permission::ReadFigures)?;
    let mut conn = read_conn(&state).await?;
    let mut items = Vec::new();
    for c in sources::counted(&mut conn, &auth.clinic).await? {
        items.push(out(&mut conn, &auth, c, &state.settings.public_base()).await?);
    }
    Ok(Json(SourceList { items }))
}

/// Read one inflow source.
///
/// Scope: `read_figures` (token scopes `read`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sources/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Source id")),
    responses(
        (status = 200, description = "The source", body = SourceOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_figures`", body = ErrorBody),
        (status = 404, description = "No such source in this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
) -> Result<Json<SourceOut>, ApiError> {
    auth.require(Permission::ReadFigures)?;
    let mut conn = read_conn(&state).await?;
    Ok(Json(
        one(&mut conn, &auth, &id, &state.settings.public_base()).await?,
    ))
}

/// Add an inflow source on a channel; it gets a fresh code.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.source.create`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/sources",
    tag = "automation",
    params(IdempotencyKey),
    request_body = SourceIn,
    responses(
        (status = 201, description = "Stored", body = SourceOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "The channel is not a LINE, WhatsApp or SMS channel of this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_inflow_source`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<SourceIn>,
) -> Result<(StatusCode, Json<SourceOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let c = check(&body.name, body.tag.as_deref().unwrap_or(""))?;
    let mut tx = state.db.begin().await?;
    let ch = &body.channel_id;
    if source_edits::channel_kind(tx.conn(), &auth.clinic, ch)
        .await?
        .is_none()
    {
        return Err(ApiError::not_found());
    }
    let now = state.now_ms();
    let id = sources::create(tx.conn(), &auth.clinic, ch, &c.name, &c.tag, now).await?;
    let text = body.welcome_text.as_deref().unwrap_or("");
    let (flow, every) = (
        body.welcome_flow_id.as_deref(),
        body.welcome_every == Some(true),
    );
    let w = source_edits::check_welcome(tx.conn(), &auth.clinic, text, flow, every).await??;
    source_edits::set_welcome(tx.conn(), &auth.clinic, &id, &w).await?;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.source.create",
        (SUBJECT, &id),
    )
    .await?;
    let s = one(tx.conn(), &auth, &id, &state.settings.public_base()).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(s)))
}

/// Rename an inflow source or change its tag (its code and channel stay).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.source.update`.
#[utoipa::path(
    patch,
    path = "/api/v1/automation/sources/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Source id")),
    request_body = SourcePatch,
    responses(
        (status = 200, description = "As now saved", body = SourceOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such source in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_inflow_source`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<SourcePatch>,
) -> Result<Json<SourceOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let now = sources::get(tx.conn(), &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let name = body.name.unwrap_or(now.name);
    let c = check(&name, &body.tag.unwrap_or(now.tag))?;
    if !source_edits::update(tx.conn(), &auth.clinic, &id, &c).await? {
        return Err(ApiError::not_found());
    }
    let text = body.welcome_text.unwrap_or(now.welcome_text);
    let flow = body.welcome_flow_id.or(now.welcome_flow_id);
    let every = body.welcome_every.unwrap_or(now.welcome_every != 0);
    let (clinic, flow) = (&auth.clinic, flow.as_deref());
    let w = source_edits::check_welcome(tx.conn(), clinic, &text, flow, every).await??;
    source_edits::set_welcome(tx.conn(), clinic, &id, &w).await?;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.source.update",
        (SUBJECT, &id),
    )
    .await?;
    let s = one(tx.conn(), &auth, &id, &state.settings.public_base()).await?;
    tx.commit().await?;
    Ok(Json(s))
}

/// Remove an inflow source with its counts. Tags it gave stay; its code no longer counts.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.source.delete`.
#[utoipa::path(
    delete,
    path = "/api/v1/automation/sources/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Source id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such source in this clinic", body = ErrorBody),
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
    if !source_edits::delete(tx.conn(), &auth.clinic, &id).await? {
        return Err(ApiError::not_found());
    }
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.source.delete",
        (SUBJECT, &id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A source's counts per clinic-local day.
///
/// Scope: `read_figures` (token scopes `read`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sources/{id}/counts",
    tag = "automation",
    params(("id" = String, Path, description = "Source id"), RangeParams),
    responses(
        (status = 200, description = "Patients added and messages per day", body = DayCounts),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_figures`", body = ErrorBody),
        (status = 404, description = "No such source in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_date_range`", body = ErrorBody),
    )
)]
pub async fn counts(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Json<DayCounts>, ApiError> {
    auth.require(Permission::ReadFigures)?;
    let mut conn = read_conn(&state).await?;
    if sources::get(&mut conn, &auth.clinic, &id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    let tz = clinic_zone(&mut conn, &auth.clinic).await?;
    let (from, to) = range(&q, tz, state.now_ms())?;
    let days = sources::per_day(&mut conn, &auth.clinic, tz).await?;
    let items = from
        .iter_days()
        .take_while(|d| *d <= to)
        .map(|date| {
            let d = days.iter().find(|d| d.date == date && d.source_id == id);
            DayCount {
                date: date.to_string(),
                added: d.map_or(0, |d| d.added),
                messages: d.map_or(0, |d| d.messages),
            }
        })
        .collect();
    Ok(Json(DayCounts { items }))
}

/// Every source's counts per clinic-local day as CSV (UTF-8 with a BOM, Japanese header), the
/// file the sources page exports; days without any are left out.
///
/// Scope: `read_figures` (token scopes `read`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sources/export.csv",
    tag = "automation",
    params(RangeParams),
    responses(
        (status = 200, description = "日付,流入経路,コード,登録した患者さん,メッセージ数", content_type = "text/csv"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_figures`", body = ErrorBody),
        (status = 422, description = "`invalid_date_range`", body = ErrorBody),
    )
)]
pub async fn export(
    State(state): State<AppState>,
    auth: ApiAuth,
    ApiQuery(q): ApiQuery<RangeParams>,
) -> Result<Response, ApiError> {
    auth.require(Permission::ReadFigures)?;
    let mut conn = read_conn(&state).await?;
    let tz = clinic_zone(&mut conn, &auth.clinic).await?;
    let (from, to) = range(&q, tz, state.now_ms())?;
    let all = sources::list(&mut conn, &auth.clinic).await?;
    let days: Vec<_> = sources::per_day(&mut conn, &auth.clinic, tz)
        .await?
        .into_iter()
        .filter(|d| d.date >= from && d.date <= to)
        .collect();
    let csv = source_edits::csv(&text("ja", "sources.csv.header"), &all, &days);
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"sources.csv\"",
            ),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        csv,
    )
        .into_response())
}

/// The QR code of a source's chat link, as SVG (what the printed poster shows).
///
/// Scope: `read_figures` (token scopes `read`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sources/{id}/qr.svg",
    tag = "automation",
    params(("id" = String, Path, description = "Source id")),
    responses(
        (status = 200, description = "The QR code", content_type = "image/svg+xml"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_figures`", body = ErrorBody),
        (status = 404, description = "No such source in this clinic, or its channel has no public address yet", body = ErrorBody),
    )
)]
pub async fn qr(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
) -> Result<Response, ApiError> {
    auth.require(Permission::ReadFigures)?;
    let mut conn = read_conn(&state).await?;
    let s = sources::get(&mut conn, &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let link = link_of(&mut conn, &auth, &s, &state.settings.public_base())
        .await?
        .ok_or_else(ApiError::not_found)?;
    let code = QrCode::encode_text(&link, QrCodeEcc::Medium).map_err(|_| ApiError::not_found())?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, "private, no-store"),
        ],
        crate::ui::settings::sources::svg(&code),
    )
        .into_response())
}
