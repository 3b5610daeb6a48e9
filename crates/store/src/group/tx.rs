//! The group transaction on the writer's own connection.
use anyhow::Context;
use sqlx::AnyConnection;

use super::durable::Syncer;
use super::work::Pending;
use crate::batch::Batch;
use crate::Db;

/// The writer's own connection, kept from batch to batch: SQLite drops a connection's page
/// cache whenever another connection has written since its last transaction, so a pool
/// connection taken at random per batch would read every index page again; this one is the only
/// writer and keeps its cache warm. Detached from the pool (closing the pool does not wait for
/// it); dropped after an error, and taken anew.
pub(super) struct Writer {
    pub(super) db: Db,
    pub(super) conn: Option<AnyConnection>,
    /// Flushes and answers committed batches, when the connection commits without flushing.
    pub(super) syncer: Option<Syncer>,
}

/// A group transaction on the writer's connection, holding SQLite's writer slot. It is begun,
/// committed and rolled back by statements of its own rather than sqlx's `Transaction`, so its
/// BEGIN goes in the batch's first call (`open_in`) instead of a call of its own.
pub(super) struct GroupTx<'c> {
    pub(super) conn: &'c mut AnyConnection,
    begin: &'static str,
    /// BEGIN sent (it may have failed with the call that carried it: ROLLBACK then says so).
    sent: bool,
    /// Search documents were left for the commit to index (most batches of statuses leave none).
    pub(super) pending_docs: bool,
    _slot: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Writer {
    pub(super) async fn begin(&mut self) -> anyhow::Result<GroupTx<'_>> {
        let slot = self.db.writer_slot().await;
        if self.db.pool().is_closed() {
            self.conn = None;
            anyhow::bail!("the database was closed");
        }
        if self.conn.is_none() {
            let mut conn = self.db.pool().acquire().await?.detach();
            // A new connection starts with `FULL`; the old syncer's thread ends with its sender.
            self.syncer = match self.db.backend() {
                crate::Backend::Sqlite => Syncer::for_connection(&mut conn, self.db.pool()).await?,
                crate::Backend::Postgres => None,
            };
            self.conn = Some(conn);
        }
        let conn = self.conn.as_mut().context("the writer's connection")?;
        Ok(GroupTx {
            conn,
            begin: self.db.begin_statement(),
            sent: false,
            pending_docs: false,
            _slot: slot,
        })
    }
}

impl Writer {
    /// Answers work whose transaction committed, once it is durable.
    pub(super) fn committed(&self, done: Vec<Pending>) {
        match &self.syncer {
            Some(s) => s.answer(done),
            None => done.into_iter().for_each(|Pending(w)| w.finish(None)),
        }
    }
}

impl GroupTx<'_> {
    /// Puts the BEGIN first in `b`, the transaction's first call.
    pub(super) fn open_in(&mut self, b: &mut Batch) {
        if !self.sent {
            b.push(self.begin, "beginning a group transaction");
            self.sent = true;
        }
    }

    /// Begins with a call of its own (when no statements come first).
    pub(super) async fn open(&mut self) -> anyhow::Result<()> {
        if !self.sent {
            self.sent = true;
            exec(self.conn, self.begin).await?;
        }
        Ok(())
    }

    /// The connection, inside the transaction.
    pub(super) async fn conn(&mut self) -> anyhow::Result<&mut AnyConnection> {
        self.open().await?;
        Ok(&mut *self.conn)
    }

    /// Indexes the search documents this transaction's batches left pending, if any (SQLite).
    pub(super) async fn index_pending(&mut self) -> anyhow::Result<()> {
        if self.pending_docs {
            self.open().await?;
            exec(self.conn, &crate::search::PENDING_FLUSH).await?;
        }
        Ok(())
    }

    pub(super) async fn commit(mut self) -> anyhow::Result<()> {
        self.open().await?;
        exec(self.conn, "COMMIT").await
    }

    /// Undoes everything; an error (or a BEGIN that never ran) leaves the connection in an
    /// unknown state: the writer then takes another.
    pub(super) async fn rollback(self) -> anyhow::Result<()> {
        if self.sent {
            exec(self.conn, "ROLLBACK").await?;
        }
        Ok(())
    }
}

pub(super) async fn exec(conn: &mut AnyConnection, sql: &str) -> anyhow::Result<()> {
    sqlx::query(sql)
        .execute(conn)
        .await
        .with_context(|| format!("{sql} in a group transaction"))?;
    Ok(())
}
