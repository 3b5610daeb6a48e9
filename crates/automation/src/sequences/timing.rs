//! When a step is due: its delay after the enrollment or the previous step, then optionally the
//! next clinic-local send time (「10:00に」) and no earlier than the clinic is open.
use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use tsunagu_calendar::Schedule;
use tsunagu_core::clock::from_ms;

/// How long ahead a step's local time is looked for when it must also fall in opening hours.
const SEARCH_DAYS: i64 = 31;

/// A step's timing, as staff set it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Timing {
    pub delay_minutes: i64,
    /// The delay counts from the previous step's send, not from the enrollment.
    pub after_previous: bool,
    /// Clinic-local minutes after midnight (600 = 10:00).
    pub send_at_minute: Option<i64>,
    pub open_hours_only: bool,
}

/// The instant (ms) the step is due.
pub fn due_at(t: &Timing, enrolled_at: i64, previous_sent: Option<i64>, s: &Schedule) -> i64 {
    let base_ms = match (t.after_previous, previous_sent) {
        (true, Some(prev)) => prev,
        _ => enrolled_at,
    };
    let target = from_ms(base_ms + t.delay_minutes.max(0) * 60_000);
    let at = match t.send_at_minute {
        Some(m) => local_time_on(target, from_ms(base_ms), m, s, t.open_hours_only),
        None => target,
    };
    let at = if t.open_hours_only && !s.is_open(at) {
        s.next_opening(at).unwrap_or(at)
    } else {
        at
    };
    at.timestamp_millis()
}

/// 「1日後の10:00」: `minute` on the clinic-local day the delay ends (`target`), never before
/// the event itself (`not_before`: then the day after), and on a day the clinic is open at
/// that time if asked.
fn local_time_on(
    target: DateTime<Utc>,
    not_before: DateTime<Utc>,
    minute: i64,
    s: &Schedule,
    open: bool,
) -> DateTime<Utc> {
    let minute = minute.clamp(0, 24 * 60 - 1) as u32;
    let Some(time) = NaiveTime::from_hms_opt(minute / 60, minute % 60, 0) else {
        return target;
    };
    let from = not_before;
    let first_day = target.with_timezone(&s.timezone).date_naive();
    let mut fallback = None;
    for d in 0..=SEARCH_DAYS {
        let day = first_day + Duration::days(d);
        // A local time a clock change skips has no instant: that day is passed over.
        let Some(at) = s
            .timezone
            .from_local_datetime(&day.and_time(time))
            .earliest()
        else {
            continue;
        };
        let at = at.with_timezone(&Utc);
        if at < from {
            continue;
        }
        if !open || s.is_open(at) {
            return at;
        }
        fallback.get_or_insert(at);
    }
    fallback.unwrap_or(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo() -> Schedule {
        Schedule::japanese_clinic_default(chrono_tz::Asia::Tokyo)
    }

    fn utc(s: &str) -> i64 {
        DateTime::parse_from_rfc3339(s)
            .unwrap_or_else(|e| panic!("{e}"))
            .timestamp_millis()
    }

    fn timing(delay: i64, at: Option<i64>, open: bool) -> Timing {
        Timing {
            delay_minutes: delay,
            after_previous: false,
            send_at_minute: at,
            open_hours_only: open,
        }
    }

    #[test]
    fn one_day_after_a_friend_add_in_the_afternoon_at_ten_is_the_next_morning() {
        // Friend-add at 2026-12-07 15:30 JST (06:30 UTC).
        let enrolled = utc("2026-12-07T06:30:00Z");
        let due = due_at(&timing(24 * 60, Some(600), false), enrolled, None, &tokyo());
        assert_eq!(due, utc("2026-12-08T01:00:00Z")); // 10:00 JST on the 8th
    }

    #[test]
    fn one_day_later_at_ten_is_ten_the_next_morning_whatever_the_hour_of_the_event() {
        let early = utc("2026-12-06T23:00:00Z"); // 08:00 JST on the 7th
        let due = due_at(&timing(24 * 60, Some(600), false), early, None, &tokyo());
        assert_eq!(due, utc("2026-12-08T01:00:00Z"));
    }

    #[test]
    fn a_send_time_already_passed_that_day_moves_to_the_next_day() {
        let enrolled = utc("2026-12-07T03:00:00Z"); // 12:00 JST
        let due = due_at(&timing(0, Some(600), false), enrolled, None, &tokyo());
        assert_eq!(due, utc("2026-12-08T01:00:00Z"));
    }

    #[test]
    fn a_step_after_the_previous_one_counts_from_its_send() {
        let t = Timing {
            after_previous: true,
            ..timing(3 * 24 * 60, None, false)
        };
        let prev = utc("2026-12-08T01:00:00Z");
        assert_eq!(
            due_at(&t, utc("2026-12-07T06:30:00Z"), Some(prev), &tokyo()),
            utc("2026-12-11T01:00:00Z")
        );
    }

    #[test]
    fn open_hours_only_skips_a_sunday_to_the_next_open_morning() {
        // Sunday 2026-12-13 10:00 JST: the default clinic is closed on Sundays.
        let enrolled = utc("2026-12-12T01:00:00Z"); // Saturday 10:00 JST
        let due = due_at(&timing(24 * 60, Some(600), true), enrolled, None, &tokyo());
        assert_eq!(due, utc("2026-12-14T01:00:00Z")); // Monday 10:00 JST
        let due = due_at(&timing(24 * 60, None, true), enrolled, None, &tokyo());
        let monday = tokyo().next_opening(from_ms(utc("2026-12-13T01:00:00Z")));
        assert_eq!(Some(due), monday.map(|m| m.timestamp_millis()));
    }
}
