//! Media by link, reply buttons and lists through the API reach WhatsApp in Meta's shapes;
//! what WhatsApp would refuse is refused before anything is queued.
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::spawn;

#[tokio::test]
async fn media_buttons_and_lists_go_out_in_meta_shapes() {
    let wa = spawn().await;
    wa.patient_says("地図と予約枠を送ってください").await;
    let conv = wa.conversation().await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let bodies = [
        json!({"media": {"media": "image", "url": "https://clinic.example/map.png", "caption": "地図"}}),
        json!({"buttons": {"body": "ご希望の時間帯は？", "buttons": [{"id": "am", "title": "午前"}, {"id": "pm", "title": "午後"}]}}),
        json!({"list": {"body": "診療科を選んでください", "button": "選ぶ",
            "sections": [{"title": "内科", "rows": [{"id": "im", "title": "一般内科", "description": "かぜ・発熱"}]}]}}),
    ];
    for b in &bodies {
        let (s, m) = wa.app.api_post(&path, b.clone()).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        wa.app.run_jobs().await;
        // Pacing between lines to one person: later sends wait for their slot.
        wa.app.clock.advance(chrono::Duration::seconds(10));
        wa.app.run_jobs().await;
    }
    let sent: Vec<_> = wa.sb.received().into_iter().map(|r| r.body).collect();
    assert_eq!(sent.len(), 3, "{sent:?}");
    assert_eq!(sent[0]["type"], "image");
    assert_eq!(sent[0]["image"]["link"], "https://clinic.example/map.png");
    assert_eq!(sent[1]["interactive"]["type"], "button");
    assert_eq!(
        sent[1]["interactive"]["action"]["buttons"][1]["reply"]["id"],
        "pm"
    );
    assert_eq!(sent[2]["interactive"]["type"], "list");
    assert_eq!(
        sent[2]["interactive"]["action"]["sections"][0]["rows"][0]["id"],
        "im"
    );
    let statuses: Vec<String> = wa
        .messages(&conv)
        .await
        .iter()
        .filter(|m| m["direction"] == "out")
        .map(|m| m["status"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(statuses, ["sent", "sent", "sent"]);
}

#[tokio::test]
async fn what_whatsapp_would_refuse_is_refused_before_queueing() {
    let wa = spawn().await;
    wa.patient_says("選択肢をください").await;
    let conv = wa.conversation().await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let four = json!({"buttons": {"body": "?", "buttons": [
        {"id": "1", "title": "a"}, {"id": "2", "title": "b"}, {"id": "3", "title": "c"}, {"id": "4", "title": "d"}]}});
    let (s, e) = wa.app.api_post(&path, four).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "unsupported_content", "{e}");
    let both = json!({"text": "a", "media": {"media": "image", "url": "https://x.example/a.png"}});
    let (s, e) = wa.app.api_post(&path, both).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "invalid_request", "{e}");
    wa.app.run_jobs().await;
    assert!(wa.sb.received().is_empty(), "nothing reached Meta");
    let long = "あ".repeat(4_097);
    let (s, e) = wa.reply(&conv, &long).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "message_too_long", "{e}");
}
