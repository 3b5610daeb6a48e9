use anyhow::Context;
use sqlx::{Connection, Executor};
use std::sync::atomic::{AtomicU32, Ordering};
use tokio::sync::OnceCell;
use tsunagu_store::Db;

/// A database that exists for one test. SQLite files live in a temp dir removed on drop;
/// PostgreSQL databases are cloned from a migrated template and dropped by a later run.
pub struct TestDb {
    pub db: Db,
    pub url: String,
    _dir: Option<TempDir>,
}

struct TempDir(std::path::PathBuf);
impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static COUNTER: AtomicU32 = AtomicU32::new(0);
static TEMPLATE: OnceCell<String> = OnceCell::const_new();

/// A fresh, migrated database for one test.
pub async fn test_db() -> TestDb {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(url) if !url.is_empty() => postgres_db(&url)
            .await
            .unwrap_or_else(|e| panic!("PostgreSQL test database: {e:#}")),
        _ => sqlite_db()
            .await
            .unwrap_or_else(|e| panic!("SQLite test database: {e:#}")),
    }
}

/// Which backend tests run on, for messages that say so.
pub fn backend_name() -> &'static str {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(u) if !u.is_empty() => "PostgreSQL",
        _ => "SQLite",
    }
}

async fn sqlite_db() -> anyhow::Result<TestDb> {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let dir = std::env::temp_dir().join(format!(
        "tsunagu-test-{}-{n}-{}",
        std::process::id(),
        uuid::Uuid::now_v7()
    ));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}/test.db?mode=rwc", dir.display());
    let db = Db::connect_and_migrate(&url).await?;
    Ok(TestDb {
        db,
        url,
        _dir: Some(TempDir(dir)),
    })
}

fn with_database(url: &str, name: &str) -> anyhow::Result<String> {
    let mut u = url::Url::parse(url).context("TEST_DATABASE_URL is not a URL")?;
    u.set_path(&format!("/{name}"));
    Ok(u.to_string())
}

async fn postgres_db(admin_url: &str) -> anyhow::Result<TestDb> {
    let template = TEMPLATE
        .get_or_try_init(|| async { make_template(admin_url).await })
        .await?
        .clone();
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let name = format!("tsunagu_t_{}_{n}", std::process::id());
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .context("connecting to TEST_DATABASE_URL")?;
    admin
        .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
        .await?;
    // CREATE DATABASE … TEMPLATE fails while another session uses the template; retry briefly.
    let mut tries = 0;
    loop {
        match admin
            .execute(format!("CREATE DATABASE {name} TEMPLATE {template}").as_str())
            .await
        {
            Ok(_) => break,
            Err(e) if tries < 50 => {
                tries += 1;
                tracing::debug!("template busy: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            Err(e) => return Err(e).context("cloning the template database"),
        }
    }
    let url = with_database(admin_url, &name)?;
    let db = Db::connect_and_migrate(&url).await?;
    Ok(TestDb {
        db,
        url,
        _dir: None,
    })
}

/// One migrated template per migration set, shared by every test process; stale per-test
/// databases from processes that have exited are dropped here.
async fn make_template(admin_url: &str) -> anyhow::Result<String> {
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .context("connecting to TEST_DATABASE_URL")?;
    admin.execute("SELECT pg_advisory_lock(727274)").await?;
    let result = async {
        let stale: Vec<String> = sqlx::query_scalar(
            "SELECT datname FROM pg_database WHERE datname LIKE 'tsunagu\\_t\\_%'",
        )
        .fetch_all(&mut admin)
        .await?;
        for db in stale {
            let pid: Option<u32> = db.split('_').nth(2).and_then(|p| p.parse().ok());
            let alive = pid.is_some_and(|p| std::path::Path::new(&format!("/proc/{p}")).exists());
            if !alive {
                let _ = admin
                    .execute(format!("DROP DATABASE IF EXISTS {db} WITH (FORCE)").as_str())
                    .await;
            }
        }
        let name = format!("tsunagu_tpl_{}", migrations_fingerprint());
        let exists: Option<i32> =
            sqlx::query_scalar("SELECT 1 FROM pg_database WHERE datname = $1")
                .bind(&name)
                .fetch_optional(&mut admin)
                .await?;
        if exists.is_none() {
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await?;
            let db = Db::connect_and_migrate(&with_database(admin_url, &name)?).await?;
            db.close().await;
        }
        anyhow::Ok(name)
    }
    .await;
    admin.execute("SELECT pg_advisory_unlock(727274)").await?;
    result
}

fn migrations_fingerprint() -> String {
    Db::migrations_fingerprint(tsunagu_store::Backend::Postgres)
}
