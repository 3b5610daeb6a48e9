//! Messages of a conversation: inserting one (and moving its conversation), reading them,
//! and what providers later say about them (unsent, delivery).
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ChannelId, ClinicId, ConversationId, MessageId};

use super::Message;

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
    let id = new_id();
    let preview: Option<String> = m.body.map(|b| b.chars().take(80).collect());
    let preview = preview.as_deref().unwrap_or(kind_preview(m.kind));
    let inbound = m.direction == "in";
    let insert = format!(
        "INSERT INTO messages ({MSG_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, NULL, NULL, NULL, $14, NULL)"
    );
    if conn.backend_name() == "SQLite" {
        // Both statements in one call: one trip to SQLite's connection thread, which costs more
        // than either statement (arguments are numbered across the whole text).
        let sql = format!("{insert};\n{}", touch_sql("$14", "$15", "$16", "$3"));
        message_binds(sqlx::query(&sql), &id, &m)
            .bind(preview)
            .bind(inbound as i64)
            .execute(&mut *conn)
            .await
            .context("storing the message")?;
        return Ok(MessageId::from_db(id));
    }
    message_binds(sqlx::query(&insert), &id, &m)
        .execute(&mut *conn)
        .await
        .context("storing the message")?;
    sqlx::query(&touch_sql("$1", "$2", "$3", "$4"))
        .bind(m.at_ms)
        .bind(preview)
        .bind(inbound as i64)
        .bind(m.conversation_id.as_str())
        .execute(conn)
        .await
        .context("updating the conversation after a message")?;
    Ok(MessageId::from_db(id))
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// `$1` … `$14` of a message row.
fn message_binds<'q>(q: AnyQuery<'q>, id: &'q str, m: &NewMessage<'q>) -> AnyQuery<'q> {
    q.bind(id)
        .bind(m.clinic_id.as_str())
        .bind(m.conversation_id.as_str())
        .bind(m.channel_id.as_str())
        .bind(m.direction)
        .bind(m.kind)
        .bind(m.body)
        .bind(m.payload)
        .bind(m.sender_identity_id)
        .bind(m.author_kind)
        .bind(m.author_staff_id)
        .bind(m.provider_message_id)
        .bind(m.status)
        .bind(m.at_ms)
}

/// The conversation follows a new message: last message time and preview, unread count and
/// state (an inbound message reopens it). Arguments: time, preview, inbound (0/1), conversation.
fn touch_sql(at: &str, preview: &str, inbound: &str, conversation: &str) -> String {
    format!(
        "UPDATE conversations SET
            last_message_at = CASE WHEN last_message_at > {at} THEN last_message_at ELSE {at} END,
            last_message_preview = COALESCE({preview}, last_message_preview),
            unread_count = unread_count + {inbound},
            last_inbound_at = CASE WHEN {inbound} = 1 THEN {at} ELSE last_inbound_at END,
            status = CASE WHEN {inbound} = 1 THEN 'open' ELSE status END
         WHERE id = {conversation}"
    )
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
    sqlx::query("DELETE FROM attachments WHERE message_id IN (SELECT id FROM messages WHERE channel_id = $1 AND provider_message_id = $2 AND direction = 'in')")
        .bind(channel.as_str())
        .bind(provider_message_id)
        .execute(&mut *conn)
        .await
        .context("removing an unsent message's attachments")?;
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
