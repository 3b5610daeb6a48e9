//! Group commit: concurrent work shares one transaction, each piece under its own savepoint.
//! Runs on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use tsunagu_store::{clinics, Db, GroupWork};
use tsunagu_testkit::test_db;

fn create_org(name: String, then_fail: Option<&'static str>) -> GroupWork<String> {
    Box::new(move |conn| {
        let name = name.clone();
        Box::pin(async move {
            let id = clinics::create_organization(&mut *conn, &name, 1).await?;
            match then_fail {
                // A database error: on PostgreSQL it aborts the transaction until the rollback.
                Some("sql") => {
                    sqlx::query("SELECT * FROM no_such_table")
                        .execute(&mut *conn)
                        .await?;
                }
                Some(_) => anyhow::bail!("refused after writing"),
                None => {}
            }
            Ok(id.to_string())
        })
    })
}

async fn orgs(db: &Db) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM organizations ORDER BY name")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn concurrent_work_all_commits_and_a_failure_undoes_only_itself() {
    let t = test_db().await;
    let db = t.db.clone();
    let calls: Vec<_> = (0..60)
        .map(|i| {
            let db = db.clone();
            let fail = match i % 20 {
                7 => Some("sql"),
                13 => Some("app"),
                _ => None,
            };
            tokio::spawn(async move {
                (
                    i,
                    fail,
                    db.write_grouped(create_org(format!("org-{i:02}"), fail))
                        .await,
                )
            })
        })
        .collect();
    let mut expected = Vec::new();
    for c in calls {
        let (i, fail, result) = c.await.unwrap();
        match fail {
            Some(_) => assert!(result.is_err(), "work {i} should have failed"),
            None => {
                assert!(result.is_ok(), "work {i}: {result:?}");
                expected.push(format!("org-{i:02}"));
            }
        }
    }
    assert_eq!(
        orgs(&db).await,
        expected,
        "committed exactly the work that succeeded"
    );
    // The writer keeps going after failures.
    db.write_grouped(create_org("org-after".into(), None))
        .await
        .unwrap();
    assert!(orgs(&db).await.contains(&"org-after".to_string()));
}

/// Staged work: its first statement (an organization, counted) goes with other works' in one
/// call; `then` checks what that call said and may fail or write more.
struct Org {
    name: String,
    fail: Option<&'static str>,
}

impl tsunagu_store::Staged for Org {
    type Output = String;
    type Queued = String;

    fn first(&self, b: &mut tsunagu_store::batch::Batch) -> anyhow::Result<String> {
        let id = tsunagu_core::new_id();
        b.arg(id.clone());
        b.arg(self.name.clone());
        b.push_counted(
            "INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, 1)",
            None,
            "org_created",
            "creating an organization",
        );
        if self.fail == Some("shared") {
            // Fails the whole shared call: which work did it is unknown to the writer.
            b.push("SELECT * FROM no_such_table", "reading what is not there");
        }
        Ok(id)
    }

    fn then<'c>(
        &'c self,
        conn: &'c mut sqlx::AnyConnection,
        id: String,
        rows: Vec<sqlx::any::AnyRow>,
    ) -> tsunagu_store::BoxFuture<'c, anyhow::Result<String>> {
        Box::pin(async move {
            // Only this work's rows: its own insert, counted.
            anyhow::ensure!(rows.len() == 1, "{} rows for one work", rows.len());
            anyhow::ensure!(tsunagu_store::batch::changed(&rows, "org_created"));
            match self.fail {
                Some("then") => anyhow::bail!("refused after writing"),
                Some("sql") => {
                    sqlx::query("SELECT * FROM no_such_table")
                        .execute(&mut *conn)
                        .await?;
                }
                _ => {}
            }
            Ok(id)
        })
    }
}

#[tokio::test]
async fn staged_work_shares_calls_and_a_failure_undoes_only_itself() {
    let t = test_db().await;
    let db = t.db.clone();
    let calls: Vec<_> = (0..60)
        .map(|i| {
            let db = db.clone();
            let fail = match i % 20 {
                3 => Some("shared"),
                7 => Some("sql"),
                13 => Some("then"),
                _ => None,
            };
            tokio::spawn(async move {
                let name = format!("staged-{i:02}");
                (i, fail, db.write_staged(Org { name, fail }).await)
            })
        })
        .collect();
    let mut expected = Vec::new();
    for c in calls {
        let (i, fail, result) = c.await.unwrap();
        match fail {
            Some(_) => assert!(result.is_err(), "work {i} should have failed"),
            None => {
                assert!(result.is_ok(), "work {i}: {result:?}");
                expected.push(format!("staged-{i:02}"));
            }
        }
    }
    assert_eq!(
        orgs(&db).await,
        expected,
        "committed exactly the work that succeeded"
    );
}

/// On a SQLite file the writer commits without flushing and a thread of its own flushes the WAL
/// before answering, while checkpoints run beside the writer (`group::durable`). Through a storm
/// of large writes every answered write is there, and the WAL still starts over (its file stays
/// far below what was written): a writer that never checkpointed would grow it without bound.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_of_writes_is_all_answered_stored_and_the_wal_stays_bounded() {
    let t = test_db().await;
    let db = t.db.clone();
    let (tasks, each, size) = (32, 320, 16 * 1024);
    let calls: Vec<_> = (0..tasks)
        .map(|task| {
            let db = db.clone();
            tokio::spawn(async move {
                for i in 0..each {
                    let name = format!("storm-{task:02}-{i:03}-{}", "x".repeat(size));
                    db.write_grouped(create_org(name, None)).await.unwrap();
                }
            })
        })
        .collect();
    for c in calls {
        c.await.unwrap();
    }
    let stored: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM organizations WHERE name LIKE 'storm-%'")
            .fetch_one(db.pool())
            .await
            .unwrap();
    assert_eq!(
        stored,
        (tasks * each) as i64,
        "every answered write is stored"
    );
    if db.backend() == tsunagu_store::Backend::Sqlite {
        let file: String =
            sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
                .fetch_one(db.pool())
                .await
                .unwrap();
        let wal = std::fs::metadata(format!("{file}-wal")).unwrap().len();
        let written = (tasks * each * size) as u64;
        assert!(
            wal < written * 2 / 3,
            "the WAL ({wal} bytes) started over while {written} bytes were written"
        );
    }
}
