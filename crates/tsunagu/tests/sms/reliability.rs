//! What Twilio's answers make of a send: Twilio has no idempotency key, so a send that may have
//! been executed is never repeated; one refused before acceptance is retried.
use chrono::Duration;
use reqwest::StatusCode;

use crate::support::{spawn_sms_app, CLINIC};

const SEND: &str = "/Messages.json";

#[tokio::test]
async fn a_5xx_after_acceptance_is_in_doubt_and_never_sent_again() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("薬の飲み方を教えてください").await;
    app.twilio.fail_next_after_accept(SEND, 1);
    let mid = app.reply_queued(&conv, "食後に1錠です").await;
    app.run_jobs().await;
    let row = app.row(&mid).await;
    assert_eq!(row.status, "in_doubt", "{row:?}");
    for _ in 0..3 {
        app.clock.advance(Duration::hours(2));
        app.run_jobs().await;
    }
    assert_eq!(app.send_calls(), 1, "never repeated automatically");
    assert_eq!(app.sent().len(), 1, "Twilio did send it once");
    assert_eq!(app.row(&mid).await.status, "in_doubt");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE state = 'in_doubt'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_500_before_acceptance_is_also_in_doubt_since_twilio_may_have_executed_it() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("こんにちは").await;
    app.twilio.fail_next_before_accept(SEND, 500, 1);
    let mid = app.reply_queued(&conv, "こんにちは").await;
    app.run_jobs().await;
    app.clock.advance(Duration::hours(1));
    app.run_jobs().await;
    assert_eq!(app.row(&mid).await.status, "in_doubt");
    assert_eq!(app.send_calls(), 1);
}

#[tokio::test]
async fn a_429_before_acceptance_is_retried_after_retry_after_and_sent_once() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("予約できますか").await;
    app.twilio.fail_next_with_retry_after(SEND, 429, 120, 2);
    let mid = app.reply_queued(&conv, "はい、承ります").await;
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 1);
    assert!(app.sent().is_empty());
    let row = app.row(&mid).await;
    assert_eq!(row.status, "queued", "{row:?}");
    assert_eq!(row.failure_code.as_deref(), Some("retrying"));

    // Not before Twilio's Retry-After.
    app.clock.advance(Duration::seconds(100));
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 1, "waited for Retry-After");
    app.clock.advance(Duration::seconds(30));
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 2, "second attempt, refused again");
    for _ in 0..4 {
        app.clock.advance(Duration::minutes(5));
        app.run_jobs().await;
    }
    assert_eq!(app.send_calls(), 3);
    let sent = app.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let row = app.row(&mid).await;
    assert_eq!(row.status, "sent", "{row:?}");
    assert_eq!(
        row.provider_message_id.as_deref(),
        Some(sent[0].sid.as_str())
    );
}

#[tokio::test]
async fn a_20429_without_retry_after_is_retried_with_backoff() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("駐車場は？").await;
    app.twilio.fail_next_before_accept(SEND, 429, 3);
    let mid = app.reply_queued(&conv, "あります").await;
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 1);
    // Backoff 1–2 s, then 2–4 s, then 4–8 s.
    for _ in 0..4 {
        app.clock.advance(Duration::seconds(10));
        app.run_jobs().await;
    }
    assert_eq!(app.send_calls(), 4);
    assert_eq!(app.sent().len(), 1);
    assert_eq!(app.row(&mid).await.status, "sent");
}

#[tokio::test]
async fn an_invalid_number_fails_at_once_with_twilios_message() {
    let app = spawn_sms_app().await;
    // Twilio's test number that answers 21211 ("not a valid phone number").
    let d = app
        .twilio
        .user_sms(CLINIC, "+15005550001", "テスト")
        .await
        .unwrap();
    assert_eq!(d.status, 200);
    app.run_jobs().await;
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let conv = list["items"][0]["id"].as_str().unwrap().to_string();
    let mid = app.reply_queued(&conv, "お返事です").await;
    app.run_jobs().await;
    let row = app.row(&mid).await;
    assert_eq!(row.status, "failed", "{row:?}");
    assert_eq!(row.failure_code.as_deref(), Some("recipient_undeliverable"));
    let reason = row.failure_reason.unwrap_or_default();
    assert!(reason.contains("21211"), "{reason}");
    assert!(
        reason.contains("The 'To' number +15005550001 is not a valid phone number."),
        "{reason}"
    );
    app.clock.advance(Duration::hours(1));
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 1, "a refusal is not retried");
    // Staff see it through the API too.
    let msgs = app.messages(&conv).await;
    let out = msgs.iter().find(|m| m["id"] == mid.as_str()).unwrap();
    assert_eq!(out["status"], "failed");
    let (s, _) = app.reply(&conv, "もう一度").await;
    assert_eq!(s, StatusCode::CREATED, "a bad number is not an opt-out");
}
