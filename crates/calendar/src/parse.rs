//! Reading what staff and integrators type: `HH:MM`, `YYYY-MM-DD`, a closure reason, a zone
//! name. Each refusal carries a stable code the API returns and the UI translates.
use chrono::{DateTime, NaiveDate, Utc, Weekday};
use chrono_tz::Tz;
use tsunagu_core::{Code, Refusal};

/// Minutes in a day: `24:00` is allowed as an interval's end.
pub const MINUTES_PER_DAY: u16 = 1440;
/// How many open intervals one weekday may have (morning, afternoon, evening).
pub const MAX_INTERVALS_PER_DAY: usize = 3;
/// Longest closure reason, in characters.
pub const MAX_REASON_CHARS: usize = 200;
/// Longest closure range added at once (年末年始 fits easily).
pub const MAX_CLOSURE_DAYS: i64 = 31;

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("{0:?} is not a time of day written HH:MM (00:00 to 24:00)")]
    Time(String),
    #[error("{0:?} is not an RFC 3339 time such as 2027-01-09T13:00:00+09:00")]
    Instant(String),
    #[error("an opening interval must start before it ends ({0}–{1})")]
    Interval(String, String),
    #[error("the opening intervals on {0} overlap")]
    Overlap(Weekday),
    #[error("{0} has more than {MAX_INTERVALS_PER_DAY} opening intervals")]
    TooMany(Weekday),
    #[error("{0:?} is not a date written YYYY-MM-DD")]
    Date(String),
    #[error("a closure range must run forwards and span at most {MAX_CLOSURE_DAYS} days")]
    Range,
    #[error("the reason must be 1 to {MAX_REASON_CHARS} characters")]
    Reason,
    #[error("{0:?} is not an IANA time zone such as Asia/Tokyo")]
    Timezone(String),
    #[error("{0} is not a national holiday")]
    NotAHoliday(NaiveDate),
}

impl Invalid {
    /// The stable code (API `error.code`, catalog `code.<code>`).
    pub fn code(&self) -> Code {
        match self {
            Invalid::Time(_) | Invalid::Instant(_) => Code::InvalidTime,
            Invalid::Interval(..) => Code::InvalidInterval,
            Invalid::Overlap(_) => Code::OverlappingIntervals,
            Invalid::TooMany(_) => Code::TooManyIntervals,
            Invalid::Date(_) => Code::InvalidDate,
            Invalid::Range => Code::InvalidDateRange,
            Invalid::Reason => Code::InvalidReason,
            Invalid::Timezone(_) => Code::InvalidTimezone,
            Invalid::NotAHoliday(_) => Code::NotAHoliday,
        }
    }
}

/// The one refusal type: the code, and the specifics in English for developers.
impl From<Invalid> for Refusal {
    fn from(e: Invalid) -> Refusal {
        Refusal::new(e.code()).detail(e.to_string())
    }
}

/// `HH:MM` (two digits each) to minutes after midnight; `24:00` is the end of the day.
pub fn parse_hhmm(s: &str) -> Result<u16, Invalid> {
    let bad = || Invalid::Time(s.to_string());
    let b = s.as_bytes();
    if b.len() != 5 || b[2] != b':' || ![0, 1, 3, 4].iter().all(|&i| b[i].is_ascii_digit()) {
        return Err(bad());
    }
    let digits = |i: usize| u16::from(b[i] - b'0') * 10 + u16::from(b[i + 1] - b'0');
    let (h, m) = (digits(0), digits(3));
    let minutes = h * 60 + m;
    if m > 59 || minutes > MINUTES_PER_DAY {
        return Err(bad());
    }
    Ok(minutes)
}

/// Minutes after midnight as `HH:MM`.
pub fn hhmm(minutes: u16) -> String {
    format!("{:02}:{:02}", minutes / 60, minutes % 60)
}

/// An RFC 3339 instant. A `+` sent unencoded in a query string arrives as a space; it is read
/// as the `+` it was.
pub fn instant(s: &str) -> Result<DateTime<Utc>, Invalid> {
    DateTime::parse_from_rfc3339(&s.trim().replace(' ', "+"))
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| Invalid::Instant(s.to_string()))
}

/// A real calendar date written `YYYY-MM-DD` (no other spellings: they are stored as text and
/// compared as text).
pub fn parse_date(s: &str) -> Result<NaiveDate, Invalid> {
    let bad = || Invalid::Date(s.to_string());
    let b = s.as_bytes();
    let shape = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shape {
        return Err(bad());
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| bad())
}

/// A closure reason, trimmed: 1 to 200 characters (e.g. 臨時休診 院長学会出張).
pub fn parse_reason(s: &str) -> Result<String, Invalid> {
    let r = s.trim();
    if r.is_empty() || r.chars().count() > MAX_REASON_CHARS {
        return Err(Invalid::Reason);
    }
    Ok(r.to_string())
}

/// An IANA zone name.
pub fn parse_timezone(s: &str) -> Result<Tz, Invalid> {
    s.trim()
        .parse::<Tz>()
        .map_err(|_| Invalid::Timezone(s.to_string()))
}

/// The days from `from` to `until` inclusive (just `from` without `until`).
pub fn date_range(from: NaiveDate, until: Option<NaiveDate>) -> Result<Vec<NaiveDate>, Invalid> {
    let until = until.unwrap_or(from);
    let span = (until - from).num_days();
    if !(0..MAX_CLOSURE_DAYS).contains(&span) {
        return Err(Invalid::Range);
    }
    Ok(from.iter_days().take(span as usize + 1).collect())
}

/// A closure request: the dates from `date` to `until` (if any) and the trimmed reason.
pub fn closure(
    date: &str,
    until: Option<&str>,
    reason: &str,
) -> Result<(Vec<NaiveDate>, String), Invalid> {
    let from = parse_date(date.trim())?;
    let until = until
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .map(parse_date)
        .transpose()?;
    Ok((date_range(from, until)?, parse_reason(reason)?))
}

/// A national holiday's date.
pub fn holiday(date: &str) -> Result<crate::holidays::Holiday, Invalid> {
    let d = parse_date(date)?;
    crate::holidays::on(d).ok_or(Invalid::NotAHoliday(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_two_digit_hours_and_minutes_up_to_midnight() {
        assert_eq!(parse_hhmm("09:00"), Ok(540));
        assert_eq!(parse_hhmm("12:30"), Ok(750));
        assert_eq!(parse_hhmm("24:00"), Ok(1440));
        for bad in [
            "9:00", "24:01", "12:60", "ab:cd", "", "12:3０", "25:00", "12-30",
        ] {
            assert!(parse_hhmm(bad).is_err(), "{bad}");
        }
        assert_eq!(hhmm(540), "09:00");
        assert_eq!(hhmm(1440), "24:00");
    }

    #[test]
    fn instants_need_an_offset_and_a_lost_plus_is_restored() {
        let t = instant("2027-01-09T13:00:00+09:00").map(|t| t.timestamp());
        assert_eq!(t, Ok(1_799_467_200));
        assert_eq!(
            instant("2027-01-09T13:00:00 09:00").map(|t| t.timestamp()),
            t
        );
        assert_eq!(
            instant("2027-01-09T13:00:00").map_err(|e| e.code()),
            Err(Code::InvalidTime)
        );
    }

    #[test]
    fn only_real_dates_written_in_full_are_read() {
        assert!(parse_date("2027-01-11").is_ok());
        assert!(parse_date("2028-02-29").is_ok());
        for bad in [
            "2027-02-29",
            "2027-1-11",
            "2027/01/11",
            "20270111",
            "2027-13-01",
            "x",
        ] {
            assert_eq!(
                parse_date(bad).map_err(|e| e.code()),
                Err(Code::InvalidDate),
                "{bad}"
            );
        }
    }

    #[test]
    fn a_reason_is_trimmed_and_bounded() {
        assert_eq!(
            parse_reason("  臨時休診 院長学会出張 ").as_deref(),
            Ok("臨時休診 院長学会出張")
        );
        assert!(parse_reason("  ").is_err());
        assert!(parse_reason(&"休".repeat(201)).is_err());
    }

    #[test]
    fn a_range_covers_both_ends_and_is_bounded() {
        let d = |s| parse_date(s).ok();
        let days = date_range(d("2026-12-29").unwrap_or_default(), d("2027-01-03"));
        assert_eq!(days.map(|v| v.len()), Ok(6));
        let back = date_range(d("2027-01-03").unwrap_or_default(), d("2026-12-29"));
        assert_eq!(back, Err(Invalid::Range));
    }
}
