//! "Is the clinic open, and when does it next open", at fixed instants (what a `FakeClock`
//! would say), in Tokyo and across London's daylight-saving changes.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::{Asia::Tokyo, Europe::London, Tz};
use tsunagu_calendar::{DayOff, Interval, Schedule, WeeklyHours};

fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn utc(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0).unwrap()
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

fn iv(s: &str, e: &str) -> Interval {
    Interval::parse(s, e).unwrap()
}

/// The same intervals Monday to Friday, closed at the weekend.
fn weekdays(tz: Tz, day: Vec<Interval>) -> Schedule {
    let d = day;
    let hours = WeeklyHours::new([
        d.clone(),
        d.clone(),
        d.clone(),
        d.clone(),
        d,
        vec![],
        vec![],
    ]);
    Schedule::new(tz, hours.unwrap())
}

fn tokyo_default() -> Schedule {
    Schedule::japanese_clinic_default(Tokyo)
}

#[test]
fn friday_evening_opens_again_on_monday_morning() {
    let s = weekdays(Tokyo, vec![iv("09:00", "12:30"), iv("14:00", "18:00")]);
    let fri = at(Tokyo, 2026, 11, 13, 18, 30);
    assert!(!s.is_open(fri));
    assert_eq!(s.next_opening(fri), Some(at(Tokyo, 2026, 11, 16, 9, 0)));
}

#[test]
fn with_saturday_mornings_friday_evening_opens_on_saturday() {
    let fri = at(Tokyo, 2026, 11, 13, 18, 30);
    assert_eq!(
        tokyo_default().next_opening(fri),
        Some(at(Tokyo, 2026, 11, 14, 9, 0))
    );
}

#[test]
fn saturday_afternoon_opens_on_monday_morning() {
    let sat = at(Tokyo, 2026, 11, 14, 13, 0);
    assert!(!tokyo_default().is_open(sat));
    assert_eq!(
        tokyo_default().next_opening(sat),
        Some(at(Tokyo, 2026, 11, 16, 9, 0))
    );
}

#[test]
fn a_national_holiday_on_monday_pushes_the_opening_to_tuesday() {
    // 2027-01-11 is 成人の日.
    let sat = at(Tokyo, 2027, 1, 9, 13, 0);
    let s = tokyo_default();
    assert_eq!(s.next_opening(sat), Some(at(Tokyo, 2027, 1, 12, 9, 0)));
    assert_eq!(
        s.day_off(date(2027, 1, 11)),
        Some(DayOff::Holiday((
            date(2027, 1, 11),
            "成人の日",
            "Coming of Age Day"
        )))
    );
    assert!(!s.is_open(at(Tokyo, 2027, 1, 11, 10, 0)));
}

#[test]
fn a_holiday_the_clinic_keeps_open_opens_on_its_weekday_hours() {
    let s = tokyo_default().with_holiday_open(date(2027, 1, 11), true);
    let sat = at(Tokyo, 2027, 1, 9, 13, 0);
    assert_eq!(s.next_opening(sat), Some(at(Tokyo, 2027, 1, 11, 9, 0)));
    let stat = s
        .holidays(2027)
        .into_iter()
        .find(|h| h.date == date(2027, 1, 11))
        .unwrap();
    assert!(stat.open && stat.overridden);
}

#[test]
fn a_clinic_that_ignores_national_holidays_opens_on_them_unless_told_otherwise() {
    let mut s = tokyo_default();
    s.national_holidays_closed = false;
    assert!(s.is_open(at(Tokyo, 2027, 1, 11, 10, 0)));
    let s = s.with_holiday_open(date(2027, 1, 11), false);
    assert!(!s.is_open(at(Tokyo, 2027, 1, 11, 10, 0)));
}

#[test]
fn a_closure_day_is_skipped_and_says_why() {
    // 2026-11-23 (Mon) is 勤労感謝の日; the clinic also closes Tuesday for a conference.
    let s = tokyo_default().with_closure(date(2026, 11, 24), "臨時休診 院長学会出張");
    let sat = at(Tokyo, 2026, 11, 21, 13, 0);
    assert_eq!(s.next_opening(sat), Some(at(Tokyo, 2026, 11, 25, 9, 0)));
    assert_eq!(
        tokyo_default().next_opening(sat),
        Some(at(Tokyo, 2026, 11, 24, 9, 0))
    );
    assert_eq!(
        s.day_off(date(2026, 11, 24)),
        Some(DayOff::Closure("臨時休診 院長学会出張".into()))
    );
    assert!(s.hours_on(date(2026, 11, 24)).is_empty());
}

#[test]
fn a_closure_wins_over_a_holiday_kept_open() {
    let d = date(2027, 1, 11);
    let s = tokyo_default()
        .with_holiday_open(d, true)
        .with_closure(d, "院内研修");
    assert!(!s.is_open(at(Tokyo, 2027, 1, 11, 10, 0)));
}

#[test]
fn the_lunch_break_is_closed_and_ends_at_two() {
    let s = tokyo_default();
    let mon = |h, m| at(Tokyo, 2026, 11, 16, h, m);
    assert!(s.is_open(mon(12, 29)));
    assert!(
        !s.is_open(mon(12, 30)),
        "an interval's end is already closed"
    );
    assert_eq!(s.next_opening(mon(12, 45)), Some(mon(14, 0)));
    assert_eq!(s.next_opening(mon(12, 30)), Some(mon(14, 0)));
    assert_eq!(s.current_interval_end(mon(10, 0)), Some(mon(12, 30)));
    assert_eq!(s.current_interval_end(mon(12, 45)), None);
}

#[test]
fn when_open_the_next_opening_is_now() {
    let now = at(Tokyo, 2026, 11, 16, 9, 0);
    assert_eq!(tokyo_default().next_opening(now), Some(now));
    assert_eq!(
        tokyo_default().next_opening(now + chrono::Duration::seconds(59)),
        Some(now + chrono::Duration::seconds(59))
    );
}

#[test]
fn before_opening_on_the_same_day_it_opens_that_morning() {
    let early = at(Tokyo, 2026, 11, 16, 7, 15);
    assert_eq!(
        tokyo_default().next_opening(early),
        Some(at(Tokyo, 2026, 11, 16, 9, 0))
    );
}

#[test]
fn a_clinic_with_no_hours_never_opens() {
    let s = Schedule::new(Tokyo, WeeklyHours::default());
    assert_eq!(s.next_opening(at(Tokyo, 2026, 11, 16, 9, 0)), None);
}

#[test]
fn a_clinic_closed_for_more_than_the_horizon_is_reported_as_never_opening() {
    let mut s = tokyo_default();
    for d in date(2026, 1, 1).iter_days().take(420) {
        s = s.with_closure(d, "改装工事");
    }
    assert_eq!(s.next_opening(at(Tokyo, 2026, 1, 1, 9, 0)), None);
}

#[test]
fn intervals_touching_at_midnight_read_as_one_stretch() {
    let night = vec![iv("00:00", "02:00"), iv("20:00", "24:00")];
    let s = Schedule::new(
        Tokyo,
        WeeklyHours::new(std::array::from_fn(|_| night.clone())).unwrap(),
    );
    let end = s.current_interval_end(at(Tokyo, 2026, 11, 16, 21, 0));
    assert_eq!(end, Some(at(Tokyo, 2026, 11, 17, 2, 0)));
}

#[test]
fn overlapping_or_too_many_intervals_are_refused() {
    let over = WeeklyHours::new([
        vec![iv("09:00", "13:00"), iv("12:00", "18:00")],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
        vec![],
    ]);
    assert_eq!(over.unwrap_err().code(), "overlapping_intervals");
    let four = vec![
        iv("08:00", "09:00"),
        iv("10:00", "11:00"),
        iv("12:00", "13:00"),
        iv("14:00", "15:00"),
    ];
    let many = WeeklyHours::new([vec![], four, vec![], vec![], vec![], vec![], vec![]]);
    assert_eq!(many.unwrap_err().code(), "too_many_intervals");
    assert_eq!(
        Interval::parse("18:00", "09:00").unwrap_err().code(),
        "invalid_interval"
    );
    assert_eq!(
        Interval::parse("9:00", "18:00").unwrap_err().code(),
        "invalid_time"
    );
}

#[test]
fn london_opens_at_nine_on_the_wall_clock_on_both_sides_of_the_march_change() {
    let s = weekdays(London, vec![iv("09:00", "17:00")]);
    // Before the change 09:00 is 09:00 UTC; after 2026-03-29 it is 08:00 UTC (BST).
    assert_eq!(
        s.next_opening(utc(2026, 3, 20, 18, 0)),
        Some(utc(2026, 3, 23, 9, 0))
    );
    assert_eq!(
        s.next_opening(utc(2026, 3, 27, 18, 0)),
        Some(utc(2026, 3, 30, 8, 0))
    );
    assert!(s.is_open(utc(2026, 3, 30, 8, 0)) && !s.is_open(utc(2026, 3, 30, 7, 59)));
    assert_eq!(
        s.current_interval_end(utc(2026, 3, 30, 12, 0)),
        Some(utc(2026, 3, 30, 16, 0))
    );
    // And back in October.
    assert_eq!(
        s.next_opening(utc(2026, 10, 23, 17, 0)),
        Some(utc(2026, 10, 26, 9, 0))
    );
}

/// Sundays only, for the hours around London's clock changes.
fn london_sunday(day: Vec<Interval>) -> Schedule {
    let hours = WeeklyHours::new([vec![], vec![], vec![], vec![], vec![], vec![], day]);
    let mut s = Schedule::new(London, hours.unwrap());
    s.national_holidays_closed = false;
    s
}

#[test]
fn an_opening_time_skipped_by_the_spring_change_opens_when_the_clock_jumps() {
    // 2026-03-29: 01:00 GMT jumps to 02:00 BST at 01:00 UTC; 01:30 never shows on the clock.
    let s = london_sunday(vec![iv("01:30", "03:00")]);
    assert_eq!(
        s.next_opening(utc(2026, 3, 29, 0, 30)),
        Some(utc(2026, 3, 29, 1, 0))
    );
    assert!(!s.is_open(utc(2026, 3, 29, 0, 59)));
    assert_eq!(
        s.current_interval_end(utc(2026, 3, 29, 1, 0)),
        Some(utc(2026, 3, 29, 2, 0))
    );
    // An interval wholly inside the gap never opens that day.
    let gone = london_sunday(vec![iv("01:10", "01:50")]);
    assert_eq!(
        gone.next_opening(utc(2026, 3, 29, 0, 0)),
        Some(utc(2026, 4, 5, 0, 10))
    );
}

#[test]
fn hours_repeated_by_the_autumn_change_open_twice() {
    // 2026-10-25: 02:00 BST goes back to 01:00 GMT at 01:00 UTC; 01:00–02:00 happens twice.
    let s = london_sunday(vec![iv("01:15", "01:45")]);
    assert_eq!(
        s.next_opening(utc(2026, 10, 25, 0, 0)),
        Some(utc(2026, 10, 25, 0, 15))
    );
    assert_eq!(
        s.next_opening(utc(2026, 10, 25, 0, 50)),
        Some(utc(2026, 10, 25, 1, 15))
    );
    // Closed at 01:30 BST (00:30 UTC), open again when the clock goes back into the interval.
    let s = london_sunday(vec![iv("00:30", "01:30")]);
    assert_eq!(
        s.current_interval_end(utc(2026, 10, 24, 23, 45)),
        Some(utc(2026, 10, 25, 0, 30))
    );
    assert_eq!(
        s.next_opening(utc(2026, 10, 25, 0, 40)),
        Some(utc(2026, 10, 25, 1, 0))
    );
}
