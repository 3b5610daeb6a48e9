//! A patient in a sequence: enrolled once per patient and sequence (again after it ended only
//! where the sequence allows), each step due as a `sequence.step` job keyed by enrollment and
//! step, stopped with a reason staff read. Every query is scoped by clinic.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_calendar::Schedule;
use tsunagu_core::jobs::SequenceStep as StepJob;
use tsunagu_core::{new_id, ClinicId};
use tsunagu_store::jobs::{enqueue, Enqueue};

use super::timing::due_at;
use super::{Sequence, StopReason};

#[derive(Clone, Debug, FromRow)]
pub struct Enrollment {
    pub id: String,
    pub sequence_id: String,
    pub patient_id: String,
    pub channel_id: Option<String>,
    /// `active`, `completed` or `stopped`.
    pub state: String,
    pub stop_reason: Option<String>,
    pub next_step: i64,
    pub due_at: Option<i64>,
    pub enrolled_at: i64,
    pub last_sent_at: Option<i64>,
    pub updated_at: i64,
}

/// An enrollment as the staff list shows it, with the patient's name.
#[derive(Clone, Debug, FromRow)]
pub struct Listed {
    #[sqlx(flatten)]
    pub enrollment: Enrollment,
    pub patient_name: Option<String>,
}

const COLS: &str = "e.id, e.sequence_id, e.patient_id, e.channel_id, e.state, e.stop_reason, e.next_step, e.due_at, e.enrolled_at, e.last_sent_at, e.updated_at";

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Enrollment>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM sequence_enrollments e WHERE e.id = $1 AND e.clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading an enrollment")
}

/// A sequence's enrollments, newest first (at most `limit`).
pub async fn list(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    sequence: &str,
    limit: i64,
) -> anyhow::Result<Vec<Listed>> {
    sqlx::query_as(&format!(
        "SELECT {COLS}, p.display_name AS patient_name FROM sequence_enrollments e
         LEFT JOIN patients p ON p.id = e.patient_id AND p.clinic_id = e.clinic_id
         WHERE e.sequence_id = $1 AND e.clinic_id = $2 ORDER BY e.enrolled_at DESC, e.id LIMIT $3"
    ))
    .bind(sequence)
    .bind(clinic.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await
    .context("listing a sequence's enrollments")
}

/// Queues the `sequence.step` job for `position`, due at `at`.
pub async fn queue_step(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    enrollment: &str,
    position: i64,
    at: i64,
    now_ms: i64,
) -> anyhow::Result<()> {
    let job = StepJob {
        clinic_id: clinic.clone(),
        enrollment_id: enrollment.to_string(),
        position,
    };
    // One job per enrollment and step: a retried trigger or a second worker queues it once.
    let key = format!("sequence.step:{enrollment}:{position}");
    let e = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: at,
    };
    enqueue(conn, &job, e, now_ms).await?;
    Ok(())
}

/// Enrolls the patient unless the sequence forbids it (already enrolled once without
/// re-enrolling, or enrolled now) and queues its first step. Call it in a transaction. The new
/// enrollment's id, or `None`.
pub async fn enroll(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    seq: &Sequence,
    patient: &str,
    channel: Option<&str>,
    schedule: &Schedule,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let Some(first) = seq.steps.first() else {
        return Ok(None);
    };
    let id = new_id();
    let due = due_at(&first.timing, now_ms, None, schedule);
    // Decided in the statement: a concurrent enrollment meets the active-unique index.
    let blocking_state = if seq.reenroll {
        "AND state = 'active'"
    } else {
        ""
    };
    let done = sqlx::query(&format!(
        "INSERT INTO sequence_enrollments (id, clinic_id, sequence_id, patient_id, channel_id, state, next_step, due_at, enrolled_at, updated_at)
         SELECT $1, $2, $3, $4, $5, 'active', 0, $6, $7, $7
         WHERE NOT EXISTS (SELECT 1 FROM sequence_enrollments WHERE sequence_id = $3 AND patient_id = $4 AND clinic_id = $2 {blocking_state})
         ON CONFLICT DO NOTHING"
    ))
    .bind(&id)
    .bind(clinic.as_str())
    .bind(&seq.id)
    .bind(patient)
    .bind(channel)
    .bind(due)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("enrolling a patient in a sequence")?;
    if done.rows_affected() == 0 {
        return Ok(None);
    }
    queue_step(conn, clinic, &id, 0, due, now_ms).await?;
    Ok(Some(id))
}

/// Stops one active enrollment; `false` when it is not active (or not the clinic's).
pub async fn stop(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    reason: StopReason,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE sequence_enrollments SET state = 'stopped', stop_reason = $3, due_at = NULL, updated_at = $4
         WHERE id = $1 AND clinic_id = $2 AND state = 'active'",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(reason.code())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("stopping an enrollment")?;
    Ok(done.rows_affected() > 0)
}

/// Stops every active enrollment of a sequence.
pub async fn stop_all_of_sequence(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    sequence: &str,
    reason: StopReason,
    now_ms: i64,
) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE sequence_enrollments SET state = 'stopped', stop_reason = $3, due_at = NULL, updated_at = $4
         WHERE sequence_id = $1 AND clinic_id = $2 AND state = 'active'",
    )
    .bind(sequence)
    .bind(clinic.as_str())
    .bind(reason.code())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("stopping a sequence's enrollments")?;
    Ok(done.rows_affected())
}

/// Stops the patient's active enrollments in sequences whose goal tag is one of `tags`.
pub async fn stop_at_goal(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &str,
    tags: &[String],
    now_ms: i64,
) -> anyhow::Result<u64> {
    let mut n = 0;
    for tag in tags {
        let done = sqlx::query(
            "UPDATE sequence_enrollments SET state = 'stopped', stop_reason = 'goal', due_at = NULL, updated_at = $4
             WHERE clinic_id = $1 AND patient_id = $2 AND state = 'active'
               AND sequence_id IN (SELECT id FROM sequences WHERE clinic_id = $1 AND goal_tag = $3)",
        )
        .bind(clinic.as_str())
        .bind(patient)
        .bind(tag)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .context("stopping enrollments at their goal")?;
        n += done.rows_affected();
    }
    Ok(n)
}

/// Stops the patient's active enrollments in sequences of `purpose` (the patient withdrew it).
pub async fn stop_for_purpose(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &str,
    purpose: tsunagu_privacy::consent::Purpose,
    now_ms: i64,
) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE sequence_enrollments SET state = 'stopped', stop_reason = 'consent_withdrawn', due_at = NULL, updated_at = $4
         WHERE clinic_id = $1 AND patient_id = $2 AND state = 'active'
           AND sequence_id IN (SELECT id FROM sequences WHERE clinic_id = $1 AND purpose = $3)",
    )
    .bind(clinic.as_str())
    .bind(patient)
    .bind(purpose.code())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("stopping enrollments after a consent withdrawal")?;
    Ok(done.rows_affected())
}

/// Whether the patient has `tag` now.
pub async fn has_tag(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &str,
    tag: &str,
) -> anyhow::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM patient_tags WHERE clinic_id = $1 AND patient_id = $2 AND tag = $3",
    )
    .bind(clinic.as_str())
    .bind(patient)
    .bind(tag)
    .fetch_one(conn)
    .await
    .context("reading the patient's tags")?;
    Ok(n > 0)
}
