//! Messages of a conversation: inserting one (and moving its conversation), reading them,
//! and what providers later say about them (unsent, delivery).
use std::sync::LazyLock;

use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ChannelId, ClinicId, ConversationId, MessageId};

use super::Message;
use crate::batch::{Batch, Ref};

const MSG_COLS: &str = "id, clinic_id, conversation_id, channel_id, direction, kind, body, payload, sender_identity_id, author_kind, author_staff_id, provider_message_id, status, failure_code, failure_reason, unsent_at, created_at, sent_at";

pub struct NewMessage<'a> {
    pub clinic_id: &'a ClinicId,
    pub conversation_id: &'a ConversationId,
    pub channel_id: &'a ChannelId,
    pub direction: &'a str,
    pub kind: &'a str,
    pub body: Option<&'a str>,
    pub payload: &'a str,
    pub sender_identity_id: Option<&'a str>,
    pub author_kind: &'a str,
    pub author_staff_id: Option<&'a str>,
    pub provider_message_id: Option<&'a str>,
    pub status: &'a str,
    /// When the provider says it happened (inbound) or now (outbound).
    pub at_ms: i64,
}

/// Inserts a message and moves the conversation's clock, preview and unread count.
pub async fn insert_message(
    conn: &mut AnyConnection,
    m: NewMessage<'_>,
) -> anyhow::Result<MessageId> {
    let mut b = Batch::new(conn);
    let id = push_message(&mut b, &m);
    b.run(conn).await?;
    Ok(id)
}

/// A system line that leaves the conversation where it is in the list (an assignment): no
/// preview, unread count or order changes, unlike `insert_message`.
pub async fn insert_quiet_line(
    conn: &mut AnyConnection,
    m: NewMessage<'_>,
) -> anyhow::Result<MessageId> {
    let mut b = Batch::new(conn);
    let id = push_row(&mut b, &m);
    b.run(conn).await?;
    Ok(MessageId::from_db(id))
}

/// `insert_message` as statements of `b`, sent with the caller's other writes in one call
/// (one trip to SQLite's connection thread, which costs more than the statements).
pub fn push_message(b: &mut Batch, m: &NewMessage<'_>) -> MessageId {
    let id = push_row(b, m);
    let conversation = Ref::Id(m.conversation_id.as_str().to_owned());
    let by = match (m.direction, m.author_kind) {
        ("in", _) => By::Patient,
        (_, "staff") => By::Staff,
        (_, "automation") => By::Automation,
        _ => By::Other,
    };
    touch(b, &conversation, m.body, m.kind, by, m.at_ms);
    MessageId::from_db(id)
}

fn push_row(b: &mut Batch, m: &NewMessage<'_>) -> String {
    let id = new_id();
    b.arg(id.clone());
    b.arg(m.clinic_id.as_str().to_owned());
    b.arg(m.conversation_id.as_str().to_owned());
    b.arg(m.channel_id.as_str().to_owned());
    b.arg(m.direction.to_owned());
    b.arg(m.kind.to_owned());
    b.arg(m.body.map(str::to_owned));
    b.arg(m.payload.to_owned());
    b.arg(m.sender_identity_id.map(str::to_owned));
    b.arg(m.author_kind.to_owned());
    b.arg(m.author_staff_id.map(str::to_owned));
    b.arg(m.provider_message_id.map(str::to_owned));
    b.arg(m.status.to_owned());
    b.arg(m.at_ms);
    b.push(&INSERT, "storing the message");
    if let Some(text) = crate::search::indexed_text(m.kind, m.body) {
        crate::search::push_message(b, m.clinic_id.as_str(), &id, text);
    }
    id
}

// After `status`: failure_code, failure_reason, unsent_at, created_at, sent_at.
static INSERT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO messages ({MSG_COLS})
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, NULL, $14, NULL)"
    )
});

/// A message from a provider, queued before its thread's conversation and its sender's
/// identity are known to exist (ingest sends it with the raw event, in one call).
pub struct Inbound<'a> {
    pub id: &'a MessageId,
    /// The raw event it came in, stored by the same transaction: a redelivery stores nothing.
    pub event_id: &'a str,
    pub clinic_id: &'a ClinicId,
    pub channel_id: &'a ChannelId,
    pub thread_key: &'a str,
    /// The sender's provider id, whose identity must exist (`None`: no sender recorded).
    pub sender: Option<&'a str>,
    pub direction: &'a str,
    pub kind: &'a str,
    pub body: Option<&'a str>,
    pub payload: &'a str,
    pub author_kind: &'a str,
    pub provider_message_id: Option<&'a str>,
    pub status: &'a str,
    pub at_ms: i64,
}

/// Message `id` (queued with it), which must exist for a statement to apply.
pub fn message_ref(id: &MessageId) -> Ref {
    Ref::ByRow(
        "SELECT id FROM messages WHERE id = {}",
        id.as_str().to_owned(),
    )
}

/// A statement's way to the conversation of message `id` (queued with it).
pub fn conversation_of(id: &MessageId) -> Ref {
    Ref::ByRow(
        "SELECT conversation_id FROM messages WHERE id = {}",
        id.as_str().to_owned(),
    )
}

/// A statement's way to the sender's identity of message `id` (queued with it).
pub fn sender_of(id: &MessageId) -> Ref {
    Ref::ByRow(
        "SELECT sender_identity_id FROM messages WHERE id = {}",
        id.as_str().to_owned(),
    )
}

/// A statement's way to the patient of the sender of message `id` (queued with it).
pub fn patient_of_sender(id: &MessageId) -> Ref {
    Ref::ByRow(
        "SELECT i.patient_id FROM channel_identities i JOIN messages m ON m.sender_identity_id = i.id WHERE m.id = {}",
        id.as_str().to_owned(),
    )
}

/// Queues `m` and its conversation's update, inserted only if, when the statements run, its
/// raw event was stored by this transaction and the thread's conversation (and the sender's
/// identity) exist (`store::arrival::push_end` then reads its conversation). Statements queued after it that name
/// the message (`conversation_of`, `sender_of`) change nothing when it was not inserted.
pub fn push_inbound(b: &mut Batch, m: &Inbound<'_>) {
    b.arg(m.id.as_str().to_owned());
    b.arg(m.clinic_id.as_str().to_owned());
    b.arg(m.channel_id.as_str().to_owned());
    b.arg(m.direction.to_owned());
    b.arg(m.kind.to_owned());
    b.arg(m.body.map(str::to_owned));
    b.arg(m.payload.to_owned());
    b.arg(m.author_kind.to_owned());
    b.arg(m.provider_message_id.map(str::to_owned));
    b.arg(m.status.to_owned());
    b.arg(m.at_ms);
    b.arg(m.thread_key.to_owned());
    b.arg(m.event_id.to_owned());
    match m.sender {
        Some(from) => {
            b.arg(from.to_owned());
            b.push(&INBOUND_FROM, "storing the message");
        }
        None => b.push(&INBOUND, "storing the message"),
    }
    if let Some(text) = crate::search::indexed_text(m.kind, m.body) {
        crate::search::push_message(b, m.clinic_id.as_str(), m.id.as_str(), text);
    }
    let by = if m.direction == "in" {
        By::Patient
    } else {
        By::Other
    };
    touch(b, &conversation_of(m.id), m.body, m.kind, by, m.at_ms);
}

/// `push_inbound`'s insert with the sender's identity: `$14` is their provider id.
static INBOUND_FROM: LazyLock<String> = LazyLock::new(|| {
    inbound_sql(
        "i.id",
        "JOIN channel_identities i ON i.channel_id = c.channel_id AND i.external_id = $14",
    )
});
static INBOUND: LazyLock<String> = LazyLock::new(|| inbound_sql("NULL", ""));

fn inbound_sql(sender: &str, join: &str) -> String {
    format!(
        "INSERT INTO messages ({MSG_COLS})
         SELECT $1, $2, c.id, $3, $4, $5, $6, $7, {sender}, $8, NULL, $9, $10, NULL, NULL, NULL, $11, NULL
         FROM conversations c {join}
         WHERE c.channel_id = $3 AND c.thread_key = $12
           AND EXISTS (SELECT 1 FROM webhook_events WHERE id = $13)"
    )
}

/// Who wrote a message, as far as the conversation's state cares.
#[derive(Clone, Copy, PartialEq, Eq)]
enum By {
    /// The patient: reopens a pending, snoozed or resolved conversation.
    Patient,
    /// A person at the clinic: an open conversation is answered and waits on the patient.
    Staff,
    /// An automated answer (keyword rule, away message, greeting): the list keeps showing what
    /// the patient wrote, which is what staff need to see at a glance.
    Automation,
    Other,
}

/// The conversation follows a new message: last message time and preview, unread count and
/// state, in the one statement ingest already sends (no statement of its own for the state).
/// The same statement keeps the SLA clocks' starts (`inbox::sla`): a patient's message starts
/// the wait for a reply (`waiting_since`) unless one is already running, and a staff message
/// ends it; a patient's message that opens a new or resolved conversation starts the
/// resolution clock (`opened_at`). Every staff sender (replies, templates, media, scheduled
/// sends) comes through here with `By::Staff`; an API or automation message does not end the
/// wait, as it does not make the conversation pending.
fn touch(b: &mut Batch, conversation: &Ref, body: Option<&str>, kind: &str, by: By, at_ms: i64) {
    b.arg(at_ms);
    // A system line's body is an event code or a provider's English: the list shows its kind.
    match body.filter(|_| !matches!(kind, "event" | "system")) {
        _ if by == By::Automation => b.arg(None::<String>),
        Some(body) => b.arg(Some(body.chars().take(80).collect::<String>())),
        None => b.arg(Some(kind_preview(kind).to_owned())),
    }
    b.arg(i64::from(by == By::Patient));
    b.arg(i64::from(by == By::Staff));
    b.push_ref(
        "UPDATE conversations SET
            last_message_at = CASE WHEN last_message_at > $1 THEN last_message_at ELSE $1 END,
            last_message_preview = COALESCE($2, last_message_preview),
            unread_count = unread_count + $3,
            last_inbound_at = CASE WHEN $3 = 1 THEN $1 ELSE last_inbound_at END,
            status = CASE WHEN $3 = 1 THEN 'open'
                          WHEN $4 = 1 AND status = 'open' THEN 'pending'
                          ELSE status END,
            snoozed_until = CASE WHEN $3 = 1 THEN NULL ELSE snoozed_until END,
            waiting_since = CASE
                WHEN $3 = 1 THEN CASE WHEN status IN ('open', 'snoozed') AND waiting_since IS NOT NULL
                                      THEN waiting_since ELSE $1 END
                WHEN $4 = 1 THEN NULL
                ELSE waiting_since END,
            opened_at = CASE WHEN $3 = 1 AND (opened_at IS NULL OR status = 'resolved')
                             THEN $1 ELSE opened_at END
         WHERE id = {ref}",
        conversation,
        "updating the conversation after a message",
    );
}

fn kind_preview(kind: &str) -> &'static str {
    match kind {
        "image" => "[image]",
        "video" => "[video]",
        "audio" => "[audio]",
        "file" => "[file]",
        "location" => "[location]",
        "sticker" => "[sticker]",
        "postback" => "[postback]",
        "event" | "system" => "[system]",
        _ => "[message]",
    }
}

pub async fn message_by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &MessageId,
) -> anyhow::Result<Option<Message>> {
    sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id.as_str())
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the message")
}

/// The patient's newest message in the conversation (not an event line): marking it read with
/// the provider marks every earlier one too.
pub async fn newest_from_patient(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
) -> anyhow::Result<Option<Message>> {
    sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE conversation_id = $1 AND clinic_id = $2
           AND direction = 'in' AND author_kind = 'patient'
         ORDER BY created_at DESC, id DESC LIMIT 1"
    ))
    .bind(conversation.as_str())
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the patient's newest message")
}

/// Oldest first; the cursor is the last row's `(created_at, id)`.
pub async fn messages(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    cursor: Option<(i64, &str)>,
    limit: i64,
) -> anyhow::Result<Vec<Message>> {
    let (cur_at, cur_id) = cursor.unwrap_or((i64::MIN, ""));
    sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE conversation_id = $1 AND clinic_id = $2
           AND ($3 = 0 OR created_at > $4 OR (created_at = $4 AND id > $5))
         ORDER BY created_at, id LIMIT $6"
    ))
    .bind(conversation.as_str())
    .bind(clinic.as_str())
    .bind(cursor.is_some() as i64)
    .bind(cur_at)
    .bind(cur_id)
    .bind(limit)
    .fetch_all(conn)
    .await
    .context("listing the conversation's messages")
}

/// The patient unsent a message: the body goes, a tombstone stays.
pub async fn mark_unsent(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    provider_message_id: &str,
    at_ms: i64,
) -> anyhow::Result<bool> {
    let r = sqlx::query(
        "UPDATE messages SET body = NULL, payload = '{}', unsent_at = $1
         WHERE channel_id = $2 AND provider_message_id = $3 AND direction = 'in'",
    )
    .bind(at_ms)
    .bind(channel.as_str())
    .bind(provider_message_id)
    .execute(&mut *conn)
    .await
    .context("hiding an unsent message")?;
    let unsent: Vec<String> = sqlx::query_scalar(
        "SELECT id FROM messages WHERE channel_id = $1 AND provider_message_id = $2 AND direction = 'in'",
    )
    .bind(channel.as_str())
    .bind(provider_message_id)
    .fetch_all(&mut *conn)
    .await
    .context("finding an unsent message")?;
    sqlx::query("DELETE FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE channel_id = $1 AND provider_message_id = $2 AND direction = 'in')")
        .bind(channel.as_str())
        .bind(provider_message_id)
        .execute(&mut *conn)
        .await
        .context("removing an unsent message's attachments")?;
    crate::search::forget(&mut *conn, crate::search::MESSAGE, &unsent).await?;
    // The raw event kept for audit/redelivery would otherwise still hold the text. Event bodies
    // are compact JSON written by us, so the message object contains exactly `"id":"<id>"`.
    let pattern = format!(
        "%\"id\":\"{}\"%",
        provider_message_id.replace(['%', '_', '\\'], "")
    );
    sqlx::query(
        "UPDATE webhook_events SET body = NULL WHERE channel_id = $1 AND event_type = 'message' AND body LIKE $2",
    )
    .bind(channel.as_str())
    .bind(pattern)
    .execute(conn)
    .await
    .context("removing an unsent message from its raw webhook event")?;
    Ok(r.rows_affected() > 0)
}

pub struct Delivery<'a> {
    pub status: &'a str,
    pub provider_message_id: Option<&'a str>,
    pub failure_code: Option<&'a str>,
    pub failure_reason: Option<&'a str>,
    pub sent_at: Option<i64>,
}

/// Records what the provider said about an outbound message.
pub async fn set_delivery(
    conn: &mut AnyConnection,
    id: &MessageId,
    d: Delivery<'_>,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE messages SET status = $1, provider_message_id = COALESCE($2, provider_message_id),
            failure_code = $3, failure_reason = $4, sent_at = COALESCE($5, sent_at)
         WHERE id = $6",
    )
    .bind(d.status)
    .bind(d.provider_message_id)
    .bind(d.failure_code)
    .bind(d.failure_reason)
    .bind(d.sent_at)
    .bind(id.as_str())
    .execute(conn)
    .await
    .context("recording the message's delivery status")?;
    Ok(())
}
