//! The Send API and User Profile API: body rules, tokens, windows, fixtures and Meta's shapes.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod messenger_common;

use std::collections::BTreeSet;

use messenger_common::*;
use serde_json::{json, Value};

fn keys(v: &Value) -> BTreeSet<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

fn assert_graph_error(body: &Value, code: i64) {
    let err = &body["error"];
    assert_eq!(err["code"], code, "{body}");
    // Same shape as the fixture's error (error_data aside, which Meta sends only sometimes).
    let mut expected = keys(&fixture("errorResponse.json")["error"]);
    expected.remove("error_data");
    assert!(keys(err).is_superset(&expected), "{body}");
}

#[tokio::test]
async fn the_library_fixtures_are_accepted_and_answered_like_meta() {
    let env = Env::start().await;
    env.open_window().await;
    let shape = keys(&fixture("messageResponse.json"));
    for name in [
        "textMessage.json",
        "imageMessage.json",
        "buttonTemplate.json",
        "genericTemplate.json",
        "receiptTemplate.json",
    ] {
        let (status, body) = env.send(&fixture(name)).await;
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(keys(&body), shape, "{name}");
        assert_eq!(body["recipient_id"], PSID);
        assert!(body["message_id"].as_str().unwrap().starts_with("m_"));
    }
    assert_eq!(env.sb.received().len(), 5);
    assert_eq!(
        env.sb.delivered_to(PAGE, PSID)[0],
        json!({ "text": "hello, world!" })
    );
}

#[tokio::test]
async fn bodies_meta_refuses_are_refused_with_code_100() {
    let env = Env::start().await;
    env.open_window().await;
    let ok = text_body("x");
    let mut cases: Vec<(&str, Value)> = Vec::new();
    let mut b = ok.clone();
    b.as_object_mut().unwrap().remove("recipient");
    cases.push(("no recipient", b));
    let mut b = ok.clone();
    b.as_object_mut().unwrap().remove("messaging_type");
    cases.push(("no messaging_type", b));
    let mut b = ok.clone();
    b["messaging_type"] = "NON_PROMOTIONAL_SUBSCRIPTION".into();
    cases.push(("unknown messaging_type", b));
    let mut b = ok.clone();
    b["messaging_type"] = "MESSAGE_TAG".into();
    cases.push(("tag missing", b.clone()));
    b["tag"] = "PROMOTION".into();
    cases.push(("tag not allowed", b));
    cases.push(("text too long", text_body(&"あ".repeat(2001))));
    let mut b = ok.clone();
    b["message"]["attachment"] =
        json!({ "type": "image", "payload": { "url": "https://x/y.png" } });
    cases.push(("text and attachment", b));
    let mut b = ok.clone();
    b["message"] =
        json!({ "attachment": { "type": "sticker", "payload": { "url": "https://x" } } });
    cases.push(("attachment type", b));
    let mut b = ok.clone();
    b["message"]["quick_replies"] = json!(vec![
        json!({ "content_type": "text", "title": "はい", "payload": "Y" });
        14
    ]);
    cases.push(("14 quick replies", b));
    let mut b = ok.clone();
    b["message"]["quick_replies"] =
        json!([{ "content_type": "text", "title": "あ".repeat(21), "payload": "Y" }]);
    cases.push(("title 21 chars", b));
    for (name, body) in cases {
        let (status, answer) = env.send(&body).await;
        assert_eq!(status, 400, "{name}: {answer}");
        assert_graph_error(&answer, 100);
    }
    assert!(env.sb.received().is_empty());

    // The limits themselves pass.
    let mut b = text_body(&"あ".repeat(2000));
    b["message"]["quick_replies"] = json!(vec![
        json!({ "content_type": "text", "title": "あ".repeat(20), "payload": "Y" });
        13
    ]);
    assert_eq!(env.send(&b).await.0, 200);
}

#[tokio::test]
async fn the_token_is_read_from_the_header_or_the_query_and_must_match_the_page() {
    let env = Env::start().await;
    env.open_window().await;
    let url = format!("{}/{V}/{PAGE}/messages", env.base);
    let by_query = env
        .http
        .post(format!("{url}?access_token={TOKEN}"))
        .json(&text_body("q"));
    assert_eq!(answer(by_query.send().await.unwrap()).await.0, 200);
    let (status, body) = env.send_as("EAAwrong", PAGE, &text_body("x")).await;
    assert_eq!(status, 400);
    assert_graph_error(&body, 190);
    let none = answer(
        env.http
            .post(&url)
            .json(&text_body("x"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(none.0, 400);
    // Another page's token cannot send as this page; `me` is the token's own page.
    let (_, body) = env.send_as(IG_TOKEN, PAGE, &text_body("x")).await;
    assert_eq!(
        (
            body["error"]["code"].as_i64(),
            body["error"]["error_subcode"].as_i64()
        ),
        (Some(100), Some(33))
    );
    assert_eq!(env.send_as(TOKEN, "me", &text_body("me")).await.0, 200);
    // Any vNN.N works; anything else is an unknown path.
    let v18 = env
        .http
        .post(format!("{}/v18.0/{PAGE}/messages", env.base))
        .bearer_auth(TOKEN)
        .json(&text_body("v18"));
    assert_eq!(answer(v18.send().await.unwrap()).await.0, 200);
    let bad = env
        .http
        .post(format!("{}/latest/{PAGE}/messages", env.base))
        .bearer_auth(TOKEN)
        .json(&text_body("x"));
    let (status, body) = answer(bad.send().await.unwrap()).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(2500)));
    assert_eq!(env.sb.received().len(), 3);
}

#[tokio::test]
async fn a_form_encoded_send_like_the_docs_curl_example_is_accepted() {
    let env = Env::start().await;
    env.open_window().await;
    let form = [
        ("recipient", format!(r#"{{"id":"{PSID}"}}"#)),
        ("messaging_type", "RESPONSE".to_owned()),
        ("message", r#"{"text":"hello, world"}"#.to_owned()),
        ("access_token", TOKEN.to_owned()),
    ];
    let req = env
        .http
        .post(format!("{}/{V}/{PAGE}/messages", env.base))
        .form(&form);
    let (status, body) = answer(req.send().await.unwrap()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        env.sb.delivered_to(PAGE, PSID),
        vec![json!({ "text": "hello, world" })]
    );
}

#[tokio::test]
async fn the_24_hour_and_7_day_windows_are_enforced_per_person() {
    let env = Env::start().await;
    let window_error = |body: &Value| {
        assert_eq!(body["error"]["code"], 10, "{body}");
        assert_eq!(body["error"]["error_subcode"], 2_018_278);
    };
    // Never wrote: nothing but the non-human tags.
    let (status, body) = env.send(&text_body("x")).await;
    assert_eq!(status, 400);
    window_error(&body);
    env.open_window().await;
    assert_eq!(env.send(&text_body("inside 24 h")).await.0, 200);
    let mut update = text_body("update");
    update["messaging_type"] = "UPDATE".into();
    assert_eq!(env.send(&update).await.0, 200);

    env.clock
        .advance(chrono::Duration::hours(24) + chrono::Duration::seconds(1));
    window_error(&env.send(&text_body("late")).await.1);
    window_error(&env.send(&update).await.1);
    let mut human = text_body("staff reply");
    human["messaging_type"] = "MESSAGE_TAG".into();
    human["tag"] = "HUMAN_AGENT".into();
    assert_eq!(env.send(&human).await.0, 200);

    env.clock.advance(chrono::Duration::days(6));
    window_error(&env.send(&human).await.1);
    let mut event = text_body("明日10時のご予約です");
    event["messaging_type"] = "MESSAGE_TAG".into();
    event["tag"] = "CONFIRMED_EVENT_UPDATE".into();
    assert_eq!(env.send(&event).await.0, 200);

    // Writing again reopens the window.
    env.open_window().await;
    assert_eq!(env.send(&text_body("again")).await.0, 200);
    assert_eq!(env.sb.received().len(), 5);
}

#[tokio::test]
async fn unknown_and_blocked_recipients_get_metas_codes() {
    let env = Env::start().await;
    env.open_window().await;
    let mut body = text_body("x");
    body["recipient"]["id"] = "999".into();
    let (_, answer) = env.send(&body).await;
    assert_eq!(
        (
            answer["error"]["code"].as_i64(),
            answer["error"]["error_subcode"].as_i64()
        ),
        (Some(100), Some(2_018_001))
    );
    env.sb.block_user(PAGE, PSID);
    let (status, answer) = env.send(&text_body("x")).await;
    assert_eq!(status, 400);
    assert_graph_error(&answer, 551);
}

#[tokio::test]
async fn a_sender_action_is_answered_without_a_message_id() {
    let env = Env::start().await;
    env.open_window().await;
    let body = json!({ "recipient": { "id": PSID }, "sender_action": "typing_on" });
    let (status, answer) = env.send(&body).await;
    assert_eq!((status, answer), (200, json!({ "recipient_id": PSID })));
    let both = json!({ "recipient": { "id": PSID }, "sender_action": "typing_on", "message": { "text": "x" } });
    assert_eq!(env.send(&both).await.0, 400);
}

#[tokio::test]
async fn the_profile_answers_the_fields_asked_for_like_the_fixture() {
    let env = Env::start().await;
    let (status, body) = env
        .get(&format!(
            "/{V}/{PSID}?fields=first_name,last_name,profile_pic"
        ))
        .await;
    assert_eq!(status, 200);
    assert_eq!(body["first_name"], "花子");
    assert_eq!(body["last_name"], "山田");
    let sample = keys(&fixture("userProfileInfoResponse.json"));
    let got: BTreeSet<String> = keys(&body).into_iter().filter(|k| k != "id").collect();
    assert!(got.is_subset(&sample), "{got:?}");
    let (status, body) = env.get(&format!("/{V}/{PSID}?fields=gender")).await;
    assert_eq!(status, 400);
    assert_graph_error(&body, 100);
    // A person of another page is not visible to this token.
    let (_, body) = env.get(&format!("/{V}/{IGSID}?fields=first_name")).await;
    assert_eq!(body["error"]["error_subcode"], 33);
}
