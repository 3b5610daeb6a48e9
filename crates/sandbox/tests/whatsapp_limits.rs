//! The 24-hour window, throughput and pair-rate limits, templates, media URLs and injected faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod whatsapp_common;

use std::time::Duration;

use serde_json::json;
use whatsapp_common::*;

#[tokio::test]
async fn the_window_opens_with_the_users_message_and_closes_24_hours_later() {
    let env = Env::start().await;
    let (status, answer) = env.send(&text(USER, "こんにちは")).await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"]["code"], 131047);
    assert_eq!(
        answer["error"]["message"],
        "(#131047) Re-engagement message"
    );
    env.sb
        .user_text(PHONE, USER, NAME, "予約できますか")
        .await
        .unwrap();
    let (status, answer) = env.send(&text(&format!("+{USER}"), "はい")).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(
        answer["contacts"][0],
        json!({ "input": format!("+{USER}"), "wa_id": USER })
    );
    assert!(answer["messages"][0]["id"]
        .as_str()
        .unwrap()
        .starts_with("wamid."));
    env.clock.advance(chrono::Duration::hours(24));
    assert_eq!(
        env.send(&text(USER, "遅い")).await.1["error"]["code"],
        131047
    );
    let chat = env.sb.chat(PHONE, USER);
    assert_eq!(
        chat.iter().map(|e| e.from).collect::<Vec<_>>(),
        ["user", "business"]
    );
}

#[tokio::test]
async fn templates_go_out_without_a_window_once_approved() {
    let env = Env::start().await;
    let body = json!({ "messaging_product": "whatsapp", "to": USER, "type": "template",
        "template": { "name": "reminder", "language": { "code": "ja" },
                      "components": [{ "type": "body", "parameters": [{ "type": "text", "text": "山田" }] }] } });
    let create = json!({ "name": "reminder", "language": "ja", "category": "UTILITY",
        "components": [{ "type": "BODY", "text": "{{1}}様、明日のご予約です", "example": { "body_text": [["山田"]] } }] });
    let url = format!("{}/{V}/{WABA}/message_templates", env.base);
    let resp = env
        .http
        .post(&url)
        .bearer_auth(TOKEN)
        .json(&create)
        .send()
        .await
        .unwrap();
    let (status, created) = answer(resp).await;
    assert_eq!((status, created["status"].as_str()), (200, Some("PENDING")));
    assert_eq!(env.send(&body).await.1["error"]["code"], 132001);
    env.sb.approve_template(WABA, "reminder");
    let (status, answer_) = env.send(&body).await;
    assert_eq!(status, 200, "{answer_}");
    assert_eq!(answer_["messages"][0]["message_status"], "accepted");
    let (_, list) = env.get(&format!("/{V}/{WABA}/message_templates")).await;
    assert_eq!(list["data"][0]["status"], "APPROVED");
    assert_eq!(list["data"][0]["id"], created["id"]);
    env.sb.reject_template(WABA, "reminder", "INVALID_FORMAT");
    assert_eq!(env.send(&body).await.1["error"]["code"], 132001);
}

#[tokio::test]
async fn the_pair_rate_and_throughput_limits_follow_the_clock() {
    let env = Env::start().await;
    env.sb.open_window(PHONE, USER);
    env.sb.set_pair_rate_limit(2, Duration::from_secs(6));
    assert_eq!(env.send(&text(USER, "1")).await.0, 200);
    assert_eq!(env.send(&text(USER, "2")).await.0, 200);
    let (status, answer) = env.send(&text(USER, "3")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_i64()),
        (400, Some(131056))
    );
    env.clock.advance(chrono::Duration::seconds(6));
    assert_eq!(env.send(&text(USER, "4")).await.0, 200);

    env.sb.set_pair_rate_limit(1000, Duration::from_secs(1));
    env.sb.set_throughput_limit(3);
    env.clock.advance(chrono::Duration::seconds(1));
    let other = "819000000001";
    env.sb.open_window(PHONE, other);
    for i in 0..3 {
        assert_eq!(env.send(&text(other, &i.to_string())).await.0, 200);
    }
    assert_eq!(env.send(&text(USER, "x")).await.1["error"]["code"], 130429);
    env.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(env.send(&text(USER, "y")).await.0, 200);
}

#[tokio::test]
async fn faults_before_accept_are_not_executed_and_after_accept_are() {
    let env = Env::start().await;
    env.sb.open_window(PHONE, USER);
    env.sb.fail_next_before_accept("/messages", 503, 1);
    let (status, answer) = env.send(&text(USER, "a")).await;
    assert_eq!((status, answer["error"]["code"].as_i64()), (503, Some(2)));
    assert_eq!(answer["error"]["is_transient"], true);
    assert!(env.sb.received().is_empty());
    env.sb.fail_next_after_accept("/messages", 1);
    let (status, answer) = env.send(&text(USER, "b")).await;
    assert_eq!(
        (status, answer["error"]["code"].as_i64()),
        (500, Some(131000))
    );
    assert_eq!(env.sb.received().len(), 1);
    env.sb
        .delay_next_after_accept("/messages", Duration::from_millis(300), 1);
    let started = std::time::Instant::now();
    assert_eq!(env.send(&text(USER, "c")).await.0, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(env.sb.calls_to("/messages"), 3);
}

#[tokio::test]
async fn media_urls_use_the_public_url_and_expire_after_five_minutes() {
    let env = Env::start().await;
    // Nested like the demo: only the public URL knows the prefix.
    let app = axum::Router::new().nest("/whatsapp", env.sb.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let nested = format!("http://{}/whatsapp", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    env.sb.set_public_url(&nested);
    let id = env.sb.add_media(b"bytes".to_vec(), "image/jpeg");
    let resp = env
        .http
        .get(format!("{nested}/{V}/{id}"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .unwrap();
    let (status, info) = answer(resp).await;
    assert_eq!(status, 200, "{info}");
    let url = info["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{nested}/lookaside/")), "{url}");
    let resp = env.http.get(url).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"bytes");
    assert_eq!(env.http.get(url).send().await.unwrap().status(), 401);
    env.clock.advance(chrono::Duration::minutes(5));
    assert_eq!(
        env.http
            .get(url)
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    let page = env
        .http
        .get(format!("{nested}/simulator"))
        .send()
        .await
        .unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'"));
    assert!(page
        .text()
        .await
        .unwrap()
        .contains("src=\"simulator/app.js\""));
}
