//! Raw provider events, stored before anything is acted on.
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ChannelId, ClinicId};

use crate::batch::Batch;

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
    let mut b = Batch::new(conn);
    push_insert_once(&mut b, &e, &new_id(), sender_user_id, now_ms);
    let rows = b.run(conn).await?;
    Ok(stored(&rows))
}

/// `insert_once_from` as a statement of `b`, the row stored with id `id`; `stored` tells from
/// the call's rows whether it was (else: a redelivery).
pub fn push_insert_once(
    b: &mut Batch,
    e: &NewEvent<'_>,
    id: &str,
    sender_user_id: Option<&str>,
    now_ms: i64,
) {
    bind_event(b, e, id, sender_user_id, now_ms);
    b.push_counted(
        INSERT_ONCE,
        None,
        "stored_event",
        "storing the webhook event",
    );
}

/// As `push_insert_once`, saying nothing: whether the row `id` was stored is read later in the
/// same call (`store::arrival`), saving a statement.
pub fn push_insert(
    b: &mut Batch,
    e: &NewEvent<'_>,
    id: &str,
    sender_user_id: Option<&str>,
    now_ms: i64,
) {
    bind_event(b, e, id, sender_user_id, now_ms);
    b.push(INSERT_ONCE, "storing the webhook event");
}

/// `INSERT_ONCE`'s `$1` … `$9`.
fn bind_event(
    b: &mut Batch,
    e: &NewEvent<'_>,
    id: &str,
    sender_user_id: Option<&str>,
    now_ms: i64,
) {
    b.arg(id.to_owned());
    b.arg(e.clinic_id.as_str().to_owned());
    b.arg(e.channel_id.as_str().to_owned());
    b.arg(e.provider_event_id.to_owned());
    b.arg(e.event_type.to_owned());
    b.arg(e.mode.map(str::to_owned));
    b.arg(e.body.to_owned());
    b.arg(now_ms);
    b.arg(sender_user_id.map(|u| sender_ref(e.channel_id, u)));
}

static INSERT_ONCE: &str = "INSERT INTO webhook_events (id, clinic_id, channel_id, provider_event_id, event_type, mode, body, state, received_at, sender_ref)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'processed', $8, $9)
     ON CONFLICT (channel_id, provider_event_id) DO NOTHING";

/// Whether the rows of a call with `push_insert_once` say the event was stored.
pub fn stored(rows: &[sqlx::any::AnyRow]) -> bool {
    crate::batch::changed(rows, "stored_event")
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
