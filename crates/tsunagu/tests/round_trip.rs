//! Patient → inbox → staff reply → patient, through the LINE sandbox, with faults.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{spawn_app, ACCESS_TOKEN, PATIENT};
use reqwest::StatusCode;
use serde_json::json;

async fn patient_says(app: &common::TestApp, text: &str) -> String {
    let ev = app.sandbox.user_text(PATIENT, text);
    assert_eq!(app.sandbox.send_event(ACCESS_TOKEN, ev).await.unwrap(), 200);
    app.run_jobs().await;
    let (s, list) = app.api_get("/api/v1/conversations").await;
    assert_eq!(s, StatusCode::OK, "{list}");
    list["items"][0]["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_patient_message_reaches_the_api_with_the_line_profile() {
    let app = spawn_app().await;
    let conv = patient_says(&app, "駐車場はありますか？").await;
    let (_, msgs) = app
        .api_get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert_eq!(msgs["items"][0]["text"], "駐車場はありますか？");
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let patient = list["items"][0]["patient_id"].as_str().unwrap().to_string();
    let (s, p) = app.api_get(&format!("/api/v1/patients/{patient}")).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        p["display_name"], "山田 花子",
        "the LINE profile names the new patient: {p}"
    );
}

#[tokio::test]
async fn a_staff_reply_is_pushed_once_in_line_format_even_when_the_first_answer_is_lost() {
    let app = spawn_app().await;
    let conv = patient_says(&app, "明日の予約を変更したいです").await;
    // LINE executes the first push but the answer is lost (500): the retry must not deliver twice.
    app.sandbox
        .fail_next_after_accept("/v2/bot/message/push", 1);
    let (s, m) = app
        .api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"text": "承知しました。午後3時はいかがですか？"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    app.run_jobs().await;
    app.clock.advance(chrono::Duration::hours(2));
    app.run_jobs().await;

    let delivered = app.sandbox.delivered_to(PATIENT);
    assert_eq!(
        delivered,
        vec![json!({"type": "text", "text": "承知しました。午後3時はいかがですか？"})]
    );
    let pushes: Vec<_> = app
        .sandbox
        .received()
        .into_iter()
        .filter(|r| r.endpoint.ends_with("/push"))
        .collect();
    assert_eq!(pushes.len(), 1, "accepted once");
    assert_eq!(
        pushes[0].body,
        json!({"to": PATIENT, "messages": [{"type": "text", "text": "承知しました。午後3時はいかがですか？"}]})
    );
    let key = pushes[0].retry_key.clone().unwrap();
    assert!(uuid::Uuid::parse_str(&key).is_ok());

    let (_, msgs) = app
        .api_get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    let out = msgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["direction"] == "out")
        .unwrap()
        .clone();
    assert_eq!(out["status"], "sent", "{out}");
}

#[tokio::test]
async fn a_500_before_acceptance_is_retried_with_backoff_and_delivered_once() {
    let app = spawn_app().await;
    let conv = patient_says(&app, "診療時間を教えてください").await;
    app.sandbox
        .fail_next_before_accept("/v2/bot/message/push", 2);
    app.api_post(
        &format!("/api/v1/conversations/{conv}/messages"),
        json!({"text": "9時から18時までです"}),
    )
    .await;
    app.run_jobs().await;
    assert!(app.sandbox.delivered_to(PATIENT).is_empty());
    for _ in 0..3 {
        app.clock.advance(chrono::Duration::minutes(10));
        app.run_jobs().await;
    }
    assert_eq!(app.sandbox.delivered_to(PATIENT).len(), 1);
}

#[tokio::test]
async fn the_monthly_quota_is_not_retried_and_staff_see_why_and_can_retry() {
    let app = spawn_app().await;
    let conv = patient_says(&app, "こんにちは").await;
    app.sandbox.set_quota(ACCESS_TOKEN, Some(0));
    let (_, m) = app
        .api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"text": "お返事です"}),
        )
        .await;
    let mid = m["id"].as_str().unwrap().to_string();
    app.run_jobs().await;
    let (_, msgs) = app
        .api_get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    let out = msgs["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == mid.as_str())
        .unwrap()
        .clone();
    assert_eq!(out["status"], "failed");
    assert_eq!(out["failure_code"], "quota_exceeded");
    assert!(
        out["failure_reason"]
            .as_str()
            .unwrap()
            .contains("monthly limit"),
        "{out}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE state = 'dead'")
            .await,
        1
    );

    // The plan is upgraded; staff press retry.
    app.sandbox.set_quota(ACCESS_TOKEN, None);
    let r = tsunagu_outbox::retry::retry_message(
        &app.db,
        &app.clinic,
        &tsunagu_core::MessageId::parse(&mid).unwrap(),
        tsunagu_core::Clock::now_ms(&app.clock),
    )
    .await
    .unwrap();
    assert_eq!(r, tsunagu_outbox::retry::RetryOutcome::Requeued);
    app.run_jobs().await;
    assert_eq!(app.sandbox.delivered_to(PATIENT).len(), 1);
}

#[tokio::test]
async fn an_image_from_the_patient_is_downloaded_and_stored() {
    let app = spawn_app().await;
    let ev = app.sandbox.user_image(PATIENT);
    assert_eq!(app.sandbox.send_event(ACCESS_TOKEN, ev).await.unwrap(), 200);
    app.run_jobs().await;
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let conv = list["items"][0]["id"].as_str().unwrap();
    let (_, msgs) = app
        .api_get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    let att = &msgs["items"][0]["attachments"][0];
    assert_eq!(att["content_type"], "image/png", "{msgs}");
    assert_eq!(app.count("SELECT COUNT(*) FROM attachments").await, 1);
}
