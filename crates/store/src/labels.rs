//! Labels a clinic defines (予約関連, 請求, 要折り返し) and which conversations carry them. Every
//! statement names the clinic; adding one checks the label and the conversation are both its.
use std::collections::HashMap;

use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, ConversationId};

/// The palette the stylesheet knows (`.label-<color>`): a color is one of these words.
pub const COLORS: [&str; 7] = ["red", "orange", "yellow", "green", "blue", "purple", "gray"];

#[derive(Clone, Debug, FromRow, serde::Serialize, PartialEq, Eq)]
pub struct Label {
    pub id: String,
    pub name: String,
    pub color: String,
}

pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Label>> {
    sqlx::query_as("SELECT id, name, color FROM labels WHERE clinic_id = $1 ORDER BY name, id")
        .bind(clinic.as_str())
        .fetch_all(conn)
        .await
        .context("listing the clinic's labels")
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Label>> {
    sqlx::query_as("SELECT id, name, color FROM labels WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .fetch_optional(conn)
        .await
        .context("reading a label")
}

/// A new label; `None` when the clinic already has one by that name.
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    name: &str,
    color: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Label>> {
    let id = new_id();
    let done = sqlx::query(
        "INSERT INTO labels (id, clinic_id, name, color, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (clinic_id, name) DO NOTHING",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(name)
    .bind(color)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating a label")?;
    Ok((done.rows_affected() == 1).then(|| Label {
        id,
        name: name.to_owned(),
        color: color.to_owned(),
    }))
}

/// Removes a label from the clinic and from every conversation carrying it.
pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    sqlx::query("DELETE FROM conversation_labels WHERE label_id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(&mut *conn)
        .await
        .context("taking a label off its conversations")?;
    let done = sqlx::query("DELETE FROM labels WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting a label")?;
    Ok(done.rows_affected() == 1)
}

/// Puts the label on the conversation. `false` when either is not the clinic's or it is
/// already there.
pub async fn add(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    label: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO conversation_labels (conversation_id, label_id, clinic_id, created_at)
         SELECT c.id, l.id, c.clinic_id, $4 FROM conversations c JOIN labels l ON l.clinic_id = c.clinic_id
         WHERE c.id = $1 AND l.id = $2 AND c.clinic_id = $3
         ON CONFLICT (conversation_id, label_id) DO NOTHING",
    )
    .bind(conversation.as_str())
    .bind(label)
    .bind(clinic.as_str())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("labelling a conversation")?;
    Ok(done.rows_affected() == 1)
}

/// Takes the label off; `false` when it was not there.
pub async fn remove(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    label: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM conversation_labels WHERE conversation_id = $1 AND label_id = $2 AND clinic_id = $3",
    )
    .bind(conversation.as_str())
    .bind(label)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("taking a label off a conversation")?;
    Ok(done.rows_affected() == 1)
}

#[derive(FromRow)]
struct Tagged {
    conversation_id: String,
    id: String,
    name: String,
    color: String,
}

/// The labels of a page of conversations, in one query.
pub async fn of_conversations(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    ids: &[&str],
) -> anyhow::Result<HashMap<String, Vec<Label>>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let marks = (0..ids.len())
        .map(|i| format!("${}", i + 2))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT cl.conversation_id AS conversation_id, l.id AS id, l.name AS name, l.color AS color
         FROM conversation_labels cl JOIN labels l ON l.id = cl.label_id
         WHERE cl.clinic_id = $1 AND cl.conversation_id IN ({marks}) ORDER BY l.name, l.id"
    );
    let mut q = sqlx::query_as::<_, Tagged>(&sql).bind(clinic.as_str());
    for id in ids {
        q = q.bind(*id);
    }
    let rows = q
        .fetch_all(conn)
        .await
        .context("reading conversations' labels")?;
    let mut out: HashMap<String, Vec<Label>> = HashMap::new();
    for r in rows {
        out.entry(r.conversation_id).or_default().push(Label {
            id: r.id,
            name: r.name,
            color: r.color,
        });
    }
    Ok(out)
}
