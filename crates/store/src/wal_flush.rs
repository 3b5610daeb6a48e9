//! Durable commits that do not hold SQLite's one writer through the flush. A writing
//! transaction on a SQLite file in WAL mode commits with `synchronous = NORMAL` (its frames are
//! written to the WAL, not flushed), gives the writer slot back, and only then waits here for
//! an `fdatasync` of the WAL that started after its commit: `Tx::commit` still returns once the
//! change is on disk, as with `FULL`, but the next writer runs during the flush, and one flush
//! answers every commit made before it began (a group commit for every transaction).
//!
//! Why this is safe is the group writer's argument (`group/durable.rs`): SQLite syncs the WAL
//! before each checkpoint, so frames not yet flushed here are never lost to a WAL restart.
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};

use anyhow::Context;
use sqlx::{AnyConnection, Row};
use tokio::sync::oneshot;

type Waiter = oneshot::Sender<Result<(), String>>;

/// The thread that flushes one database's WAL for the transactions waiting on it.
pub(crate) struct WalFlush {
    tx: mpsc::Sender<Waiter>,
    /// Flushes done so far (for tests: a commit that wrote nothing waits for none).
    #[cfg_attr(not(test), allow(dead_code))]
    done: Arc<AtomicU64>,
}

impl WalFlush {
    /// A flusher for `conn`'s database when it is a file in WAL mode; `None` else (then each
    /// commit keeps `FULL` and flushes itself).
    pub(crate) async fn for_connection(conn: &mut AnyConnection) -> anyhow::Result<Option<Self>> {
        let Some(wal) = wal_file(conn).await? else {
            return Ok(None);
        };
        let (tx, rx) = mpsc::channel::<Waiter>();
        let done = Arc::new(AtomicU64::new(0));
        let counted = done.clone();
        std::thread::Builder::new()
            .name("tsunagu-tx-flush".into())
            .spawn(move || run(&wal, rx, &counted))
            .context("starting the transactions' WAL flush thread")?;
        Ok(Some(Self { tx, done }))
    }

    #[cfg(test)]
    pub(crate) fn flushes(&self) -> u64 {
        self.done.load(Ordering::Relaxed)
    }

    /// Returns once a flush that started after this call has finished.
    pub(crate) async fn flushed(&self) -> anyhow::Result<()> {
        let (tx, rx) = oneshot::channel();
        self.tx
            .send(tx)
            .map_err(|_| anyhow::anyhow!("the WAL flush thread stopped"))?;
        rx.await
            .map_err(|_| anyhow::anyhow!("the WAL flush thread stopped"))?
            .map_err(|e| anyhow::anyhow!("flushing the WAL to disk: {e}"))
    }
}

fn run(wal: &Path, rx: mpsc::Receiver<Waiter>, done: &AtomicU64) {
    while let Ok(first) = rx.recv() {
        // Every commit made before this flush starts is covered by it.
        let mut waiting = vec![first];
        waiting.extend(rx.try_iter());
        let flushed = flush(wal).map_err(|e| e.to_string());
        done.fetch_add(1, Ordering::Relaxed);
        for w in waiting {
            let _ = w.send(flushed.clone());
        }
    }
}

/// `fdatasync` of the WAL file.
pub(crate) fn flush(wal: &Path) -> std::io::Result<()> {
    match std::fs::File::open(wal) {
        Ok(f) => f.sync_data(),
        // SQLite deletes the WAL only after checkpointing it into the database file and syncing
        // that on its last connection's close: nothing is left to flush.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// The WAL file of `conn`'s main database, if it is a file in WAL mode.
pub(crate) async fn wal_file(conn: &mut AnyConnection) -> anyhow::Result<Option<PathBuf>> {
    let mode: String = sqlx::query("PRAGMA journal_mode")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Ok(None);
    }
    let file: String = sqlx::query("SELECT file FROM pragma_database_list WHERE name = 'main'")
        .fetch_one(&mut *conn)
        .await?
        .try_get(0)?;
    Ok((!file.is_empty()).then(|| PathBuf::from(format!("{file}-wal"))))
}
