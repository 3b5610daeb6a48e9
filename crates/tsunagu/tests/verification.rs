//! Identity verification end to end, with the LINE sandbox as the patient's phone: card number
//! and birth date in chat link the identity to the record (its earlier conversation with it),
//! three wrong answers lock and tell staff, undo restores, staff links need a reason, and a
//! proxy is linked without merging.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::json;
use tsunagu_core::Clock;

const RECORD: &str = "0190aaaa-0000-7000-8000-000000000001";

async fn patient_says(app: &TestApp, text: &str) {
    let event = app.sandbox.user_text(PATIENT, text);
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
}

/// The clinic's record of 山田 花子: card A-123, born 1975-04-01.
async fn seed_record(app: &TestApp) {
    let now = app.clock.now_ms();
    sqlx::query(
        "INSERT INTO patients (id, clinic_id, display_name, birth_date, card_number, provisional, created_at, updated_at)
         VALUES ($1, $2, '山田 花子', '1975-04-01', 'A123', 0, $3, $3)",
    )
    .bind(RECORD)
    .bind(app.clinic.as_str())
    .bind(now)
    .execute(app.db.pool())
    .await
    .unwrap();
}

async fn one(app: &TestApp, sql: &str) -> String {
    sqlx::query_scalar(sql)
        .bind(PATIENT)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn identity(app: &TestApp) -> (String, String, i64) {
    sqlx::query_as("SELECT id, patient_id, verified FROM channel_identities WHERE external_id = $1")
        .bind(PATIENT)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

fn last_text(app: &TestApp) -> String {
    let d = app.sandbox.delivered_to(PATIENT);
    d.last()
        .and_then(|m| m["text"].as_str())
        .unwrap_or_default()
        .to_string()
}

async fn audits(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_line_patient_verifies_with_card_and_birth_date_and_undo_restores() {
    let app = spawn_app().await;
    patient_says(&app, "来週の予約を変更したいです").await;
    seed_record(&app).await;
    let (ident, provisional, verified) = identity(&app).await;
    assert_eq!(verified, 0);
    let conv: String = one(&app, "SELECT id FROM conversations WHERE thread_key = $1").await;

    patient_says(&app, "本人確認").await;
    assert!(
        last_text(&app).contains("診察券番号"),
        "{}",
        last_text(&app)
    );
    patient_says(&app, "ａ－１２３").await;
    assert!(last_text(&app).contains("生年月日"), "{}", last_text(&app));
    patient_says(&app, "昭和50年4月1日").await;
    assert!(
        last_text(&app).contains("本人確認ができました"),
        "{}",
        last_text(&app)
    );

    let (_, now_on, verified) = identity(&app).await;
    assert_eq!((now_on.as_str(), verified), (RECORD, 1));
    let owner: String = sqlx::query_scalar("SELECT patient_id FROM conversations WHERE id = $1")
        .bind(&conv)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        owner, RECORD,
        "the earlier conversation belongs to the record"
    );
    let gone: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM patients WHERE id = $1")
        .bind(&provisional)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(gone, 0, "the provisional patient is retired");
    let answers: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = $1 AND direction = 'in'",
    )
    .bind(&conv)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(answers, 4, "the answers are stored as usual");
    assert_eq!(audits(&app, "identity.verified").await, 1);
    let mut conn = app.db.pool().acquire().await.unwrap();
    assert!(tsunagu_privacy::verification::may_include_record_data(&mut conn, &ident).await);
    drop(conn);
    // The badge: the inbox reads patients.provisional of the conversation's patient.
    let badge: i64 = sqlx::query_scalar("SELECT p.provisional FROM conversations c JOIN patients p ON p.id = c.patient_id WHERE c.id = $1")
        .bind(&conv).fetch_one(app.db.pool()).await.unwrap();
    assert_eq!(badge, 0);

    let link: String = sqlx::query_scalar("SELECT id FROM identity_links")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let (status, body) = app
        .api_post(&format!("/api/v1/links/{link}/undo"), json!({}))
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, back_on, verified) = identity(&app).await;
    assert_eq!((back_on.as_str(), verified), (provisional.as_str(), 0));
    let owner: String = sqlx::query_scalar("SELECT patient_id FROM conversations WHERE id = $1")
        .bind(&conv)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(owner, provisional);
    let flag: i64 = sqlx::query_scalar("SELECT provisional FROM patients WHERE id = $1")
        .bind(&provisional)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(flag, 1);
    assert_eq!(audits(&app, "identity.link_undone").await, 1);
    let (status, _) = app
        .api_post(&format!("/api/v1/links/{link}/undo"), json!({}))
        .await;
    assert_eq!(status, 409, "an undone link stays undone");
}

#[tokio::test]
async fn three_wrong_birth_dates_lock_verification_and_tell_staff() {
    let app = spawn_app().await;
    seed_record(&app).await;
    patient_says(&app, "本人確認").await;
    for _ in 0..3 {
        patient_says(&app, "A123").await;
        patient_says(&app, "1975/4/2").await;
    }
    assert!(last_text(&app).contains("お電話"), "{}", last_text(&app));
    assert!(
        !app.sandbox
            .delivered_to(PATIENT)
            .iter()
            .any(|m| m["text"].as_str().unwrap_or("").contains("生年月日が")),
        "never says which part was wrong"
    );
    let note: i64 = app.count("SELECT COUNT(*) FROM messages WHERE direction = 'system' AND body = '本人確認が3回失敗したためロックされました'").await;
    assert_eq!(note, 1);
    let priority = app
        .count(&format!(
            "SELECT priority FROM conversations WHERE thread_key = '{PATIENT}'"
        ))
        .await;
    assert!(priority >= 1);
    assert_eq!(audits(&app, "identity.verification_locked").await, 1);

    // Further tries are refused, even with the right answers.
    patient_says(&app, "本人確認").await;
    assert!(last_text(&app).contains("お電話"));
    patient_says(&app, "A123").await;
    let (_, _, verified) = identity(&app).await;
    assert_eq!(verified, 0);
    // A day later the lock has run out.
    app.clock.advance(chrono::Duration::hours(25));
    patient_says(&app, "本人確認").await;
    assert!(
        last_text(&app).contains("診察券番号"),
        "{}",
        last_text(&app)
    );
}

#[tokio::test]
async fn staff_link_requires_a_reason_and_a_proxy_is_not_merged() {
    let app = spawn_app().await;
    patient_says(&app, "こんにちは").await;
    seed_record(&app).await;
    let (ident, provisional, _) = identity(&app).await;

    let (status, body) = app
        .api_post(
            &format!("/api/v1/identities/{ident}/link"),
            json!({"patient_id": RECORD, "reason": " "}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (422, Some("reason_required")),
        "{body}"
    );
    let (status, body) = app
        .api_post(
            &format!("/api/v1/identities/{ident}/link"),
            json!({"patient_id": RECORD, "reason": "受付で診察券を確認"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["how"], "staff");
    let (_, on, verified) = identity(&app).await;
    assert_eq!((on.as_str(), verified), (RECORD, 1));
    assert_eq!(audits(&app, "identity.linked").await, 1);

    // The mother's LINE acts for a child's record: linked as a proxy, each keeps their own.
    let child = "0190aaaa-0000-7000-8000-000000000002";
    sqlx::query("INSERT INTO patients (id, clinic_id, display_name, provisional, created_at, updated_at) VALUES ($1, $2, '山田 太郎', 0, 1, 1)")
        .bind(child).bind(app.clinic.as_str()).execute(app.db.pool()).await.unwrap();
    let (status, body) = app
        .api_post(
            &format!("/api/v1/patients/{child}/proxies"),
            json!({"proxy_identity_id": ident, "relationship": "parent"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = app
        .api_get(&format!("/api/v1/patients/{child}/proxies"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["items"][0]["relationship"], "parent");
    let (_, on, _) = identity(&app).await;
    assert_eq!(on, RECORD, "a proxy is not merged");
    let (status, _) = app
        .api_post(
            &format!("/api/v1/patients/{child}/proxies"),
            json!({"proxy_identity_id": ident, "relationship": "uncle"}),
        )
        .await;
    assert_eq!(status, 422);
    assert_ne!(provisional, RECORD);
}

#[test]
fn birth_dates_read_as_the_patient_records_read_them() {
    for s in [
        "1975-04-01",
        "1975/4/1",
        "19750401",
        "昭和50年4月1日",
        "S50.4.1",
        "１９７５年４月１日",
        "令和元年5月1日",
        "H1.1.8",
    ] {
        let ours = tsunagu_privacy::verification::normalize::birth_date(s);
        let theirs = tsunagu_contacts::BirthDate::parse(s).ok().map(|d| d.iso());
        assert_eq!(ours, theirs, "{s}");
    }
}
