//! What the group writer runs: work in two steps (`Staged`: first statements sent with other
//! works', then the rest), or in one (`GroupWork`), type-erased with its caller's answer.
use std::future::Future;
use std::pin::Pin;

use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use tokio::sync::oneshot;

use crate::batch::Batch;

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
pub(super) struct Plain<T>(pub(super) GroupWork<T>);

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
pub(crate) struct Pending(pub(super) Box<dyn Erased>);

pub(super) trait Erased: Send {
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

pub(super) struct Work<W: Staged> {
    pub(super) work: W,
    /// The first statements as the caller wrote them (off the writer's path), for the first run.
    pub(super) written: Option<(Batch, W::Queued)>,
    pub(super) queued: Option<W::Queued>,
    pub(super) answer: oneshot::Sender<anyhow::Result<W::Output>>,
    pub(super) last: Option<anyhow::Result<W::Output>>,
}

impl<W: Staged> Erased for Work<W> {
    fn first(&mut self, b: &mut Batch) -> bool {
        if let Some((written, queued)) = self.written.take() {
            b.append(written);
            self.queued = Some(queued);
            return true;
        }
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
