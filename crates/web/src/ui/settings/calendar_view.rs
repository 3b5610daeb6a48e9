//! What the calendar page shows, in the clinic's language and zone: the status line, the week
//! editor's rows, upcoming closures and the national holidays of this year and next.
use chrono::{DateTime, Datelike, NaiveDate, Timelike, Utc};
use serde::Serialize;
use tsunagu_calendar::parse::MAX_INTERVALS_PER_DAY;
use tsunagu_calendar::{Calendar, Schedule, WeeklyHours};

use crate::i18n::text;
use crate::ui::inbox::shell::Shell;

/// Form field prefixes, Monday first (`mon_0_start`, `mon_0_end`, …).
pub const DAY_KEYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

#[derive(Clone, Debug, Default, Serialize)]
pub struct Slot {
    pub start: String,
    pub end: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct DayRow {
    pub key: &'static str,
    pub label: String,
    /// Always `MAX_INTERVALS_PER_DAY` slots; empty ones are unused.
    pub slots: Vec<Slot>,
}

/// The hours form as typed, shown again when a save is refused.
#[derive(Clone, Debug)]
pub struct HoursDraft {
    pub days: Vec<DayRow>,
    pub holidays_closed: bool,
    pub timezone: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct ClosureDraft {
    pub date: String,
    pub until: String,
    pub reason: String,
}

#[derive(Serialize)]
pub struct ClosureItem {
    pub id: String,
    pub date: String,
    pub label: String,
    pub reason: String,
}

#[derive(Serialize)]
pub struct HolidayItem {
    pub date: String,
    pub label: String,
    pub name: String,
    pub open: bool,
    pub overridden: bool,
    pub past: bool,
}

#[derive(Serialize)]
pub struct Status {
    pub open: bool,
    /// 診療中 | 休診中
    pub state: String,
    /// 「12:30 まで」 or 「次の診療開始: 11月24日(火) 9:00」
    pub detail: String,
}

#[derive(Serialize)]
pub struct CalendarPage {
    pub lang: &'static str,
    pub shell: Shell,
    pub title: String,
    pub csrf_token: String,
    pub status: Status,
    pub timezone: String,
    pub configured: bool,
    pub holidays_closed: bool,
    pub days: Vec<DayRow>,
    pub closures: Vec<ClosureItem>,
    pub holidays: Vec<HolidayItem>,
    pub draft: ClosureDraft,
    pub error: Option<String>,
    pub notice: Option<String>,
}

/// 「11月24日(火)」 / "Tue 24 Nov", with the year when asked.
pub fn day_label(lang: &str, d: NaiveDate, with_year: bool) -> String {
    let wd = text(
        lang,
        &format!(
            "calendar.wd.{}",
            DAY_KEYS[d.weekday().num_days_from_monday() as usize]
        ),
    );
    match (lang, with_year) {
        ("ja", true) => format!("{}年{}月{}日({wd})", d.year(), d.month(), d.day()),
        ("ja", false) => format!("{}月{}日({wd})", d.month(), d.day()),
        (_, true) => format!("{wd} {} {}", d.format("%-d %b"), d.year()),
        (_, false) => format!("{wd} {}", d.format("%-d %b")),
    }
}

/// The status line at `now`.
pub fn status(lang: &str, s: &Schedule, now: DateTime<Utc>) -> Status {
    let local = |t: DateTime<Utc>| t.with_timezone(&s.timezone);
    let clock = |t: DateTime<Utc>| format!("{}:{:02}", local(t).hour(), local(t).minute());
    let open = s.is_open(now);
    let detail = if open {
        let until = s.current_interval_end(now).map(clock).unwrap_or_default();
        text(lang, "calendar.status.until").replace("{time}", &until)
    } else {
        match s.next_opening(now) {
            Some(t) => {
                let day = day_label(
                    lang,
                    local(t).date_naive(),
                    local(t).year() != local(now).year(),
                );
                format!("{}: {day} {}", text(lang, "calendar.status.next"), clock(t))
            }
            None => text(lang, "calendar.status.never"),
        }
    };
    let state = text(
        lang,
        if open {
            "calendar.status.open"
        } else {
            "calendar.status.closed"
        },
    );
    Status {
        open,
        state,
        detail,
    }
}

/// The week editor's rows for saved hours.
pub fn days(lang: &str, weekly: &WeeklyHours) -> Vec<DayRow> {
    weekly
        .iter()
        .zip(DAY_KEYS)
        .map(|((_, intervals), key)| {
            let mut slots: Vec<Slot> = intervals
                .iter()
                .map(|i| Slot {
                    start: i.start_hhmm(),
                    end: i.end_hhmm(),
                })
                .collect();
            slots.resize(MAX_INTERVALS_PER_DAY, Slot::default());
            DayRow {
                key,
                label: text(lang, &format!("calendar.weekday.{key}")),
                slots,
            }
        })
        .collect()
}

/// Closures from today on, soonest first.
pub fn closures(lang: &str, cal: &Calendar, today: NaiveDate) -> Vec<ClosureItem> {
    cal.closures
        .iter()
        .filter(|c| c.date >= today)
        .map(|c| ClosureItem {
            id: c.id.clone(),
            date: c.date.to_string(),
            label: day_label(lang, c.date, c.date.year() != today.year()),
            reason: c.reason.clone(),
        })
        .collect()
}

/// This year's and next year's national holidays.
pub fn holidays(lang: &str, s: &Schedule, today: NaiveDate) -> Vec<HolidayItem> {
    [today.year(), today.year() + 1]
        .into_iter()
        .flat_map(|y| s.holidays(y))
        .map(|h| HolidayItem {
            date: h.date.to_string(),
            label: day_label(lang, h.date, true),
            name: if lang == "ja" { h.name_ja } else { h.name_en }.to_string(),
            open: h.open,
            overridden: h.overridden,
            past: h.date < today,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_read_naturally_in_both_languages() {
        let d = NaiveDate::from_ymd_opt(2026, 11, 24).unwrap_or_default();
        assert_eq!(day_label("ja", d, false), "11月24日(火)");
        assert_eq!(day_label("ja", d, true), "2026年11月24日(火)");
        assert_eq!(day_label("en", d, false), "Tue 24 Nov");
    }

    #[test]
    fn the_status_line_names_the_next_opening_when_closed() {
        use chrono::TimeZone;
        let s = Schedule::japanese_clinic_default(chrono_tz::Asia::Tokyo);
        // Monday 2026-11-23 (勤労感謝の日), 09:41 in Tokyo.
        let now = chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(2026, 11, 23, 9, 41, 0)
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let st = status("ja", &s, now);
        assert!(!st.open);
        assert_eq!(
            format!("{} — {}", st.state, st.detail),
            "休診中 — 次の診療開始: 11月24日(火) 9:00"
        );
        let st = status("ja", &s, now + chrono::Duration::days(1));
        assert_eq!(
            format!("{} — {}", st.state, st.detail),
            "診療中 — 12:30 まで"
        );
    }
}
