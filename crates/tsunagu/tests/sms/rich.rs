//! Media by link goes out as an MMS (MediaUrl); buttons, which SMS cannot carry, are refused
//! before anything is queued.
use reqwest::StatusCode;
use serde_json::json;

use crate::support::spawn_sms_app;

#[tokio::test]
async fn media_goes_as_mms_and_buttons_are_refused() {
    let sms = spawn_sms_app().await;
    let conv = sms.patient_says("地図を送ってください").await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let media = json!({"media": {"media": "image", "url": "https://clinic.example/map.png", "caption": "当院の地図です"}});
    let (s, m) = sms.app.api_post(&path, media).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let buttons = json!({"buttons": {"body": "?", "buttons": [{"id": "a", "title": "A"}]}});
    let (s, e) = sms.app.api_post(&path, buttons).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "unsupported_content", "{e}");
    sms.app.run_jobs().await;
    let sent = sms.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].body, "当院の地図です");
    assert_eq!(
        sent[0].media_urls,
        vec!["https://clinic.example/map.png".to_string()]
    );
}
