//! The SLA clock's arithmetic: minutes of opening time, skipping breaks, nights, weekends,
//! holidays and closures, in Tokyo and across New York's daylight-saving change.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use chrono_tz::{America::New_York, Asia::Tokyo, Tz};
use tsunagu_calendar::{Interval, Schedule, WeeklyHours};

fn at(tz: Tz, y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    tz.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .unwrap()
        .with_timezone(&Utc)
}

fn tokyo(m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    at(Tokyo, 2026, m, d, h, min)
}

fn iv(s: &str, e: &str) -> Interval {
    Interval::parse(s, e).unwrap()
}

/// The same intervals Monday to Friday, closed at the weekend.
fn weekdays(tz: Tz, d: Vec<Interval>) -> Schedule {
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

/// 09:00–12:30 and 14:00–18:00 on weekdays (2026-11-16 is a Monday).
fn clinic() -> Schedule {
    weekdays(Tokyo, vec![iv("09:00", "12:30"), iv("14:00", "18:00")])
}

#[test]
fn minutes_inside_one_stretch_are_wall_minutes() {
    let s = clinic();
    assert_eq!(
        s.add_business_minutes(tokyo(11, 16, 10, 0), 30),
        Some(tokyo(11, 16, 10, 30))
    );
    assert_eq!(
        s.business_minutes_between(tokyo(11, 16, 10, 0), tokyo(11, 16, 10, 30)),
        30
    );
}

#[test]
fn the_lunch_break_does_not_count() {
    let s = clinic();
    // 12:20 + 30 min: 10 before the break, 20 after it.
    assert_eq!(
        s.add_business_minutes(tokyo(11, 16, 12, 20), 30),
        Some(tokyo(11, 16, 14, 20))
    );
    assert_eq!(
        s.business_minutes_between(tokyo(11, 16, 12, 20), tokyo(11, 16, 14, 20)),
        30
    );
}

#[test]
fn the_night_does_not_count() {
    let s = clinic();
    assert_eq!(
        s.add_business_minutes(tokyo(11, 17, 17, 50), 30),
        Some(tokyo(11, 18, 9, 20))
    );
    assert_eq!(
        s.business_minutes_between(tokyo(11, 17, 17, 50), tokyo(11, 18, 9, 20)),
        30
    );
}

#[test]
fn the_weekend_does_not_count() {
    let s = clinic();
    assert_eq!(
        s.add_business_minutes(tokyo(11, 13, 17, 45), 30),
        Some(tokyo(11, 16, 9, 15))
    );
}

#[test]
fn a_message_while_closed_starts_the_clock_at_the_next_opening() {
    let s = clinic();
    // Saturday night: Monday 09:00 is when the clock starts.
    assert_eq!(
        s.add_business_minutes(tokyo(11, 14, 22, 0), 30),
        Some(tokyo(11, 16, 9, 30))
    );
    assert_eq!(
        s.add_business_minutes(tokyo(11, 14, 22, 0), 0),
        Some(tokyo(11, 16, 9, 0))
    );
    // During lunch: the afternoon's opening.
    assert_eq!(
        s.add_business_minutes(tokyo(11, 16, 13, 0), 10),
        Some(tokyo(11, 16, 14, 10))
    );
    assert_eq!(
        s.business_minutes_between(tokyo(11, 14, 22, 0), tokyo(11, 16, 9, 0)),
        0
    );
}

#[test]
fn a_national_holiday_is_skipped_unless_the_clinic_opens_on_it() {
    // 2026-11-23 (Monday) is 勤労感謝の日.
    let s = clinic();
    assert_eq!(
        s.add_business_minutes(tokyo(11, 20, 17, 50), 30),
        Some(tokyo(11, 24, 9, 20))
    );
    let open = clinic().with_holiday_open(NaiveDate::from_ymd_opt(2026, 11, 23).unwrap(), true);
    assert_eq!(
        open.add_business_minutes(tokyo(11, 20, 17, 50), 30),
        Some(tokyo(11, 23, 9, 20))
    );
}

#[test]
fn a_closure_is_skipped() {
    let s = clinic().with_closure(NaiveDate::from_ymd_opt(2026, 11, 18).unwrap(), "臨時休診");
    assert_eq!(
        s.add_business_minutes(tokyo(11, 17, 17, 50), 30),
        Some(tokyo(11, 19, 9, 20))
    );
    assert_eq!(
        s.business_minutes_between(tokyo(11, 17, 17, 0), tokyo(11, 19, 10, 0)),
        120
    );
}

#[test]
fn eight_business_hours_span_days_and_breaks() {
    let s = clinic();
    // Monday 10:00: 2 h 30 min before lunch, 4 h after, then 1 h 30 min on Tuesday morning.
    assert_eq!(
        s.add_business_minutes(tokyo(11, 16, 10, 0), 480),
        Some(tokyo(11, 17, 10, 30))
    );
    assert_eq!(
        s.business_minutes_between(tokyo(11, 16, 10, 0), tokyo(11, 17, 10, 30)),
        480
    );
}

#[test]
fn between_is_zero_backwards_and_counts_whole_minutes() {
    let s = clinic();
    assert_eq!(
        s.business_minutes_between(tokyo(11, 16, 11, 0), tokyo(11, 16, 10, 0)),
        0
    );
    let t = tokyo(11, 16, 10, 0);
    assert_eq!(
        s.business_minutes_between(t, t + chrono::Duration::seconds(119)),
        1
    );
}

#[test]
fn a_clinic_that_never_opens_has_no_deadline() {
    let s = Schedule::new(Tokyo, WeeklyHours::default());
    let t = tokyo(11, 16, 10, 0);
    assert_eq!(s.add_business_minutes(t, 30), None);
    assert_eq!(
        s.business_minutes_between(t, t + chrono::Duration::days(30)),
        0
    );
}

#[test]
fn a_clinic_closed_past_the_horizon_has_no_deadline() {
    let mut s = clinic();
    let first = NaiveDate::from_ymd_opt(2026, 11, 17).unwrap();
    for day in first.iter_days().take(420) {
        s.closures.insert(day, "改装".into());
    }
    assert_eq!(s.add_business_minutes(tokyo(11, 16, 17, 50), 30), None);
}

#[test]
fn a_clinic_open_around_the_clock_counts_every_minute() {
    let all_day = vec![iv("00:00", "24:00")];
    let hours = WeeklyHours::new([
        all_day.clone(),
        all_day.clone(),
        all_day.clone(),
        all_day.clone(),
        all_day.clone(),
        all_day.clone(),
        all_day,
    ]);
    let s = Schedule::new(Tokyo, hours.unwrap());
    let t = tokyo(11, 16, 23, 50);
    assert_eq!(s.add_business_minutes(t, 30), Some(tokyo(11, 17, 0, 20)));
    assert_eq!(s.business_minutes_between(t, tokyo(11, 17, 0, 20)), 30);
}

#[test]
fn across_new_yorks_autumn_change_hours_stay_on_the_wall_clock() {
    // 2026-11-01 (Sunday) clocks go back in New York; Friday 17:50 + 30 min is Monday 09:20
    // local, one hour more of UTC between the two than on an ordinary weekend.
    let s = weekdays(New_York, vec![iv("09:00", "18:00")]);
    let fri = at(New_York, 2026, 10, 30, 17, 50);
    let mon = at(New_York, 2026, 11, 2, 9, 20);
    assert_eq!(s.add_business_minutes(fri, 30), Some(mon));
    assert_eq!(s.business_minutes_between(fri, mon), 30);
    assert_eq!((mon - fri).num_hours(), 64);
}

#[test]
fn across_new_yorks_spring_change_hours_stay_on_the_wall_clock() {
    // 2026-03-08 (Sunday) clocks go forward.
    let s = weekdays(New_York, vec![iv("09:00", "18:00")]);
    let fri = at(New_York, 2026, 3, 6, 17, 0);
    assert_eq!(
        s.add_business_minutes(fri, 120),
        Some(at(New_York, 2026, 3, 9, 10, 0))
    );
}
