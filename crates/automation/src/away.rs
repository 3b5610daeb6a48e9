//! The away message (時間外メッセージ): outside the clinic calendar's opening hours, at most once
//! per conversation in N hours, ending with the next opening in Japanese
//! (「次の診療開始は 12月8日(月) 9:00 です。」).
use chrono::{DateTime, Datelike, Timelike, Utc, Weekday};
use sqlx::AnyConnection;
use tsunagu_calendar::Schedule;
use tsunagu_core::ClinicId;

/// The clinic's schedule, or `None` for a clinic that no longer exists.
pub async fn schedule(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Option<Schedule>> {
    Ok(tsunagu_calendar::store::load(conn, clinic)
        .await?
        .map(|c| c.schedule))
}

fn weekday_ja(w: Weekday) -> &'static str {
    match w {
        Weekday::Mon => "月",
        Weekday::Tue => "火",
        Weekday::Wed => "水",
        Weekday::Thu => "木",
        Weekday::Fri => "金",
        Weekday::Sat => "土",
        Weekday::Sun => "日",
    }
}

/// 「次の診療開始は 12月8日(月) 9:00 です。」 in the clinic's zone, or `None` when the calendar
/// has no opening within its horizon.
pub fn next_opening_ja(schedule: &Schedule, now: DateTime<Utc>) -> Option<String> {
    let at = schedule
        .next_opening(now)?
        .with_timezone(&schedule.timezone);
    Some(format!(
        "次の診療開始は {}月{}日({}) {}:{:02} です。",
        at.month(),
        at.day(),
        weekday_ja(at.weekday()),
        at.hour(),
        at.minute()
    ))
}

/// The away message: the clinic's words (variables already filled in) and the next opening.
pub fn compose(text: &str, schedule: &Schedule, now: DateTime<Utc>) -> String {
    match next_opening_ja(schedule, now) {
        Some(next) => format!("{}\n{next}", text.trim_end()),
        None => text.trim_end().to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn the_next_opening_reads_as_a_japanese_date_and_time() {
        let s = Schedule::japanese_clinic_default(chrono_tz::Asia::Tokyo);
        // Sunday 2026-12-06 20:00 JST: next is Monday 12月7日 9:00.
        let now = chrono_tz::Asia::Tokyo
            .with_ymd_and_hms(2026, 12, 6, 20, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        let next = next_opening_ja(&s, now).unwrap();
        assert!(next.starts_with("次の診療開始は 12月7日(月) "), "{next}");
        assert!(next.ends_with(" です。"), "{next}");
        let msg = compose("時間外です。", &s, now);
        assert_eq!(msg, format!("時間外です。\n{next}"));
    }
}
