//! Verification codes by SMS: the patient asks on LINE, the code goes to the phone on their
//! record through the clinic's SMS channel and the outbox (Twilio sandbox), and typing it back
//! on LINE links the LINE identity to the record. SMS is preferred over e-mail; without an
//! enabled SMS channel or a phone on file, e-mail is used.
use tsunagu_core::config::{SmtpSettings, SmtpTls};
use tsunagu_core::{ChannelId, Clock};

use crate::common::{ACCESS_TOKEN, PATIENT as LINE_USER};
use crate::support::{spawn_sms_app_with, SmsApp, CLINIC, PATIENT as PHONE};

const RECORD: &str = "0190aaaa-0000-7000-8000-0000000000c2";

/// An SMTP server that hangs up at once: a code that went by e-mail fails visibly. The port
/// stays held for the whole run, so no other test's server can take it (an HTTP server there
/// would wait for a request while the SMTP client waits for a greeting).
fn dead_smtp() -> SmtpSettings {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            drop(conn);
        }
    });
    SmtpSettings {
        host: "127.0.0.1".into(),
        port,
        from_address: "no-reply@sakura.example.jp".into(),
        tls: SmtpTls::None,
        timeout_seconds: 2,
        ..SmtpSettings::default()
    }
}

/// The SMS app with `[smtp]` unusable, and a record (card A123) with `phone` and an e-mail.
async fn app_with_record(phone: Option<&str>) -> SmsApp {
    let app = spawn_sms_app_with(|s| s.smtp = Some(dead_smtp())).await;
    let now = app.clock.now_ms();
    sqlx::query(
        "INSERT INTO patients (id, clinic_id, display_name, birth_date, card_number, phone, email, provisional, created_at, updated_at)
         VALUES ($1, $2, '山田 花子', '1975-04-01', 'A123', $3, 'hanako@example.jp', 0, $4, $4)",
    )
    .bind(RECORD)
    .bind(app.clinic.as_str())
    .bind(phone)
    .bind(now)
    .execute(app.db.pool())
    .await
    .unwrap();
    app
}

/// The LINE patient says `text`; the jobs run; LINE's last answer comes back.
async fn says(app: &SmsApp, text: &str) -> String {
    let event = app.sandbox.user_text(LINE_USER, text);
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
    let d = app.sandbox.delivered_to(LINE_USER);
    let last = d
        .last()
        .and_then(|m| m["text"].as_str())
        .unwrap_or_default();
    assert!(!last.contains(PHONE) && !last.contains("5678"), "{last}");
    last.to_string()
}

async fn line_identity(app: &SmsApp) -> (String, i64) {
    sqlx::query_as("SELECT patient_id, verified FROM channel_identities WHERE external_id = $1")
        .bind(LINE_USER)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

fn code_in(body: &str) -> String {
    let at = body.find("本人確認コード: ").expect(body) + "本人確認コード: ".len();
    body[at..].chars().take(6).collect()
}

#[tokio::test]
async fn a_code_texted_to_the_phone_on_file_links_the_line_identity() {
    let app = app_with_record(Some(PHONE)).await;
    says(&app, "コード").await;
    let asked = says(&app, "A123").await;
    assert!(!asked.contains("送信できませんでした"), "{asked}");
    let sms = app.sent();
    assert_eq!(sms.len(), 1, "one text, through Twilio: {sms:?}");
    assert_eq!(sms[0].from, CLINIC);
    let code = code_in(&sms[0].body);
    assert!(code.chars().all(|c| c.is_ascii_digit()) && code.len() == 6);
    assert!(sms[0]
        .body
        .starts_with(&format!("さくら内科 本人確認コード: {code}（10分間有効）")));
    assert!(!sms[0].body.contains("1975") && !sms[0].body.contains("A123"));

    // Kept like any message: in the record's SMS conversation, sent, with its grounds, and
    // staff see that a code went, not the code.
    let (patient, basis, body, status): (Option<String>, String, String, String) = sqlx::query_as(
        "SELECT c.patient_id, m.send_basis, m.body, m.status FROM messages m
         JOIN conversations c ON c.id = m.conversation_id
         WHERE m.channel_id = $1 AND m.direction = 'out'",
    )
    .bind(&app.sms_channel)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(patient.as_deref(), Some(RECORD));
    assert_eq!(basis, "requested_by_patient");
    assert_eq!(status, "sent");
    assert!(!body.contains(&code) && body.contains("••••••"), "{body}");

    let done = says(&app, &code).await;
    assert!(done.contains("本人確認ができました"), "{done}");
    assert_eq!(line_identity(&app).await, (RECORD.to_string(), 1));
}

#[tokio::test]
async fn a_patient_who_texted_stop_gets_no_code_and_can_use_the_birth_date() {
    let app = app_with_record(Some(PHONE)).await;
    app.patient_texts("STOP").await;
    app.run_jobs().await;
    says(&app, "コード").await;
    let failed = says(&app, "A123").await;
    assert!(
        failed.contains("送信できませんでした") && failed.contains("生年月日"),
        "{failed}"
    );
    assert_eq!(app.send_calls(), 0, "nothing attempted at Twilio");
    assert!(says(&app, "1975-04-01")
        .await
        .contains("本人確認ができました"));
    assert_eq!(line_identity(&app).await, (RECORD.to_string(), 1));
}

#[tokio::test]
async fn without_an_enabled_sms_channel_the_code_goes_by_e_mail() {
    let app = app_with_record(Some(PHONE)).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let sms = ChannelId::from_db(app.sms_channel.clone());
    tsunagu_store::channels::set_enabled(&mut conn, &app.clinic, &sms, false)
        .await
        .unwrap();
    drop(conn);
    says(&app, "コード").await;
    // The e-mail server is down: the e-mail path was taken, and said so.
    let failed = says(&app, "A123").await;
    assert!(failed.contains("送信できませんでした"), "{failed}");
    assert_eq!(app.send_calls(), 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM channel_identities WHERE external_id LIKE '+%'")
            .await,
        0,
        "no SMS identity made for nothing"
    );
}

#[tokio::test]
async fn a_record_without_a_phone_gets_its_code_by_e_mail() {
    let app = app_with_record(None).await;
    says(&app, "コード").await;
    let failed = says(&app, "A123").await;
    assert!(failed.contains("送信できませんでした"), "{failed}");
    assert_eq!(app.send_calls(), 0);
}
