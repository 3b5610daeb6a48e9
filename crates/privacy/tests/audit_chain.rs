#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use tsunagu_privacy::audit::{self, Actor, AuditEntry, Verdict};
use tsunagu_testkit::test_db;

async fn three_entries(db: &tsunagu_store::Db) {
    for (i, action) in ["sign_in", "conversation.read", "message.reply"]
        .into_iter()
        .enumerate()
    {
        let e = AuditEntry {
            clinic_id: None,
            actor: &Actor::Staff("s1".into()),
            action,
            subject_type: Some("conversation"),
            subject_ids: &["c1"],
            source_ip: Some("127.0.0.1"),
        };
        audit::record_now(db, e, 1000 + i as i64).await.unwrap();
    }
}

#[tokio::test]
async fn an_untouched_chain_verifies() {
    let t = test_db().await;
    three_entries(&t.db).await;
    assert_eq!(
        audit::verify(&t.db).await.unwrap(),
        Verdict::Intact { rows: 3 }
    );
}

#[tokio::test]
async fn an_edited_row_breaks_the_chain() {
    let t = test_db().await;
    three_entries(&t.db).await;
    sqlx::query("UPDATE audit_events SET action = 'nothing' WHERE action = 'conversation.read'")
        .execute(t.db.pool())
        .await
        .unwrap();
    assert!(matches!(
        audit::verify(&t.db).await.unwrap(),
        Verdict::Broken { .. }
    ));
}

#[tokio::test]
async fn a_deleted_row_breaks_the_chain() {
    let t = test_db().await;
    three_entries(&t.db).await;
    sqlx::query("DELETE FROM audit_events WHERE action = 'conversation.read'")
        .execute(t.db.pool())
        .await
        .unwrap();
    assert!(matches!(
        audit::verify(&t.db).await.unwrap(),
        Verdict::Broken { .. }
    ));
}

/// Reads' entries (grouped on SQLite) and changes' entries (inside their own transactions)
/// written at once from many tasks still make one unbroken chain, every entry in it once.
#[tokio::test]
async fn entries_written_concurrently_from_both_paths_make_one_chain() {
    let t = test_db().await;
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let db = t.db.clone();
            tokio::spawn(async move {
                let actor = Actor::Staff(format!("s{i}"));
                let id = format!("c{i}");
                let ids = [id.as_str()];
                let e = AuditEntry {
                    clinic_id: None,
                    actor: &actor,
                    action: if i % 4 == 0 {
                        "message.reply"
                    } else {
                        "conversation.read"
                    },
                    subject_type: Some("conversation"),
                    subject_ids: &ids,
                    source_ip: None,
                };
                if i % 4 == 0 {
                    let mut tx = db.begin().await.unwrap();
                    audit::record(tx.conn(), db.backend(), e, 2000 + i)
                        .await
                        .unwrap();
                    tx.commit().await.unwrap();
                } else {
                    audit::record_now(&db, e, 2000 + i).await.unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(
        audit::verify(&t.db).await.unwrap(),
        Verdict::Intact { rows: 40 }
    );
}
