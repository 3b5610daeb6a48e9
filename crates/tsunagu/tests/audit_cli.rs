//! Operator commands as an operator runs them: `audit verify`, `migrate`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use std::process::Command;
use tsunagu_privacy::audit::{self, Actor, AuditEntry};

#[tokio::test]
async fn audit_verify_detects_an_edited_row() {
    let t = tsunagu_testkit::test_db().await;
    for action in ["auth.sign_in", "conversation.read", "message.reply"] {
        let e = AuditEntry {
            clinic_id: None,
            actor: &Actor::System,
            action,
            subject_type: None,
            subject_ids: &[],
            source_ip: None,
        };
        audit::record_now(&t.db, e, 1).await.unwrap();
    }
    let verify = || {
        Command::new(env!("CARGO_BIN_EXE_tsunagu"))
            .args(["audit", "verify"])
            .env("TSUNAGU_DATABASE_URL", &t.url)
            .env_remove("TSUNAGU_CONFIG")
            .output()
            .unwrap()
    };
    let ok = verify();
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).contains("intact (3 rows)"));
    sqlx::query("UPDATE audit_events SET actor_kind = 'staff' WHERE action = 'conversation.read'")
        .execute(t.db.pool())
        .await
        .unwrap();
    let bad = verify();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("broken at row"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}

#[test]
fn migrate_creates_a_sqlite_file_named_by_url_that_does_not_exist_yet() {
    let dir = std::env::temp_dir().join(format!("tsunagu-migrate-{}", std::process::id()));
    let file = dir.join("nested").join("new.db");
    let _ = std::fs::remove_dir_all(&dir);
    let out = Command::new(env!("CARGO_BIN_EXE_tsunagu"))
        .arg("migrate")
        .env(
            "TSUNAGU_DATABASE_URL",
            format!("sqlite://{}", file.display()),
        )
        .env("TSUNAGU_ENCRYPTION_KEY", "0".repeat(64))
        .env_remove("TSUNAGU_CONFIG")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(file.exists());
    let _ = std::fs::remove_dir_all(&dir);
}
