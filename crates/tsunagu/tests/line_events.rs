//! LINE event types beyond plain text, end to end through the sandbox driver.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{spawn_app, ACCESS_TOKEN, PATIENT};
use reqwest::StatusCode;
use serde_json::json;

async fn messages_of_first_conversation(app: &common::TestApp) -> Vec<serde_json::Value> {
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let conv = list["items"][0]["id"].as_str().unwrap();
    let (_, msgs) = app
        .api_get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    msgs["items"].as_array().unwrap().clone()
}

#[tokio::test]
async fn an_unsent_message_loses_its_text_but_leaves_a_tombstone() {
    let app = spawn_app().await;
    let ev = app.sandbox.user_text(PATIENT, "間違えて送りました");
    let line_id = ev["message"]["id"].as_str().unwrap().to_string();
    assert_eq!(app.sandbox.send_event(ACCESS_TOKEN, ev).await.unwrap(), 200);
    let unsend = app.sandbox.unsend(PATIENT, &line_id);
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, unsend).await.unwrap(),
        200
    );
    let msgs = messages_of_first_conversation(&app).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["unsent"], true);
    assert!(msgs[0]["text"].is_null());
    let bodies: i64 = app
        .count("SELECT COUNT(*) FROM messages WHERE body LIKE '%間違えて%'")
        .await;
    assert_eq!(bodies, 0, "the text is gone from the database");
    let raw: i64 = app
        .count("SELECT COUNT(*) FROM webhook_events WHERE body LIKE '%間違えて%'")
        .await;
    assert_eq!(raw, 0, "and from the raw webhook event");
}

#[tokio::test]
async fn blocking_and_unblocking_are_recorded_and_a_blocked_patient_cannot_be_replied_to() {
    let app = spawn_app().await;
    app.sandbox
        .send_event(ACCESS_TOKEN, app.sandbox.follow(PATIENT))
        .await
        .unwrap();
    app.sandbox
        .send_event(
            ACCESS_TOKEN,
            app.sandbox.user_text(PATIENT, "よろしくお願いします"),
        )
        .await
        .unwrap();
    app.sandbox
        .send_event(ACCESS_TOKEN, app.sandbox.unfollow(PATIENT))
        .await
        .unwrap();
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let conv = list["items"][0]["id"].as_str().unwrap().to_string();
    let patient = list["items"][0]["patient_id"].as_str().unwrap().to_string();
    let (_, p) = app.api_get(&format!("/api/v1/patients/{patient}")).await;
    assert_eq!(p["identities"][0]["follow_state"], "blocked", "{p}");
    let (s, e) = app
        .api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"text": "ご連絡です"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(e["error"]["code"], "recipient_blocked");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'message.send'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_group_chat_is_one_conversation_with_each_sender_recorded() {
    let app = spawn_app().await;
    let group = "C1234567890abcdef1234567890abcdef";
    let other = "U99999999999999999999999999999999";
    app.sandbox
        .send_event(
            ACCESS_TOKEN,
            app.sandbox.group_text(group, PATIENT, "母の薬について"),
        )
        .await
        .unwrap();
    app.sandbox
        .send_event(
            ACCESS_TOKEN,
            app.sandbox.group_text(group, other, "私も聞きたいです"),
        )
        .await
        .unwrap();
    let (_, list) = app.api_get("/api/v1/conversations").await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(list["items"][0]["kind"], "group");
    assert!(
        list["items"][0]["patient_id"].is_null(),
        "a group is not a patient"
    );
    assert_eq!(
        app.count("SELECT COUNT(DISTINCT sender_identity_id) FROM messages")
            .await,
        2
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients").await,
        2,
        "each sender is their own (provisional) patient"
    );
}

#[tokio::test]
async fn a_redelivered_event_is_stored_once() {
    let app = spawn_app().await;
    let ev = app.sandbox.user_text(PATIENT, "再送テスト");
    assert_eq!(
        app.sandbox
            .send_event(ACCESS_TOKEN, ev.clone())
            .await
            .unwrap(),
        200
    );
    assert_eq!(app.sandbox.redeliver(ACCESS_TOKEN, &ev).await.unwrap(), 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 1);
}

#[tokio::test]
async fn standby_events_are_stored_without_a_usable_reply_token() {
    let app = spawn_app().await;
    let mut ev = app.sandbox.user_text(PATIENT, "スタンバイ中のメッセージ");
    ev["mode"] = json!("standby");
    assert_eq!(app.sandbox.send_event(ACCESS_TOKEN, ev).await.unwrap(), 200);
    let payload: String = sqlx::query_scalar("SELECT payload FROM messages")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(v["mode"], "standby");
    assert!(v["reply_token"].is_null(), "never auto-answered: {v}");
}
