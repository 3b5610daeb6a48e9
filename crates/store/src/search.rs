//! The search index over message text, staff's private notes and patients' search keys:
//! substring search in Japanese, including 1- and 2-char terms (熱, 予約), on both dialects.
//! Documents are indexed as the n-grams of their search form (`grams`) in the transaction that
//! writes them: a message or note is found from the moment it is committed, and edits, unsends,
//! erasure and retention take it out again (`forget`, `forget_notes_of`). `find` answers a
//! query, newest first.
pub mod find;
pub mod grams;

use std::sync::LazyLock;

use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::text::search_form;

use crate::batch::Batch;

/// The `kind` of an indexed message.
pub const MESSAGE: &str = "message";
/// A private note on a conversation (`conversation_notes`, staff only).
pub const NOTE: &str = "note";
/// A patient, by their `search_key`.
pub const PATIENT: &str = "patient";

/// The text of a message that search finds: text bodies (media, stickers and system events
/// have none worth finding).
pub fn indexed_text<'a>(kind: &str, body: Option<&'a str>) -> Option<&'a str> {
    body.filter(|b| kind == "text" && !b.trim().is_empty())
}

/// Queues indexing message `id` (with `text`) of `clinic`: applies only if the message exists
/// when it runs (ingest queues it before knowing) and is not indexed yet.
pub fn push_message(b: &mut Batch, clinic: &str, id: &str, text: &str) {
    push_doc(b, &MESSAGE_SQL, clinic, id, &search_form(text));
}

/// Queues indexing note `id` (with `text`) of `clinic`, if the note exists when it runs.
pub fn push_note(b: &mut Batch, clinic: &str, id: &str, text: &str) {
    push_doc(b, &NOTE_SQL, clinic, id, &search_form(text));
}

/// Queues indexing patient `id` by their `search_key` (fields in their search form, separated
/// by spaces), if the patient exists when it runs.
pub fn push_patient(b: &mut Batch, clinic: &str, id: &str, search_key: &str) {
    push_doc(b, &PATIENT_SQL, clinic, id, search_key);
}

/// SQLite: the document's row, then its FTS row under the same rowid (or its pending row, in
/// the group writer's batches); PostgreSQL: one row with its `tsvector`.
fn push_doc(b: &mut Batch, sql: &'static DocSql, clinic: &str, id: &str, form: &str) {
    b.arg(clinic.to_owned());
    b.arg(id.to_owned());
    if b.is_sqlite() {
        let (bi, uni) = grams::fts_columns(form);
        b.arg(bi);
        b.arg(uni);
        if b.defers_index() {
            b.push(&sql.pending, "leaving a document to index at the commit");
            b.left_pending();
        } else {
            b.push(&sql.fts, "indexing for search");
        }
    } else {
        b.arg(grams::tsvector(form));
        b.push(&sql.pg, "indexing for search");
    }
}

/// SQLite's full-text table holding documents of `kind`: messages, notes and patients each
/// have their own, so finding a note never reads the postings of every message.
pub fn fts_table(kind: &str) -> &'static str {
    match kind {
        NOTE => "search_note_fts",
        PATIENT => "search_patient_fts",
        _ => "search_fts",
    }
}

/// A document's row in `search_docs`, if its row in `table` exists and it is not indexed yet
/// (`changes()` then says whether the FTS row follows).
fn doc_sql(kind: &str, table: &str) -> String {
    format!(
        "INSERT INTO search_docs (clinic_id, kind, doc_id) SELECT $1, '{kind}', $2
         WHERE EXISTS (SELECT 1 FROM {table} WHERE id = $2)
           AND NOT EXISTS (SELECT 1 FROM search_docs WHERE kind = '{kind}' AND doc_id = $2)"
    )
}

fn fts_sql(kind: &str, table: &str) -> String {
    let fts = fts_table(kind);
    format!(
        "{};
         INSERT INTO {fts} (rowid, bi, uni) SELECT seq, $3, $4 FROM search_docs
         WHERE kind = '{kind}' AND doc_id = $2 AND changes() > 0",
        doc_sql(kind, table)
    )
}

fn pg_sql(kind: &str, table: &str) -> String {
    format!(
        "INSERT INTO search_docs (clinic_id, kind, doc_id, grams)
         SELECT $1, '{kind}', $2, CAST($3 AS tsvector)
         WHERE EXISTS (SELECT 1 FROM {table} WHERE id = $2)
         ON CONFLICT DO NOTHING"
    )
}

/// The group writer's documents waiting for its commit (SQLite: a TEMP table on every
/// connection, rolled back with the transaction; only the writer's batches fill it). FTS5
/// writes its pending terms to disk at every statement savepoint once it is in a transaction,
/// so indexing each message as it was stored wrote a segment per message and merged them
/// again; one insert per table at the commit writes one segment per batch.
pub(crate) const PENDING_TABLE: &str = "CREATE TEMP TABLE IF NOT EXISTS search_pending (
    kind TEXT NOT NULL, seq INTEGER NOT NULL, doc_id TEXT NOT NULL, bi TEXT NOT NULL, uni TEXT NOT NULL)";

/// Indexes the pending documents, then empties the table (`forget` took out any forgotten
/// meanwhile, as by an edit in the same batch).
pub(crate) static PENDING_FLUSH: LazyLock<String> = LazyLock::new(|| {
    let mut sql = String::new();
    for kind in [MESSAGE, NOTE, PATIENT] {
        sql.push_str(&format!(
            "INSERT INTO {} (rowid, bi, uni)
             SELECT seq, bi, uni FROM temp.search_pending WHERE kind = '{kind}';\n",
            fts_table(kind)
        ));
    }
    sql.push_str("DELETE FROM temp.search_pending");
    sql
});

fn pending_sql(kind: &str, table: &str) -> String {
    format!(
        "{};
         INSERT INTO temp.search_pending (kind, seq, doc_id, bi, uni)
         SELECT '{kind}', seq, $2, $3, $4 FROM search_docs
         WHERE kind = '{kind}' AND doc_id = $2 AND changes() > 0",
        doc_sql(kind, table)
    )
}

/// How a document of one kind is indexed: now (SQLite), at the group commit, on PostgreSQL.
struct DocSql {
    fts: String,
    pending: String,
    pg: String,
}

impl DocSql {
    fn of(kind: &str, table: &str) -> Self {
        DocSql {
            fts: fts_sql(kind, table),
            pending: pending_sql(kind, table),
            pg: pg_sql(kind, table),
        }
    }
}

static MESSAGE_SQL: LazyLock<DocSql> = LazyLock::new(|| DocSql::of(MESSAGE, "messages"));
static NOTE_SQL: LazyLock<DocSql> = LazyLock::new(|| DocSql::of(NOTE, "conversation_notes"));
static PATIENT_SQL: LazyLock<DocSql> = LazyLock::new(|| DocSql::of(PATIENT, "patients"));

/// Indexes patient `id` again from their `search_key` as it now is.
pub async fn reindex_patient(
    conn: &mut AnyConnection,
    clinic: &str,
    id: &str,
    search_key: &str,
) -> anyhow::Result<()> {
    forget(conn, PATIENT, &[id.to_owned()]).await?;
    let mut b = Batch::new(conn);
    push_patient(&mut b, clinic, id, search_key);
    b.run(conn).await?;
    Ok(())
}

/// The ids of the clinic's documents of `kind` matching `needle`, as a subquery for `IN (…)`:
/// `$needle` takes `Needle::query_for`, `$clinic` the clinic id.
pub fn matching_ids(sqlite: bool, kind: &'static str, needle: usize, clinic: usize) -> String {
    if sqlite {
        let fts = fts_table(kind);
        format!(
            "SELECT d.doc_id FROM {fts} f CROSS JOIN search_docs d ON d.seq = f.rowid
             WHERE {fts} MATCH ${needle} AND d.kind = '{kind}' AND d.clinic_id = ${clinic}"
        )
    } else {
        format!(
            "SELECT d.doc_id FROM search_docs d WHERE d.grams @@ CAST(${needle} AS tsquery)
             AND d.kind = '{kind}' AND d.clinic_id = ${clinic}"
        )
    }
}

/// Takes documents of `kind` out of the index (their text changed or is gone).
pub async fn forget(conn: &mut AnyConnection, kind: &str, ids: &[String]) -> anyhow::Result<()> {
    let sqlite = conn.backend_name() == "SQLite";
    for chunk in ids.chunks(400) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
        let docs = format!(
            "SELECT seq FROM search_docs WHERE kind = $1 AND doc_id IN ({})",
            marks.join(", ")
        );
        if sqlite {
            // Indexed, or still pending in this transaction (an edit in the same batch).
            let sql = format!(
                "DELETE FROM {} WHERE rowid IN ({docs});
                 DELETE FROM temp.search_pending WHERE kind = $1 AND doc_id IN ({})",
                fts_table(kind),
                marks.join(", ")
            );
            let mut q = sqlx::query(&sql).bind(kind);
            for id in chunk {
                q = q.bind(id);
            }
            q.execute(&mut *conn)
                .await
                .context("removing documents from the search index")?;
        }
        let sql = format!(
            "DELETE FROM search_docs WHERE kind = $1 AND doc_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql).bind(kind);
        for id in chunk {
            q = q.bind(id);
        }
        q.execute(&mut *conn)
            .await
            .context("removing search documents")?;
    }
    Ok(())
}

/// Takes the notes of `conversations` out of the index, before erasure or retention deletes
/// the conversations (and, by their `conversation_id`, their notes).
pub async fn forget_notes_of(
    conn: &mut AnyConnection,
    conversations: &[String],
) -> anyhow::Result<()> {
    for chunk in conversations.chunks(400) {
        let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 1)).collect();
        let sql = format!(
            "SELECT id FROM conversation_notes WHERE conversation_id IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query_scalar::<_, String>(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        let notes = q
            .fetch_all(&mut *conn)
            .await
            .context("finding the notes of conversations to forget")?;
        forget(conn, NOTE, &notes).await?;
    }
    Ok(())
}

/// Indexes `ids` again from the messages as they are now (an edit changed the text).
pub async fn reindex_messages(conn: &mut AnyConnection, ids: &[String]) -> anyhow::Result<()> {
    forget(conn, MESSAGE, ids).await?;
    for id in ids {
        let row: Option<(String, String, Option<String>)> =
            sqlx::query_as("SELECT clinic_id, kind, body FROM messages WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .context("reading a message to index")?;
        let Some((clinic, kind, body)) = row else {
            continue;
        };
        if let Some(text) = indexed_text(&kind, body.as_deref()) {
            let mut b = Batch::new(conn);
            push_message(&mut b, &clinic, id, text);
            b.run(&mut *conn).await?;
        }
    }
    Ok(())
}

/// Indexes the messages stored before the index existed, once (the migration left a marker),
/// oldest first so the index's order stays newest last.
pub async fn backfill(conn: &mut AnyConnection) -> anyhow::Result<()> {
    let done: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(done), 1) FROM search_backfill")
        .fetch_one(&mut *conn)
        .await
        .context("reading whether search was backfilled")?;
    if done != 0 {
        return Ok(());
    }
    let mut after = (i64::MIN, String::new());
    loop {
        let rows: Vec<(String, String, i64, Option<String>)> = sqlx::query_as(
            "SELECT id, clinic_id, created_at, body FROM messages
             WHERE kind = 'text' AND body IS NOT NULL AND (created_at > $1 OR (created_at = $1 AND id > $2))
             ORDER BY created_at, id LIMIT 500",
        )
        .bind(after.0)
        .bind(&after.1)
        .fetch_all(&mut *conn)
        .await
        .context("reading messages to index")?;
        let Some(last) = rows.last() else { break };
        after = (last.2, last.0.clone());
        let mut b = Batch::new(conn);
        for (id, clinic, _, body) in &rows {
            if let Some(text) = indexed_text("text", body.as_deref()) {
                push_message(&mut b, clinic, id, text);
            }
        }
        b.run(&mut *conn).await?;
    }
    let patients: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT id, clinic_id, search_key FROM patients WHERE search_key IS NOT NULL ORDER BY created_at, id",
    )
    .fetch_all(&mut *conn)
    .await
    .context("reading patients to index")?;
    for chunk in patients.chunks(500) {
        let mut b = Batch::new(conn);
        for (id, clinic, key) in chunk {
            push_patient(&mut b, clinic, id, key);
        }
        b.run(&mut *conn).await?;
    }
    sqlx::query("UPDATE search_backfill SET done = 1")
        .execute(&mut *conn)
        .await
        .context("marking search as backfilled")?;
    Ok(())
}

/// Indexes the notes written before notes were indexed (migration 0022 left a marker), once,
/// oldest first.
pub async fn backfill_notes(conn: &mut AnyConnection) -> anyhow::Result<()> {
    let done: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(done), 1) FROM search_backfill_notes")
        .fetch_one(&mut *conn)
        .await
        .context("reading whether notes were indexed")?;
    if done != 0 {
        return Ok(());
    }
    let mut after = (i64::MIN, String::new());
    loop {
        let rows: Vec<(String, String, i64, String)> = sqlx::query_as(
            "SELECT id, clinic_id, created_at, body FROM conversation_notes
             WHERE created_at > $1 OR (created_at = $1 AND id > $2)
             ORDER BY created_at, id LIMIT 500",
        )
        .bind(after.0)
        .bind(&after.1)
        .fetch_all(&mut *conn)
        .await
        .context("reading notes to index")?;
        let Some(last) = rows.last() else { break };
        after = (last.2, last.0.clone());
        let mut b = Batch::new(conn);
        for (id, clinic, _, body) in &rows {
            push_note(&mut b, clinic, id, body);
        }
        b.run(&mut *conn).await?;
    }
    sqlx::query("UPDATE search_backfill_notes SET done = 1")
        .execute(&mut *conn)
        .await
        .context("marking notes as indexed")?;
    Ok(())
}

/// Moves the notes and patients indexed before they had their own full-text tables (migration
/// 0026 left a marker; SQLite only): each leaves `search_fts` and is indexed again, under the
/// same `seq`, in its kind's table, from the text it has now.
pub async fn split_kinds(conn: &mut AnyConnection) -> anyhow::Result<()> {
    let done: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(done), 1) FROM search_split")
        .fetch_one(&mut *conn)
        .await
        .context("reading whether search was split by kind")?;
    if done != 0 {
        return Ok(());
    }
    let mut after = 0i64;
    loop {
        let rows: Vec<(i64, String, Option<String>)> = sqlx::query_as(
            "SELECT d.seq, d.kind, COALESCE(n.body, p.search_key) FROM search_docs d
             LEFT JOIN conversation_notes n ON d.kind = 'note' AND n.id = d.doc_id
             LEFT JOIN patients p ON d.kind = 'patient' AND p.id = d.doc_id
             WHERE d.kind IN ('note', 'patient') AND d.seq > $1 ORDER BY d.seq LIMIT 500",
        )
        .bind(after)
        .fetch_all(&mut *conn)
        .await
        .context("reading notes and patients to move")?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (seq, kind, text) in rows {
            sqlx::query("DELETE FROM search_fts WHERE rowid = $1")
                .bind(seq)
                .execute(&mut *conn)
                .await
                .context("moving a document out of the message index")?;
            // A note's text in its search form; a patient's key is stored in that form.
            let form = match (kind.as_str(), text) {
                (NOTE, Some(t)) => search_form(&t),
                (_, Some(t)) => t,
                (_, None) => continue,
            };
            let (bi, uni) = grams::fts_columns(&form);
            sqlx::query(&format!(
                "INSERT INTO {} (rowid, bi, uni) VALUES ($1, $2, $3)",
                fts_table(&kind)
            ))
            .bind(seq)
            .bind(bi)
            .bind(uni)
            .execute(&mut *conn)
            .await
            .context("indexing a document in its kind's table")?;
        }
    }
    sqlx::query("UPDATE search_split SET done = 1")
        .execute(&mut *conn)
        .await
        .context("marking search as split by kind")?;
    Ok(())
}
