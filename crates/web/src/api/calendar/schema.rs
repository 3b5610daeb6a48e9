//! The wire types of `/api/v1/calendar*` and their conversions from the calendar crate.
use serde::{Deserialize, Serialize};
use tsunagu_calendar::{ClosureRow, HolidayStatus, Interval, Invalid, WeeklyHours};
use utoipa::{IntoParams, ToSchema};

use crate::api::extract::rfc3339;

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

impl WeekIo {
    pub(super) fn to_hours(&self) -> Result<WeeklyHours, Invalid> {
        let days = [
            &self.mon, &self.tue, &self.wed, &self.thu, &self.fri, &self.sat, &self.sun,
        ];
        WeeklyHours::parse(days.map(|d| d.iter().map(|i| (&i.start, &i.end)).collect()))
    }

    pub(super) fn from_hours(h: &WeeklyHours) -> Self {
        let io = |d: &Vec<Interval>| {
            let io = |i: &Interval| IntervalIo {
                start: i.start_hhmm(),
                end: i.end_hhmm(),
            };
            d.iter().map(io).collect()
        };
        let [mon, tue, wed, thu, fri, sat, sun] = h.days().each_ref().map(io);
        WeekIo {
            mon,
            tue,
            wed,
            thu,
            fri,
            sat,
            sun,
        }
    }
}

pub(super) fn closure_out(c: &ClosureRow) -> ClosureOut {
    ClosureOut {
        id: c.id.clone(),
        date: c.date.to_string(),
        reason: c.reason.clone(),
        created_at: rfc3339(c.created_at),
    }
}

pub(super) fn holiday_out(h: HolidayStatus) -> HolidayOut {
    HolidayOut {
        date: h.date.to_string(),
        name_ja: h.name_ja.into(),
        name_en: h.name_en.into(),
        open: h.open,
        overridden: h.overridden,
    }
}
