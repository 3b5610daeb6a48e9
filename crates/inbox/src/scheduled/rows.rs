//! The `scheduled_messages` table (owned by the inbox). Every query names the clinic; a state
//! moves only forward, each move a conditional UPDATE whose row count says whether it happened.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, ConversationId};
use tsunagu_privacy::consent::Purpose;

#[derive(Clone, Debug, FromRow)]
pub struct Scheduled {
    pub id: String,
    pub clinic_id: String,
    pub conversation_id: String,
    pub author_staff_id: Option<String>,
    pub body: String,
    /// A consent purpose's code; `None`: a reply.
    pub purpose: Option<String>,
    pub send_at: i64,
    /// scheduled | sending | sent | refused | cancelled
    pub state: String,
    pub refusal_code: Option<String>,
    pub message_id: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

const COLS: &str = "id, clinic_id, conversation_id, author_staff_id, body, purpose, send_at, state, refusal_code, message_id, created_at, updated_at";

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    staff_id: Option<&str>,
    body: &str,
    purpose: Option<Purpose>,
    send_at: i64,
    now_ms: i64,
) -> anyhow::Result<String> {
    let id = new_id();
    // Only into a conversation of this clinic: nothing is written for another's id.
    let done = sqlx::query(
        "INSERT INTO scheduled_messages (id, clinic_id, conversation_id, author_staff_id, body, purpose, send_at, state, created_at, updated_at)
         SELECT $1, $2, c.id, $4, $5, $6, $7, 'scheduled', $8, $8 FROM conversations c
         WHERE c.id = $3 AND c.clinic_id = $2",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(conversation.as_str())
    .bind(staff_id)
    .bind(body)
    .bind(purpose.map(Purpose::code))
    .bind(send_at)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("scheduling a message")?;
    anyhow::ensure!(
        done.rows_affected() == 1,
        "no such conversation in the clinic"
    );
    Ok(id)
}

/// The scheduled message `id` of this conversation of the clinic.
pub async fn find(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    id: &str,
) -> anyhow::Result<Option<Scheduled>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM scheduled_messages WHERE id = $1 AND clinic_id = $2 AND conversation_id = $3"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .bind(conversation.as_str())
    .fetch_optional(conn)
    .await
    .context("reading a scheduled message")
}

pub(super) async fn by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Scheduled>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM scheduled_messages WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading a scheduled message")
}

/// The conversation's scheduled messages: those still to leave first (soonest first), then the
/// rest newest first, at most `limit`.
pub async fn list(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    limit: i64,
) -> anyhow::Result<Vec<Scheduled>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM scheduled_messages WHERE clinic_id = $1 AND conversation_id = $2
         ORDER BY CASE WHEN state = 'scheduled' THEN 0 ELSE 1 END,
                  CASE WHEN state = 'scheduled' THEN send_at ELSE -send_at END, id
         LIMIT $3"
    ))
    .bind(clinic.as_str())
    .bind(conversation.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await
    .context("listing scheduled messages")
}

pub(super) async fn update(
    conn: &mut AnyConnection,
    row: &Scheduled,
    body: &str,
    purpose: Option<Purpose>,
    send_at: i64,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE scheduled_messages SET body = $1, purpose = $2, send_at = $3, updated_at = $4
         WHERE id = $5 AND clinic_id = $6 AND state = 'scheduled'",
    )
    .bind(body)
    .bind(purpose.map(Purpose::code))
    .bind(send_at)
    .bind(now_ms)
    .bind(&row.id)
    .bind(&row.clinic_id)
    .execute(conn)
    .await
    .context("changing a scheduled message")?;
    Ok(done.rows_affected() == 1)
}

pub(super) async fn cancel(
    conn: &mut AnyConnection,
    row: &Scheduled,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE scheduled_messages SET state = 'cancelled', updated_at = $1
         WHERE id = $2 AND clinic_id = $3 AND state = 'scheduled'",
    )
    .bind(now_ms)
    .bind(&row.id)
    .bind(&row.clinic_id)
    .execute(conn)
    .await
    .context("cancelling a scheduled message")?;
    Ok(done.rows_affected() == 1)
}

/// Takes a due message for sending: one taker wins, and only at the time its job was queued
/// for (a job left from an earlier time finds nothing).
pub(super) async fn take(
    conn: &mut AnyConnection,
    row: &Scheduled,
    send_at: i64,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE scheduled_messages SET state = 'sending', updated_at = $1
         WHERE id = $2 AND clinic_id = $3 AND state = 'scheduled' AND send_at = $4 AND send_at <= $1",
    )
    .bind(now_ms)
    .bind(&row.id)
    .bind(&row.clinic_id)
    .bind(send_at)
    .execute(conn)
    .await
    .context("taking a scheduled message")?;
    Ok(done.rows_affected() == 1)
}

/// What sending came to: `sent` with its message, or `refused` with the code.
pub(super) async fn settle(
    conn: &mut AnyConnection,
    row: &Scheduled,
    state: &str,
    message_id: Option<&str>,
    refusal_code: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE scheduled_messages SET state = $1, message_id = $2, refusal_code = $3, updated_at = $4
         WHERE id = $5 AND clinic_id = $6",
    )
    .bind(state)
    .bind(message_id)
    .bind(refusal_code)
    .bind(now_ms)
    .bind(&row.id)
    .bind(&row.clinic_id)
    .execute(conn)
    .await
    .context("recording what a scheduled message came to")?;
    Ok(())
}
