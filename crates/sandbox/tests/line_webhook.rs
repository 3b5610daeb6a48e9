//! The webhook driver, profile/content reads and the simulator, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use base64::{engine::general_purpose::STANDARD, Engine as _};
use common::*;
use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;

/// Computed here, not with the sandbox's own helper, so a signing bug cannot hide.
fn independent_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    STANDARD.encode(mac.finalize().into_bytes())
}

#[tokio::test]
async fn sent_webhooks_are_signed_over_the_exact_bytes_posted() {
    let env = Env::start().await;
    let status = env
        .sb
        .send_event(TOKEN, env.sb.user_text(USER, "頭が痛いです 😢"))
        .await
        .unwrap();
    assert_eq!(status, 200);
    let hooks = env.hooks.lock().unwrap();
    let hook = &hooks[0];
    let sig = hook.headers["x-line-signature"].to_str().unwrap();
    assert_eq!(sig, independent_signature(SECRET, &hook.body));
    assert_ne!(sig, independent_signature("other secret", &hook.body));
    assert_eq!(
        hook.headers["content-type"],
        "application/json; charset=utf-8"
    );
    assert_eq!(hook.headers["user-agent"], "LineBotWebhook/2.0");

    let body: serde_json::Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["destination"], BOT);
    let e = &body["events"][0];
    assert_eq!(
        (e["type"].as_str(), e["mode"].as_str()),
        (Some("message"), Some("active"))
    );
    assert_eq!(e["webhookEventId"].as_str().unwrap().len(), 26);
    assert_eq!(e["deliveryContext"]["isRedelivery"], false);
    assert_eq!(e["source"], json!({"type": "user", "userId": USER}));
    assert_eq!(e["message"]["text"], "頭が痛いです 😢");
    assert!(e["replyToken"].is_string() && e["timestamp"].is_i64());
    // Raw UTF-8 as LINE sends it, not \u escapes.
    assert!(std::str::from_utf8(&hook.body)
        .unwrap()
        .contains("頭が痛い"));
}

#[tokio::test]
async fn send_raw_posts_fixture_bytes_unchanged_and_can_forge_a_signature() {
    let env = Env::start().await;
    let fixture =
        br#"{"destination":"U1","events":[{"type":"greatNewFeature","timestamp":0}]}"#.to_vec();
    env.sb.send_raw(TOKEN, fixture.clone(), None).await.unwrap();
    env.sb
        .send_raw(BOT, fixture.clone(), Some("forged=".into()))
        .await
        .unwrap();
    let hooks = env.hooks.lock().unwrap();
    assert_eq!(hooks[0].body.as_ref(), fixture.as_slice());
    assert_eq!(
        hooks[0].headers["x-line-signature"].to_str().unwrap(),
        independent_signature(SECRET, &fixture)
    );
    assert_eq!(hooks[1].headers["x-line-signature"], "forged=");
}

#[tokio::test]
async fn a_redelivery_keeps_the_webhook_event_id_and_flags_it() {
    let env = Env::start().await;
    let event = env.sb.user_text(USER, "再送テスト");
    env.sb.send_event(TOKEN, event.clone()).await.unwrap();
    env.sb.redeliver(TOKEN, &event).await.unwrap();
    let (a, b) = (env.hook_json(0), env.hook_json(1));
    assert_eq!(
        a["events"][0]["webhookEventId"],
        b["events"][0]["webhookEventId"]
    );
    assert_eq!(b["events"][0]["deliveryContext"]["isRedelivery"], true);
    assert_eq!(
        env.sb.chat(USER).len(),
        1,
        "a redelivery is not a second patient message"
    );
}

#[tokio::test]
async fn the_builders_make_line_shaped_events() {
    let env = Env::start().await;
    let sb = &env.sb;
    let group = format!("C{}", &USER[1..]);
    for e in [
        sb.unfollow(USER),
        sb.follow(USER),
        sb.postback(USER, "action=confirm&id=42"),
        sb.postback_with_params(
            USER,
            "action=pick",
            Some(json!({"datetime": "2025-04-02T10:00"})),
        ),
        sb.unsend(USER, "500000000000000001"),
        sb.group_text(&group, USER, "グループです"),
    ] {
        sb.send_event(TOKEN, e).await.unwrap();
    }
    let ev = |n: usize| env.hook_json(n)["events"][0].clone();
    assert!(ev(0).get("replyToken").is_none());
    assert_eq!(
        ev(1)["follow"]["isUnblocked"],
        true,
        "following after a block is an unblock"
    );
    assert_eq!(ev(2)["postback"]["data"], "action=confirm&id=42");
    assert_eq!(ev(3)["postback"]["params"]["datetime"], "2025-04-02T10:00");
    assert_eq!(ev(4)["unsend"]["messageId"], "500000000000000001");
    assert_eq!(
        ev(5)["source"],
        json!({"type": "group", "groupId": group, "userId": USER})
    );

    // The group's reply token answers into the group.
    let token = ev(5)["replyToken"].as_str().unwrap().to_owned();
    let reply = json!({"replyToken": token, "messages": [text("グループへ返信")]});
    assert_eq!(env.post("/v2/bot/message/reply", &reply, None).await.0, 200);
    assert_eq!(env.sb.delivered_to(&group), vec![text("グループへ返信")]);
}

#[tokio::test]
async fn an_image_from_a_user_can_be_downloaded_as_a_real_png() {
    let env = Env::start().await;
    env.sb
        .send_event(TOKEN, env.sb.user_image(USER))
        .await
        .unwrap();
    let m = env.hook_json(0)["events"][0]["message"].clone();
    assert_eq!(m["contentProvider"]["type"], "line");
    let id = m["id"].as_str().unwrap();
    let resp = env
        .http
        .get(format!("{}/v2/bot/message/{id}/content", env.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    let bytes = resp.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"));
    assert_eq!(env.get("/v2/bot/message/123/content").await.0, 404);
}

#[tokio::test]
async fn profiles_are_served_for_friends_only() {
    let env = Env::start().await;
    let (status, _, p) = env.get(&format!("/v2/bot/profile/{USER}")).await;
    assert_eq!(status, 200);
    assert_eq!(p["displayName"], "山田 花子");
    assert_eq!(p["userId"], USER);
    assert_eq!(p["language"], "ja");
    assert!(p.get("statusMessage").is_none());
    let (status, _, body) = env
        .get("/v2/bot/profile/U00000000000000000000000000000000")
        .await;
    assert_eq!((status, body["message"].as_str()), (404, Some("Not found")));
}

#[tokio::test]
async fn the_simulator_page_works_under_a_strict_csp_and_drives_webhooks() {
    let env = Env::start().await;
    let page = env
        .http
        .get(format!("{}/simulator", env.base))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"));
    let html = page.text().await.unwrap();
    assert!(html.contains(r#"<script src="/simulator/app.js""#));
    assert!(!html.contains("<script>") && !html.contains("style=") && !html.contains("onclick"));
    let js = env
        .http
        .get(format!("{}/simulator/app.js", env.base))
        .send()
        .await
        .unwrap();
    assert!(js.text().await.unwrap().contains("textContent"));

    let users: serde_json::Value = env
        .http
        .get(format!("{}/simulator/api/users", env.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(users["users"][0]["user_id"], USER);

    let sent: serde_json::Value = env
        .http
        .post(format!("{}/simulator/api/send", env.base))
        .json(&json!({"channel": BOT, "user": USER, "kind": "text", "text": "<b>予約</b>"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(sent["webhook_status"], 200);
    assert_eq!(
        env.hook_json(0)["events"][0]["message"]["text"],
        "<b>予約</b>"
    );

    env.post(
        "/v2/bot/message/push",
        &push_body(vec![text("お待ちしています")]),
        None,
    )
    .await;
    let url = format!(
        "{}/simulator/api/messages?user={USER}&channel={BOT}",
        env.base
    );
    let chat: serde_json::Value = env
        .http
        .get(url)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let from: Vec<&str> = chat["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["from"].as_str().unwrap())
        .collect();
    assert_eq!(from, vec!["user", "bot"]);
}

#[tokio::test]
async fn mark_as_read_tokens_mark_the_chat_up_to_their_message_for_their_bot_only() {
    let env = Env::start().await;
    let first = env.sb.user_text(USER, "おはようございます");
    let second = env.sb.user_text(USER, "予約したいです");
    let unsent = env.sb.user_text(USER, "まだ送っていません");
    for e in [&first, &second] {
        assert_eq!(env.sb.send_event(TOKEN, e.clone()).await.unwrap(), 200);
    }
    let token = |e: &serde_json::Value| json!({"markAsReadToken": e["message"]["markAsReadToken"]});
    assert!(env.sb.read_messages(USER).is_empty());

    // A token whose webhook was never sent belongs to no bot yet.
    let (status, _, body) = env
        .post("/v2/bot/chat/markAsRead", &token(&unsent), None)
        .await;
    assert_eq!(status, 400, "{body}");
    let (status, _, body) = env.post("/v2/bot/chat/markAsRead", &json!({}), None).await;
    assert_eq!(status, 400, "{body}");

    let (status, _, body) = env
        .post("/v2/bot/chat/markAsRead", &token(&second), None)
        .await;
    assert_eq!(status, 200, "{body}");
    let ids: Vec<String> = [&first, &second]
        .iter()
        .map(|e| e["message"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(env.sb.read_messages(USER), ids);

    // Group messages carry no token (LINE gives one only in one-to-one chats).
    let group = env.sb.group_text("Cgroup1", USER, "こんにちは");
    assert!(group["message"].get("markAsReadToken").is_none());
}

#[tokio::test]
async fn the_loading_indicator_is_for_a_friend_for_five_to_sixty_seconds_in_steps_of_five() {
    let env = Env::start().await;
    let path = "/v2/bot/chat/loading/start";
    let ok = json!({"chatId": USER, "loadingSeconds": 20});
    let (status, _, body) = env.post(path, &ok, None).await;
    assert_eq!(status, 202, "{body}");
    for bad in [
        json!({"chatId": USER, "loadingSeconds": 7}),
        json!({"chatId": USER, "loadingSeconds": 65}),
        json!({"chatId": USER, "loadingSeconds": 0}),
        json!({"chatId": "U0000000000000000000000000000dead", "loadingSeconds": 5}),
        json!({"loadingSeconds": 5}),
    ] {
        let (status, _, body) = env.post(path, &bad, None).await;
        assert_eq!(status, 400, "{bad}: {body}");
    }
    assert_eq!(env.sb.loading_shown(USER), vec![20]);
}
