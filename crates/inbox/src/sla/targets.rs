//! A clinic's service-level targets (table `service_levels`, migration 0021): read, checked
//! from the settings form, saved in the caller's transaction (with its audit entry).
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::ClinicId;

/// The largest first-response target: a week of minutes.
pub const MAX_FIRST_RESPONSE_MINUTES: u32 = 7 * 24 * 60;
/// The largest resolution target, in hours (a month).
pub const MAX_RESOLUTION_HOURS: u32 = 720;
/// The longest warning: a day of minutes.
pub const MAX_WARNING_MINUTES: u32 = 24 * 60;

/// Targets in minutes of opening time; `None` is off.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Targets {
    pub first_response_minutes: Option<u32>,
    pub resolution_minutes: Option<u32>,
    /// How long before a breach the clock turns amber.
    pub warning_minutes: Option<u32>,
}

/// Why the settings form was refused; each has words `sla.error.<key>`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("the first-response target is not a whole number of minutes in range")]
    FirstResponse,
    #[error("the resolution target is not a whole number of hours in range")]
    Resolution,
    #[error("the warning is not a whole number of minutes in range")]
    Warning,
    #[error("the warning is not shorter than every target")]
    WarningTooLong,
}

impl Invalid {
    /// The words' key below `sla.error.`.
    pub fn key(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::Resolution => "resolution",
            Self::Warning => "warning",
            Self::WarningTooLong => "warning_too_long",
        }
    }
}

impl Targets {
    /// From the settings form as typed: first response and warning in minutes, resolution in
    /// hours; empty is off; full-width digits read as digits, and the field's own unit typed
    /// after the number (`30分`, `8時間`) is allowed.
    pub fn parse(
        first_response: &str,
        resolution_hours: &str,
        warning: &str,
    ) -> Result<Self, Invalid> {
        let first = number(first_response, MINUTES, MAX_FIRST_RESPONSE_MINUTES)
            .map_err(|_| Invalid::FirstResponse)?;
        let hours = number(resolution_hours, HOURS, MAX_RESOLUTION_HOURS)
            .map_err(|_| Invalid::Resolution)?;
        let warning =
            number(warning, MINUTES, MAX_WARNING_MINUTES).map_err(|_| Invalid::Warning)?;
        let resolution = hours.map(|h| h * 60);
        if let Some(w) = warning {
            if first.is_some_and(|f| w >= f) || resolution.is_some_and(|r| w >= r) {
                return Err(Invalid::WarningTooLong);
            }
        }
        Ok(Self {
            first_response_minutes: first,
            resolution_minutes: resolution,
            warning_minutes: warning,
        })
    }

    /// Neither target is set: no clock runs.
    pub fn is_off(&self) -> bool {
        self.first_response_minutes.is_none() && self.resolution_minutes.is_none()
    }
}

const MINUTES: &[&str] = &["分", "min", "minutes"];
const HOURS: &[&str] = &["時間", "h", "hours"];

/// An empty field is `None`; otherwise a whole number in `1..=max`, optionally followed by one
/// of `units`.
fn number(text: &str, units: &[&str], max: u32) -> Result<Option<u32>, ()> {
    let text = text.trim();
    let text = units
        .iter()
        .find_map(|u| text.strip_suffix(u))
        .unwrap_or(text)
        .trim();
    let digits: String = text
        .chars()
        .map(|c| match c {
            '０'..='９' => char::from(b'0' + (c as u32 - '０' as u32) as u8),
            c => c,
        })
        .collect();
    if digits.is_empty() {
        return Ok(None);
    }
    if !digits.chars().all(|c| c.is_ascii_digit()) || digits.len() > 6 {
        return Err(());
    }
    match digits.parse::<u32>() {
        Ok(n) if (1..=max).contains(&n) => Ok(Some(n)),
        _ => Err(()),
    }
}

#[derive(FromRow)]
struct Row {
    first_response_minutes: Option<i64>,
    resolution_minutes: Option<i64>,
    warning_minutes: Option<i64>,
}

fn minutes(v: Option<i64>) -> Option<u32> {
    v.and_then(|m| u32::try_from(m).ok()).filter(|m| *m > 0)
}

/// The clinic's targets (all off when it never saved any).
pub async fn load(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Targets> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT first_response_minutes, resolution_minutes, warning_minutes
         FROM service_levels WHERE clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the clinic's service levels")?;
    Ok(row.map_or_else(Targets::default, |r| Targets {
        first_response_minutes: minutes(r.first_response_minutes),
        resolution_minutes: minutes(r.resolution_minutes),
        warning_minutes: minutes(r.warning_minutes),
    }))
}

/// Saves the clinic's targets (in the caller's transaction, beside its audit entry).
pub async fn save(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    t: &Targets,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO service_levels (clinic_id, first_response_minutes, resolution_minutes, warning_minutes, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (clinic_id) DO UPDATE SET first_response_minutes = excluded.first_response_minutes,
            resolution_minutes = excluded.resolution_minutes,
            warning_minutes = excluded.warning_minutes, updated_at = excluded.updated_at",
    )
    .bind(clinic.as_str())
    .bind(t.first_response_minutes.map(i64::from))
    .bind(t.resolution_minutes.map(i64::from))
    .bind(t.warning_minutes.map(i64::from))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("saving the clinic's service levels")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_fields_are_off_and_hours_become_minutes() {
        let t = Targets::parse(" 30 ", "8", "").unwrap_or_default();
        assert_eq!(t.first_response_minutes, Some(30));
        assert_eq!(t.resolution_minutes, Some(480));
        assert_eq!(t.warning_minutes, None);
        assert!(Targets::parse("", "", "").is_ok_and(|t| t.is_off()));
    }

    #[test]
    fn full_width_digits_and_the_fields_unit_read_as_typed() {
        let t = Targets::parse("３０分", "８ 時間", "１０");
        assert_eq!(
            t,
            Ok(Targets {
                first_response_minutes: Some(30),
                resolution_minutes: Some(480),
                warning_minutes: Some(10),
            })
        );
    }

    #[test]
    fn what_is_not_a_whole_number_in_range_is_refused() {
        assert_eq!(Targets::parse("abc", "", ""), Err(Invalid::FirstResponse));
        assert_eq!(Targets::parse("0", "", ""), Err(Invalid::FirstResponse));
        assert_eq!(Targets::parse("-5", "", ""), Err(Invalid::FirstResponse));
        assert_eq!(Targets::parse("1時間", "", ""), Err(Invalid::FirstResponse));
        assert_eq!(Targets::parse("10081", "", ""), Err(Invalid::FirstResponse));
        assert_eq!(Targets::parse("", "1.5", ""), Err(Invalid::Resolution));
        assert_eq!(Targets::parse("", "721", ""), Err(Invalid::Resolution));
        assert_eq!(
            Targets::parse("30", "", "9999999999"),
            Err(Invalid::Warning)
        );
    }

    #[test]
    fn the_warning_must_come_before_every_target() {
        assert_eq!(
            Targets::parse("10", "8", "10"),
            Err(Invalid::WarningTooLong)
        );
        assert_eq!(Targets::parse("", "1", "60"), Err(Invalid::WarningTooLong));
        assert!(Targets::parse("30", "8", "29").is_ok());
    }
}
