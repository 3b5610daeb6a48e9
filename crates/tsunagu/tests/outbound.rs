//! The outbound rule end to end: a worker that refuses private addresses does not call a
//! channel whose stored API address is private (the emulators on 127.0.0.1): the emulator sees
//! no request and the message fails with `outbound_address_refused`, never retried; the
//! harness's worker, which allows them, sends the next message. Only loopback is ever called.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;
#[path = "sms/support.rs"]
#[allow(dead_code)]
mod support;

use chrono::Duration;
use common::{ACCESS_TOKEN, PATIENT};
use reqwest::StatusCode;
use serde_json::json;
use tsunagu_core::config::Settings;
use tsunagu_outbox::Worker;

/// A second worker on the app's database and clock, under production's rule.
fn guarded_worker(app: &common::TestApp) -> Worker {
    let mut settings = Settings {
        public_url: Some(app.base.clone()),
        ..Settings::default()
    };
    settings.outbox.workers = false;
    assert!(!settings.outbound.allow_private_addresses, "the default");
    app.another_instance(settings, &tsunagu_testkit::app::KEY)
        .worker
}

async fn failure(app: &common::TestApp, message_id: &str) -> (String, Option<String>, String) {
    let (status, code, reason): (String, Option<String>, Option<String>) =
        sqlx::query_as("SELECT status, failure_code, failure_reason FROM messages WHERE id = $1")
            .bind(message_id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    (status, code, reason.unwrap_or_default())
}

async fn dead_sends(app: &common::TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'message.send' AND state = 'dead'")
        .await
}

#[tokio::test]
async fn an_sms_to_a_private_api_address_is_not_sent_unless_allowed() {
    let app = support::spawn_sms_app().await;
    let conv = app.patient_says("明日は開いていますか").await;
    let guarded = guarded_worker(&app);

    let refused = app.reply_queued(&conv, "はい、9時からです").await;
    guarded.run_until_idle().await.unwrap();
    assert_eq!(app.send_calls(), 0, "the emulator received a request");
    let (status, code, reason) = failure(&app, &refused).await;
    assert_eq!(status, "failed");
    assert_eq!(code.as_deref(), Some("outbound_address_refused"));
    assert!(reason.contains("not a public address"), "{reason}");
    assert!(reason.contains("allow_private_addresses"), "{reason}");
    assert_eq!(dead_sends(&app).await, 1, "dead at once, not retried");
    // Time passing changes nothing: nothing is retried, by either worker.
    app.clock.advance(Duration::hours(2));
    guarded.run_until_idle().await.unwrap();
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 0);

    // Allowed (the harness's worker): the next reply goes out.
    let sent = app.reply_queued(&conv, "お待ちしております").await;
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 1);
    assert_eq!(app.row(&sent).await.status, "sent");
    assert_eq!(app.sent().len(), 1);
}

#[tokio::test]
async fn a_line_push_to_a_private_api_address_is_not_sent_unless_allowed() {
    let app = common::spawn_app().await;
    let ev = app.sandbox.user_text(PATIENT, "予約を変更したいです");
    assert_eq!(app.sandbox.send_event(ACCESS_TOKEN, ev).await.unwrap(), 200);
    app.run_jobs().await;
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let conv = list["items"][0]["id"].as_str().unwrap().to_string();
    let pushes = || app.sandbox.calls_to("/v2/bot/message/push");
    let guarded = guarded_worker(&app);

    let reply = |text: &'static str| {
        let path = format!("/api/v1/conversations/{conv}/messages");
        let app = &app;
        async move {
            let (s, m) = app.api_post(&path, json!({ "text": text })).await;
            assert_eq!(s, StatusCode::CREATED, "{m}");
            m["id"].as_str().unwrap().to_string()
        }
    };
    let refused = reply("午後3時はいかがですか").await;
    guarded.run_until_idle().await.unwrap();
    assert_eq!(pushes(), 0, "the emulator received a push");
    let (status, code, reason) = failure(&app, &refused).await;
    assert_eq!(status, "failed");
    assert_eq!(code.as_deref(), Some("outbound_address_refused"));
    assert!(reason.contains("not a public address"), "{reason}");
    assert_eq!(dead_sends(&app).await, 1);
    app.clock.advance(Duration::hours(2));
    app.run_jobs().await;
    assert_eq!(pushes(), 0, "a refused push is not retried");

    let sent = reply("承知しました").await;
    app.run_jobs().await;
    assert_eq!(pushes(), 1);
    assert_eq!(failure(&app, &sent).await.0, "sent");
}
