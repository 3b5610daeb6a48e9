//! One survey per resolve of a conversation: claimed by its key (conversation, resolve time)
//! so a retried or doubled job asks once; the score and the comment are each taken by one
//! conditional UPDATE, so a redelivered answer is recorded once.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId};

/// What is kept about the conversation when it is asked (or skipped).
pub struct NewSurvey<'a> {
    pub conversation_id: &'a str,
    pub patient_id: Option<&'a str>,
    pub channel_kind: &'a str,
    pub staff_id: Option<&'a str>,
    pub team_id: Option<&'a str>,
    pub resolved_at: i64,
    /// Clinic-local YYYY-MM of the resolve.
    pub month: &'a str,
}

#[derive(Clone, Debug, FromRow)]
pub struct Survey {
    pub id: String,
    pub conversation_id: String,
    pub state: String,
    pub score: Option<i64>,
    pub asked_at: Option<i64>,
    pub comment_until: Option<i64>,
    pub resolved_at: i64,
}

async fn insert(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    s: &NewSurvey<'_>,
    state: &str,
    skip_reason: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let id = new_id();
    let asked_at = (state == "asked").then_some(now_ms);
    let done = sqlx::query(
        "INSERT INTO satisfaction_surveys (id, clinic_id, conversation_id, patient_id, channel_kind,
            staff_id, team_id, resolved_at, month, state, skip_reason, asked_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
         ON CONFLICT (conversation_id, resolved_at) DO NOTHING",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(s.conversation_id)
    .bind(s.patient_id)
    .bind(s.channel_kind)
    .bind(s.staff_id)
    .bind(s.team_id)
    .bind(s.resolved_at)
    .bind(s.month)
    .bind(state)
    .bind(skip_reason)
    .bind(asked_at)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording the satisfaction survey")?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Claims the survey of this resolve as asked; `None`: it was claimed already.
pub async fn claim(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    s: &NewSurvey<'_>,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    insert(conn, clinic, s, "asked", None, now_ms).await
}

/// Records that this resolve's survey was not sent, and why (a refusal's code).
pub async fn skip(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    s: &NewSurvey<'_>,
    reason: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    insert(conn, clinic, s, "skipped", Some(reason), now_ms).await?;
    Ok(())
}

/// Holds the patient's surveys until the transaction ends (PostgreSQL; SQLite's writer is
/// already one at a time).
pub async fn lock_patient(conn: &mut AnyConnection, patient_id: &str) -> anyhow::Result<()> {
    if conn.backend_name() == "PostgreSQL" {
        sqlx::query("SELECT CAST(pg_advisory_xact_lock(hashtext($1)) AS TEXT)")
            .bind(format!("satisfaction:{patient_id}"))
            .execute(conn)
            .await
            .context("locking the patient's surveys")?;
    }
    Ok(())
}

/// Whether the patient was asked since `since_ms`.
pub async fn asked_since(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient_id: &str,
    since_ms: i64,
) -> anyhow::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM satisfaction_surveys
         WHERE clinic_id = $1 AND patient_id = $2 AND asked_at IS NOT NULL AND asked_at >= $3",
    )
    .bind(clinic.as_str())
    .bind(patient_id)
    .bind(since_ms)
    .fetch_one(conn)
    .await
    .context("reading when the patient was last surveyed")?;
    Ok(n > 0)
}

/// The conversation's survey still waiting for a score or a comment, if any.
pub async fn waiting(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
) -> anyhow::Result<Option<Survey>> {
    sqlx::query_as(
        "SELECT id, conversation_id, state, score, asked_at, comment_until, resolved_at
         FROM satisfaction_surveys
         WHERE clinic_id = $1 AND conversation_id = $2 AND state IN ('asked', 'answered')
         ORDER BY asked_at DESC LIMIT 1",
    )
    .bind(clinic.as_str())
    .bind(conversation_id)
    .fetch_optional(conn)
    .await
    .context("reading the conversation's open satisfaction survey")
}

/// Records the score; `comment_until` (None: no comment asked) is how long a comment may follow.
/// `false`: answered already (a redelivery, another worker).
pub async fn answer(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    score: i64,
    comment_until: Option<i64>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let state = if comment_until.is_some() {
        "answered"
    } else {
        "done"
    };
    let done = sqlx::query(
        "UPDATE satisfaction_surveys SET state = $3, score = $4, answered_at = $5, comment_until = $6
         WHERE id = $1 AND clinic_id = $2 AND state = 'asked'",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(state)
    .bind(score)
    .bind(now_ms)
    .bind(comment_until)
    .execute(conn)
    .await
    .context("recording the satisfaction score")?;
    Ok(done.rows_affected() == 1)
}

/// Records the comment; `false`: one was recorded already or its time is up.
pub async fn comment(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    text: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE satisfaction_surveys SET state = 'done', comment = $3
         WHERE id = $1 AND clinic_id = $2 AND state = 'answered' AND comment_until >= $4",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(text)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording the satisfaction comment")?;
    Ok(done.rows_affected() == 1)
}

/// Closes the question: the patient wrote something else, or its time is up. The score, if
/// any, stays.
pub async fn close(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE satisfaction_surveys
         SET state = CASE WHEN state = 'asked' THEN 'expired' ELSE 'done' END
         WHERE id = $1 AND clinic_id = $2 AND state IN ('asked', 'answered')",
    )
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("closing the satisfaction survey")?;
    Ok(())
}

/// Puts the conversation back to resolved after the patient's survey answer reopened it (the
/// answer needs nobody), unless it was resolved again or changed by staff since.
pub async fn settle(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    resolved_at: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE conversations SET status = 'resolved', waiting_since = NULL, unread_count = 0
         WHERE id = $1 AND clinic_id = $2 AND status = 'open' AND resolved_at = $3",
    )
    .bind(conversation_id)
    .bind(clinic.as_str())
    .bind(resolved_at)
    .execute(conn)
    .await
    .context("putting the surveyed conversation back to resolved")?;
    Ok(done.rows_affected() == 1)
}

/// A survey from before this installation (the demo's past months), answered or not.
pub struct PastSurvey<'a> {
    pub conversation_id: &'a str,
    pub staff_id: &'a str,
    pub team_id: &'a str,
    pub resolved_at: i64,
    pub month: &'a str,
    /// 1–5, or `None` when nobody answered.
    pub score: Option<i64>,
    pub comment: Option<&'a str>,
}

/// Records a past survey on LINE as if asked 30 minutes after the resolve.
pub async fn record_past(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    s: PastSurvey<'_>,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO satisfaction_surveys (id, clinic_id, conversation_id, patient_id,
            channel_kind, staff_id, team_id, resolved_at, month, state, asked_at, score,
            answered_at, comment, created_at)
         VALUES ($1, $2, $3, NULL, 'line', $4, $5, $6, $7, $8, $9, $10, $11, $12, $6)",
    )
    .bind(new_id())
    .bind(clinic.as_str())
    .bind(s.conversation_id)
    .bind(s.staff_id)
    .bind(s.team_id)
    .bind(s.resolved_at)
    .bind(s.month)
    .bind(if s.score.is_some() { "done" } else { "expired" })
    .bind(s.resolved_at + 30 * 60_000)
    .bind(s.score)
    .bind(s.score.map(|_| s.resolved_at + 40 * 60_000))
    .bind(s.comment)
    .execute(conn)
    .await
    .context("recording a past survey")?;
    Ok(())
}
