//! The `conversation_notes` and `note_mentions` tables (owned by the inbox), every query scoped
//! by clinic.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, ConversationId};

#[derive(Clone, Debug, FromRow)]
pub struct Note {
    pub id: String,
    pub clinic_id: String,
    pub conversation_id: String,
    pub author_staff_id: String,
    pub body: String,
    pub created_at: i64,
}

/// One mention of a staff member, with what they need to find it.
#[derive(Clone, Debug, FromRow)]
pub struct Mention {
    pub note_id: String,
    pub conversation_id: String,
    pub author_staff_id: String,
    pub body: String,
    pub created_at: i64,
    pub seen_at: Option<i64>,
}

const COLS: &str = "id, clinic_id, conversation_id, author_staff_id, body, created_at";

pub(super) async fn insert(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    author: &str,
    body: &str,
    now_ms: i64,
) -> anyhow::Result<Note> {
    let id = new_id();
    // Only on a conversation of this clinic.
    let done = sqlx::query(
        "INSERT INTO conversation_notes (id, clinic_id, conversation_id, author_staff_id, body, created_at)
         SELECT $1, c.clinic_id, c.id, $4, $5, $6 FROM conversations c WHERE c.id = $3 AND c.clinic_id = $2",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(conversation.as_str())
    .bind(author)
    .bind(body)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("adding a note")?;
    anyhow::ensure!(
        done.rows_affected() == 1,
        "no such conversation in the clinic"
    );
    Ok(Note {
        id,
        clinic_id: clinic.as_str().to_owned(),
        conversation_id: conversation.as_str().to_owned(),
        author_staff_id: author.to_owned(),
        body: body.to_owned(),
        created_at: now_ms,
    })
}

pub(super) async fn insert_mention(
    conn: &mut AnyConnection,
    note: &Note,
    staff: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO note_mentions (note_id, clinic_id, staff_id, conversation_id, created_at)
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&note.id)
    .bind(&note.clinic_id)
    .bind(staff)
    .bind(&note.conversation_id)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording a mention")?;
    Ok(())
}

/// The conversation's notes written in `[from_ms, to_ms)`, oldest first.
pub async fn between(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    from_ms: i64,
    to_ms: i64,
) -> anyhow::Result<Vec<Note>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM conversation_notes WHERE clinic_id = $1 AND conversation_id = $2
           AND created_at >= $3 AND created_at < $4 ORDER BY created_at, id LIMIT 500"
    ))
    .bind(clinic.as_str())
    .bind(conversation.as_str())
    .bind(from_ms)
    .bind(to_ms)
    .fetch_all(conn)
    .await
    .context("listing the conversation's notes")
}

/// How many mentions of `staff` in the clinic are not seen yet.
pub async fn unseen_count(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &str,
) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM note_mentions WHERE clinic_id = $1 AND staff_id = $2 AND seen_at IS NULL",
    )
    .bind(clinic.as_str())
    .bind(staff)
    .fetch_one(conn)
    .await
    .context("counting unseen mentions")
}

/// `staff`'s mentions in the clinic, unseen first, then newest first.
pub async fn mentions_for(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &str,
    limit: i64,
) -> anyhow::Result<Vec<Mention>> {
    sqlx::query_as(
        "SELECT m.note_id, m.conversation_id, n.author_staff_id, n.body, m.created_at, m.seen_at
         FROM note_mentions m JOIN conversation_notes n ON n.id = m.note_id AND n.clinic_id = m.clinic_id
         WHERE m.clinic_id = $1 AND m.staff_id = $2
         ORDER BY CASE WHEN m.seen_at IS NULL THEN 0 ELSE 1 END, m.created_at DESC, m.note_id
         LIMIT $3",
    )
    .bind(clinic.as_str())
    .bind(staff)
    .bind(limit)
    .fetch_all(conn)
    .await
    .context("listing mentions")
}

/// `staff` opened the conversation: its mentions of them are seen. Whether any were new.
pub async fn mark_seen(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &str,
    conversation: &ConversationId,
    now_ms: i64,
) -> anyhow::Result<bool> {
    // Read first: every open and live refresh lands here, and on SQLite even an UPDATE that
    // matches nothing takes the write lock the ingest writer needs.
    let unseen: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM note_mentions
         WHERE clinic_id = $1 AND staff_id = $2 AND conversation_id = $3 AND seen_at IS NULL",
    )
    .bind(clinic.as_str())
    .bind(staff)
    .bind(conversation.as_str())
    .fetch_one(&mut *conn)
    .await
    .context("looking for unseen mentions")?;
    if unseen == 0 {
        return Ok(false);
    }
    let done = sqlx::query(
        "UPDATE note_mentions SET seen_at = $1
         WHERE clinic_id = $2 AND staff_id = $3 AND conversation_id = $4 AND seen_at IS NULL",
    )
    .bind(now_ms)
    .bind(clinic.as_str())
    .bind(staff)
    .bind(conversation.as_str())
    .execute(conn)
    .await
    .context("marking mentions seen")?;
    Ok(done.rows_affected() > 0)
}
