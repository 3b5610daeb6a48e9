//! The 24-hour window and the HUMAN_AGENT tag: a person may answer up to 7 days, integrations
//! and automation only within 24 hours, nobody after 7 days.
use reqwest::StatusCode;
use serde_json::json;
use tsunagu_inbox::reply::queue_automation_push;

use crate::support::{queued_id, refused_code, spawn, Ms, PAGE, PSID};

async fn automation(ms: &Ms, conv: &str, text: &str) -> Option<&'static str> {
    let mut conn = ms.app.db.pool().acquire().await.unwrap();
    let id = tsunagu_core::ConversationId::parse(conv).unwrap();
    let c = tsunagu_store::conversations::by_id(&mut conn, &ms.app.clinic, &id)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    let now = tsunagu_core::Clock::now_ms(&ms.app.clock);
    let o = queue_automation_push(&ms.app.db, &ms.app.clinic, &c, text, now)
        .await
        .unwrap();
    refused_code(&o)
}

#[tokio::test]
async fn within_24_hours_a_staff_reply_goes_as_a_response() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "薬の飲み方を教えてください").await;
    let conv = ms.conv(PSID).await;
    ms.advance_hours(23);
    let id = queued_id(&ms.staff_reply(&conv, "食後に1錠です").await);
    ms.app.run_jobs().await;
    assert_eq!(ms.message(&conv, &id).await["status"], "sent");
    let sent = ms.sent_bodies(PAGE);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["messaging_type"], "RESPONSE");
    assert!(sent[0].get("tag").is_none(), "{}", sent[0]);
}

#[tokio::test]
async fn after_25_hours_a_staff_reply_goes_with_the_human_agent_tag_and_an_integration_is_refused()
{
    let ms = spawn().await;
    ms.says(PAGE, PSID, "検査結果はいつ出ますか").await;
    let conv = ms.conv(PSID).await;
    ms.advance_hours(25);

    let id = queued_id(&ms.staff_reply(&conv, "来週の月曜日に出ます").await);
    ms.app.run_jobs().await;
    let out = ms.message(&conv, &id).await;
    assert_eq!(out["status"], "sent", "{out}");
    assert_eq!(out["author_kind"], "staff");
    assert_eq!(
        ms.sent_bodies(PAGE),
        vec![
            json!({"recipient": {"id": PSID}, "messaging_type": "MESSAGE_TAG",
                    "tag": "HUMAN_AGENT", "message": {"text": "来週の月曜日に出ます"}})
        ]
    );

    // An integration through the API is not a person: no HUMAN_AGENT for it.
    let (s, body) = ms.api_reply(&conv, "自動送信のお知らせ").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "outside_service_window", "{body}");
    // Neither is tsunagu's own automation.
    assert_eq!(
        automation(&ms, &conv, "自動応答").await,
        Some("outside_service_window")
    );
    ms.app.run_jobs().await;
    assert_eq!(ms.sent_bodies(PAGE).len(), 1, "nothing else went out");
    let out_count = format!(
        "SELECT COUNT(*) FROM messages WHERE conversation_id = '{conv}' AND direction = 'out'"
    );
    assert_eq!(ms.count(&out_count).await, 1, "refusals store nothing");
}

#[tokio::test]
async fn after_8_days_nothing_may_be_sent_until_the_patient_writes_again() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "来月また伺います").await;
    let conv = ms.conv(PSID).await;
    ms.advance_hours(8 * 24);

    let staff = ms.staff_reply(&conv, "お待ちしております").await;
    assert_eq!(refused_code(&staff), Some("outside_service_window"));
    let (s, body) = ms.api_reply(&conv, "お待ちしております").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "outside_service_window");
    assert_eq!(
        automation(&ms, &conv, "自動応答").await,
        Some("outside_service_window")
    );
    ms.app.run_jobs().await;
    assert!(ms.sb.received().is_empty());
    assert_eq!(ms.sb.calls_to("/messages"), 0, "Meta was never called");
    assert_eq!(
        ms.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'message.send'")
            .await,
        0
    );

    // The patient writes again: the window opens and an integration may answer.
    ms.says(PAGE, PSID, "やはり今週伺えますか").await;
    let (s, body) = ms.api_reply(&conv, "はい、どうぞ").await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    ms.app.run_jobs().await;
    let sent = ms.sent_bodies(PAGE);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["messaging_type"], "RESPONSE");
}

#[tokio::test]
async fn a_reply_held_up_past_24_hours_is_sent_by_the_rule_at_sending_time() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "紹介状をお願いできますか").await;
    let conv = ms.conv(PSID).await;
    ms.app
        .clock
        .advance(chrono::Duration::minutes(23 * 60 + 50));
    // Both replies are queued inside the window; the first is throttled until it has closed,
    // and the second waits behind it (a conversation's lines leave in order).
    ms.sb.fail_next_before_accept("/messages", 429, 1);
    let staff = queued_id(&ms.staff_reply(&conv, "ご用意します").await);
    let (s, m) = ms.api_reply(&conv, "自動送信のお知らせ").await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let api = m["id"].as_str().unwrap().to_string();
    ms.app.run_jobs().await;
    assert_eq!(ms.sb.calls_to("/messages"), 1);
    ms.app.clock.advance(chrono::Duration::minutes(20));
    ms.app.run_jobs().await;

    let out = ms.message(&conv, &staff).await;
    assert_eq!(out["status"], "sent", "{out}");
    assert_eq!(
        ms.sent_bodies(PAGE),
        vec![
            json!({"recipient": {"id": PSID}, "messaging_type": "MESSAGE_TAG",
                    "tag": "HUMAN_AGENT", "message": {"text": "ご用意します"}})
        ],
        "a person's reply still may go, as HUMAN_AGENT"
    );
    let out = ms.message(&conv, &api).await;
    assert_eq!(out["status"], "failed", "{out}");
    assert_eq!(out["failure_code"], "outside_service_window");
    assert_eq!(
        ms.sb.calls_to("/messages"),
        2,
        "the integration's is refused without a call"
    );
}
