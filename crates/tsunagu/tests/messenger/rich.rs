//! Media and reply buttons (as quick replies) through the API reach Messenger in Meta's shapes;
//! a WhatsApp-only list is refused before anything is queued.
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{spawn, PAGE, PSID};

#[tokio::test]
async fn media_and_buttons_reach_messenger_and_lists_are_refused() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "地図はありますか？").await;
    let conv = ms.conv(PSID).await;
    let path = format!("/api/v1/conversations/{conv}/messages");
    let media = json!({"media": {"media": "image", "url": "https://clinic.example/map.png"}});
    let (s, m) = ms.app.api_post(&path, media).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let buttons = json!({"buttons": {"body": "ご希望は？", "buttons": [{"id": "am", "title": "午前"}, {"id": "pm", "title": "午後"}]}});
    let (s, m) = ms.app.api_post(&path, buttons).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let list = json!({"list": {"body": "選んでください", "button": "選ぶ", "sections": [{"rows": [{"id": "a", "title": "A"}]}]}});
    let (s, e) = ms.app.api_post(&path, list).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{e}");
    assert_eq!(e["error"]["code"], "unsupported_content", "{e}");
    ms.app.run_jobs().await;
    let sent: Vec<_> = ms.sb.received().into_iter().map(|r| r.body).collect();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(sent[0]["message"]["attachment"]["type"], "image");
    assert_eq!(
        sent[0]["message"]["attachment"]["payload"]["url"],
        "https://clinic.example/map.png"
    );
    assert_eq!(sent[1]["message"]["quick_replies"][0]["title"], "午前");
    assert_eq!(sent[1]["message"]["quick_replies"][1]["payload"], "pm");
}
