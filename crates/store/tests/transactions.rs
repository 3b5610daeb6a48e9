//! Writing transactions (`Db::begin`): on a SQLite file each commits without holding the writer
//! slot through its flush (`wal_flush`); rollback, concurrency and the connections handed back
//! must be as before. Run on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use tsunagu_store::{clinics, Backend, Db};
use tsunagu_testkit::test_db;

async fn organizations(db: &Db) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM organizations")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_transaction_dropped_uncommitted_changes_nothing_and_frees_the_writer() {
    let t = test_db().await;
    let before = organizations(&t.db).await;
    {
        let mut tx = t.db.begin().await.unwrap();
        clinics::create_organization(tx.conn(), "医療法人取消会", 1)
            .await
            .unwrap();
    }
    // The next writer gets the slot (the rollback gave it back) and commits.
    let mut tx = tokio::time::timeout(std::time::Duration::from_secs(10), t.db.begin())
        .await
        .expect("the writer slot came back")
        .unwrap();
    clinics::create_organization(tx.conn(), "医療法人確定会", 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert_eq!(organizations(&t.db).await, before + 1);
}

#[tokio::test]
async fn concurrent_transactions_each_commit_once() {
    let t = test_db().await;
    let before = organizations(&t.db).await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let db = t.db.clone();
            tokio::spawn(async move {
                let mut tx = db.begin().await.unwrap();
                clinics::create_organization(tx.conn(), &format!("医療法人{i}"), 1)
                    .await
                    .unwrap();
                if i % 5 == 0 {
                    drop(tx); // some give up
                } else {
                    tx.commit().await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(organizations(&t.db).await, before + 32);
}

#[tokio::test]
async fn connections_handed_back_flush_their_own_writes_again() {
    let t = test_db().await;
    if t.db.backend() != Backend::Sqlite {
        return; // PostgreSQL has no per-connection flush setting to restore
    }
    for i in 0..20 {
        let mut tx = t.db.begin().await.unwrap();
        clinics::create_organization(tx.conn(), &format!("医療法人{i}"), 1)
            .await
            .unwrap();
        if i % 2 == 0 {
            tx.commit().await.unwrap();
        }
    }
    // Every connection of the pool at once: an autocommit write on any of them is flushed
    // before it returns (synchronous = FULL, 2), as before transactions switched it.
    let mut held = Vec::new();
    for _ in 0..8 {
        let mut c = t.db.pool().acquire().await.unwrap();
        let level: i64 = sqlx::query_scalar("PRAGMA synchronous")
            .fetch_one(&mut *c)
            .await
            .unwrap();
        assert_eq!(level, 2, "a pooled connection left at NORMAL");
        held.push(c);
    }
}
