//! The harness itself: every provider kind connects, its emulator's webhook reaches the app and
//! the message is stored on that kind's channel; in-process requests carry tokens and staff
//! sessions. SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use axum::http::{Method, StatusCode};
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, Role};
use tsunagu_testkit::app::{line, messenger, sms, whatsapp};
use tsunagu_testkit::TestApp;

async fn messages_on(app: &TestApp, channel: &ChannelId) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND direction = 'in'")
        .bind(channel.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn each_kind_is_connected_to_its_emulator_and_its_webhooks_are_stored() {
    let app = TestApp::builder()
        .with_channels(ChannelKind::ALL)
        .start()
        .await;

    let l = app.line();
    let event = l.sandbox.user_text(line::PATIENT, "こんにちは");
    assert_eq!(
        l.sandbox
            .send_event(line::ACCESS_TOKEN, event)
            .await
            .unwrap(),
        200
    );
    let w = app.whatsapp();
    let posted = w
        .sandbox
        .user_text(
            whatsapp::PHONE_ID,
            whatsapp::PATIENT,
            whatsapp::PATIENT_NAME,
            "こんにちは",
        )
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    let m = app.messenger();
    let posted = m
        .sandbox
        .user_text(messenger::PAGE, messenger::PSID, "こんにちは")
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    let s = app.sms();
    let delivered = s
        .sandbox
        .user_sms(sms::CLINIC, sms::PATIENT, "こんにちは")
        .await
        .unwrap();
    assert_eq!(delivered.status, 200);

    app.run_jobs().await;
    for c in [&l.channel, &w.channel, &m.channel, &s.channel] {
        assert_eq!(messages_on(&app, c).await, 1, "channel {c}");
    }
    let (status, list) = app.api_get("/api/v1/conversations").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().unwrap().len(), 4, "{list}");
}

#[tokio::test]
async fn in_process_requests_carry_tokens_and_staff_sessions() {
    let app = TestApp::builder()
        .sample_clinic()
        .client_ip("203.0.113.5")
        .start()
        .await;
    let res = app
        .request(Method::GET, "/api/v1/conversations")
        .bearer(app.api_token())
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert_eq!(res.json()["items"], serde_json::json!([]));
    let res = app
        .request(Method::GET, "/api/v1/conversations")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);

    let staff = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 佐藤")
        .await;
    let res = app
        .request(Method::GET, "/app/patients")
        .session(&staff)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    assert!(res.text().contains("受付 佐藤"));
    let res = app.request(Method::GET, "/app/patients").send().await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert!(res.location().starts_with("/login"), "{}", res.location());
}
