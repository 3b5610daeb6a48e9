//! A clinic's opening hours in its own zone, and the one answer the away message, SLA clocks
//! and booking all ask: is it open at this instant, and when does it next open.
//!
//! Hours are wall-clock times: "09:00" means nine on the clinic's clocks whatever the UTC
//! offset that day, so a zone with daylight saving opens at 09:00 on both sides of a change.
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, Offset, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

use crate::holidays::{self, Holiday};
use crate::hours::{Interval, WeeklyHours};
use crate::parse::MINUTES_PER_DAY;

/// How far ahead `next_opening` looks before deciding the clinic never opens.
pub const HORIZON_DAYS: u64 = 400;

/// How many open stretches the SLA arithmetic walks at most (three a day over the horizon).
const MAX_STRETCHES: u64 = 3 * (HORIZON_DAYS + 1);

/// Why a day is closed all day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DayOff {
    /// A clinic closure (臨時休診, 年末年始 …) with its reason.
    Closure(String),
    /// A national holiday the clinic does not open on.
    Holiday(Holiday),
}

/// A national holiday and whether this clinic opens on it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HolidayStatus {
    pub date: NaiveDate,
    pub name_ja: &'static str,
    pub name_en: &'static str,
    /// Opens on its weekday hours (unless a closure also falls on the date).
    pub open: bool,
    /// Set explicitly for this clinic rather than following `national_holidays_closed`.
    pub overridden: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Schedule {
    pub timezone: Tz,
    pub weekly: WeeklyHours,
    /// Whole days closed, with the reason staff gave.
    pub closures: BTreeMap<NaiveDate, String>,
    /// National holidays set per clinic: `true` opens anyway, `false` stays closed.
    pub holiday_overrides: BTreeMap<NaiveDate, bool>,
    /// Whether national holidays close the clinic unless overridden (the usual case).
    pub national_holidays_closed: bool,
}

/// The holidays of the years a search touches, computed once per year.
#[derive(Default)]
struct Memo(Vec<(i32, Vec<Holiday>)>);

impl Memo {
    fn holiday(&mut self, date: NaiveDate) -> Option<Holiday> {
        let y = date.year();
        if !self.0.iter().any(|(year, _)| *year == y) {
            self.0.push((y, holidays::japan(y)));
        }
        self.0
            .iter()
            .find(|(year, _)| *year == y)
            .and_then(|(_, hs)| hs.iter().find(|h| h.0 == date).copied())
    }
}

impl Schedule {
    pub fn new(timezone: Tz, weekly: WeeklyHours) -> Self {
        Self {
            timezone,
            weekly,
            closures: BTreeMap::new(),
            holiday_overrides: BTreeMap::new(),
            national_holidays_closed: true,
        }
    }

    /// The default for a clinic that has not saved its hours yet.
    pub fn japanese_clinic_default(timezone: Tz) -> Self {
        Self::new(timezone, WeeklyHours::japanese_clinic_default())
    }

    /// Adds a whole-day closure.
    pub fn with_closure(mut self, date: NaiveDate, reason: &str) -> Self {
        self.closures.insert(date, reason.to_string());
        self
    }

    /// Sets whether the clinic opens on a national holiday.
    pub fn with_holiday_open(mut self, date: NaiveDate, open: bool) -> Self {
        self.holiday_overrides.insert(date, open);
        self
    }

    /// Why `date` is closed all day, if it is.
    pub fn day_off(&self, date: NaiveDate) -> Option<DayOff> {
        self.day_off_memo(date, &mut Memo::default())
    }

    fn day_off_memo(&self, date: NaiveDate, memo: &mut Memo) -> Option<DayOff> {
        if let Some(reason) = self.closures.get(&date) {
            return Some(DayOff::Closure(reason.clone()));
        }
        let h = memo.holiday(date)?;
        let open = self
            .holiday_overrides
            .get(&date)
            .copied()
            .unwrap_or(!self.national_holidays_closed);
        (!open).then_some(DayOff::Holiday(h))
    }

    /// The intervals the clinic keeps on `date` (empty when closed all day).
    pub fn hours_on(&self, date: NaiveDate) -> &[Interval] {
        self.hours_memo(date, &mut Memo::default())
    }

    fn hours_memo(&self, date: NaiveDate, memo: &mut Memo) -> &[Interval] {
        if self.day_off_memo(date, memo).is_some() {
            return &[];
        }
        self.weekly.day(date.weekday())
    }

    /// The national holidays of `year` and whether this clinic opens on each.
    pub fn holidays(&self, year: i32) -> Vec<HolidayStatus> {
        holidays::japan(year)
            .into_iter()
            .map(|(date, name_ja, name_en)| {
                let set = self.holiday_overrides.get(&date).copied();
                HolidayStatus {
                    date,
                    name_ja,
                    name_en,
                    open: set.unwrap_or(!self.national_holidays_closed),
                    overridden: set.is_some(),
                }
            })
            .collect()
    }

    /// Every per-date holiday setting (any year), by date.
    pub fn holiday_settings(&self) -> Vec<HolidayStatus> {
        let set = self.holiday_overrides.iter();
        set.filter_map(|(d, &open)| {
            let (date, name_ja, name_en) = holidays::on(*d)?;
            Some(HolidayStatus {
                date,
                name_ja,
                name_en,
                open,
                overridden: true,
            })
        })
        .collect()
    }

    /// Whether the clinic is open at `at`.
    pub fn is_open(&self, at: DateTime<Utc>) -> bool {
        self.is_open_memo(at, &mut Memo::default())
    }

    fn is_open_memo(&self, at: DateTime<Utc>, memo: &mut Memo) -> bool {
        let local = at.with_timezone(&self.timezone);
        let secs = local.num_seconds_from_midnight();
        self.hours_memo(local.date_naive(), memo)
            .iter()
            .any(|i| i.contains(secs))
    }

    /// `at` itself when open; otherwise the first later instant the clinic opens, looking up to
    /// [`HORIZON_DAYS`] ahead; `None` when it never opens in that span.
    pub fn next_opening(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut memo = Memo::default();
        if self.is_open_memo(at, &mut memo) {
            return Some(at);
        }
        let first = at.with_timezone(&self.timezone).date_naive();
        for day in first.iter_days().take(HORIZON_DAYS as usize + 1) {
            let starts: Vec<u16> = self
                .hours_memo(day, &mut memo)
                .iter()
                .map(Interval::start)
                .collect();
            if starts.is_empty() {
                continue;
            }
            // An opening is an interval's start on the wall clock, or the moment a DST change
            // moves the wall clock into an interval.
            let mut candidates: Vec<DateTime<Utc>> =
                starts.iter().flat_map(|&m| self.instants(day, m)).collect();
            candidates.extend(self.transition_on(day));
            let found = candidates
                .into_iter()
                .filter(|&c| c > at && self.is_open_memo(c, &mut memo))
                .min();
            if found.is_some() {
                return found;
            }
        }
        None
    }

    /// While open: the instant the clinic closes (breaks count as closing; intervals that touch,
    /// even across midnight, read as one). `None` when closed at `at`.
    pub fn current_interval_end(&self, at: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let mut memo = Memo::default();
        if !self.is_open_memo(at, &mut memo) {
            return None;
        }
        let mut t = at;
        // Bounded so a clinic open around the clock still gets an answer.
        for _ in 0..=HORIZON_DAYS {
            let local = t.with_timezone(&self.timezone);
            let (day, secs) = (local.date_naive(), local.num_seconds_from_midnight());
            let end = self
                .hours_memo(day, &mut memo)
                .iter()
                .find(|i| i.contains(secs))?
                .end();
            let end_at = self.end_instant(day, end)?;
            if end_at <= t || !self.is_open_memo(end_at, &mut memo) {
                return Some(end_at.max(t));
            }
            t = end_at;
        }
        Some(t)
    }

    /// The instant by which `minutes` of opening time have passed since `start` (the SLA
    /// clock): nights, breaks, weekends, holidays and closures do not count, and a `start`
    /// while closed starts counting at the next opening (so 0 minutes is that opening).
    /// `None` when the clinic does not open enough within [`HORIZON_DAYS`] of `start`.
    pub fn add_business_minutes(
        &self,
        start: DateTime<Utc>,
        minutes: u32,
    ) -> Option<DateTime<Utc>> {
        let horizon = start.checked_add_days(Days::new(HORIZON_DAYS))?;
        let mut left = chrono::Duration::minutes(i64::from(minutes));
        let mut t = self.next_opening(start)?;
        // Each round uses up one open stretch; a clinic has at most a few a day.
        for _ in 0..MAX_STRETCHES {
            if t > horizon {
                return None;
            }
            let end = self.current_interval_end(t)?;
            if end - t >= left {
                return Some(t + left);
            }
            if end > t {
                left -= end - t;
                t = self.next_opening(end)?;
            } else {
                // No progress (cannot happen with sane hours): step past it rather than spin.
                t = self.next_opening(t + chrono::Duration::minutes(1))?;
            }
        }
        None
    }

    /// Whole minutes of opening time in `[from, to)` (0 when `to` is not after `from`), counted
    /// like [`Schedule::add_business_minutes`] and bounded by the same horizon.
    pub fn business_minutes_between(&self, from: DateTime<Utc>, to: DateTime<Utc>) -> i64 {
        let mut open = chrono::Duration::zero();
        let Some(mut t) = self.next_opening(from) else {
            return 0;
        };
        for _ in 0..MAX_STRETCHES {
            if t >= to {
                break;
            }
            let Some(end) = self.current_interval_end(t) else {
                break;
            };
            let end = end.min(to);
            if end > t {
                open += end - t;
            }
            match self.next_opening(end.max(t + chrono::Duration::seconds(1))) {
                Some(next) => t = next,
                None => break,
            }
        }
        open.num_minutes()
    }

    /// Every instant whose wall-clock time on `day` is `minutes` after midnight: none in a
    /// spring-forward gap, two in an autumn overlap.
    fn instants(&self, day: NaiveDate, minutes: u16) -> Vec<DateTime<Utc>> {
        let Some(naive) = local_naive(day, minutes) else {
            return Vec::new();
        };
        match self.timezone.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) => vec![t.with_timezone(&Utc)],
            chrono::LocalResult::Ambiguous(a, b) => {
                vec![a.with_timezone(&Utc), b.with_timezone(&Utc)]
            }
            chrono::LocalResult::None => Vec::new(),
        }
    }

    /// When the wall clock first reads `minutes` (or later) on `day`.
    fn end_instant(&self, day: NaiveDate, minutes: u16) -> Option<DateTime<Utc>> {
        let (day, minutes) = if minutes >= MINUTES_PER_DAY {
            (day.checked_add_days(Days::new(1))?, 0)
        } else {
            (day, minutes)
        };
        let naive = local_naive(day, minutes)?;
        match self.timezone.from_local_datetime(&naive) {
            chrono::LocalResult::Single(t) | chrono::LocalResult::Ambiguous(t, _) => {
                Some(t.with_timezone(&Utc))
            }
            // Inside a spring-forward gap the clock jumps past the end at the change itself.
            chrono::LocalResult::None => self.transition_on(day),
        }
    }

    /// The instant on local `day` at which the zone's UTC offset changes, if any.
    fn transition_on(&self, day: NaiveDate) -> Option<DateTime<Utc>> {
        // Local `day` lies within a day either side of the same UTC date (offsets are < 15 h).
        let lo = day
            .checked_sub_days(Days::new(1))?
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp();
        let hi = day
            .checked_add_days(Days::new(2))?
            .and_hms_opt(0, 0, 0)?
            .and_utc()
            .timestamp();
        let offset = |secs: i64| {
            DateTime::from_timestamp(secs, 0)
                .map(|t| self.timezone.offset_from_utc_datetime(&t.naive_utc()).fix())
        };
        let after = offset(hi)?;
        if offset(lo)? == after {
            return None;
        }
        let (mut lo, mut hi) = (lo, hi);
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if offset(mid)? == after {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        let t = DateTime::from_timestamp(hi, 0)?;
        (t.with_timezone(&self.timezone).date_naive() == day).then_some(t)
    }
}

fn local_naive(day: NaiveDate, minutes: u16) -> Option<NaiveDateTime> {
    day.and_hms_opt(u32::from(minutes / 60), u32::from(minutes % 60), 0)
}
