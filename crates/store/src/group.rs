//! Group commit. Every durable commit costs an fsync and SQLite has one writer, so concurrent
//! small writes (webhook deliveries) go to a single writer task per `Db`: it drains what is
//! queued, applies it all in one transaction, commits once, and only then answers every caller.
//! Nothing is acknowledged before it is durable (on a WAL file the flush runs beside the next
//! batch: `durable`).
//!
//! Each sqlx call on SQLite is a trip to the connection's thread, which costs more than the
//! statements of a delivery, so work comes in two steps (`Staged`): the first statements of
//! every work in the batch go together, a few works per call (`COMBINE`), then each work
//! continues in turn with the rows its own statements returned (a returning patient's message
//! needs no further call). Works in one batch are thus not strictly one after the other: first
//! statements must only write what is right whatever ran before them in the batch (they decide
//! in SQL, as they run), and a work that depends on another's continuation reads again.
//!
//! The batch is applied optimistically, without a savepoint per piece of work (each costs two
//! statements). If a piece fails, the transaction is rolled back, that piece is answered with
//! its own error, and the others are applied again from the start, each alone under its own
//! SAVEPOINT, so one failing piece never takes the others down (when a shared call fails, which
//! piece caused it is unknown: all go again alone). Work may therefore run more than once; only
//! the writes of its last run are ever committed.
mod durable;
mod tx;
mod work;

use anyhow::Context;
use sqlx::any::AnyRow;
use tokio::sync::{mpsc, oneshot};

use crate::batch::{split, Batch};
use crate::Db;
use tx::{exec, Writer};
pub(crate) use work::Pending;
pub use work::{run_staged, BoxFuture, GroupWork, Staged};
use work::{Plain, Work};

/// Works whose first statements go in one call: a few, so the texts of such calls (put
/// together and prepared once each) stay few.
const COMBINE: usize = 8;
/// Between two works' first statements in a shared call (the rows are cut there).
static WORK_END: &str = "SELECT 1 AS group_work_end";

/// A bound on one transaction's size, so one commit never holds the writer for long.
const MAX_BATCH: usize = 512;
/// Callers wait (backpressure) beyond this many queued pieces of work.
const QUEUE: usize = 4096;

impl Db {
    /// Runs `work` in the next group transaction and returns its result once that transaction
    /// has committed. An error from `work` rolls back only `work`'s own writes.
    pub async fn write_grouped<T: Send + 'static>(&self, work: GroupWork<T>) -> anyhow::Result<T> {
        self.write_staged(Plain(work)).await
    }

    /// As `write_grouped`, for work in two steps (its first statements sent with others').
    /// The first statements are written here, on the caller's task: the writer's path is the
    /// one every delivery waits for.
    pub async fn write_staged<W: Staged>(&self, work: W) -> anyhow::Result<W::Output> {
        let (answer, answered) = oneshot::channel::<anyhow::Result<W::Output>>();
        let mut written = Batch::for_backend(self.backend()).deferring_index();
        let queued = work.first(&mut written)?;
        let pending = Pending(Box::new(Work {
            work,
            written: Some((written, queued)),
            queued: None,
            answer,
            last: None,
        }));
        self.group_sender()
            .send(pending)
            .await
            .map_err(|_| anyhow::anyhow!("the group writer stopped"))?;
        answered
            .await
            .context("the group transaction did not commit")?
    }

    /// The writer of this `Db`, started on first use (and again if its runtime went away).
    fn group_sender(&self) -> mpsc::Sender<Pending> {
        let mut slot = self.group.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = slot.as_ref().filter(|s| !s.is_closed()) {
            return s.clone();
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        // The writer's handle holds no sender, so it ends when every other handle is dropped.
        let mut writer_db = self.clone();
        writer_db.group = Default::default();
        tokio::spawn(writer(writer_db, rx));
        *slot = Some(tx.clone());
        tx
    }
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Pending>) {
    let mut db = Writer {
        db,
        conn: None,
        syncer: None,
    };
    while let Some(first) = rx.recv().await {
        // No waiting for company: whatever queued while the last commit ran is the next batch.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        if !run_batch(&mut db, batch).await {
            db.conn = None; // in an unknown state: the next batch takes another
        }
    }
}

/// `false` when the connection may be left in an unknown state.
async fn run_batch(db: &mut Writer, mut batch: Vec<Pending>) -> bool {
    match optimistic(db, &mut batch).await {
        Ok(Applied::Committed) => {
            db.committed(batch);
            true
        }
        Ok(Applied::Failed(failed)) => {
            // Rolled back: the failed work gets its own error; the others go again, isolated.
            batch.remove(failed).0.finish(None);
            batch.is_empty() || isolated(db, batch).await
        }
        // Rolled back, and which work made the shared call fail is unknown: all go again alone.
        Ok(Applied::SharedCallFailed) => isolated(db, batch).await,
        Err(reason) => {
            fail_all(batch, &reason);
            false
        }
    }
}

/// What an optimistic batch came to.
enum Applied {
    Committed,
    /// Work `i` failed; the transaction was rolled back.
    Failed(usize),
    /// A call with several works' first statements failed; rolled back.
    SharedCallFailed,
}

/// The whole batch in one transaction, no savepoints: the works' first statements a few works
/// per call, then each work's rest. `Err`: the transaction itself failed.
async fn optimistic(db: &mut Writer, batch: &mut [Pending]) -> Result<Applied, String> {
    let e = |e: anyhow::Error| format!("{e:#}");
    let started = std::time::Instant::now();
    let mut tx = db.begin().await.map_err(e)?;
    let mut rows: Vec<Vec<AnyRow>> = Vec::with_capacity(batch.len());
    for (c, chunk) in batch.chunks_mut(COMBINE).enumerate() {
        let mut shared = Batch::new(tx.conn);
        tx.open_in(&mut shared);
        for (i, Pending(work)) in chunk.iter_mut().enumerate() {
            if i > 0 {
                shared.push(WORK_END, "ending a work's statements");
            }
            let mut own = Batch::new(tx.conn).deferring_index();
            if !work.first(&mut own) {
                tx.rollback().await.map_err(e)?;
                return Ok(Applied::Failed(c * COMBINE + i));
            }
            tx.pending_docs |= own.has_pending_docs();
            shared.append(own);
        }
        match shared.run(tx.conn).await {
            Ok(got) => {
                let mut got = split(got, "group_work_end");
                got.resize_with(chunk.len(), Vec::new);
                rows.extend(got);
            }
            Err(err) => {
                tracing::debug!(error = %format!("{err:#}"), "a shared call failed: each work goes again alone");
                tx.rollback().await.map_err(e)?;
                return Ok(Applied::SharedCallFailed);
            }
        }
    }
    let first_us = started.elapsed().as_micros() as u64;
    rows.resize_with(batch.len(), Vec::new);
    for (i, (Pending(work), rows)) in batch.iter_mut().zip(rows).enumerate() {
        if !work.then(tx.conn().await.map_err(e)?, rows).await {
            tx.rollback().await.map_err(e)?;
            return Ok(Applied::Failed(i));
        }
    }
    // The search documents the batch left pending (`search::PENDING_FLUSH`); should that fail,
    // each work goes again alone, indexing as it goes.
    if let Err(err) = tx.index_pending().await {
        tracing::debug!(error = %format!("{err:#}"), "indexing a batch failed: each work goes again alone");
        tx.rollback().await.map_err(e)?;
        return Ok(Applied::SharedCallFailed);
    }
    let applied = std::time::Instant::now();
    tx.commit().await.map_err(e)?;
    // Where a batch's time goes (first: BEGIN and the shared calls; apply: them and the rest;
    // commit: writing the WAL, and its flush unless `durable` flushes it).
    tracing::debug!(
        work = batch.len(),
        first_us,
        apply_us = (applied - started).as_micros() as u64,
        commit_us = applied.elapsed().as_micros() as u64,
        "group commit"
    );
    Ok(Applied::Committed)
}

/// Each piece of work under its own savepoint: a failing one is rolled back alone. `false`
/// when the transaction failed.
async fn isolated(db: &mut Writer, batch: Vec<Pending>) -> bool {
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => {
            fail_all(batch, &format!("{e:#}"));
            return false;
        }
    };
    let mut committed: Vec<Pending> = Vec::with_capacity(batch.len());
    let mut work = batch.into_iter();
    while let Some(Pending(mut run)) = work.next() {
        let conn = match tx.conn().await {
            Ok(conn) => conn,
            Err(e) => {
                let reason = format!("{e:#}");
                fail_all(committed, &reason);
                fail_all(std::iter::once(Pending(run)).chain(work).collect(), &reason);
                return false;
            }
        };
        if let Err(e) = exec(conn, "SAVEPOINT grouped_work").await {
            let reason = format!("{e:#}");
            fail_all(committed, &reason);
            fail_all(std::iter::once(Pending(run)).chain(work).collect(), &reason);
            return false;
        }
        let ok = run.run(conn).await;
        let end = if ok {
            exec(conn, "RELEASE SAVEPOINT grouped_work").await
        } else {
            // Undo this work only; the savepoint is then released so they do not pile up.
            match exec(conn, "ROLLBACK TO SAVEPOINT grouped_work").await {
                Ok(()) => exec(conn, "RELEASE SAVEPOINT grouped_work").await,
                Err(e) => Err(e),
            }
        };
        if let Err(e) = end {
            // The transaction is in an unknown state: nothing in it is committed.
            let reason = format!("{e:#}");
            run.finish(Some(&reason));
            fail_all(committed, &reason);
            fail_all(work.collect(), &reason);
            return false;
        }
        if ok {
            committed.push(Pending(run));
        } else {
            run.finish(None); // sends the work's own error
        }
    }
    match tx.commit().await {
        Ok(()) => {
            db.committed(committed);
            true
        }
        Err(e) => {
            fail_all(committed, &format!("{e:#}"));
            false
        }
    }
}

/// Answers every piece of work with the batch's failure (nothing of it is committed, or not
/// durably).
fn fail_all(batch: Vec<Pending>, reason: &str) {
    if batch.is_empty() {
        return;
    }
    tracing::error!(error = %reason, work = batch.len(), "a group transaction failed");
    for Pending(w) in batch {
        w.finish(Some(reason));
    }
}
