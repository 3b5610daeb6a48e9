//! The emergency guidance's once-an-hour rule. The claim is one conditional upsert, made in the
//! transaction that queues the send: two messages arriving together send one guidance (the
//! second waits on the first's row and finds it fresh), and a retried dispatch job finds its
//! own claim and sends nothing more.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;

use crate::settings::Settings;

/// At most one guidance per conversation in this long.
pub const EVERY_MS: i64 = 60 * 60 * 1000;

/// Claims the guidance for `conversation_id` now; `false` when one went within the hour.
pub async fn claim(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    message_id: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO triage_guidance (conversation_id, clinic_id, message_id, sent_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (conversation_id) DO UPDATE SET message_id = excluded.message_id,
           sent_at = excluded.sent_at
         WHERE triage_guidance.sent_at <= $5",
    )
    .bind(conversation_id)
    .bind(clinic.as_str())
    .bind(message_id)
    .bind(now_ms)
    .bind(now_ms - EVERY_MS)
    .execute(conn)
    .await
    .context("claiming the emergency guidance")?;
    Ok(done.rows_affected() == 1)
}

/// The text for a hit (before its `{{variables}}` are filled in): the crisis lines for a
/// crisis hit, else the guidance.
pub fn text(settings: &Settings, crisis: bool) -> &str {
    if crisis {
        &settings.crisis_text
    } else {
        &settings.guidance_text
    }
}
