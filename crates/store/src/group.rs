//! Group commit. Every durable commit costs an fsync and SQLite has one writer, so concurrent
//! small writes (webhook deliveries) go to a single writer task per `Db`: it drains what is
//! queued, applies each piece of work under its own SAVEPOINT in one transaction, commits once,
//! and only then answers every caller. Nothing is acknowledged before it is durable, and one
//! failing piece of work is rolled back to its savepoint without touching the others.
use std::future::Future;
use std::pin::Pin;

use anyhow::Context;
use sqlx::AnyConnection;
use tokio::sync::{mpsc, oneshot};

use crate::Db;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Work for the group writer: it runs on the shared transaction's connection.
pub type GroupWork<T> =
    Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, anyhow::Result<T>> + Send>;

/// Told the batch's fate once it is known: `None` committed, `Some(reason)` not.
type Finish = Box<dyn FnOnce(Option<String>) + Send>;
/// Type-erased work: whether it succeeded, and how to answer its caller.
type Run = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, (bool, Finish)> + Send>;

pub(crate) struct Pending(Run);

/// A bound on one transaction's size, so one commit never holds the writer for long.
const MAX_BATCH: usize = 512;
/// Callers wait (backpressure) beyond this many queued pieces of work.
const QUEUE: usize = 4096;

impl Db {
    /// Runs `work` in the next group transaction and returns its result once that transaction
    /// has committed. An error from `work` rolls back only `work`'s own writes.
    pub async fn write_grouped<T: Send + 'static>(&self, work: GroupWork<T>) -> anyhow::Result<T> {
        let (answer, answered) = oneshot::channel::<anyhow::Result<T>>();
        let run: Run = Box::new(
            move |conn: &mut AnyConnection| -> BoxFuture<'_, (bool, Finish)> {
                Box::pin(async move {
                    match work(conn).await {
                        Ok(value) => {
                            let finish: Finish = Box::new(move |failed| {
                                let _ = answer.send(match failed {
                                    None => Ok(value),
                                    Some(reason) => Err(anyhow::anyhow!(reason)),
                                });
                            });
                            (true, finish)
                        }
                        Err(e) => {
                            let finish: Finish = Box::new(move |_| {
                                let _ = answer.send(Err(e));
                            });
                            (false, finish)
                        }
                    }
                })
            },
        );
        self.group_sender()
            .send(Pending(run))
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
    while let Some(first) = rx.recv().await {
        // No waiting for company: whatever queued while the last commit ran is the next batch.
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(p) => batch.push(p),
                Err(_) => break,
            }
        }
        run_batch(&db, batch).await;
    }
}

async fn run_batch(db: &Db, batch: Vec<Pending>) {
    let mut tx = match db.begin().await {
        Ok(tx) => tx,
        Err(e) => return fail_all(batch, &format!("{e:#}")),
    };
    let mut committed: Vec<Finish> = Vec::with_capacity(batch.len());
    let mut work = batch.into_iter();
    while let Some(Pending(run)) = work.next() {
        if let Err(e) = exec(tx.conn(), "SAVEPOINT grouped_work").await {
            let reason = format!("{e:#}");
            committed.into_iter().for_each(|f| f(Some(reason.clone())));
            return fail_all(std::iter::once(Pending(run)).chain(work).collect(), &reason);
        }
        let (ok, finish) = run(tx.conn()).await;
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
            finish(Some(reason.clone()));
            committed.into_iter().for_each(|f| f(Some(reason.clone())));
            return fail_all(work.collect(), &reason);
        }
        if ok {
            committed.push(finish);
        } else {
            finish(None); // sends the work's own error
        }
    }
    match tx.commit().await {
        Ok(()) => committed.into_iter().for_each(|f| f(None)),
        Err(e) => {
            let reason = format!("{e:#}");
            tracing::error!(error = %reason, work = committed.len(), "a group transaction did not commit");
            committed.into_iter().for_each(|f| f(Some(reason.clone())));
        }
    }
}

/// Work that never ran is answered with the batch's failure.
fn fail_all(batch: Vec<Pending>, reason: &str) {
    tracing::error!(error = %reason, pending = batch.len(), "a group transaction failed");
    // Each caller waits on a oneshot inside its work; dropping the work answers it with an error.
    drop(batch);
}

async fn exec(conn: &mut AnyConnection, sql: &str) -> anyhow::Result<()> {
    sqlx::query(sql)
        .execute(conn)
        .await
        .with_context(|| format!("{sql} in a group transaction"))?;
    Ok(())
}
