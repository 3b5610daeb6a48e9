//! The search index over message text (and, later, notes): substring search in Japanese,
//! including 1- and 2-char terms (熱, 予約), on both dialects. Documents are indexed as the
//! n-grams of their search form (`grams`) in the transaction that writes them: a message is
//! found from the moment it is committed, and edits, unsends, erasure and retention take it
//! out again (`forget`). `find` answers a query, newest first.
pub mod find;
pub mod grams;

use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::text::search_form;

use crate::batch::Batch;

/// The `kind` of an indexed message (notes will add their own).
pub const MESSAGE: &str = "message";

/// The text of a message that search finds: text bodies (media, stickers and system events
/// have none worth finding).
pub fn indexed_text<'a>(kind: &str, body: Option<&'a str>) -> Option<&'a str> {
    body.filter(|b| kind == "text" && !b.trim().is_empty())
}

/// Queues indexing message `id` (with `text`) of `clinic`: applies only if the message exists
/// when it runs (ingest queues it before knowing) and is not indexed yet. SQLite: the
/// document's row, then its FTS row under the same rowid; PostgreSQL: one row with its
/// `tsvector`.
pub fn push_message(b: &mut Batch, clinic: &str, id: &str, text: &str) {
    let form = search_form(text);
    b.arg(clinic.to_owned());
    b.arg(id.to_owned());
    if b.is_sqlite() {
        let (bi, uni) = grams::fts_columns(&form);
        b.arg(bi);
        b.arg(uni);
        b.push(
            "INSERT INTO search_docs (clinic_id, kind, doc_id) SELECT $1, 'message', $2
             WHERE EXISTS (SELECT 1 FROM messages WHERE id = $2)
               AND NOT EXISTS (SELECT 1 FROM search_docs WHERE kind = 'message' AND doc_id = $2);
             INSERT INTO search_fts (rowid, bi, uni) SELECT seq, $3, $4 FROM search_docs
             WHERE kind = 'message' AND doc_id = $2 AND changes() > 0",
            "indexing the message for search",
        );
    } else {
        b.arg(grams::tsvector(&form));
        b.push(
            "INSERT INTO search_docs (clinic_id, kind, doc_id, grams)
             SELECT $1, 'message', $2, CAST($3 AS tsvector)
             WHERE EXISTS (SELECT 1 FROM messages WHERE id = $2)
             ON CONFLICT DO NOTHING",
            "indexing the message for search",
        );
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
            let sql = format!("DELETE FROM search_fts WHERE rowid IN ({docs})");
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
    sqlx::query("UPDATE search_backfill SET done = 1")
        .execute(&mut *conn)
        .await
        .context("marking search as backfilled")?;
    Ok(())
}
