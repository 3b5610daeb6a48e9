//! The schema as the database reports it. Erasure deletes by column name (`*patient_id`,
//! `*identity_id`, `conversation_id`, `message_id`) across every table, so a table another
//! feature adds later (verification, appointments, …) is erased without this file knowing it;
//! a table that refers to the patient some other way makes the final patient delete fail on
//! its foreign key, and the whole erasure rolls back instead of leaving a half-erased patient.
use std::collections::BTreeMap;

use anyhow::Context;
use sqlx::AnyConnection;

use super::{Subject, KEPT_TABLES};

/// Tables erasure treats on its own terms (blanked, scanned, or the patient row itself).
const SPECIAL: &[&str] = &[
    "webhook_events",
    "outbox_jobs",
    "idempotency_keys",
    "patients",
    "_sqlx_migrations",
];
const CHUNK: usize = 400;

fn is_postgres(conn: &AnyConnection) -> bool {
    conn.backend_name().eq_ignore_ascii_case("postgresql")
        || conn.backend_name().eq_ignore_ascii_case("postgres")
}

/// Every (table, column) of the schema, in table order.
pub async fn columns(conn: &mut AnyConnection) -> anyhow::Result<Vec<(String, String)>> {
    let sql = if is_postgres(conn) {
        "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns
         WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    } else {
        "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid"
    };
    sqlx::query_as(sql)
        .fetch_all(conn)
        .await
        .context("reading the database schema")
}

pub async fn table_exists(conn: &mut AnyConnection, table: &str) -> anyhow::Result<bool> {
    let sql = if is_postgres(conn) {
        "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1"
    } else {
        "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = $1"
    };
    let n: i64 = sqlx::query_scalar(sql)
        .bind(table)
        .fetch_one(conn)
        .await
        .context("checking whether a table exists")?;
    Ok(n > 0)
}

/// Which of the subject's ids a column holds, by its name.
fn ids_for<'a>(column: &str, s: &'a Subject) -> Option<&'a [String]> {
    if column.starts_with("provider_") {
        return None; // the provider's own ids, never ours
    }
    if column.ends_with("patient_id") {
        Some(&s.patient)
    } else if column.ends_with("identity_id") {
        Some(&s.identity)
    } else if column == "conversation_id" || column.ends_with("_conversation_id") {
        Some(&s.conversation)
    } else if column == "message_id" || column.ends_with("_message_id") {
        Some(&s.message)
    } else {
        None
    }
}

/// Children first, so most deletes succeed on the first round.
fn rank(table: &str) -> u8 {
    match table {
        "attachments" => 0,
        "messages" => 2,
        "conversations" => 3,
        "channel_identities" => 4,
        _ => 1,
    }
}

/// Deletes every row whose reference columns name the subject, table by table. A delete that
/// trips a foreign key (its children are not gone yet) is undone to a savepoint and retried in
/// the next round.
pub(crate) async fn delete_referencing(
    conn: &mut AnyConnection,
    s: &Subject,
    counts: &mut BTreeMap<String, i64>,
) -> anyhow::Result<()> {
    let mut work: Vec<(String, String)> = columns(conn)
        .await?
        .into_iter()
        .filter(|(t, c)| {
            !KEPT_TABLES.contains(&t.as_str())
                && !SPECIAL.contains(&t.as_str())
                && ids_for(c, s).is_some_and(|ids| !ids.is_empty())
        })
        .collect();
    work.sort_by_key(|(t, _)| rank(t));
    for _round in 0..6 {
        let mut failed = Vec::new();
        for (table, column) in work {
            let ids = ids_for(&column, s).unwrap_or_default();
            sqlx::query("SAVEPOINT erase_step")
                .execute(&mut *conn)
                .await
                .context("opening a savepoint")?;
            match delete_in(conn, &table, &column, ids).await {
                Ok(n) => {
                    sqlx::query("RELEASE SAVEPOINT erase_step")
                        .execute(&mut *conn)
                        .await
                        .context("releasing a savepoint")?;
                    *counts.entry(table).or_default() += n;
                }
                Err(e) => {
                    tracing::debug!(table = %table, error = %e, "erasure step deferred to the next round");
                    sqlx::query("ROLLBACK TO SAVEPOINT erase_step")
                        .execute(&mut *conn)
                        .await
                        .context("rolling back to a savepoint")?;
                    sqlx::query("RELEASE SAVEPOINT erase_step")
                        .execute(&mut *conn)
                        .await
                        .context("releasing a savepoint")?;
                    failed.push((table, column));
                }
            }
        }
        if failed.is_empty() {
            return Ok(());
        }
        work = failed;
    }
    let left: Vec<String> = work.iter().map(|(t, c)| format!("{t}.{c}")).collect();
    anyhow::bail!(
        "could not erase rows in {} (a foreign key keeps them)",
        left.join(", ")
    )
}

/// `DELETE FROM table WHERE column IN (ids)`, in chunks. Names come from the schema itself.
pub(crate) async fn delete_in(
    conn: &mut AnyConnection,
    table: &str,
    column: &str,
    ids: &[String],
) -> Result<i64, sqlx::Error> {
    let mut n = 0;
    for chunk in ids.chunks(CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "DELETE FROM \"{table}\" WHERE \"{column}\" IN ({})",
            marks.join(", ")
        );
        let mut q = sqlx::query(&sql);
        for id in chunk {
            q = q.bind(id);
        }
        n += q.execute(&mut *conn).await?.rows_affected() as i64;
    }
    Ok(n)
}
