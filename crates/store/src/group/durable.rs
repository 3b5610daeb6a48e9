//! A group commit made durable off the writer's path. On a SQLite file in WAL mode the writer's
//! own connection commits with `synchronous = NORMAL` (the WAL is written, not flushed), hands
//! the committed batch here and goes on to apply the next; this thread flushes the WAL
//! (`fdatasync`) and only then answers the batch. An answer still means "on disk", as with
//! `FULL`, but the flush no longer holds SQLite's one writer: the next batch is applied during it,
//! and one flush covers every batch committed before it started.
//!
//! Frames never flushed here cannot be lost to a WAL restart: SQLite syncs the WAL before each
//! checkpoint and the database file after it, and restarts the WAL only after a complete one.
//! Readers may see a batch a few milliseconds before it is durable; nothing is acknowledged (or
//! answered 200) before.
//!
//! Checkpoints (copying the WAL into the database file, two more flushes) leave the writer's
//! path too: every `CHECKPOINT_EVERY` flushes a passive checkpoint runs on a pool connection,
//! beside the writer. The writer's own automatic checkpoint is kept, rarer (`WRITER_CHECKPOINT`
//! pages): with most frames already copied it is short, and it lets the WAL start over, so the
//! file stays bounded through a storm.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};

use anyhow::Context;
use sqlx::{AnyConnection, AnyPool, Executor};

use super::work::Pending;

/// The thread that flushes the WAL and answers committed batches.
pub(super) struct Syncer {
    tx: mpsc::Sender<Vec<Pending>>,
}

impl Syncer {
    /// Switches `conn` (the writer's own) to `NORMAL` and starts a syncer for its WAL, when it
    /// is a file in WAL mode; `None` (the connection keeps `FULL`, each commit flushed) else.
    pub(super) async fn for_connection(
        conn: &mut AnyConnection,
        pool: &AnyPool,
    ) -> anyhow::Result<Option<Self>> {
        let Some(wal) = crate::wal_flush::wal_file(conn).await? else {
            return Ok(None);
        };
        conn.execute("PRAGMA synchronous = NORMAL")
            .await
            .context("letting the writer's commits skip their own flush")?;
        conn.execute(WRITER_CHECKPOINT)
            .await
            .context("making the writer's own checkpoints rare")?;
        conn.execute(WRITER_CACHE)
            .await
            .context("giving the writer a larger page cache")?;
        let (tx, rx) = mpsc::channel();
        let checkpoints = Checkpoints {
            pool: pool.clone(),
            runtime: tokio::runtime::Handle::current(),
            running: Arc::default(),
            batches: 0,
        };
        std::thread::Builder::new()
            .name("tsunagu-wal-flush".into())
            .spawn(move || run(&wal, rx, checkpoints))
            .context("starting the WAL flush thread")?;
        Ok(Some(Syncer { tx }))
    }

    /// Answers `committed` once the WAL holding it is on disk.
    pub(super) fn answer(&self, committed: Vec<Pending>) {
        if let Err(mpsc::SendError(back)) = self.tx.send(committed) {
            // The thread is gone (it never panics on its own): nothing can be made durable.
            super::fail_all(back, "the WAL flush thread stopped");
        }
    }
}

/// A passive checkpoint beside the writer every this many flushes (when none is running).
const CHECKPOINT_EVERY: u32 = 16;
/// The writer's own automatic checkpoint, in WAL pages (SQLite's default is 1,000): each puts
/// two flushes in the writer's path, so a rare one keeps them off the latency's tail (~64 MB).
const WRITER_CHECKPOINT: &str = "PRAGMA wal_autocheckpoint = 16000";

/// The writer's page cache (SQLite's default is 2 MB): every delivery touches leaf pages of
/// a dozen indexes, and pages that fell out were read again from the file on the writer's path.
const WRITER_CACHE: &str = "PRAGMA cache_size = -65536";

struct Checkpoints {
    pool: AnyPool,
    runtime: tokio::runtime::Handle,
    running: Arc<AtomicBool>,
    batches: u32,
}

impl Checkpoints {
    fn after_batch(&mut self) {
        self.batches += 1;
        if self.batches < CHECKPOINT_EVERY
            || self.pool.is_closed()
            || self.running.swap(true, Ordering::AcqRel)
        {
            return;
        }
        self.batches = 0;
        let (pool, running) = (self.pool.clone(), self.running.clone());
        self.runtime.spawn(async move {
            let done = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&pool)
                .await;
            if let Err(e) = done {
                tracing::warn!(error = %e, "a checkpoint beside the writer failed (the writer's own will run)");
            }
            running.store(false, Ordering::Release);
        });
    }
}

fn run(wal: &std::path::Path, rx: mpsc::Receiver<Vec<Pending>>, mut checkpoints: Checkpoints) {
    while let Ok(mut batch) = rx.recv() {
        // Everything committed before this flush starts is covered by it.
        while let Ok(more) = rx.try_recv() {
            batch.extend(more);
        }
        let started = std::time::Instant::now();
        let flushed = crate::wal_flush::flush(wal);
        tracing::debug!(
            work = batch.len(),
            flush_us = started.elapsed().as_micros() as u64,
            "WAL flush"
        );
        match flushed {
            Ok(()) => batch.into_iter().for_each(|Pending(w)| w.finish(None)),
            Err(e) => super::fail_all(batch, &format!("flushing the WAL to disk: {e}")),
        }
        checkpoints.after_batch();
    }
}
