//! A provider event's arrival: the raw event stored once (the dedupe key decides), and with it
//! the sender's identity and the thread's conversation as they stand, which ingest reads next.
//! On SQLite that is one call (one trip to the connection thread, which costs more than the
//! statements); PostgreSQL runs the statements one by one and looks nothing up for a
//! redelivery.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow, Row};

use crate::conversations::{Conversation, CONV_COLS};
use crate::patients::{Identity, IDENTITY_COLS};
use crate::webhooks::{self, event_binds, sender_ref, NewEvent, INSERT_ONCE};

/// Whom to look up with the event: the sender's provider id and the conversation's thread key
/// (the same for a one-to-one chat; the group or room for LINE groups).
#[derive(Clone, Copy, Default)]
pub struct Lookup<'a> {
    pub external_id: Option<&'a str>,
    pub thread_key: Option<&'a str>,
}

pub struct Arrival {
    /// `false`: a redelivery; the caller stores nothing else (and still answers 200).
    pub fresh: bool,
    /// The sender's identity on this channel, if any (`None` for a redelivery on PostgreSQL).
    pub identity: Option<Identity>,
    /// The thread's conversation, if any (`None` for a redelivery on PostgreSQL).
    pub conversation: Option<Conversation>,
}

/// Stores the raw event unless already delivered (as `webhooks::insert_once_from`) and reads
/// what `lookup` names, as it stands after the insert.
pub async fn arrive(
    conn: &mut AnyConnection,
    e: NewEvent<'_>,
    sender_user_id: Option<&str>,
    lookup: Lookup<'_>,
    now_ms: i64,
) -> anyhow::Result<Arrival> {
    if conn.backend_name() != "SQLite" {
        let fresh = webhooks::insert_once_from(&mut *conn, e, sender_user_id, now_ms).await?;
        let mut arrival = Arrival {
            fresh,
            identity: None,
            conversation: None,
        };
        if fresh {
            if let Some(external) = lookup.external_id {
                arrival.identity =
                    crate::patients::identity(&mut *conn, e.channel_id, external).await?;
            }
            if let Some(thread) = lookup.thread_key {
                arrival.conversation =
                    crate::conversations::by_thread(conn, e.channel_id, thread).await?;
            }
        }
        return Ok(arrival);
    }
    // `changes()` is the INSERT's: 1 stored, 0 a redelivery. Rows tell apart by their columns.
    let mut sql = format!("{INSERT_ONCE};\nSELECT changes() AS fresh_event");
    if lookup.external_id.is_some() {
        sql += &format!(
            ";\nSELECT {IDENTITY_COLS} FROM channel_identities WHERE channel_id = $3 AND external_id = $10"
        );
    }
    if lookup.thread_key.is_some() {
        sql += &format!(
            ";\nSELECT {CONV_COLS} FROM conversations WHERE channel_id = $3 AND thread_key = $11"
        );
    }
    let sender = sender_user_id.map(|u| sender_ref(e.channel_id, u));
    let rows = event_binds(sqlx::query(&sql), &e, sender, now_ms)
        .bind(lookup.external_id)
        .bind(lookup.thread_key)
        .fetch_all(conn)
        .await
        .context("storing the webhook event")?;
    let mut arrival = Arrival {
        fresh: false,
        identity: None,
        conversation: None,
    };
    for row in &rows {
        if row.try_column("fresh_event").is_ok() {
            arrival.fresh = row.try_get::<i64, _>("fresh_event")? == 1;
        } else if row.try_column("external_id").is_ok() {
            arrival.identity = Some(Identity::from_row(row).context("reading the identity")?);
        } else if row.try_column("thread_key").is_ok() {
            arrival.conversation =
                Some(Conversation::from_row(row).context("reading the conversation")?);
        }
    }
    Ok(arrival)
}
