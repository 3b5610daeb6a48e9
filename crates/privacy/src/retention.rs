//! Retention per clinic, applied by the daily `privacy.retention` job: raw provider bodies go
//! after `raw_webhook_body_days`, conversations whose last message is older than
//! `conversation_years` go with their messages and attachments, and blanked event rows go once
//! their dedupe window (`erasure::DEDUPE_KEEP_MS`) is over.
use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use chrono::Months;
use sqlx::AnyConnection;
use tsunagu_core::jobs::PrivacyRetention;
use tsunagu_core::{ClinicId, Code, Refusal};
use tsunagu_store::jobs::{self, Enqueue};
use tsunagu_store::Db;

use crate::audit::{self, Actor, AuditEntry};
use crate::erasure::{self, schema, Subject, DEDUPE_KEEP_MS};

pub const DEFAULT_RAW_WEBHOOK_BODY_DAYS: i64 = 30;
pub const DEFAULT_CONVERSATION_YEARS: i64 = 5;
const DAY_MS: i64 = 86_400_000;
/// The daily job is due at 18:00 UTC, 03:00 in Japan: outside clinic hours.
const RUN_HOUR_UTC: u32 = 18;

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetentionSettings {
    pub raw_webhook_body_days: i64,
    pub conversation_years: i64,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            raw_webhook_body_days: DEFAULT_RAW_WEBHOOK_BODY_DAYS,
            conversation_years: DEFAULT_CONVERSATION_YEARS,
        }
    }
}

impl RetentionSettings {
    /// Refused out of range: `invalid_raw_webhook_body_days` (1–3650),
    /// `invalid_conversation_years` (1–100).
    pub fn check(&self) -> Result<(), Refusal> {
        if !(1..=3650).contains(&self.raw_webhook_body_days) {
            let why = "raw_webhook_body_days must be 1 to 3650.";
            return Err(Refusal::new(Code::InvalidRawWebhookBodyDays).detail(why));
        }
        if !(1..=100).contains(&self.conversation_years) {
            let why = "conversation_years must be 1 to 100.";
            return Err(Refusal::new(Code::InvalidConversationYears).detail(why));
        }
        Ok(())
    }
}

pub async fn settings(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<RetentionSettings> {
    let row: Option<(i64, i64)> = sqlx::query_as(
        "SELECT raw_webhook_body_days, conversation_years FROM retention_settings WHERE clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the retention settings")?;
    Ok(row
        .map(
            |(raw_webhook_body_days, conversation_years)| RetentionSettings {
                raw_webhook_body_days,
                conversation_years,
            },
        )
        .unwrap_or_default())
}

/// Saves (after `check`) and audits `retention.updated`.
pub async fn save_settings(
    db: &Db,
    clinic: &ClinicId,
    s: &RetentionSettings,
    actor: &Actor,
    now_ms: i64,
) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO retention_settings (clinic_id, raw_webhook_body_days, conversation_years, updated_by, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (clinic_id) DO UPDATE SET raw_webhook_body_days = $2, conversation_years = $3,
             updated_by = $4, updated_at = $5",
    )
    .bind(clinic.as_str())
    .bind(s.raw_webhook_body_days)
    .bind(s.conversation_years)
    .bind(erasure::actor_ref(actor))
    .bind(now_ms)
    .execute(tx.conn())
    .await
    .context("saving the retention settings")?;
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor,
        action: "retention.updated",
        subject_type: Some("clinic"),
        subject_ids: &[clinic.as_str()],
        source_ip: None,
    };
    audit::record(tx.conn(), db.backend(), entry, now_ms).await?;
    tx.commit().await
}

/// Enqueues today's (UTC) retention pass once: the key makes concurrent workers safe.
pub async fn enqueue_daily(conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<bool> {
    let Some(now) = chrono::DateTime::from_timestamp_millis(now_ms) else {
        return Ok(false);
    };
    let day = now.date_naive();
    let due = day
        .and_hms_opt(RUN_HOUR_UTC, 0, 0)
        .map(|t| t.and_utc().timestamp_millis())
        .unwrap_or(now_ms);
    let key = format!("retention:{}", day.format("%Y-%m-%d"));
    let at = Enqueue {
        clinic_id: None,
        idempotency_key: &key,
        run_at: due,
    };
    Ok(jobs::enqueue(conn, &PrivacyRetention {}, at, now_ms)
        .await?
        .is_some())
}

/// What one pass did in one clinic (also the audit's counts).
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct RetentionReport {
    pub bodies_blanked: i64,
    pub conversations_deleted: i64,
    pub rows_deleted: BTreeMap<String, i64>,
}

/// Applies every clinic's settings, then drops blanked event rows past their dedupe window.
pub async fn apply_all(db: &Db, now_ms: i64) -> anyhow::Result<BTreeMap<String, RetentionReport>> {
    let clinics: Vec<String> = sqlx::query_scalar("SELECT id FROM clinics ORDER BY id")
        .fetch_all(db.pool())
        .await
        .context("listing clinics for retention")?;
    let mut out = BTreeMap::new();
    for c in clinics {
        let clinic = ClinicId::from_db(c.clone());
        out.insert(c, apply(db, &clinic, now_ms).await?);
    }
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM webhook_events WHERE body IS NULL AND received_at < $1")
        .bind(now_ms - DEDUPE_KEEP_MS)
        .execute(tx.conn())
        .await
        .context("deleting blanked webhook events past their dedupe window")?;
    tx.commit().await?;
    Ok(out)
}

/// One clinic's pass, in one transaction.
pub async fn apply(db: &Db, clinic: &ClinicId, now_ms: i64) -> anyhow::Result<RetentionReport> {
    let mut tx = db.begin().await?;
    let conn = tx.conn();
    let s = settings(conn, clinic).await?;
    let bodies_blanked = sqlx::query(
        "UPDATE webhook_events SET body = NULL, sender_ref = NULL WHERE clinic_id = $1 AND body IS NOT NULL AND received_at < $2",
    )
    .bind(clinic.as_str())
    .bind(now_ms - s.raw_webhook_body_days * DAY_MS)
    .execute(&mut *conn)
    .await
    .context("blanking old raw webhook bodies")?
    .rows_affected() as i64;
    let mut report = RetentionReport {
        bodies_blanked,
        ..RetentionReport::default()
    };

    let cutoff = conversation_cutoff(now_ms, s.conversation_years);
    let old: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM conversations WHERE clinic_id = $1 AND last_message_at < $2 ORDER BY id",
    )
    .bind(clinic.as_str())
    .bind(cutoff)
    .fetch_all(&mut *conn)
    .await
    .context("finding conversations past retention")?;
    for chunk in old.chunks(200) {
        let mut subject = Subject {
            conversation: chunk.to_vec(),
            ..Subject::default()
        };
        for c in chunk {
            let ids: Vec<String> =
                sqlx::query_scalar("SELECT id FROM messages WHERE conversation_id = $1")
                    .bind(c)
                    .fetch_all(&mut *conn)
                    .await
                    .context("listing an old conversation's messages")?;
            subject.message.extend(ids);
        }
        let needles: HashSet<String> = subject
            .conversation
            .iter()
            .chain(&subject.message)
            .cloned()
            .collect();
        let jobs = erasure::delete_jobs(conn, clinic, &needles).await?;
        *report.rows_deleted.entry("outbox_jobs".into()).or_default() += jobs;
        tsunagu_store::search::forget(conn, tsunagu_store::search::MESSAGE, &subject.message)
            .await?;
        tsunagu_store::search::forget_notes_of(conn, &subject.conversation).await?;
        schema::delete_referencing(conn, &subject, &mut report.rows_deleted).await?;
        let n = schema::delete_in(conn, "conversations", "id", &subject.conversation)
            .await
            .context("deleting conversations past retention")?;
        report.conversations_deleted += n;
    }
    if report.bodies_blanked > 0 || report.conversations_deleted > 0 {
        let entry = AuditEntry {
            clinic_id: Some(clinic),
            actor: &Actor::System,
            action: "retention.applied",
            subject_type: Some("clinic"),
            subject_ids: &[clinic.as_str()],
            source_ip: None,
        };
        audit::record(conn, db.backend(), entry, now_ms).await?;
    }
    tx.commit().await?;
    Ok(report)
}

/// `now` minus whole calendar years (29 February falls back to the 28th).
fn conversation_cutoff(now_ms: i64, years: i64) -> i64 {
    let months = u32::try_from(years.saturating_mul(12)).unwrap_or(u32::MAX);
    chrono::DateTime::from_timestamp_millis(now_ms)
        .and_then(|t| t.checked_sub_months(Months::new(months)))
        .map(|t| t.timestamp_millis())
        .unwrap_or(i64::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cutoff_is_whole_calendar_years_back() {
        let now = chrono::DateTime::parse_from_rfc3339("2030-03-01T00:00:00Z")
            .unwrap()
            .timestamp_millis();
        let want = chrono::DateTime::parse_from_rfc3339("2025-03-01T00:00:00Z")
            .unwrap()
            .timestamp_millis();
        assert_eq!(conversation_cutoff(now, 5), want);
    }

    #[test]
    fn settings_outside_their_range_are_refused_with_a_key() {
        let s = RetentionSettings {
            raw_webhook_body_days: 0,
            conversation_years: 5,
        };
        assert_eq!(
            s.check().map_err(|r| r.code),
            Err(Code::InvalidRawWebhookBodyDays)
        );
        assert_eq!(RetentionSettings::default().check(), Ok(()));
    }
}
