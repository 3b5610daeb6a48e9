//! The sandbox's send API over real HTTP: validation, auth, recipients, quota, reply tokens.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_bad_push_is_rejected_with_details_naming_the_property() {
    let env = Env::start().await;
    let (status, headers, body) = env
        .post(
            "/v2/bot/message/push",
            &push_body(vec![json!({"type": "text"})]),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert!(headers.contains_key("x-line-request-id"));
    assert!(
        body["message"].as_str().unwrap().contains("error(s)"),
        "{body}"
    );
    let props: Vec<&str> = body["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["property"].as_str().unwrap())
        .collect();
    assert!(props.contains(&"messages[0].text"), "{body}");
    assert!(env.sb.received().is_empty());
    assert!(env.sb.delivered_to(USER).is_empty());
}

#[tokio::test]
async fn limits_beyond_the_spec_are_enforced_too() {
    let env = Env::start().await;
    let long = push_body(vec![text(&"あ".repeat(5001))]);
    let (status, _, body) = env.post("/v2/bot/message/push", &long, None).await;
    assert_eq!(
        (status, body["details"][0]["property"].as_str()),
        (400, Some("messages[0].text"))
    );

    let item =
        json!({"type": "action", "action": {"type": "message", "label": "はい", "text": "はい"}});
    let mut m = text("予約を確定しますか？");
    m["quickReply"] = json!({ "items": vec![item; 14] });
    let (status, _, body) = env
        .post("/v2/bot/message/push", &push_body(vec![m]), None)
        .await;
    assert_eq!(status, 400);
    assert!(
        body.to_string().contains("messages[0].quickReply.items"),
        "{body}"
    );

    let six = push_body(vec![text("a"); 6]);
    assert_eq!(env.post("/v2/bot/message/push", &six, None).await.0, 400);
    let many: Vec<String> = (0..501).map(|i| format!("U{i:032x}")).collect();
    let (status, _, body) = env
        .post(
            "/v2/bot/message/multicast",
            &json!({"to": many, "messages": [text("a")]}),
            None,
        )
        .await;
    assert_eq!(
        (status, body["details"][0]["property"].as_str()),
        (400, Some("to"))
    );
}

#[tokio::test]
async fn a_valid_push_is_delivered_and_answers_sent_message_ids() {
    let env = Env::start().await;
    let (status, headers, body) = env
        .post(
            "/v2/bot/message/push",
            &push_body(vec![text("こんにちは"), text("2通目")]),
            None,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    assert!(headers.contains_key("x-line-request-id"));
    assert_eq!(body["sentMessages"].as_array().unwrap().len(), 2);
    assert!(
        body["sentMessages"][0]["id"].is_string()
            && body["sentMessages"][0]["quoteToken"].is_string()
    );
    assert_eq!(
        env.sb.delivered_to(USER),
        vec![text("こんにちは"), text("2通目")]
    );
    let received = env.sb.received();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].endpoint, "/v2/bot/message/push");
    assert_eq!(received[0].access_token, TOKEN);
    assert_eq!(
        env.sb.consumption(TOKEN),
        1,
        "one push to one user is one message, whatever the bubbles"
    );
}

#[tokio::test]
async fn authentication_failures_answer_401_like_line() {
    let env = Env::start().await;
    let resp = env
        .http
        .post(format!("{}/v2/bot/message/push", env.base))
        .bearer_auth("wrong")
        .json(&push_body(vec![text("x")]))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    assert!(resp.headers().contains_key("x-line-request-id"));
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["message"],
        "Authentication failed. Confirm that the access token in the authorization header is valid."
    );
    let resp = env
        .http
        .get(format!("{}/v2/bot/message/quota", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

#[tokio::test]
async fn the_monthly_quota_answers_429_but_replies_stay_free() {
    let env = Env::start().await;
    env.sb.set_quota(TOKEN, Some(2));
    let body = push_body(vec![text("x")]);
    assert_eq!(env.post("/v2/bot/message/push", &body, None).await.0, 200);
    assert_eq!(env.post("/v2/bot/message/push", &body, None).await.0, 200);
    let (status, _, err) = env.post("/v2/bot/message/push", &body, None).await;
    assert_eq!(status, 429);
    assert_eq!(err["message"], "You have reached your monthly limit.");
    assert_eq!(env.sb.delivered_to(USER).len(), 2);

    let (_, _, quota) = env.get("/v2/bot/message/quota").await;
    assert_eq!(quota, json!({"type": "limited", "value": 2}));
    let (_, _, used) = env.get("/v2/bot/message/quota/consumption").await;
    assert_eq!(used, json!({"totalUsage": 2}));

    env.sb
        .send_event(TOKEN, env.sb.user_text(USER, "予約したいです"))
        .await
        .unwrap();
    let token = env.hook_json(0)["events"][0]["replyToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let reply = json!({"replyToken": token, "messages": [text("承知しました")]});
    assert_eq!(env.post("/v2/bot/message/reply", &reply, None).await.0, 200);
}

#[tokio::test]
async fn a_reply_token_works_once_and_expires_after_a_minute() {
    let env = Env::start().await;
    env.sb
        .send_event(TOKEN, env.sb.user_text(USER, "こんにちは"))
        .await
        .unwrap();
    env.sb
        .send_event(TOKEN, env.sb.user_text(USER, "もしもし"))
        .await
        .unwrap();
    let first = env.hook_json(0)["events"][0]["replyToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let second = env.hook_json(1)["events"][0]["replyToken"]
        .as_str()
        .unwrap()
        .to_owned();

    let reply = json!({"replyToken": first, "messages": [text("どうされましたか")]});
    let (status, _, body) = env.post("/v2/bot/message/reply", &reply, None).await;
    assert_eq!(status, 200);
    assert_eq!(body["sentMessages"].as_array().unwrap().len(), 1);
    let (status, _, body) = env.post("/v2/bot/message/reply", &reply, None).await;
    assert_eq!(
        (status, body["message"].as_str()),
        (400, Some("Invalid reply token"))
    );

    let unknown =
        json!({"replyToken": "0f3779fba3b349968c5d07db31eab56f", "messages": [text("x")]});
    assert_eq!(
        env.post("/v2/bot/message/reply", &unknown, None).await.0,
        400
    );

    env.clock.advance(chrono::Duration::seconds(61));
    let late = json!({"replyToken": second, "messages": [text("x")]});
    assert_eq!(env.post("/v2/bot/message/reply", &late, None).await.0, 400);
    assert_eq!(env.sb.delivered_to(USER), vec![text("どうされましたか")]);
}

#[tokio::test]
async fn multicast_narrowcast_and_broadcast_reach_followers_but_not_blockers() {
    let env = Env::start().await;
    let other = tsunagu_sandbox::line::random_user_id();
    env.sb.add_user(
        TOKEN,
        tsunagu_sandbox::line::UserProfile {
            user_id: other.clone(),
            display_name: "佐藤".into(),
            ..Default::default()
        },
    );
    env.sb
        .send_event(TOKEN, env.sb.unfollow(&other))
        .await
        .unwrap();

    let (status, _, body) = env
        .post(
            "/v2/bot/message/broadcast",
            &json!({"messages": [text("休診のお知らせ")]}),
            Some(&new_key()),
        )
        .await;
    assert_eq!((status, body), (200, json!({})));
    assert_eq!(env.sb.delivered_to(USER).len(), 1);
    assert!(env.sb.delivered_to(&other).is_empty());

    let (status, headers, _) = env
        .post(
            "/v2/bot/message/narrowcast",
            &json!({"messages": [text("n")]}),
            None,
        )
        .await;
    assert_eq!(status, 202);
    let id = headers["x-line-request-id"].to_str().unwrap();
    let (status, _, progress) = env
        .get(&format!(
            "/v2/bot/message/progress/narrowcast?requestId={id}"
        ))
        .await;
    assert_eq!(
        (
            status,
            progress["phase"].as_str(),
            progress["successCount"].as_i64()
        ),
        (200, Some("succeeded"), Some(1))
    );

    let (status, _, _) = env
        .post(
            "/v2/bot/message/multicast",
            &json!({"to": [USER, other], "messages": [text("m")]}),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(env.sb.delivered_to(USER).len(), 3);
    assert_eq!(env.sb.consumption(TOKEN), 3);
}

#[tokio::test]
async fn every_official_flex_sample_is_accepted_as_a_flex_message() {
    let env = Env::start().await;
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/line/flex");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("json") {
            continue;
        }
        let contents: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let msg = json!({"type": "flex", "altText": "お知らせ", "contents": contents});
        let (status, _, body) = env
            .post("/v2/bot/message/push", &push_body(vec![msg]), None)
            .await;
        assert_eq!(status, 200, "{}: {body}", path.display());
        count += 1;
    }
    assert_eq!(count, 13);
    let broken = json!({"type": "flex", "altText": "x", "contents": {"type": "bubble", "body": {"type": "box", "contents": []}}});
    let (status, _, body) = env
        .post("/v2/bot/message/push", &push_body(vec![broken]), None)
        .await;
    assert_eq!(status, 400, "a box without layout must fail: {body}");
}

#[tokio::test]
async fn malformed_json_and_unknown_paths_answer_like_line() {
    let env = Env::start().await;
    let resp = env
        .http
        .post(format!("{}/v2/bot/message/push", env.base))
        .bearer_auth(TOKEN)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    let form = env
        .http
        .post(format!("{}/v2/bot/message/push", env.base))
        .bearer_auth(TOKEN)
        .body(push_body(vec![text("x")]).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(
        form.status(),
        415,
        "a body without Content-Type: application/json is refused"
    );
    let (status, headers, body) = env.get("/v2/bot/nothing-here").await;
    assert_eq!((status, body["message"].as_str()), (404, Some("Not found")));
    assert!(headers.contains_key("x-line-request-id"));
}
