//! Group commit. Every durable commit costs an fsync and SQLite has one writer, so concurrent
//! small writes (webhook deliveries) go to a single writer task per `Db`: it drains what is
//! queued, applies it all in one transaction, commits once, and only then answers every caller.
//! Nothing is acknowledged before it is durable.
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
use std::future::Future;
use std::pin::Pin;

use anyhow::Context;
use sqlx::any::AnyRow;
use sqlx::{Any, AnyConnection, Connection, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::batch::{split, Batch};
use crate::Db;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Work for the group writer: it runs on the shared transaction's connection, possibly more
/// than once (see the module doc), so it must not have effects outside the database.
pub type GroupWork<T> =
    Box<dyn for<'c> Fn(&'c mut AnyConnection) -> BoxFuture<'c, anyhow::Result<T>> + Send + Sync>;

/// Work in two steps (see the module doc); like `GroupWork` it may run more than once and only
/// writes to the database.
pub trait Staged: Send + Sync + 'static {
    type Output: Send + 'static;
    /// What `first` leaves for `then` (ids it generated).
    type Queued: Send + 'static;
    /// Queues the first statements (sent with other works' in one call).
    fn first(&self, b: &mut Batch) -> anyhow::Result<Self::Queued>;
    /// The rest, given the rows the first statements returned.
    fn then<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
        queued: Self::Queued,
        rows: Vec<AnyRow>,
    ) -> BoxFuture<'c, anyhow::Result<Self::Output>>;
}

/// Runs `work` alone on `conn` (inside the caller's transaction): its first statements in one
/// call, then the rest.
pub async fn run_staged<W: Staged>(
    conn: &mut AnyConnection,
    work: &W,
) -> anyhow::Result<W::Output> {
    let mut b = Batch::new(conn);
    let queued = work.first(&mut b)?;
    let rows = b.run(&mut *conn).await?;
    work.then(conn, queued, rows).await
}

/// A `GroupWork` as staged work without first statements.
struct Plain<T>(GroupWork<T>);

impl<T: Send + 'static> Staged for Plain<T> {
    type Output = T;
    type Queued = ();

    fn first(&self, _: &mut Batch) -> anyhow::Result<()> {
        Ok(())
    }

    fn then<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
        _: (),
        _: Vec<AnyRow>,
    ) -> BoxFuture<'c, anyhow::Result<T>> {
        (self.0)(conn)
    }
}

/// Type-erased work with its caller's answer.
pub(crate) struct Pending(Box<dyn Erased>);

trait Erased: Send {
    /// Queues the first statements in `b` (a batch of this work's own); `false` when that
    /// failed (the error is kept).
    fn first(&mut self, b: &mut Batch) -> bool;
    /// Continues after the shared call with this work's rows: `true` when it succeeded.
    fn then<'c>(
        &'c mut self,
        conn: &'c mut AnyConnection,
        rows: Vec<AnyRow>,
    ) -> BoxFuture<'c, bool>;
    /// Runs the work once more, alone, and keeps the outcome: `true` when it succeeded.
    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection) -> BoxFuture<'c, bool>;
    /// Answers the caller: the last run's value when `failure` is `None` (committed), its own
    /// error if the last run failed, else the batch's `failure`.
    fn finish(self: Box<Self>, failure: Option<&str>);
}

struct Work<W: Staged> {
    work: W,
    queued: Option<W::Queued>,
    answer: oneshot::Sender<anyhow::Result<W::Output>>,
    last: Option<anyhow::Result<W::Output>>,
}

impl<W: Staged> Erased for Work<W> {
    fn first(&mut self, b: &mut Batch) -> bool {
        match self.work.first(b) {
            Ok(q) => {
                self.queued = Some(q);
                true
            }
            Err(e) => {
                self.last = Some(Err(e));
                false
            }
        }
    }

    fn then<'c>(
        &'c mut self,
        conn: &'c mut AnyConnection,
        rows: Vec<AnyRow>,
    ) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let out = match self.queued.take() {
                Some(q) => self.work.then(conn, q, rows).await,
                None => Err(anyhow::anyhow!(
                    "work continued without its first statements"
                )),
            };
            let ok = out.is_ok();
            self.last = Some(out);
            ok
        })
    }

    fn run<'c>(&'c mut self, conn: &'c mut AnyConnection) -> BoxFuture<'c, bool> {
        Box::pin(async move {
            let out = run_staged(conn, &self.work).await;
            let ok = out.is_ok();
            self.last = Some(out);
            ok
        })
    }

    fn finish(self: Box<Self>, failure: Option<&str>) {
        let out = match (self.last, failure) {
            (Some(Err(own)), _) => Err(own),
            (Some(Ok(value)), None) => Ok(value),
            (_, Some(reason)) => Err(anyhow::anyhow!("{reason}")),
            (None, None) => Err(anyhow::anyhow!("the group writer never ran this work")),
        };
        let _ = self.answer.send(out);
    }
}

/// Works whose first statements go in one call: a few, so the texts of such calls (put
/// together and prepared once each) stay few.
const COMBINE: usize = 8;
/// Ends each work's first statements in a shared call (its rows are cut there).
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
    pub async fn write_staged<W: Staged>(&self, work: W) -> anyhow::Result<W::Output> {
        let (answer, answered) = oneshot::channel::<anyhow::Result<W::Output>>();
        let pending = Pending(Box::new(Work {
            work,
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

/// The writer's own connection, kept from batch to batch: SQLite drops a connection's page
/// cache whenever another connection has written since its last transaction, so a pool
/// connection taken at random per batch would read every index page again; this one is the only
/// writer and keeps its cache warm. Detached from the pool (closing the pool does not wait for
/// it); dropped after an error, and taken anew.
struct Writer {
    db: Db,
    conn: Option<AnyConnection>,
}

/// A group transaction on the writer's connection, holding SQLite's writer slot.
struct GroupTx<'c> {
    tx: Transaction<'c, Any>,
    _slot: Option<tokio::sync::OwnedMutexGuard<()>>,
}

impl Writer {
    async fn begin(&mut self) -> anyhow::Result<GroupTx<'_>> {
        let slot = self.db.writer_slot().await;
        if self.db.pool().is_closed() {
            self.conn = None;
            anyhow::bail!("the database was closed");
        }
        if self.conn.is_none() {
            self.conn = Some(self.db.pool().acquire().await?.detach());
        }
        let conn = self.conn.as_mut().context("the writer's connection")?;
        // On an error the batch fails and `writer` drops the connection.
        let tx = conn
            .begin_with(self.db.begin_statement())
            .await
            .context("beginning a group transaction")?;
        Ok(GroupTx { tx, _slot: slot })
    }
}

impl GroupTx<'_> {
    fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }
}

async fn writer(db: Db, mut rx: mpsc::Receiver<Pending>) {
    let mut db = Writer { db, conn: None };
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
            batch.into_iter().for_each(|Pending(w)| w.finish(None));
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
    let started = std::time::Instant::now();
    let mut tx = db.begin().await.map_err(|e| format!("{e:#}"))?;
    let begun = std::time::Instant::now();
    let mut rows: Vec<Vec<AnyRow>> = Vec::with_capacity(batch.len());
    for (c, chunk) in batch.chunks_mut(COMBINE).enumerate() {
        let mut shared = Batch::new(tx.conn());
        for (i, Pending(work)) in chunk.iter_mut().enumerate() {
            let mut own = Batch::new(tx.conn());
            if !work.first(&mut own) {
                tx.tx.rollback().await.map_err(|e| format!("{e:#}"))?;
                return Ok(Applied::Failed(c * COMBINE + i));
            }
            shared.append(own);
            shared.push(WORK_END, "ending a work's statements");
        }
        match shared.run(tx.conn()).await {
            Ok(got) => rows.extend(split(got, "group_work_end")),
            Err(e) => {
                tracing::debug!(error = %format!("{e:#}"), "a shared call failed: each work goes again alone");
                tx.tx.rollback().await.map_err(|e| format!("{e:#}"))?;
                return Ok(Applied::SharedCallFailed);
            }
        }
    }
    let first_us = begun.elapsed().as_micros() as u64;
    rows.resize_with(batch.len(), Vec::new);
    for (i, (Pending(work), rows)) in batch.iter_mut().zip(rows).enumerate() {
        if !work.then(tx.conn(), rows).await {
            tx.tx.rollback().await.map_err(|e| format!("{e:#}"))?;
            return Ok(Applied::Failed(i));
        }
    }
    let applied = std::time::Instant::now();
    tx.tx.commit().await.map_err(|e| format!("{e:#}"))?;
    // Where a batch's time goes (begin: write slot + BEGIN; first: the shared calls; apply:
    // them and the rest; commit: fsync).
    tracing::debug!(
        work = batch.len(),
        begin_us = (begun - started).as_micros() as u64,
        first_us,
        apply_us = (applied - begun).as_micros() as u64,
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
        if let Err(e) = exec(tx.conn(), "SAVEPOINT grouped_work").await {
            let reason = format!("{e:#}");
            fail_all(committed, &reason);
            fail_all(std::iter::once(Pending(run)).chain(work).collect(), &reason);
            return false;
        }
        let ok = run.run(tx.conn()).await;
        let end = if ok {
            exec(tx.conn(), "RELEASE SAVEPOINT grouped_work").await
        } else {
            // Undo this work only; the savepoint is then released so they do not pile up.
            match exec(tx.conn(), "ROLLBACK TO SAVEPOINT grouped_work").await {
                Ok(()) => exec(tx.conn(), "RELEASE SAVEPOINT grouped_work").await,
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
    match tx.tx.commit().await {
        Ok(()) => {
            committed.into_iter().for_each(|Pending(w)| w.finish(None));
            true
        }
        Err(e) => {
            fail_all(committed, &format!("{e:#}"));
            false
        }
    }
}

/// Answers every piece of work with the batch's failure (nothing of it is committed).
fn fail_all(batch: Vec<Pending>, reason: &str) {
    if batch.is_empty() {
        return;
    }
    tracing::error!(error = %reason, work = batch.len(), "a group transaction failed");
    for Pending(w) in batch {
        w.finish(Some(reason));
    }
}

async fn exec(conn: &mut AnyConnection, sql: &str) -> anyhow::Result<()> {
    sqlx::query(sql)
        .execute(conn)
        .await
        .with_context(|| format!("{sql} in a group transaction"))?;
    Ok(())
}
