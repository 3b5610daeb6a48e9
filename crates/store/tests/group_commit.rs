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
