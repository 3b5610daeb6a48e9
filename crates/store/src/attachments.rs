//! Media of messages (images, files, audio, video), stored in the database so every instance
//! sharing it can serve them.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, MessageId};

pub struct NewAttachment<'a> {
    pub clinic_id: &'a ClinicId,
    pub message_id: &'a MessageId,
    pub content_type: &'a str,
    pub data: &'a [u8],
    pub sha256_hex: &'a str,
}

pub async fn insert_attachment(
    conn: &mut AnyConnection,
    a: NewAttachment<'_>,
    now_ms: i64,
) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO attachments (id, clinic_id, message_id, content_type, size_bytes, sha256, data, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(a.clinic_id.as_str())
    .bind(a.message_id.as_str())
    .bind(a.content_type)
    .bind(a.data.len() as i64)
    .bind(a.sha256_hex)
    .bind(a.data.to_vec())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("storing the attachment")?;
    Ok(id)
}

#[derive(Clone, Debug, FromRow)]
pub struct Attachment {
    pub id: String,
    pub message_id: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub data: Vec<u8>,
}

pub async fn attachment(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Attachment>> {
    sqlx::query_as("SELECT id, message_id, content_type, size_bytes, data FROM attachments WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .fetch_optional(conn)
        .await
        .context("reading the attachment")
}

/// Attachment ids of a message (without the bytes).
pub async fn attachment_ids(
    conn: &mut AnyConnection,
    message: &str,
) -> anyhow::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT id, content_type FROM attachments WHERE message_id = $1 ORDER BY id")
        .bind(message)
        .fetch_all(conn)
        .await
        .context("listing the message's attachments")
}

/// `(id, message_id, content_type)` of the attachments of several messages of a clinic, in one
/// query (a page of messages).
pub async fn attachments_of_messages(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    messages: &[&str],
) -> anyhow::Result<Vec<(String, String, String)>> {
    if messages.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..messages.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT id, message_id, content_type FROM attachments WHERE clinic_id = $1 AND message_id IN ({}) ORDER BY id",
        marks.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String, String, String)>(&sql).bind(clinic.as_str());
    for m in messages {
        q = q.bind(*m);
    }
    q.fetch_all(conn)
        .await
        .context("listing the attachments of a page of messages")
}
