//! Patient → inbox → API reply → Send API → delivery and read receipts, by mid and by watermark.
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{spawn, Ms, PAGE, PAGE_TOKEN, PSID};

/// Replies through the API and runs the queue: the outbound message id and Meta's mid.
async fn reply_sent(ms: &Ms, conv: &str, text: &str) -> (String, String) {
    let (s, m) = ms.api_reply(conv, text).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let id = m["id"].as_str().unwrap().to_string();
    ms.app.run_jobs().await;
    let out = ms.message(conv, &id).await;
    assert_eq!(out["status"], "sent", "{out}");
    let mid = ms
        .text(&format!(
            "SELECT provider_message_id FROM messages WHERE id = '{id}'"
        ))
        .await
        .unwrap();
    (id, mid)
}

async fn status(ms: &Ms, id: &str) -> String {
    ms.text(&format!("SELECT status FROM messages WHERE id = '{id}'"))
        .await
        .unwrap()
}

fn receipt(key: &str, value: serde_json::Value, ts: i64) -> serde_json::Value {
    let mut item = json!({"sender": {"id": PSID}, "recipient": {"id": PAGE}, "timestamp": ts});
    item[key] = value;
    json!({"object": "page", "entry": [{"id": PAGE, "time": ts, "messaging": [item]}]})
}

#[tokio::test]
async fn a_patient_message_reaches_the_inbox_and_the_reply_goes_back_to_the_same_page_and_psid() {
    let ms = spawn().await;
    let posted = ms
        .says(PAGE, PSID, "頭痛がひどいのですが、今日診てもらえますか？")
        .await;
    let conv = ms.conv(PSID).await;
    assert_eq!(
        ms.text(&format!(
            "SELECT via FROM conversations WHERE id = '{conv}'"
        ))
        .await
        .as_deref(),
        Some(PAGE),
        "the conversation remembers the page it came through"
    );
    let msgs = ms.messages(&conv).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["direction"], "in");
    assert_eq!(
        msgs[0]["text"],
        "頭痛がひどいのですが、今日診てもらえますか？"
    );
    let stored_mid = ms
        .text(&format!(
            "SELECT provider_message_id FROM messages WHERE conversation_id = '{conv}'"
        ))
        .await;
    assert_eq!(stored_mid, posted.mid);

    let (_, mid) = reply_sent(&ms, &conv, "本日15時に空きがあります。").await;
    let received = ms.sb.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].page_id, PAGE);
    assert_eq!(received[0].access_token, PAGE_TOKEN, "the page's own token");
    assert_eq!(received[0].message_id, mid, "the message keeps Meta's mid");
    assert_eq!(
        received[0].body,
        json!({"recipient": {"id": PSID}, "messaging_type": "RESPONSE",
               "message": {"text": "本日15時に空きがあります。"}})
    );
    assert_eq!(
        ms.sb.delivered_to(PAGE, PSID),
        vec![json!({"text": "本日15時に空きがあります。"})]
    );
}

#[tokio::test]
async fn delivery_and_read_receipts_by_mid_and_by_watermark_move_messages_forward_once() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "予約の確認です").await;
    let conv = ms.conv(PSID).await;
    let (first, first_mid) = reply_sent(&ms, &conv, "明日10時です").await;
    ms.app.clock.advance(chrono::Duration::minutes(1));
    let (second, _) = reply_sent(&ms, &conv, "お気をつけてお越しください").await;
    let sent_first = tsunagu_core::Clock::now_ms(&ms.app.clock) - 60_000;
    ms.app.clock.advance(chrono::Duration::seconds(5));
    let now = tsunagu_core::Clock::now_ms(&ms.app.clock);

    // Delivery of the first by mid only: the second stays sent.
    let by_mid = receipt("delivery", json!({"mids": [first_mid]}), now);
    assert_eq!(ms.sb.post(PAGE, &by_mid).await.unwrap().status, 200);
    assert_eq!(status(&ms, &first).await, "delivered");
    assert_eq!(status(&ms, &second).await, "sent");

    // Delivery by watermark: everything sent up to it.
    let posted = ms.sb.delivery(PAGE, PSID, &[]).await.unwrap();
    assert_eq!(posted.status, 200);
    assert_eq!(status(&ms, &second).await, "delivered");

    // Read up to just after the first: the first is read, the second only delivered.
    let read_first = ms.sb.read(PAGE, PSID, sent_first + 30_000).await.unwrap();
    assert_eq!(read_first.status, 200);
    assert_eq!(status(&ms, &first).await, "read");
    assert_eq!(status(&ms, &second).await, "delivered");

    // Read up to now: both read, shown through the API too.
    let read_all = ms.sb.read(PAGE, PSID, now).await.unwrap();
    assert_eq!(read_all.status, 200);
    assert_eq!(ms.message(&conv, &second).await["status"], "read");

    // Redelivered receipts are stored once and change nothing.
    let events = format!(
        "SELECT COUNT(*) FROM webhook_events WHERE channel_id = '{}'",
        ms.channel
    );
    let before = ms.count(&events).await;
    for p in [&read_first, &read_all, &posted] {
        assert_eq!(ms.sb.redeliver(PAGE, p).await.unwrap().status, 200);
    }
    assert_eq!(ms.sb.post(PAGE, &by_mid).await.unwrap().status, 200);
    assert_eq!(ms.count(&events).await, before, "nothing new stored");
    assert_eq!(status(&ms, &first).await, "read");
    assert_eq!(status(&ms, &second).await, "read");
}

#[tokio::test]
async fn a_read_receipt_before_the_delivery_leaves_the_message_read() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "駐車場はありますか").await;
    let conv = ms.conv(PSID).await;
    let (id, mid) = reply_sent(&ms, &conv, "はい、5台分ございます").await;
    ms.app.clock.advance(chrono::Duration::seconds(3));
    let now = tsunagu_core::Clock::now_ms(&ms.app.clock);
    assert_eq!(ms.sb.read(PAGE, PSID, now).await.unwrap().status, 200);
    assert_eq!(status(&ms, &id).await, "read");
    ms.app.clock.advance(chrono::Duration::seconds(1));
    let late = ms.sb.delivery(PAGE, PSID, &[mid]).await.unwrap();
    assert_eq!(late.status, 200);
    assert_eq!(
        status(&ms, &id).await,
        "read",
        "a late delivery never undoes a read"
    );
    let read_at = ms
        .text(&format!(
            "SELECT CAST(read_at AS TEXT) FROM messages WHERE id = '{id}'"
        ))
        .await;
    assert_eq!(read_at, Some(now.to_string()));
}

#[tokio::test]
async fn receipts_that_arrive_before_meta_answers_the_send_still_count() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "明日は何時からですか").await;
    let conv = ms.conv(PSID).await;
    // Meta delivers and the person reads at once, but the Send API's answer comes late: the
    // delivery and read webhooks reach tsunagu before the worker knows the message's mid.
    ms.sb.set_auto_receipts(true);
    ms.sb
        .delay_next_after_accept("/messages", std::time::Duration::from_secs(3), 1);
    let (s, m) = ms.api_reply(&conv, "9時からです").await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let id = m["id"].as_str().unwrap().to_string();
    ms.app.run_jobs().await;
    let receipts = format!(
        "SELECT COUNT(*) FROM webhook_events WHERE channel_id = '{}' AND event_type IN ('delivery', 'read')",
        ms.channel
    );
    assert_eq!(ms.count(&receipts).await, 2, "both arrived during the call");
    assert_eq!(ms.message(&conv, &id).await["status"], "read");
}

#[tokio::test]
async fn a_new_patient_is_named_after_their_facebook_profile() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "はじめまして").await;
    ms.app.run_jobs().await;
    let name = ms
        .text("SELECT p.display_name FROM patients p JOIN channel_identities ci ON ci.patient_id = p.id")
        .await
        .unwrap();
    assert_ne!(name, "Messenger", "the profile replaced the generic name");
    let users = ms.sb.users(PAGE);
    let u = users.iter().find(|u| u.psid == PSID).unwrap();
    assert!(
        name.contains(&u.first_name) && name.contains(&u.last_name),
        "{name}"
    );
}
