//! A provider event's arrival: the raw event stored once (the dedupe key decides), and with it
//! the sender's identity and the thread's conversation as they stand, which ingest reads next.
//! The statements are queued (`push`) in the caller's batch, so what ingest writes when both
//! exist (a returning patient's message) goes in the same call: on SQLite one trip to the
//! connection thread, which costs more than the statements.
use std::sync::LazyLock;

use anyhow::Context;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, FromRow, Row};
use tsunagu_core::MessageId;

use crate::batch::{row_with, Batch};
use crate::conversations::{Conversation, CONV_COLS};
use crate::patients::{Identity, IDENTITY_COLS};
use crate::webhooks::{self, NewEvent};

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
    /// The sender's identity on this channel, if any, as it stood before anything queued after
    /// the arrival ran.
    pub identity: Option<Identity>,
    /// The thread's conversation, if any (as `identity`).
    pub conversation: Option<Conversation>,
    /// The conversation of the message queued with the arrival, if it was inserted.
    pub message_stored_in: Option<String>,
}

/// Stores the raw event unless already delivered (as `webhooks::insert_once_from`) and reads
/// what `lookup` names, as it stands after the insert: one call.
pub async fn arrive(
    conn: &mut AnyConnection,
    e: NewEvent<'_>,
    sender_user_id: Option<&str>,
    lookup: Lookup<'_>,
    now_ms: i64,
) -> anyhow::Result<Arrival> {
    let mut b = Batch::new(conn);
    let id = tsunagu_core::new_id();
    push(&mut b, &e, &id, sender_user_id, lookup, now_ms);
    push_end(&mut b, &id, None);
    read(&b.run(conn).await?)
}

/// `arrive` as statements of `b`, the event stored with id `event_id` (statements queued after
/// them may require it: a redelivery stores nothing). The caller ends the arrival with
/// `push_end`, after what it queued with it.
pub fn push(
    b: &mut Batch,
    e: &NewEvent<'_>,
    event_id: &str,
    sender_user_id: Option<&str>,
    lookup: Lookup<'_>,
    now_ms: i64,
) {
    webhooks::push_insert(b, e, event_id, sender_user_id, now_ms);
    if let Some(external) = lookup.external_id {
        b.arg(e.channel_id.as_str().to_owned());
        b.arg(external.to_owned());
        b.push(&IDENTITY, "reading the sender's identity");
    }
    if let Some(thread) = lookup.thread_key {
        b.arg(e.channel_id.as_str().to_owned());
        b.arg(thread.to_owned());
        b.push(&CONVERSATION, "reading the thread's conversation");
    }
}

/// The last row of an arrival: whether the event `event_id` was stored (`fresh`), and the
/// conversation of `message` if one was queued with it and inserted (`message_stored`). Each
/// arrival of a call ends with this one row, so the call's rows are cut there (`split_after`).
pub fn push_end(b: &mut Batch, event_id: &str, message: Option<&MessageId>) {
    b.arg(event_id.to_owned());
    b.arg(message.map(|m| m.as_str().to_owned()));
    b.push(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM webhook_events WHERE id = $1) THEN 1 ELSE 0 END
                AS arrival_end,
            (SELECT conversation_id FROM messages WHERE id = $2) AS message_stored_in",
        "reading what the arrival stored",
    );
}

static IDENTITY: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {IDENTITY_COLS} FROM channel_identities WHERE channel_id = $1 AND external_id = $2"
    )
});
static CONVERSATION: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {CONV_COLS} FROM conversations WHERE channel_id = $1 AND thread_key = $2")
});

/// An arrival's rows (from `push` to its `push_end`).
pub fn read(rows: &[AnyRow]) -> anyhow::Result<Arrival> {
    let end = row_with(rows, "arrival_end").context("an arrival without its last row")?;
    Ok(Arrival {
        fresh: end.try_get::<i64, _>("arrival_end")? == 1,
        message_stored_in: end.try_get("message_stored_in")?,
        identity: row_with(rows, "external_id")
            .map(Identity::from_row)
            .transpose()
            .context("reading the identity")?,
        conversation: row_with(rows, "thread_key")
            .map(Conversation::from_row)
            .transpose()
            .context("reading the conversation")?,
    })
}
