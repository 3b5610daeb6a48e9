//! What automation remembers per conversation, identity and message: handed to a person (an
//! escape word), when the away message last went, who was greeted, which inbound messages were
//! answered. Each "once" is a claim made by one statement, so two runs of a job never both win.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;
use tsunagu_store::conversations::Conversation;

/// Why automation keeps quiet on a conversation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Quiet {
    /// The patient asked for a person; until staff resolve the conversation.
    HandedOver,
    /// Assigned, and a staff reply within the clinic's quiet window.
    PersonHandles,
}

/// Whether automation keeps quiet on `conv` now (the quiet window in minutes; 0: only a
/// hand-over keeps it quiet).
pub async fn quiet(
    conn: &mut AnyConnection,
    conv: &Conversation,
    quiet_minutes: i64,
    now_ms: i64,
) -> anyhow::Result<Option<Quiet>> {
    let handed: Option<Option<i64>> = sqlx::query_scalar(
        "SELECT handed_over_at FROM automation_conversations WHERE conversation_id = $1",
    )
    .bind(&conv.id)
    .fetch_optional(&mut *conn)
    .await
    .context("reading whether the conversation was handed to a person")?;
    if let Some(Some(at)) = handed {
        // Resolving ends the hand-over: a later resolve means staff are done with it.
        if conv.resolved_at.is_none_or(|r| r < at) {
            return Ok(Some(Quiet::HandedOver));
        }
    }
    if conv.assignee_id.is_some() && quiet_minutes > 0 {
        let since = now_ms - quiet_minutes * 60_000;
        let recent: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND author_kind = 'staff' AND created_at > $2",
        )
        .bind(&conv.id)
        .bind(since)
        .fetch_one(&mut *conn)
        .await
        .context("looking for a recent staff reply")?;
        if recent > 0 {
            return Ok(Some(Quiet::PersonHandles));
        }
    }
    Ok(None)
}

/// Marks the conversation as handed to a person (automation quiet until it is resolved).
pub async fn hand_over(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO automation_conversations (conversation_id, clinic_id, handed_over_at) VALUES ($1, $2, $3)
         ON CONFLICT (conversation_id) DO UPDATE SET handed_over_at = excluded.handed_over_at",
    )
    .bind(conversation_id)
    .bind(clinic.as_str())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("handing the conversation to a person")?;
    Ok(())
}

/// Claims the away message for this conversation: `true` when none went in the last
/// `every_hours` (and records this one).
pub async fn claim_away(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    every_hours: i64,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO automation_conversations (conversation_id, clinic_id, away_sent_at) VALUES ($1, $2, $3)
         ON CONFLICT (conversation_id) DO UPDATE SET away_sent_at = excluded.away_sent_at
         WHERE automation_conversations.away_sent_at IS NULL OR automation_conversations.away_sent_at <= $4",
    )
    .bind(conversation_id)
    .bind(clinic.as_str())
    .bind(now_ms)
    .bind(now_ms - every_hours * 3_600_000)
    .execute(conn)
    .await
    .context("claiming the away message")?;
    Ok(done.rows_affected() == 1)
}

/// Claims the greeting for an identity: `true` the first time only.
pub async fn claim_greeting(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    identity_id: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO automation_greeted (identity_id, clinic_id, greeted_at) VALUES ($1, $2, $3)
         ON CONFLICT (identity_id) DO NOTHING",
    )
    .bind(identity_id)
    .bind(clinic.as_str())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("claiming the greeting")?;
    Ok(done.rows_affected() == 1)
}

/// Claims the one automated answer to an inbound message (`step` says which answered):
/// `false` when it was answered already (a job run again after a crash).
pub async fn claim_answer(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    message_id: &str,
    step: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO automation_answered (message_id, clinic_id, step, at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(clinic.as_str())
    .bind(step)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("claiming the automated answer")?;
    Ok(done.rows_affected() == 1)
}

/// Whether `message_id` is the first message this identity sent in its conversation (first
/// contact on a channel without a follow event). Read along the conversation's messages (its
/// index), never the whole table: at a million messages a scan by sender took 250 ms for every
/// message that came in. An identity writes in its own conversation; one greeted in a group
/// before is still greeted once (`claim_greeting`).
pub async fn is_first_contact(
    conn: &mut AnyConnection,
    conversation_id: &str,
    identity_id: &str,
    message_id: &str,
) -> anyhow::Result<bool> {
    let earlier: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM messages WHERE conversation_id = $1 AND sender_identity_id = $2
           AND direction = 'in' AND id <> $3 LIMIT 1",
    )
    .bind(conversation_id)
    .bind(identity_id)
    .bind(message_id)
    .fetch_optional(conn)
    .await
    .context("looking for the identity's earlier messages")?;
    Ok(earlier.is_none())
}
