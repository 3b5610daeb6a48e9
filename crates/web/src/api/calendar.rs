//! `/api/v1/calendar`: the clinic's hours, closures and national holidays, and the one question
//! integrations ask of them: is the clinic open at an instant, and when does it next open.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use tsunagu_calendar::parse::{date_range, parse_date, parse_reason, parse_timezone};
use tsunagu_calendar::store::{self, Added};
use tsunagu_calendar::{holidays, Calendar, HolidayStatus, Interval, Invalid, WeeklyHours};
use tsunagu_core::{ClinicId, Permission};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{rfc3339, ApiJson, ApiQuery, ErrorBody, IdPath};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OpeningQuery {
    /// RFC 3339 instant (`2027-01-09T13:00:00+09:00`; encode `+` as `%2B`); defaults to now.
    pub at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct OpeningOut {
    pub open: bool,
    /// RFC 3339 UTC: `at` itself when open; null when the clinic does not open within 400 days.
    pub next_opening: Option<String>,
    /// RFC 3339 UTC when the current open stretch ends (a lunch break counts); null when closed.
    pub closes_at: Option<String>,
    /// The clinic's IANA zone, in which the hours are kept.
    #[schema(example = "Asia/Tokyo")]
    pub timezone: String,
}

/// An open stretch of a day in the clinic's local time.
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntervalIo {
    #[schema(example = "09:00")]
    pub start: String,
    /// `24:00` for midnight.
    #[schema(example = "12:30")]
    pub end: String,
}

/// Up to three intervals per weekday; a missing or empty day is closed.
#[derive(Serialize, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields, default)]
pub struct WeekIo {
    pub mon: Vec<IntervalIo>,
    pub tue: Vec<IntervalIo>,
    pub wed: Vec<IntervalIo>,
    pub thu: Vec<IntervalIo>,
    pub fri: Vec<IntervalIo>,
    pub sat: Vec<IntervalIo>,
    pub sun: Vec<IntervalIo>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoursIn {
    pub weekly: WeekIo,
    /// Whether national holidays close the clinic (default true); per-date exceptions via
    /// `PUT /api/v1/calendar/holidays/{date}`.
    pub national_holidays_closed: Option<bool>,
    /// Changes the clinic's zone when given.
    #[schema(example = "Asia/Tokyo")]
    pub timezone: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ClosureOut {
    pub id: String,
    #[schema(example = "2026-11-24")]
    pub date: String,
    #[schema(example = "臨時休診 院長学会出張")]
    pub reason: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClosureIn {
    #[schema(example = "2026-12-29")]
    pub date: String,
    /// Last day of a range (inclusive, at most 31 days), e.g. `2027-01-03` for 年末年始.
    pub until: Option<String>,
    /// 1–200 characters.
    pub reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct ClosureList {
    pub items: Vec<ClosureOut>,
}

#[derive(Serialize, ToSchema)]
pub struct HolidayOut {
    pub date: String,
    #[schema(example = "成人の日")]
    pub name_ja: String,
    #[schema(example = "Coming of Age Day")]
    pub name_en: String,
    /// Whether the clinic opens on its weekday hours that day.
    pub open: bool,
    /// Set for this date rather than following `national_holidays_closed`.
    pub overridden: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolidayIn {
    pub open: bool,
}

#[derive(Serialize, ToSchema)]
pub struct CalendarOut {
    pub timezone: String,
    /// False until an admin saves hours: `weekly` then shows the default hours in force.
    pub configured: bool,
    pub national_holidays_closed: bool,
    pub weekly: WeekIo,
    pub closures: Vec<ClosureOut>,
    /// Every per-date holiday setting, any year.
    pub holiday_overrides: Vec<HolidayOut>,
    /// The national holidays of this year and next (in the clinic's zone).
    pub national_holidays: Vec<HolidayOut>,
}

fn invalid(e: Invalid) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.code(), e.to_string())
}

fn require_read(auth: &ApiAuth) -> Result<(), ApiError> {
    if auth.can(Permission::ReadFigures) || auth.can(Permission::ReadPatients) {
        Ok(())
    } else {
        Err(ApiError::forbidden())
    }
}

fn actor(auth: &ApiAuth) -> String {
    format!("token:{}", auth.token_id)
}

fn iso(t: DateTime<Utc>) -> String {
    rfc3339(t.timestamp_millis())
}

impl WeekIo {
    fn to_hours(&self) -> Result<WeeklyHours, Invalid> {
        let days = [&self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun];
        let mut out: [Vec<Interval>; 7] = Default::default();
        for (slot, day) in out.iter_mut().zip(days) {
            *slot = day.iter().map(|i| Interval::parse(&i.start, &i.end)).collect::<Result<_, _>>()?;
        }
        WeeklyHours::new(out)
    }

    fn from_hours(h: &WeeklyHours) -> Self {
        let mut days = h.iter().map(|(_, d)| {
            d.iter().map(|i| IntervalIo { start: i.start_hhmm(), end: i.end_hhmm() }).collect()
        });
        let mut next = || days.next().unwrap_or_default();
        WeekIo { mon: next(), tue: next(), wed: next(), thu: next(), fri: next(), sat: next(), sun: next() }
    }
}

fn closure_out(c: &tsunagu_calendar::ClosureRow) -> ClosureOut {
    ClosureOut {
        id: c.id.clone(),
        date: c.date.to_string(),
        reason: c.reason.clone(),
        created_at: rfc3339(c.created_at),
    }
}

fn holiday_out(h: HolidayStatus) -> HolidayOut {
    HolidayOut {
        date: h.date.to_string(),
        name_ja: h.name_ja.into(),
        name_en: h.name_en.into(),
        open: h.open,
        overridden: h.overridden,
    }
}

async fn load(state: &AppState, clinic: &ClinicId) -> Result<Calendar, ApiError> {
    let mut conn = read_conn(state).await?;
    store::load(&mut conn, clinic).await?.ok_or_else(ApiError::not_found)
}

fn view(state: &AppState, cal: &Calendar) -> CalendarOut {
    let s = &cal.schedule;
    let year = state.clock.now().with_timezone(&s.timezone).year();
    let national_holidays = [year, year + 1].into_iter().flat_map(|y| s.holidays(y)).map(holiday_out).collect();
    let holiday_overrides = s
        .holiday_overrides
        .iter()
        .filter_map(|(d, &open)| holidays::on(*d).map(|(date, name_ja, name_en)| (date, name_ja, name_en, open)))
        .map(|(date, name_ja, name_en, open)| {
            holiday_out(HolidayStatus { date, name_ja, name_en, open, overridden: true })
        })
        .collect();
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
    let at = match q.at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => state.clock.now(),
        // An unencoded `+` arrives as a space: read it as the `+` it was.
        Some(s) => DateTime::parse_from_rfc3339(&s.replace(' ', "+"))
            .map(|t| t.with_timezone(&Utc))
            .map_err(|_| {
                let msg = "at must be an RFC 3339 time such as 2027-01-09T13:00:00+09:00.";
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_time", msg)
            })?,
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
pub async fn get(State(state): State<AppState>, auth: ApiAuth) -> Result<Json<CalendarOut>, ApiError> {
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
    let tz = body.timezone.as_deref().map(parse_timezone).transpose().map_err(invalid)?;
    let closed = body.national_holidays_closed.unwrap_or(true);
    let mut tx = state.db.begin().await?;
    store::save_hours(tx.conn(), &auth.clinic, &hours, closed, &actor(&auth), state.now_ms()).await?;
    if let Some(tz) = tz {
        store::set_timezone(tx.conn(), &auth.clinic, tz).await?;
    }
    let ids = [auth.clinic.as_str()];
    let e = Event { action: "api.calendar.hours.update", subject_type: "clinic", subject_ids: &ids };
    audit_change(&mut tx, &state, &auth, &ip, e).await?;
    tx.commit().await?;
    let cal = load(&state, &auth.clinic).await?;
    Ok(Json(view(&state, &cal)))
}

/// Close the clinic for a day or a range of days (臨時休診, 年末年始).
///
/// Scope: `administer` (token scope `admin`). One closure per date; a date that already has one
/// is `closure_exists` and nothing is added.
#[utoipa::path(
    post,
    path = "/api/v1/calendar/closures",
    tag = "calendar",
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
    let from = parse_date(&body.date).map_err(invalid)?;
    let until = body.until.as_deref().map(parse_date).transpose().map_err(invalid)?;
    let dates = date_range(from, until).map_err(invalid)?;
    let reason = parse_reason(&body.reason).map_err(invalid)?;
    let mut tx = state.db.begin().await?;
    let added = store::add_closures(tx.conn(), &auth.clinic, &dates, &reason, &actor(&auth), state.now_ms()).await?;
    let rows = match added {
        Added::Closures(rows) => rows,
        Added::Exists(d) => {
            let msg = format!("The clinic is already closed on {d}.");
            return Err(ApiError::new(StatusCode::CONFLICT, "closure_exists", msg));
        }
    };
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let e = Event { action: "api.calendar.closure.create", subject_type: "calendar_closure", subject_ids: &ids };
    audit_change(&mut tx, &state, &auth, &ip, e).await?;
    tx.commit().await?;
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
    let ids = [id.as_str()];
    let e = Event { action: "api.calendar.closure.delete", subject_type: "calendar_closure", subject_ids: &ids };
    audit_change(&mut tx, &state, &auth, &ip, e).await?;
    tx.commit().await?;
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
    let date = parse_date(&raw).map_err(invalid)?;
    let (_, name_ja, name_en) = holidays::on(date).ok_or_else(|| invalid(Invalid::NotAHoliday(date)))?;
    let mut tx = state.db.begin().await?;
    store::set_holiday_open(tx.conn(), &auth.clinic, date, body.open, &actor(&auth), state.now_ms()).await?;
    let ids = [raw.as_str()];
    let e = Event { action: "api.calendar.holiday.update", subject_type: "calendar_holiday", subject_ids: &ids };
    audit_change(&mut tx, &state, &auth, &ip, e).await?;
    tx.commit().await?;
    Ok(Json(HolidayOut {
        date: raw,
        name_ja: name_ja.into(),
        name_en: name_en.into(),
        open: body.open,
        overridden: true,
    }))
}
