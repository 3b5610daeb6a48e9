//! The audit page's filters as the form sends them (`from`, `to`, `staff`, `action`, `patient`,
//! `before`), read into the trail's `Filter`, and the query string that keeps them across pages.
use chrono::{NaiveDate, TimeZone};
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tsunagu_contacts::search::{self, ListQuery};
use tsunagu_core::ClinicId;
use tsunagu_privacy::audit::{Filter, ACTIONS};

/// Rows naming any of at most this many patients found by the search text.
const PATIENTS: i64 = 50;

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct AuditQuery {
    pub before: Option<i64>,
    /// `YYYY-MM-DD`, clinic-local, both ends included.
    pub from: String,
    pub to: String,
    pub staff: String,
    pub action: String,
    /// Name, kana, phone or card number.
    pub patient: String,
}

/// The trail's filter; `None` when the patient text matches nobody (an empty page, never the
/// whole trail).
pub async fn read(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    tz: &chrono_tz::Tz,
    q: &AuditQuery,
) -> anyhow::Result<Option<Filter>> {
    let mut f = Filter {
        before_seq: q.before,
        from_ms: day_start(tz, &q.from, 0),
        to_ms: day_start(tz, &q.to, 1),
        staff_id: Some(q.staff.trim().to_string()).filter(|s| !s.is_empty()),
        action: Some(q.action.trim())
            .filter(|a| ACTIONS.contains(a))
            .map(str::to_string),
        subject_ids: Vec::new(),
    };
    let patient = q.patient.trim();
    if !patient.is_empty() {
        let found = search::list(
            conn,
            clinic,
            &ListQuery {
                q: Some(patient.to_string()),
                limit: PATIENTS,
                ..ListQuery::default()
            },
        )
        .await?;
        if found.is_empty() {
            return Ok(None);
        }
        f.subject_ids = found.into_iter().map(|p| p.id).collect();
    }
    Ok(Some(f))
}

/// Midnight in the clinic's zone of `date` plus `days`, in ms; `None` for a blank or malformed
/// date (the filter is then left out).
fn day_start(tz: &chrono_tz::Tz, date: &str, days: u64) -> Option<i64> {
    let d = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let d = d.checked_add_days(chrono::Days::new(days))?;
    let local = tz
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .earliest()?;
    Some(local.timestamp_millis())
}

impl AuditQuery {
    /// The next page's query: the same filters, older than `seq`.
    pub fn older(&self, seq: i64) -> String {
        let seq = seq.to_string();
        let mut pairs = vec![("before", seq.as_str())];
        for (k, v) in [
            ("from", &self.from),
            ("to", &self.to),
            ("staff", &self.staff),
            ("action", &self.action),
            ("patient", &self.patient),
        ] {
            if !v.trim().is_empty() {
                pairs.push((k, v.as_str()));
            }
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }

    pub fn filtered(&self) -> bool {
        [
            &self.from,
            &self.to,
            &self.staff,
            &self.action,
            &self.patient,
        ]
        .iter()
        .any(|s| !s.trim().is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_day_runs_from_midnight_to_midnight_in_the_clinics_zone() {
        let tokyo = chrono_tz::Asia::Tokyo;
        // 2026-12-07 00:00 JST = 2026-12-06 15:00 UTC.
        assert_eq!(day_start(&tokyo, "2026-12-07", 0), Some(1_796_569_200_000));
        assert_eq!(
            day_start(&tokyo, "2026-12-07", 1),
            Some(1_796_569_200_000 + 86_400_000)
        );
        assert_eq!(day_start(&tokyo, "07/12/2026", 0), None);
        assert_eq!(day_start(&tokyo, "", 0), None);
    }
}
