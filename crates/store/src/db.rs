use anyhow::Context;
use sha2::Digest;
use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection, Executor, Transaction};
use std::str::FromStr;
use std::sync::{Arc, Once};
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

use crate::wal_flush::WalFlush;

static DRIVERS: Once = Once::new();

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database handle shared by the web server and the workers.
#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite has one writer: writing transactions queue here instead of failing with
    /// SQLITE_BUSY when a deferred transaction upgrades to a write lock.
    write_lock: Arc<Mutex<()>>,
    /// Kept for connections outside the pool (PostgreSQL LISTEN). Never logged.
    url: Arc<str>,
    /// The group-commit writer (`group.rs`), started on first use.
    pub(crate) group:
        Arc<std::sync::Mutex<Option<tokio::sync::mpsc::Sender<crate::group::Pending>>>>,
    /// The flush thread of `Tx` commits on a SQLite file (`wal_flush`), found on first use.
    wal_flush: Arc<tokio::sync::OnceCell<Option<Arc<WalFlush>>>>,
}

/// A writing transaction. On SQLite it also holds the in-process writer slot.
pub struct Tx {
    inner: TxInner,
}

enum TxInner {
    /// PostgreSQL, or a SQLite database without a WAL file: the driver's transaction, each
    /// commit flushed by the database itself.
    Plain {
        tx: Transaction<'static, Any>,
        _writer: Option<OwnedMutexGuard<()>>,
    },
    /// A SQLite file in WAL mode: committed with `NORMAL` and flushed after the writer slot is
    /// given back (`wal_flush`).
    Wal(WalTx),
}

struct WalTx {
    conn: Option<PoolConnection<Any>>,
    writer: Option<OwnedMutexGuard<()>>,
    flush: Arc<WalFlush>,
    /// The connection's `total_changes()` at BEGIN: unchanged at COMMIT means nothing was
    /// written, so there is nothing to wait for (a claim that found no job, say).
    changes_at_begin: i64,
}

async fn total_changes(conn: &mut AnyConnection) -> anyhow::Result<i64> {
    sqlx::query_scalar("SELECT total_changes()")
        .fetch_one(conn)
        .await
        .context("reading the connection's change count")
}

impl Tx {
    pub fn conn(&mut self) -> &mut AnyConnection {
        match &mut self.inner {
            TxInner::Plain { tx, .. } => tx,
            TxInner::Wal(w) => w.conn.as_deref_mut().unwrap_or_else(|| {
                unreachable!(
                    "a transaction's connection is taken only by commit, which consumes it"
                )
            }),
        }
    }

    /// Commits; returns once the change is on disk.
    pub async fn commit(self) -> anyhow::Result<()> {
        match self.inner {
            TxInner::Plain { tx, .. } => tx.commit().await.context("committing the transaction"),
            TxInner::Wal(mut w) => {
                let mut conn = w.conn.take().context("a transaction committed twice")?;
                let wrote = match total_changes(&mut conn).await {
                    Ok(n) => n != w.changes_at_begin,
                    Err(e) => {
                        w.conn = Some(conn); // rolled back on drop
                        return Err(e);
                    }
                };
                if let Err(e) = conn.execute("COMMIT").await {
                    w.conn = Some(conn); // rolled back on drop
                    return Err(e).context("committing the transaction");
                }
                w.writer.take();
                let restored = conn.execute("PRAGMA synchronous = FULL").await;
                if restored.is_err() {
                    // Never hand back a connection whose own commits would skip their flush.
                    conn.close_on_drop();
                }
                drop(conn);
                if !wrote {
                    return Ok(());
                }
                w.flush.flushed().await
            }
        }
    }
}

impl Drop for WalTx {
    /// Not committed: rolled back, and the connection made whole, before the writer slot and the
    /// connection are given back.
    fn drop(&mut self) {
        let Some(mut conn) = self.conn.take() else {
            return;
        };
        let writer = self.writer.take();
        match tokio::runtime::Handle::try_current() {
            Ok(rt) => {
                rt.spawn(async move {
                    let undone = conn.execute("ROLLBACK").await.is_ok()
                        && conn.execute("PRAGMA synchronous = FULL").await.is_ok();
                    if !undone {
                        conn.close_on_drop();
                    }
                    drop(conn);
                    drop(writer);
                });
            }
            // No runtime left to roll back on: closing the connection rolls it back.
            Err(_) => drop(conn.detach()),
        }
    }
}

impl Db {
    /// Connects without migrating. The error says which database could not be reached.
    pub async fn connect(url: &str) -> anyhow::Result<Db> {
        DRIVERS.call_once(sqlx::any::install_default_drivers);
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            anyhow::bail!("unsupported database URL scheme (use sqlite:// or postgres://)");
        };
        let url = match backend {
            Backend::Sqlite => {
                ensure_sqlite_parent_dir(url)?;
                sqlite_create_if_missing(url)
            }
            Backend::Postgres => url.to_string(),
        };
        let opts = AnyConnectOptions::from_str(&url).context("reading the database URL")?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            // A SQLite connection is a local file that cannot go stale: no ping (a trip to its
            // connection thread) before every use. PostgreSQL connections are still checked.
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers run beside the writer; FULL makes each commit durable.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = FULL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        conn.execute(crate::search::PENDING_TABLE).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(opts)
            .await
            .with_context(|| format!("connecting to the {} database", backend.name()))?;
        Ok(Db {
            pool,
            backend,
            write_lock: Arc::new(Mutex::new(())),
            url: Arc::from(url),
            group: Default::default(),
            wal_flush: Default::default(),
        })
    }

    /// Connects and applies the embedded migrations for this dialect.
    pub async fn connect_and_migrate(url: &str) -> anyhow::Result<Db> {
        let db = Db::connect(url).await?;
        db.migrate().await?;
        Ok(db)
    }

    pub async fn migrate(&self) -> anyhow::Result<()> {
        let migrator = match self.backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        migrator
            .run(&self.pool)
            .await
            .context("applying database migrations")?;
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("connecting to index messages")?;
        crate::search::backfill(&mut conn)
            .await
            .context("indexing earlier messages for search")?;
        crate::search::backfill_notes(&mut conn)
            .await
            .context("indexing earlier notes for search")?;
        crate::search::split_kinds(&mut conn)
            .await
            .context("moving notes and patients to their own search index")
    }

    /// Identifies a migration set, so test templates are rebuilt when a migration changes.
    pub fn migrations_fingerprint(backend: Backend) -> String {
        let migrator = match backend {
            Backend::Sqlite => sqlx::migrate!("migrations/sqlite"),
            Backend::Postgres => sqlx::migrate!("migrations/postgres"),
        };
        let mut h = sha2::Sha256::new();
        for m in migrator.iter() {
            h.update(m.version.to_le_bytes());
            h.update(&m.checksum);
        }
        hex::encode(&h.finalize()[..8])
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The URL this handle was opened with (contains credentials: never log it).
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Begins a transaction that may write.
    pub async fn begin(&self) -> anyhow::Result<Tx> {
        if self.backend == Backend::Postgres {
            let tx = self.pool.begin().await.context("beginning a transaction")?;
            return Ok(Tx {
                inner: TxInner::Plain { tx, _writer: None },
            });
        }
        let writer = self.write_lock.clone().lock_owned().await;
        let mut conn = self
            .pool
            .acquire()
            .await
            .context("beginning a transaction")?;
        let flush = self
            .wal_flush
            .get_or_try_init(|| async {
                WalFlush::for_connection(&mut conn)
                    .await
                    .map(|f| f.map(Arc::new))
            })
            .await
            .context("finding the WAL to flush")?
            .clone();
        // IMMEDIATE takes the write lock at BEGIN: a deferred transaction that read first
        // would fail with SQLITE_BUSY_SNAPSHOT if an autocommit write slipped in meanwhile,
        // whereas other writers now wait (busy_timeout) for this one.
        let Some(flush) = flush else {
            let tx = Transaction::begin(conn, Some("BEGIN IMMEDIATE".into()))
                .await
                .context("beginning a transaction")?;
            return Ok(Tx {
                inner: TxInner::Plain {
                    tx,
                    _writer: Some(writer),
                },
            });
        };
        conn.execute("PRAGMA synchronous = NORMAL")
            .await
            .context("letting the commit leave its flush for after the writer slot")?;
        let mut w = WalTx {
            conn: Some(conn),
            writer: Some(writer),
            flush,
            changes_at_begin: 0,
        };
        if let Some(c) = w.conn.as_mut() {
            c.execute("BEGIN IMMEDIATE")
                .await
                .context("beginning a transaction")?;
            w.changes_at_begin = total_changes(c).await?;
        }
        Ok(Tx {
            inner: TxInner::Wal(w),
        })
    }

    /// The in-process writer slot (SQLite's one writer); `None` on PostgreSQL.
    pub(crate) async fn writer_slot(&self) -> Option<OwnedMutexGuard<()>> {
        match self.backend {
            Backend::Sqlite => Some(self.write_lock.clone().lock_owned().await),
            Backend::Postgres => None,
        }
    }

    /// The statement that begins a writing transaction (see `begin`).
    pub(crate) fn begin_statement(&self) -> &'static str {
        match self.backend {
            Backend::Sqlite => "BEGIN IMMEDIATE",
            Backend::Postgres => "BEGIN",
        }
    }

    /// True when the database answers (for `/readyz`).
    pub async fn ping(&self) -> bool {
        match self.pool.acquire().await {
            Ok(mut c) => c.ping().await.is_ok(),
            Err(_) => false,
        }
    }

    pub async fn close(&self) {
        self.pool.close().await;
    }
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

/// A SQLite file named by the operator is created when it does not exist yet, as the default
/// path is (sqlx opens read-write without creating unless `mode=rwc`); an explicit `mode=` wins.
fn sqlite_create_if_missing(url: &str) -> String {
    if url.contains("mode=") || url.contains(":memory:") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

fn ensure_sqlite_parent_dir(url: &str) -> anyhow::Result<()> {
    let path = url
        .trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:");
    let path = path.split('?').next().unwrap_or("");
    if path.is_empty() || path == ":memory:" {
        return Ok(());
    }
    if let Some(parent) = std::path::Path::new(path).parent() {
        if !parent.as_os_str().is_empty() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("creating the data directory {}", parent.display()))?;
        }
    }
    Ok(())
}

/// Whether an error is a unique-constraint violation (a domain outcome, not a failure).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::Database(e) => {
            e.is_unique_violation()
                || e.code()
                    .is_some_and(|c| c == "23505" || c == "2067" || c == "1555")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Db {
        fn flushes(&self) -> u64 {
            self.wal_flush
                .get()
                .and_then(|f| f.as_ref())
                .map_or(0, |f| f.flushes())
        }
    }

    #[tokio::test]
    async fn a_commit_waits_for_a_flush_only_when_it_wrote() {
        let dir = std::env::temp_dir().join(format!("tsunagu-tx-{}", tsunagu_core::new_id()));
        let url = format!("sqlite://{}/t.db", dir.display());
        let db = Db::connect(&url).await.expect("a database");
        sqlx::query("CREATE TABLE t (x INTEGER)")
            .execute(db.pool())
            .await
            .expect("a table");
        let tx = db.begin().await.expect("begun");
        tx.commit().await.expect("committed");
        assert_eq!(db.flushes(), 0, "nothing written, nothing to wait for");
        let mut tx = db.begin().await.expect("begun");
        sqlx::query("INSERT INTO t VALUES (1)")
            .execute(tx.conn())
            .await
            .expect("inserted");
        tx.commit().await.expect("committed");
        assert_eq!(db.flushes(), 1, "a write waits for its flush");
        db.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
