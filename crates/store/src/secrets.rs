//! Where values encrypted with the configured key live (the key itself and the cipher are
//! `privacy::crypto`), for re-encrypting them all under a new key (`tsunagu rotate-key`). The
//! one place that knows every such column across the schema: a new one belongs in `ENCRYPTED`,
//! or rotating would leave it unreadable.
use anyhow::Context;
use sqlx::AnyConnection;

use crate::{Backend, Tx};

/// A column holding values encrypted with the configured key.
pub struct Column {
    pub table: &'static str,
    pub column: &'static str,
    /// What staff call it, for messages.
    pub what: &'static str,
}

pub const ENCRYPTED: [Column; 5] = [
    Column {
        table: "channels",
        column: "credentials_enc",
        what: "channel credentials",
    },
    Column {
        table: "staff",
        column: "totp_secret_enc",
        what: "2FA secrets",
    },
    Column {
        table: "automation_flows",
        column: "webhook_secret",
        what: "flow webhook keys",
    },
    Column {
        table: "event_rules",
        column: "webhook_secret",
        what: "event rule webhook keys",
    },
    Column {
        table: "line_login_links",
        column: "secret_enc",
        what: "LINE Login channel secrets",
    },
];

/// Keeps every other writer away from the encrypted columns until `tx` ends (SQLite's
/// BEGIN IMMEDIATE already holds its one write lock).
pub async fn lock_for_rotation(tx: &mut Tx, backend: Backend) -> anyhow::Result<()> {
    if backend == Backend::Postgres {
        sqlx::query("LOCK TABLE channels, staff, automation_flows, event_rules, line_login_links IN EXCLUSIVE MODE")
            .execute(tx.conn())
            .await
            .context("locking the tables that hold secrets")?;
    }
    Ok(())
}

/// `(row id, stored value)` of every non-empty value of `c`.
pub async fn values(conn: &mut AnyConnection, c: &Column) -> anyhow::Result<Vec<(String, String)>> {
    let sql = format!(
        "SELECT id, {col} FROM {table} WHERE {col} IS NOT NULL ORDER BY id",
        col = c.column,
        table = c.table
    );
    sqlx::query_as(&sql)
        .fetch_all(conn)
        .await
        .with_context(|| format!("reading {}", c.what))
}

/// Replaces one value, only if it is still `stored` (compare-and-set). True when replaced.
pub async fn replace(
    conn: &mut AnyConnection,
    c: &Column,
    id: &str,
    stored: &str,
    fresh: &str,
) -> anyhow::Result<bool> {
    let sql = format!(
        "UPDATE {table} SET {col} = $1 WHERE id = $2 AND {col} = $3",
        col = c.column,
        table = c.table
    );
    let changed = sqlx::query(&sql)
        .bind(fresh)
        .bind(id)
        .bind(stored)
        .execute(conn)
        .await
        .with_context(|| format!("re-encrypting {} {id}", c.what))?
        .rows_affected();
    Ok(changed == 1)
}
