//! Conversations (one per channel thread) and their messages.
use std::sync::LazyLock;

use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ChannelId, ClinicId, ConversationId};

use crate::batch::{Batch, Ref};

pub mod filter;
mod messages;
pub mod state;
pub use messages::{
    conversation_of, insert_message, insert_quiet_line, mark_unsent, message_by_id, message_ref,
    messages, newest_from_patient, patient_of_sender, push_inbound, push_message, sender_of,
    set_delivery, Delivery, Inbound, NewMessage,
};

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct Conversation {
    pub id: String,
    pub clinic_id: String,
    pub channel_id: String,
    pub kind: String,
    pub thread_key: String,
    pub patient_id: Option<String>,
    pub channel_identity_id: Option<String>,
    pub title: Option<String>,
    pub status: String,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    pub priority: i64,
    pub unread_count: i64,
    pub last_message_at: i64,
    pub last_inbound_at: Option<i64>,
    pub last_message_preview: Option<String>,
    pub created_at: i64,
    /// The clinic-side address (WhatsApp phone number id, page id, SMS number) replies leave from.
    pub via: Option<String>,
    /// When a snoozed conversation wakes (status `snoozed` only).
    pub snoozed_until: Option<i64>,
    /// When it was last resolved.
    pub resolved_at: Option<i64>,
    /// Since when the patient waits for a staff reply (the first-response clock).
    pub waiting_since: Option<i64>,
    /// When the patient's message opened it (the resolution clock).
    pub opened_at: Option<i64>,
    /// The latest assessed patient text's sentiment: 1 negative, 0 neutral, -1 positive
    /// (`safety`; the 不満の強い順 sort).
    pub dissatisfaction: i64,
}

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct Message {
    pub id: String,
    pub clinic_id: String,
    pub conversation_id: String,
    pub channel_id: String,
    pub direction: String,
    pub kind: String,
    pub body: Option<String>,
    pub payload: String,
    pub sender_identity_id: Option<String>,
    pub author_kind: String,
    pub author_staff_id: Option<String>,
    pub provider_message_id: Option<String>,
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
    pub unsent_at: Option<i64>,
    pub created_at: i64,
    pub sent_at: Option<i64>,
}

/// The columns `Conversation` reads (export and erasure read them too).
pub const CONV_COLS: &str = "id, clinic_id, channel_id, kind, thread_key, patient_id, channel_identity_id, title, status, assignee_id, team_id, priority, unread_count, last_message_at, last_inbound_at, last_message_preview, created_at, via, snoozed_until, resolved_at, waiting_since, opened_at, dissatisfaction";

pub struct NewConversation<'a> {
    pub clinic_id: &'a ClinicId,
    pub channel_id: &'a ChannelId,
    /// direct | group | room
    pub kind: &'a str,
    pub thread_key: &'a str,
    pub patient_id: Option<&'a str>,
    pub channel_identity_id: Option<&'a str>,
    pub title: Option<&'a str>,
}

/// The conversation of a channel thread, created on first contact.
pub async fn find_or_create(
    conn: &mut AnyConnection,
    c: NewConversation<'_>,
    now_ms: i64,
) -> anyhow::Result<Conversation> {
    // Found first: a returning patient's thread costs one statement.
    if let Some(found) = by_thread(&mut *conn, c.channel_id, c.thread_key).await? {
        return Ok(found);
    }
    create(conn, c, now_ms).await
}

/// The conversation of a channel thread that had none when last read (ingest read it with the
/// event): created, or (PostgreSQL) the one a concurrent first contact committed meanwhile.
/// One call on SQLite.
pub async fn create(
    conn: &mut AnyConnection,
    c: NewConversation<'_>,
    now_ms: i64,
) -> anyhow::Result<Conversation> {
    let mut b = Batch::new(conn);
    b.arg(new_id());
    b.arg(c.clinic_id.as_str().to_owned());
    b.arg(c.channel_id.as_str().to_owned());
    b.arg(c.kind.to_owned());
    b.arg(c.thread_key.to_owned());
    b.arg(c.patient_id.map(str::to_owned));
    b.arg(c.channel_identity_id.map(str::to_owned));
    b.arg(c.title.map(str::to_owned));
    b.arg(now_ms);
    b.push(
        "INSERT INTO conversations (id, clinic_id, channel_id, kind, thread_key, patient_id, channel_identity_id, title, status, last_message_at, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'open', $9, $9)
         ON CONFLICT (channel_id, thread_key) DO NOTHING",
        "creating the conversation",
    );
    b.arg(c.channel_id.as_str().to_owned());
    b.arg(c.thread_key.to_owned());
    b.push(&BY_THREAD, "reading the new conversation");
    let rows = b.run(conn).await?;
    let row = rows.first().context("reading the new conversation")?;
    Conversation::from_row(row).context("reading the new conversation")
}

static BY_THREAD: LazyLock<String> = LazyLock::new(|| {
    format!("SELECT {CONV_COLS} FROM conversations WHERE channel_id = $1 AND thread_key = $2")
});

/// The conversation of a channel thread, if it has one.
pub(crate) async fn by_thread(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    thread_key: &str,
) -> anyhow::Result<Option<Conversation>> {
    sqlx::query_as(&format!(
        "SELECT {CONV_COLS} FROM conversations WHERE channel_id = $1 AND thread_key = $2"
    ))
    .bind(channel.as_str())
    .bind(thread_key)
    .fetch_optional(conn)
    .await
    .context("reading the conversation")
}

/// The id of a channel thread's conversation, if the thread has one.
pub async fn id_by_thread(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    thread_key: &str,
) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar("SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2")
        .bind(channel.as_str())
        .bind(thread_key)
        .fetch_optional(conn)
        .await
        .context("finding a thread's conversation")
}

pub async fn by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ConversationId,
) -> anyhow::Result<Option<Conversation>> {
    sqlx::query_as(&format!(
        "SELECT {CONV_COLS} FROM conversations WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id.as_str())
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the conversation")
}

/// The patient's one-to-one conversation that moved last (what an event about the patient,
/// not about a conversation, is recorded on).
pub async fn latest_direct_of_patient(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &str,
) -> anyhow::Result<Option<Conversation>> {
    sqlx::query_as(&format!(
        "SELECT {CONV_COLS} FROM conversations WHERE clinic_id = $1 AND patient_id = $2 AND kind = 'direct'
         ORDER BY last_message_at DESC, created_at DESC LIMIT 1"
    ))
    .bind(clinic.as_str())
    .bind(patient)
    .fetch_optional(conn)
    .await
    .context("finding the patient's latest conversation")
}

pub async fn mark_read(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ConversationId,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE conversations SET unread_count = 0 WHERE id = $1 AND clinic_id = $2")
        .bind(id.as_str())
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("marking the conversation read")?;
    Ok(())
}

pub async fn assign(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ConversationId,
    staff_id: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE conversations SET assignee_id = $1 WHERE id = $2 AND clinic_id = $3")
        .bind(staff_id)
        .bind(id.as_str())
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("assigning the conversation")?;
    Ok(())
}

// Attachments live in their own module; re-exported here where callers expect them.
pub use crate::attachments::{
    attachment, attachment_ids, insert_attachment, Attachment, NewAttachment,
};

/// The clinic-side address the patient last wrote to: replies leave from it.
pub async fn set_via(conn: &mut AnyConnection, id: &str, via: &str) -> anyhow::Result<()> {
    let mut b = Batch::new(conn);
    push_set_via(&mut b, &Ref::Id(id.to_owned()), via);
    b.run(conn).await?;
    Ok(())
}

/// `set_via` as a statement of `b` (written only when it changes).
pub fn push_set_via(b: &mut Batch, conversation: &Ref, via: &str) {
    b.arg(via.to_owned());
    b.push_ref(
        "UPDATE conversations SET via = $1 WHERE id = {ref} AND (via IS NULL OR via <> $1)",
        conversation,
        "recording the conversation's clinic-side address",
    );
}

pub use crate::edits::edit_inbound;
