//! Verification by a one-time code e-mailed to the address on the record, end to end: the LINE
//! sandbox is the patient's phone and a real SMTP server (aiosmtpd, tests/support/smtp_sink.py)
//! the mailbox. Without python3 + aiosmtpd the mail tests say so loudly, and fail when
//! TSUNAGU_REQUIRE_BROWSER_TESTS=1 (as in CI).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::smtp::{free_port, smtp, start_sink};
use common::{spawn_app, spawn_app_with, TestApp, ACCESS_TOKEN, PATIENT};
use tsunagu_core::Clock;

const RECORD: &str = "0190aaaa-0000-7000-8000-0000000000c1";
const EMAIL: &str = "hanako.yamada@example.jp";

async fn app_mailing_to(port: u16) -> TestApp {
    let app = spawn_app_with(|s| s.smtp = Some(smtp(port))).await;
    let now = app.clock.now_ms();
    sqlx::query(
        "INSERT INTO patients (id, clinic_id, display_name, birth_date, card_number, email, provisional, created_at, updated_at)
         VALUES ($1, $2, '山田 花子', '1975-04-01', 'A123', $3, 0, $4, $4)",
    )
    .bind(RECORD)
    .bind(app.clinic.as_str())
    .bind(EMAIL)
    .bind(now)
    .execute(app.db.pool())
    .await
    .unwrap();
    app
}

async fn says(app: &TestApp, text: &str) -> String {
    let event = app.sandbox.user_text(PATIENT, text);
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
    let d = app.sandbox.delivered_to(PATIENT);
    let last = d
        .last()
        .and_then(|m| m["text"].as_str())
        .unwrap_or_default();
    assert!(
        !last.contains(EMAIL) && !last.contains("@example.jp"),
        "{last}"
    );
    last.to_string()
}

fn code_in(mail: &serde_json::Value) -> String {
    let body = mail["body"].as_str().unwrap();
    let at = body.find("本人確認コード: ").expect(body) + "本人確認コード: ".len();
    body[at..].chars().take(6).collect()
}

async fn linked(app: &TestApp) -> (String, i64) {
    sqlx::query_as("SELECT patient_id, verified FROM channel_identities WHERE external_id = $1")
        .bind(PATIENT)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    app.count(sql).await
}

#[tokio::test]
async fn a_code_emailed_to_the_address_on_file_links_the_identity() {
    let Some(sink) = start_sink() else { return };
    let app = app_mailing_to(sink.port).await;
    assert!(says(&app, "本人確認").await.contains("「コード」"));
    assert!(says(&app, "コード").await.contains("診察券番号"));
    let unknown = says(&app, "Z-999").await;
    assert!(unknown.contains("6桁のコード"), "{unknown}");
    assert!(says(&app, "中止").await.contains("中止しました"));
    assert!(sink.mails().is_empty(), "no record, no mail");

    says(&app, "コード").await;
    let known = says(&app, "ａ－１２３").await;
    assert_eq!(
        known, unknown,
        "the reply never tells whether the card exists"
    );
    let mail = sink.mail(1);
    assert_eq!(mail["rcpt_tos"], serde_json::json!([EMAIL]));
    assert!(mail["subject"]
        .as_str()
        .unwrap()
        .contains("さくら内科 本人確認コード"));
    let body = mail["body"].as_str().unwrap();
    let code = code_in(&mail);
    assert!(
        body.contains(&format!("さくら内科 本人確認コード: {code}（10分間有効）")),
        "{body}"
    );
    assert!(!body.contains("1975") && !body.contains("山田") && !body.contains("A123"));

    let done = says(&app, &code).await;
    assert!(done.contains("本人確認ができました"), "{done}");
    assert_eq!(linked(&app).await, (RECORD.to_string(), 1));
    let how = "SELECT COUNT(*) FROM identity_links WHERE how = 'code' AND undone_at IS NULL";
    assert_eq!(count(&app, how).await, 1);
    let verified = "SELECT COUNT(*) FROM audit_events WHERE action = 'identity.verified'";
    assert_eq!(count(&app, verified).await, 1);
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test]
async fn three_wrong_codes_lock_the_dialogue() {
    let Some(sink) = start_sink() else { return };
    let app = app_mailing_to(sink.port).await;
    says(&app, "コード").await;
    says(&app, "A123").await;
    let code = code_in(&sink.mail(1));
    let wrong = if code == "000000" { "111111" } else { "000000" };
    assert!(says(&app, wrong).await.contains("あと2回"));
    assert!(says(&app, wrong).await.contains("あと1回"));
    assert!(says(&app, wrong).await.contains("お電話ください"));
    let locked = "SELECT COUNT(*) FROM verification_sessions WHERE locked_until IS NOT NULL";
    assert_eq!(count(&app, locked).await, 1);
    let audit = "SELECT COUNT(*) FROM audit_events WHERE action = 'identity.verification_locked'";
    assert_eq!(count(&app, audit).await, 1);

    // The right code after the lock links nothing, and a new code is refused too.
    says(&app, &code).await;
    assert!(says(&app, "コード").await.contains("お電話ください"));
    assert_eq!(linked(&app).await.1, 0);
    assert_eq!(sink.mails().len(), 1);
}

#[tokio::test]
async fn a_failed_send_is_told_and_the_birth_date_still_works() {
    // Nothing listens on this port: the send fails like an SMTP outage.
    let app = app_mailing_to(free_port()).await;
    says(&app, "コード").await;
    let failed = says(&app, "A123").await;
    assert!(
        failed.contains("送信できませんでした") && failed.contains("生年月日"),
        "{failed}"
    );
    assert!(says(&app, "1975-04-01")
        .await
        .contains("本人確認ができました"));
    assert_eq!(linked(&app).await, (RECORD.to_string(), 1));
}

#[tokio::test]
async fn without_smtp_the_code_path_offers_the_birth_date() {
    let app = spawn_app().await;
    let reply = says(&app, "コード").await;
    assert!(
        reply.contains("ご利用いただけません") && reply.contains("診察券番号"),
        "{reply}"
    );
    assert!(!says(&app, "中止").await.contains("「コード」"));
    assert!(!says(&app, "本人確認").await.contains("「コード」"));
}
