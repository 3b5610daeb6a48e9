//! Changing a conversation's state and priority. Every statement names the clinic, and says
//! whether it changed a row, so a handler answers success only when it did.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ClinicId, ConversationId, ConversationStatus, Priority};

/// Sets the state. `snoozed_until` is kept only for `Snoozed` (required then); resolving
/// records `resolved_at` (and ends the patient's wait); reopening a resolved one restarts its
/// resolution clock (`opened_at`). Returns whether the conversation is the clinic's.
pub async fn set_status(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ConversationId,
    status: ConversationStatus,
    snoozed_until: Option<i64>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let until = match status {
        ConversationStatus::Snoozed => Some(snoozed_until.context("a snooze needs its time")?),
        _ => None,
    };
    let resolved = i64::from(status == ConversationStatus::Resolved);
    let done = sqlx::query(
        // The SLA clocks: resolving ends the patient's wait; reopening a resolved
        // conversation by hand starts its resolution clock again.
        "UPDATE conversations SET status = $1, snoozed_until = $2,
            resolved_at = CASE WHEN $3 = 1 THEN $4 ELSE resolved_at END,
            waiting_since = CASE WHEN $3 = 1 THEN NULL ELSE waiting_since END,
            opened_at = CASE WHEN $1 = 'open' AND status = 'resolved' THEN $4 ELSE opened_at END
         WHERE id = $5 AND clinic_id = $6",
    )
    .bind(status.as_str())
    .bind(until)
    .bind(resolved)
    .bind(now_ms)
    .bind(id.as_str())
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("changing the conversation's state")?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_priority(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ConversationId,
    priority: Priority,
) -> anyhow::Result<bool> {
    let done =
        sqlx::query("UPDATE conversations SET priority = $1 WHERE id = $2 AND clinic_id = $3")
            .bind(priority.as_i64())
            .bind(id.as_str())
            .bind(clinic.as_str())
            .execute(conn)
            .await
            .context("changing the conversation's priority")?;
    Ok(done.rows_affected() == 1)
}

/// A conversation woken by `wake_due`.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct Woken {
    pub clinic_id: String,
    pub id: String,
}

/// Opens every snoozed conversation whose time has come (queries already count them as open;
/// this makes the row say so and tells open pages).
pub async fn wake_due(conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<Vec<Woken>> {
    sqlx::query_as(
        "UPDATE conversations SET status = 'open', snoozed_until = NULL
         WHERE status = 'snoozed' AND snoozed_until <= $1
         RETURNING clinic_id, id",
    )
    .bind(now_ms)
    .fetch_all(conn)
    .await
    .context("waking snoozed conversations")
}

/// A system line saying who changed the state (`payload` is its event; words are chosen when it
/// is shown). It does not move the conversation: no new preview, time or unread count.
pub async fn insert_line(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ConversationId,
    staff_id: Option<&str>,
    payload: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO messages (id, clinic_id, conversation_id, channel_id, direction, kind, body, payload, author_kind, author_staff_id, status, created_at)
         SELECT $1, clinic_id, id, channel_id, 'system', 'system', NULL, $2, 'system', $3, 'received', $4
         FROM conversations WHERE id = $5 AND clinic_id = $6",
    )
    .bind(new_id())
    .bind(payload)
    .bind(staff_id)
    .bind(now_ms)
    .bind(id.as_str())
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("recording the state change in the conversation")?;
    Ok(())
}
