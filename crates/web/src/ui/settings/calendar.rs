//! `/app/settings/calendar`: weekly hours with breaks, closures (臨時休診), national holidays the
//! clinic opens on anyway, and a status line saying whether the clinic is open now.
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_calendar::parse::{self, parse_timezone, MAX_INTERVALS_PER_DAY};
use tsunagu_calendar::store::{self, Added};
use tsunagu_calendar::{Calendar, Invalid, WeeklyHours};
use tsunagu_core::{Code, Permission};

use super::calendar_view::{
    self as view, CalendarPage, ClosureDraft, DayRow, HoursDraft, Slot, DAY_KEYS,
};
use super::{actor_ref, audit_change, render};
use crate::api::refusal::status;
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/calendar";

#[derive(Deserialize)]
pub struct PageQuery {
    /// What was just saved (hours | closure | closure_deleted | holiday), for the notice.
    saved: Option<String>,
}

#[derive(Deserialize)]
pub struct ClosureForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    reason: String,
}

#[derive(Deserialize)]
pub struct HolidayForm {
    /// 1 to open on the holiday, 0 to stay closed.
    #[serde(default)]
    open: String,
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

/// What a re-rendered page keeps of a refused form.
#[derive(Default)]
struct Refused {
    code: Option<Code>,
    hours: Option<HoursDraft>,
    closure: ClosureDraft,
}

async fn load(state: &AppState, staff: &Staff) -> Result<Calendar, PageError> {
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    store::load(&mut conn, &staff.clinic.clinic_id())
        .await?
        .ok_or_else(PageError::not_found)
}

async fn build(
    state: &AppState,
    staff: &Staff,
    refused: Refused,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let cal = load(state, staff).await?;
    let s = &cal.schedule;
    let now = state.clock.now();
    let today = now.with_timezone(&s.timezone).date_naive();
    let hours = refused.hours.unwrap_or_else(|| HoursDraft {
        days: view::days(lang, &s.weekly),
        holidays_closed: s.national_holidays_closed,
        timezone: s.timezone.name().to_string(),
    });
    let page = CalendarPage {
        lang,
        shell: shell(state, staff, "settings").await?,
        title: text(lang, "calendar.title"),
        csrf_token: staff.csrf_token.clone(),
        status: view::status(lang, s, now),
        timezone: hours.timezone,
        configured: cal.configured,
        holidays_closed: hours.holidays_closed,
        days: hours.days,
        closures: view::closures(lang, &cal, today),
        holidays: view::holidays(lang, s, today),
        draft: refused.closure,
        error: refused.code.map(|c| i18n::code(lang, c)),
        notice,
    };
    render(state, "settings/calendar.html", page)
}

/// The page again with the error and what was typed, with the code's status (422, or 409 for a
/// date already closed).
async fn refuse(state: &AppState, staff: &Staff, refused: Refused) -> Result<Response, PageError> {
    let status = refused
        .code
        .map_or(StatusCode::UNPROCESSABLE_ENTITY, status);
    Ok((status, build(state, staff, refused, None).await?).into_response())
}

fn saved(what: &str) -> Response {
    Redirect::to(&format!("{PAGE}?saved={what}")).into_response()
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let known = ["hours", "closure", "closure_deleted", "holiday"];
    let notice = q
        .saved
        .filter(|k| known.contains(&k.as_str()))
        .map(|k| text(staff.lang, &format!("calendar.saved.{k}")));
    build(&state, &staff, Refused::default(), notice).await
}

/// The hours form: `{day}_{n}_start` / `{day}_{n}_end`; a slot left empty is unused.
fn read_hours(form: &HashMap<String, String>) -> Result<WeeklyHours, Invalid> {
    let field = |k: String| form.get(&k).map(|v| v.trim()).unwrap_or("");
    let slot = |key: &str, n: usize| {
        (
            field(format!("{key}_{n}_start")),
            field(format!("{key}_{n}_end")),
        )
    };
    let days = DAY_KEYS.map(|key| {
        let slots = (0..MAX_INTERVALS_PER_DAY).map(|n| slot(key, n));
        slots
            .filter(|(s, e)| !(s.is_empty() && e.is_empty()))
            .collect()
    });
    WeeklyHours::parse(days)
}

fn hours_draft(lang: &str, form: &HashMap<String, String>) -> HoursDraft {
    let field = |k: String| form.get(&k).cloned().unwrap_or_default();
    let days = DAY_KEYS
        .iter()
        .map(|&key| DayRow {
            key,
            label: text(lang, &format!("calendar.weekday.{key}")),
            slots: (0..MAX_INTERVALS_PER_DAY)
                .map(|n| Slot {
                    start: field(format!("{key}_{n}_start")),
                    end: field(format!("{key}_{n}_end")),
                })
                .collect(),
        })
        .collect();
    HoursDraft {
        days,
        holidays_closed: form.get("holidays_closed").is_some_and(|v| v == "1"),
        timezone: field("timezone".into()),
    }
}

pub async fn save_hours(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let tz_field = form
        .get("timezone")
        .map(|v| v.trim())
        .filter(|v| !v.is_empty());
    let parsed = read_hours(&form).and_then(|h| Ok((h, tz_field.map(parse_timezone).transpose()?)));
    let (hours, tz) = match parsed {
        Ok(v) => v,
        Err(e) => {
            let refused = Refused {
                code: Some(e.code()),
                hours: Some(hours_draft(staff.lang, &form)),
                ..Default::default()
            };
            return refuse(&state, &staff, refused).await;
        }
    };
    let closed = form.get("holidays_closed").is_some_and(|v| v == "1");
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    store::save_hours(
        tx.conn(),
        &clinic,
        &hours,
        closed,
        &actor_ref(&staff),
        state.now_ms(),
    )
    .await?;
    if let Some(tz) = tz.filter(|tz| tz.name() != staff.clinic.timezone) {
        store::set_timezone(tx.conn(), &clinic, tz).await?;
    }
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "calendar.hours.update",
        ("clinic", &[clinic.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("hours"))
}

pub async fn add_closure(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<ClosureForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let parsed = parse::closure(&form.date, Some(&form.until), &form.reason);
    let draft = ClosureDraft {
        date: form.date.clone(),
        until: form.until.clone(),
        reason: form.reason.clone(),
    };
    let (dates, reason) = match parsed {
        Ok(v) => v,
        Err(e) => {
            let refused = Refused {
                code: Some(e.code()),
                closure: draft,
                ..Default::default()
            };
            return refuse(&state, &staff, refused).await;
        }
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let rows = match store::add_closures(
        tx.conn(),
        &clinic,
        &dates,
        &reason,
        &actor_ref(&staff),
        state.now_ms(),
    )
    .await?
    {
        Added::Closures(rows) => rows,
        Added::Exists(_) => {
            drop(tx);
            let refused = Refused {
                code: Some(Code::ClosureExists),
                closure: draft,
                ..Default::default()
            };
            return refuse(&state, &staff, refused).await;
        }
    };
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "calendar.closure.create",
        ("calendar_closure", &ids),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("closure"))
}

pub async fn delete_closure(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !store::delete_closure(tx.conn(), &staff.clinic.clinic_id(), &id).await? {
        return Err(PageError::not_found());
    }
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "calendar.closure.delete",
        ("calendar_closure", &[id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("closure_deleted"))
}

pub async fn set_holiday(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(raw): Path<String>,
    staff: Staff,
    CsrfForm(form): CsrfForm<HolidayForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    // The page only offers real holidays; anything else is no such page.
    let (date, _, _) = parse::holiday(&raw).map_err(|_| PageError::not_found())?;
    let open = form.open == "1";
    let mut tx = state.db.begin().await?;
    store::set_holiday_open(
        tx.conn(),
        &staff.clinic.clinic_id(),
        date,
        open,
        &actor_ref(&staff),
        state.now_ms(),
    )
    .await?;
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "calendar.holiday.update",
        ("calendar_holiday", &[raw.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("holiday"))
}
