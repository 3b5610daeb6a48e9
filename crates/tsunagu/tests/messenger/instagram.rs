//! Instagram messaging through the same channel: `object: instagram`, routed by account id.
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{spawn, IG, IGSID, IG_TOKEN, PAGE};

#[tokio::test]
async fn an_instagram_message_round_trips_through_the_listed_account() {
    let ms = spawn().await;
    let posted = ms
        .says(IG, IGSID, "インスタから失礼します。予約できますか？")
        .await;
    assert_eq!(posted.json["object"], "instagram");
    let conv = ms.conv(IGSID).await;
    assert_eq!(
        ms.text(&format!(
            "SELECT via FROM conversations WHERE id = '{conv}'"
        ))
        .await
        .as_deref(),
        Some(IG)
    );
    let msgs = ms.messages(&conv).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["text"], "インスタから失礼します。予約できますか？");
    let payload = ms
        .text(&format!(
            "SELECT payload FROM messages WHERE conversation_id = '{conv}'"
        ))
        .await
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(payload["instagram"], true);

    let (s, m) = ms.api_reply(&conv, "はい、明日10時はいかがですか").await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let id = m["id"].as_str().unwrap().to_string();
    ms.app.run_jobs().await;
    assert_eq!(ms.message(&conv, &id).await["status"], "sent");
    let received = ms.sb.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].page_id, IG, "sent as the Instagram account");
    assert_eq!(received[0].access_token, IG_TOKEN);
    assert_eq!(
        received[0].body,
        json!({"recipient": {"id": IGSID}, "messaging_type": "RESPONSE",
               "message": {"text": "はい、明日10時はいかがですか"}})
    );
    assert!(ms.sent_bodies(PAGE).is_empty());

    // Instagram reports reads by mid.
    let mid = received[0].message_id.clone();
    let now = tsunagu_core::Clock::now_ms(&ms.app.clock);
    let read = json!({"object": "instagram", "entry": [{"id": IG, "time": now, "messaging": [
        {"sender": {"id": IGSID}, "recipient": {"id": IG}, "timestamp": now, "read": {"mid": mid}}]}]});
    assert_eq!(ms.sb.post(IG, &read).await.unwrap().status, 200);
    assert_eq!(ms.message(&conv, &id).await["status"], "read");
}

#[tokio::test]
async fn an_instagram_unsend_blanks_the_message() {
    let ms = spawn().await;
    let posted = ms.says(IG, IGSID, "間違えて送りました").await;
    let conv = ms.conv(IGSID).await;
    let mid = posted.mid.unwrap();
    let now = tsunagu_core::Clock::now_ms(&ms.app.clock);
    let unsend = json!({"object": "instagram", "entry": [{"id": IG, "time": now, "messaging": [
        {"sender": {"id": IGSID}, "recipient": {"id": IG}, "timestamp": now,
         "message": {"mid": mid, "is_deleted": true}}]}]});
    assert_eq!(ms.sb.post(IG, &unsend).await.unwrap().status, 200);
    let msgs = ms.messages(&conv).await;
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["unsent"], true, "{msgs:?}");
    assert!(msgs[0]["text"].is_null());
}
