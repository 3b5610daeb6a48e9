//! `/api/v1/calendar`: the clinic's hours, closures and national holidays, and the one question
//! integrations ask of them: is the clinic open at an instant, and when does it next open.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Datelike, Utc};
use tsunagu_calendar::parse::{self, parse_timezone};
use tsunagu_calendar::store::{self, Added};
use tsunagu_calendar::{Calendar, HolidayStatus, Invalid};
use tsunagu_core::{ClinicId, Code, Permission, Refusal};
use tsunagu_store::Tx;

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{rfc3339, ApiJson, ApiQuery, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

mod schema;

pub use schema::*;

fn invalid(e: Invalid) -> ApiError {
    Refusal::from(e).into()
}

fn require_read(auth: &ApiAuth) -> Result<(), ApiError> {
    let ok = auth.can(Permission::ReadFigures) || auth.can(Permission::ReadPatients);
    ok.then_some(()).ok_or_else(ApiError::forbidden)
}

fn actor(auth: &ApiAuth) -> String {
    format!("token:{}", auth.token_id)
}

/// Who changes the calendar, for the audit entry.
struct Who<'a>(&'a AppState, &'a ApiAuth, &'a ClientIp);

/// Records the change in its transaction, then commits both.
async fn commit(
    mut tx: Tx,
    who: Who<'_>,
    action: &str,
    subject: (&str, &[&str]),
) -> Result<(), ApiError> {
    let (subject_type, subject_ids) = subject;
    let e = Event {
        action,
        subject_type,
        subject_ids,
    };
    audit_change(&mut tx, who.0, who.1, who.2, e).await?;
    Ok(tx.commit().await?)
}

fn iso(t: DateTime<Utc>) -> String {
    rfc3339(t.timestamp_millis())
}

async fn load(state: &AppState, clinic: &ClinicId) -> Result<Calendar, ApiError> {
    let mut conn = read_conn(state).await?;
    store::load(&mut conn, clinic)
        .await?
        .ok_or_else(ApiError::not_found)
}

fn view(state: &AppState, cal: &Calendar) -> CalendarOut {
    let s = &cal.schedule;
    let year = state.clock.now().with_timezone(&s.timezone).year();
    let national_holidays = [year, year + 1]
        .into_iter()
        .flat_map(|y| s.holidays(y))
        .map(holiday_out)
        .collect();
    let holiday_overrides = s.holiday_settings().into_iter().map(holiday_out).collect();
    CalendarOut {
        timezone: s.timezone.name().into(),
        configured: cal.configured,
        national_holidays_closed: s.national_holidays_closed,
        weekly: WeekIo::from_hours(&s.weekly),
        closures: cal.closures.iter().map(closure_out).collect(),
        holiday_overrides,
        national_holidays,
    }
}

/// Is the clinic open at an instant, and when does it next open.
///
/// Scope: `read_figures` or `read_patients` (any token scope). Counts weekly hours with their
/// breaks, closures, national holidays (unless the clinic opens on them) and the clinic's zone.
#[utoipa::path(
    get,
    path = "/api/v1/calendar/opening",
    tag = "calendar",
    params(OpeningQuery),
    responses(
        (status = 200, description = "Open or not, and the next opening", body = OpeningOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 422, description = "`invalid_time`: `at` is not RFC 3339", body = ErrorBody),
    )
)]
pub async fn opening(
    State(state): State<AppState>,
    auth: ApiAuth,
    ApiQuery(q): ApiQuery<OpeningQuery>,
) -> Result<Json<OpeningOut>, ApiError> {
    require_read(&auth)?;
    let at = match q.at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => parse::instant(s).map_err(invalid)?,
        None => state.clock.now(),
    };
    let s = load(&state, &auth.clinic).await?.schedule;
    Ok(Json(OpeningOut {
        open: s.is_open(at),
        next_opening: s.next_opening(at).map(iso),
        closes_at: s.current_interval_end(at).map(iso),
        timezone: s.timezone.name().into(),
    }))
}

/// The clinic calendar: hours, closures, holiday settings and this year's and next year's
/// national holidays.
///
/// Scope: `read_figures` or `read_patients` (any token scope).
#[utoipa::path(
    get,
    path = "/api/v1/calendar",
    tag = "calendar",
    responses(
        (status = 200, description = "The calendar", body = CalendarOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<CalendarOut>, ApiError> {
    require_read(&auth)?;
    let cal = load(&state, &auth.clinic).await?;
    Ok(Json(view(&state, &cal)))
}

/// Replace the weekly hours.
///
/// Scope: `administer` (token scope `admin`). Times are `HH:MM` in the clinic's zone; per day
/// at most three intervals, each starting before it ends, none overlapping.
#[utoipa::path(
    put,
    path = "/api/v1/calendar/hours",
    tag = "calendar",
    request_body = HoursIn,
    responses(
        (status = 200, description = "Saved; the whole calendar", body = CalendarOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 422, description = "`invalid_time`, `invalid_interval`, `overlapping_intervals`, `too_many_intervals`, `invalid_timezone`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn put_hours(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<HoursIn>,
) -> Result<Json<CalendarOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let hours = body.weekly.to_hours().map_err(invalid)?;
    let tz = body.timezone.as_deref().map(parse_timezone);
    let tz = tz.transpose().map_err(invalid)?;
    let closed = body.national_holidays_closed.unwrap_or(true);
    let mut tx = state.db.begin().await?;
    let (clinic, now) = (&auth.clinic, state.now_ms());
    store::save_hours(tx.conn(), clinic, &hours, closed, &actor(&auth), now).await?;
    if let Some(tz) = tz {
        store::set_timezone(tx.conn(), clinic, tz).await?;
    }
    let subject = ("clinic", &[clinic.as_str()][..]);
    let who = Who(&state, &auth, &ip);
    commit(tx, who, "api.calendar.hours.update", subject).await?;
    Ok(Json(view(&state, &load(&state, clinic).await?)))
}

/// Close the clinic for a day or a range of days (臨時休診, 年末年始).
///
/// Scope: `administer` (token scope `admin`). One closure per date; a date that already has one
/// is `closure_exists` and nothing is added.
#[utoipa::path(
    post,
    path = "/api/v1/calendar/closures",
    tag = "calendar",
    params(IdempotencyKey),
    request_body = ClosureIn,
    responses(
        (status = 201, description = "The closures added, one per date", body = ClosureList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 409, description = "`closure_exists`", body = ErrorBody),
        (status = 422, description = "`invalid_date`, `invalid_date_range`, `invalid_reason`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn add_closures(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<ClosureIn>,
) -> Result<(StatusCode, Json<ClosureList>), ApiError> {
    auth.require(Permission::Administer)?;
    let (dates, reason) =
        parse::closure(&body.date, body.until.as_deref(), &body.reason).map_err(invalid)?;
    let mut tx = state.db.begin().await?;
    let (clinic, now) = (&auth.clinic, state.now_ms());
    let by = actor(&auth);
    let rows = match store::add_closures(tx.conn(), clinic, &dates, &reason, &by, now).await? {
        Added::Closures(rows) => rows,
        Added::Exists(d) => {
            let msg = format!("The clinic is already closed on {d}.");
            return Err(Refusal::new(Code::ClosureExists).detail(msg).into());
        }
    };
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let subject = ("calendar_closure", &ids[..]);
    let who = Who(&state, &auth, &ip);
    commit(tx, who, "api.calendar.closure.create", subject).await?;
    let items = rows.iter().map(closure_out).collect();
    Ok((StatusCode::CREATED, Json(ClosureList { items })))
}

/// Remove a closure.
///
/// Scope: `administer` (token scope `admin`).
#[utoipa::path(
    delete,
    path = "/api/v1/calendar/closures/{id}",
    tag = "calendar",
    params(("id" = String, Path, description = "Closure id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such closure in this clinic", body = ErrorBody),
    )
)]
pub async fn delete_closure(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !store::delete_closure(tx.conn(), &auth.clinic, &id).await? {
        return Err(ApiError::not_found());
    }
    let subject = ("calendar_closure", &[id.as_str()][..]);
    let who = Who(&state, &auth, &ip);
    commit(tx, who, "api.calendar.closure.delete", subject).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Open on a national holiday anyway, or stay closed.
///
/// Scope: `administer` (token scope `admin`). `date` must be a national holiday.
#[utoipa::path(
    put,
    path = "/api/v1/calendar/holidays/{date}",
    tag = "calendar",
    params(("date" = String, Path, description = "A national holiday, YYYY-MM-DD")),
    request_body = HolidayIn,
    responses(
        (status = 200, description = "Saved", body = HolidayOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 422, description = "`invalid_date`, `not_a_holiday`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn put_holiday(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(raw): IdPath,
    ApiJson(body): ApiJson<HolidayIn>,
) -> Result<Json<HolidayOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let (date, name_ja, name_en) = parse::holiday(&raw).map_err(invalid)?;
    let mut tx = state.db.begin().await?;
    let (clinic, now) = (&auth.clinic, state.now_ms());
    store::set_holiday_open(tx.conn(), clinic, date, body.open, &actor(&auth), now).await?;
    let subject = ("calendar_holiday", &[raw.as_str()][..]);
    let who = Who(&state, &auth, &ip);
    commit(tx, who, "api.calendar.holiday.update", subject).await?;
    let h = HolidayStatus {
        date,
        name_ja,
        name_en,
        open: body.open,
        overridden: true,
    };
    Ok(Json(holiday_out(h)))
}
