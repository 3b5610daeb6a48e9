//! Raw provider events, stored before anything is acted on.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ChannelId, ClinicId};

pub struct NewEvent<'a> {
    pub clinic_id: &'a ClinicId,
    pub channel_id: &'a ChannelId,
    pub provider_event_id: &'a str,
    pub event_type: &'a str,
    pub mode: Option<&'a str>,
    pub body: &'a str,
}

/// Inserts the event unless the provider already delivered it. `false` means a redelivery:
/// the caller stores nothing else and still answers 200.
pub async fn insert_once(conn: &mut AnyConnection, e: NewEvent<'_>, now_ms: i64) -> anyhow::Result<bool> {
    let r = sqlx::query(
        "INSERT INTO webhook_events (id, clinic_id, channel_id, provider_event_id, event_type, mode, body, state, received_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'processed', $8)
         ON CONFLICT (channel_id, provider_event_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(e.clinic_id.as_str())
    .bind(e.channel_id.as_str())
    .bind(e.provider_event_id)
    .bind(e.event_type)
    .bind(e.mode)
    .bind(e.body)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("storing the webhook event")?;
    Ok(r.rows_affected() == 1)
}

pub async fn count_for_channel(conn: &mut AnyConnection, channel: &ChannelId) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE channel_id = $1")
        .bind(channel.as_str())
        .fetch_one(conn)
        .await
        .context("counting webhook events")
}
