//! The calendar in the database (migration 0005): weekly hours, closures and holiday
//! overrides per clinic; the zone is the clinic's own (`clinics.timezone`). Reads take any
//! connection; writes take the caller's transaction so its audit row commits with them.
use std::collections::BTreeMap;

use anyhow::Context;
use chrono::NaiveDate;
use chrono_tz::Tz;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId};
use tsunagu_store::clinics;

use crate::hours::{Interval, WeeklyHours};
use crate::parse::{parse_date, parse_timezone};
use crate::schedule::Schedule;

/// A closure as stored, with who added it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClosureRow {
    pub id: String,
    pub date: NaiveDate,
    pub reason: String,
    /// `staff:<id>` or `token:<id>`.
    pub created_by: String,
    pub created_at: i64,
}

/// A clinic's calendar as loaded.
#[derive(Clone, Debug)]
pub struct Calendar {
    pub schedule: Schedule,
    pub closures: Vec<ClosureRow>,
    /// False until an admin saves the hours: `schedule` then holds the default hours.
    pub configured: bool,
}

#[derive(FromRow)]
struct HourRow {
    weekday: i64,
    start_time: String,
    end_time: String,
}

#[derive(FromRow)]
struct ClosureDb {
    id: String,
    date: String,
    reason: String,
    created_by: String,
    created_at: i64,
}

/// The clinic's calendar, or `None` when there is no such clinic. A zone name the clinic row
/// cannot resolve reads as Asia/Tokyo rather than leaving the away message without hours.
pub async fn load(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Option<Calendar>> {
    let Some(row) = clinics::by_id(&mut *conn, clinic).await? else {
        return Ok(None);
    };
    let tz = parse_timezone(&row.timezone).unwrap_or(chrono_tz::Asia::Tokyo);
    let settings: Option<i64> = sqlx::query_scalar(
        "SELECT national_holidays_closed FROM calendar_settings WHERE clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("reading the clinic's calendar settings")?;
    let mut schedule = match settings {
        Some(closed) => {
            let mut s = Schedule::new(tz, read_hours(conn, clinic).await?);
            s.national_holidays_closed = closed != 0;
            s
        }
        None => Schedule::japanese_clinic_default(tz),
    };
    let closures = read_closures(conn, clinic).await?;
    schedule.closures = closures
        .iter()
        .map(|c| (c.date, c.reason.clone()))
        .collect();
    schedule.holiday_overrides = read_overrides(conn, clinic).await?;
    Ok(Some(Calendar {
        schedule,
        closures,
        configured: settings.is_some(),
    }))
}

async fn read_hours(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<WeeklyHours> {
    let rows: Vec<HourRow> = sqlx::query_as(
        "SELECT weekday, start_time, end_time FROM calendar_hours WHERE clinic_id = $1 ORDER BY weekday, start_time",
    )
    .bind(clinic.as_str())
    .fetch_all(&mut *conn)
    .await
    .context("reading the clinic's opening hours")?;
    let mut days: [Vec<Interval>; 7] = Default::default();
    for r in rows {
        let day = usize::try_from(r.weekday)
            .ok()
            .and_then(|i| days.get_mut(i));
        let day =
            day.with_context(|| format!("stored opening hours name weekday {}", r.weekday))?;
        day.push(
            Interval::parse(&r.start_time, &r.end_time)
                .context("stored opening hours do not read")?,
        );
    }
    WeeklyHours::new(days).context("stored opening hours do not read")
}

async fn read_closures(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<ClosureRow>> {
    let rows: Vec<ClosureDb> = sqlx::query_as(
        "SELECT id, date, reason, created_by, created_at FROM calendar_closures WHERE clinic_id = $1 ORDER BY date",
    )
    .bind(clinic.as_str())
    .fetch_all(&mut *conn)
    .await
    .context("reading the clinic's closures")?;
    rows.into_iter()
        .map(|r| {
            Ok(ClosureRow {
                date: parse_date(&r.date).context("a stored closure date does not read")?,
                id: r.id,
                reason: r.reason,
                created_by: r.created_by,
                created_at: r.created_at,
            })
        })
        .collect()
}

async fn read_overrides(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<BTreeMap<NaiveDate, bool>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT date, opens FROM calendar_holiday_overrides WHERE clinic_id = $1")
            .bind(clinic.as_str())
            .fetch_all(&mut *conn)
            .await
            .context("reading the clinic's holiday settings")?;
    rows.into_iter()
        .map(|(d, open)| {
            Ok((
                parse_date(&d).context("a stored holiday date does not read")?,
                open != 0,
            ))
        })
        .collect()
}

/// Replaces the weekly hours and whether national holidays close the clinic; from now on the
/// clinic counts as configured.
pub async fn save_hours(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    hours: &WeeklyHours,
    national_holidays_closed: bool,
    actor: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM calendar_hours WHERE clinic_id = $1")
        .bind(clinic.as_str())
        .execute(&mut *conn)
        .await
        .context("clearing the old opening hours")?;
    for (wd, intervals) in hours.iter() {
        for i in intervals {
            sqlx::query(
                "INSERT INTO calendar_hours (id, clinic_id, weekday, start_time, end_time, created_at)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(new_id())
            .bind(clinic.as_str())
            .bind(i64::from(wd.num_days_from_monday()))
            .bind(i.start_hhmm())
            .bind(i.end_hhmm())
            .bind(now_ms)
            .execute(&mut *conn)
            .await
            .context("storing an opening interval")?;
        }
    }
    sqlx::query(
        "INSERT INTO calendar_settings (clinic_id, national_holidays_closed, updated_by, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (clinic_id) DO UPDATE SET national_holidays_closed = excluded.national_holidays_closed,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(clinic.as_str())
    .bind(i64::from(national_holidays_closed))
    .bind(actor)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("storing the calendar settings")?;
    Ok(())
}

/// Changes the clinic's zone (shared with every page that shows clinic times).
pub async fn set_timezone(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    tz: Tz,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE clinics SET timezone = $1 WHERE id = $2")
        .bind(tz.name())
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("changing the clinic's time zone")?;
    Ok(())
}

/// The outcome of adding closures.
#[derive(Debug, PartialEq, Eq)]
pub enum Added {
    Closures(Vec<ClosureRow>),
    /// The clinic already has a closure on this date; the caller rolls back.
    Exists(NaiveDate),
}

/// Adds one closure per date with the same reason.
pub async fn add_closures(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    dates: &[NaiveDate],
    reason: &str,
    actor: &str,
    now_ms: i64,
) -> anyhow::Result<Added> {
    let mut out = Vec::with_capacity(dates.len());
    for &date in dates {
        let id = new_id();
        let inserted: Option<String> = sqlx::query_scalar(
            "INSERT INTO calendar_closures (id, clinic_id, date, reason, created_by, created_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (clinic_id, date) DO NOTHING RETURNING id",
        )
        .bind(&id)
        .bind(clinic.as_str())
        .bind(date.format("%Y-%m-%d").to_string())
        .bind(reason)
        .bind(actor)
        .bind(now_ms)
        .fetch_optional(&mut *conn)
        .await
        .context("storing a closure")?;
        if inserted.is_none() {
            return Ok(Added::Exists(date));
        }
        let (reason, created_by) = (reason.to_string(), actor.to_string());
        out.push(ClosureRow {
            id,
            date,
            reason,
            created_by,
            created_at: now_ms,
        });
    }
    Ok(Added::Closures(out))
}

/// Removes a closure of this clinic; false when the clinic has no closure with that id.
pub async fn delete_closure(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM calendar_closures WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("removing a closure")?;
    Ok(done.rows_affected() > 0)
}

/// Sets whether the clinic opens on one national holiday.
pub async fn set_holiday_open(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    date: NaiveDate,
    open: bool,
    actor: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO calendar_holiday_overrides (id, clinic_id, date, opens, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6)
         ON CONFLICT (clinic_id, date) DO UPDATE SET opens = excluded.opens,
             updated_by = excluded.updated_by, updated_at = excluded.updated_at",
    )
    .bind(new_id())
    .bind(clinic.as_str())
    .bind(date.format("%Y-%m-%d").to_string())
    .bind(i64::from(open))
    .bind(actor)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("storing the clinic's holiday setting")?;
    Ok(())
}
