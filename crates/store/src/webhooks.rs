//! Raw provider events, stored before anything is acted on.
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ChannelId, ClinicId};

#[derive(Clone, Copy)]
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
pub async fn insert_once(
    conn: &mut AnyConnection,
    e: NewEvent<'_>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    insert_once_from(conn, e, None, now_ms).await
}

/// As `insert_once`, recording who sent it as `sender_ref` so erasure finds a patient's raw
/// events without the provider user id kept in clear.
pub async fn insert_once_from(
    conn: &mut AnyConnection,
    e: NewEvent<'_>,
    sender_user_id: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let sender = sender_user_id.map(|u| sender_ref(e.channel_id, u));
    let r = event_binds(sqlx::query(INSERT_ONCE), &e, sender, now_ms)
        .execute(conn)
        .await
        .context("storing the webhook event")?;
    Ok(r.rows_affected() == 1)
}

/// `$1` … `$9` of `INSERT_ONCE` (`$3` is the channel).
pub(crate) const INSERT_ONCE: &str = "INSERT INTO webhook_events (id, clinic_id, channel_id, provider_event_id, event_type, mode, body, state, received_at, sender_ref)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'processed', $8, $9)
         ON CONFLICT (channel_id, provider_event_id) DO NOTHING";

pub(crate) type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

pub(crate) fn event_binds<'q>(
    q: AnyQuery<'q>,
    e: &NewEvent<'q>,
    sender_ref: Option<String>,
    now_ms: i64,
) -> AnyQuery<'q> {
    q.bind(new_id())
        .bind(e.clinic_id.as_str())
        .bind(e.channel_id.as_str())
        .bind(e.provider_event_id)
        .bind(e.event_type)
        .bind(e.mode)
        .bind(e.body)
        .bind(now_ms)
        .bind(sender_ref)
}

/// hex SHA-256 of `<channel id>:<provider user id>`: the key of a sender's raw events.
pub fn sender_ref(channel: &ChannelId, user_id: &str) -> String {
    hex::encode(Sha256::digest(
        format!("{}:{user_id}", channel.as_str()).as_bytes(),
    ))
}

pub async fn count_for_channel(
    conn: &mut AnyConnection,
    channel: &ChannelId,
) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE channel_id = $1")
        .bind(channel.as_str())
        .fetch_one(conn)
        .await
        .context("counting webhook events")
}

/// Marks a stored event for the administrator (`unrouted`: for an id the channel does not serve).
pub async fn flag(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    provider_event_id: &str,
    state: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE webhook_events SET state = $1 WHERE channel_id = $2 AND provider_event_id = $3",
    )
    .bind(state)
    .bind(channel.as_str())
    .bind(provider_event_id)
    .execute(conn)
    .await
    .context("flagging a webhook event")?;
    Ok(())
}

/// How many of a channel's events are flagged `state` (shown on the channel's settings page).
pub async fn count_flagged(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    state: &str,
) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events WHERE channel_id = $1 AND state = $2")
        .bind(channel.as_str())
        .bind(state)
        .fetch_one(conn)
        .await
        .context("counting flagged webhook events")
}
