//! The webhook driver (signatures, Meta's serialisation, item shapes, redelivery, receipts), the
//! media store, the verification handshake and the simulator, over real HTTP.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod messenger_common;

use std::time::Duration;

use hmac::{Hmac, Mac};
use messenger_common::*;
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::Sha256;

/// Computed here, not with the sandbox's helpers, so a signing bug cannot hide.
fn independent(secret: &str, body: &[u8]) -> (String, String) {
    let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
    let mut m256 = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    m256.update(body);
    let mut m1 = Hmac::<Sha1>::new_from_slice(secret.as_bytes()).unwrap();
    m1.update(body);
    (
        format!("sha256={}", hex(&m256.finalize().into_bytes())),
        format!("sha1={}", hex(&m1.finalize().into_bytes())),
    )
}

#[tokio::test]
async fn webhooks_carry_both_signatures_over_the_exact_escaped_bytes() {
    let env = Env::start().await;
    let posted = env
        .sb
        .user_text(PAGE, PSID, "頭が痛いです 😢 https://x/y")
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    let hooks = env.hooks.lock().unwrap();
    let hook = &hooks[0];
    assert_eq!(hook.body.as_ref(), posted.body.as_slice());
    let (sha256, sha1) = independent(SECRET, &hook.body);
    assert_eq!(
        hook.headers["x-hub-signature-256"].to_str().unwrap(),
        sha256
    );
    assert_eq!(hook.headers["x-hub-signature"].to_str().unwrap(), sha1);
    assert_ne!(independent("other", &hook.body).0, sha256);
    let text = std::str::from_utf8(&hook.body).unwrap();
    assert!(text.is_ascii(), "non-ASCII must be \\u-escaped: {text}");
    assert!(
        text.contains(r"\u982d")
            && text.contains(r"\ud83d\ude22")
            && text.contains(r"https:\/\/x\/y")
    );

    let body: Value = serde_json::from_slice(&hook.body).unwrap();
    assert_eq!(body["object"], "page");
    assert_eq!(body["entry"][0]["id"], PAGE);
    let item = &body["entry"][0]["messaging"][0];
    assert_eq!(item["sender"]["id"], PSID);
    assert_eq!(item["recipient"]["id"], PAGE);
    assert_eq!(item["timestamp"], env.clock_ms());
    assert_eq!(item["message"]["text"], "頭が痛いです 😢 https://x/y");
    assert_eq!(item["message"]["mid"].as_str(), posted.mid.as_deref());
}

trait ClockMs {
    fn clock_ms(&self) -> i64;
}
impl ClockMs for Env {
    fn clock_ms(&self) -> i64 {
        use tsunagu_core::Clock;
        self.clock.now_ms()
    }
}

#[tokio::test]
async fn postbacks_quick_replies_reactions_deliveries_and_reads_look_like_metas() {
    let env = Env::start().await;
    let pb = env
        .sb
        .postback(PAGE, PSID, "予約を確認", "CONFIRM:42")
        .await
        .unwrap();
    env.sb
        .quick_reply(PAGE, PSID, "午前", "SLOT_AM")
        .await
        .unwrap();
    env.sb
        .reaction(PAGE, PSID, "m_page_1", Some("❤"))
        .await
        .unwrap();
    env.sb.reaction(PAGE, PSID, "m_page_1", None).await.unwrap();
    env.sb
        .delivery(PAGE, PSID, &["m_page_1".to_owned()])
        .await
        .unwrap();
    env.sb.read(PAGE, PSID, 1_743_498_000_000).await.unwrap();
    let item = |n: usize| env.hook_json(n)["entry"][0]["messaging"][0].clone();
    assert_eq!(
        item(0)["postback"],
        json!({ "mid": pb.mid.unwrap(), "title": "予約を確認", "payload": "CONFIRM:42" })
    );
    assert_eq!(item(1)["message"]["quick_reply"]["payload"], "SLOT_AM");
    assert_eq!(item(1)["message"]["text"], "午前");
    assert_eq!(item(2)["reaction"]["action"], "react");
    assert_eq!(item(2)["reaction"]["emoji"], "❤");
    assert_eq!(
        item(3)["reaction"],
        json!({ "action": "unreact", "mid": "m_page_1" })
    );
    assert_eq!(item(4)["delivery"]["mids"], json!(["m_page_1"]));
    assert_eq!(item(5)["read"]["watermark"], 1_743_498_000_000i64);
    // Postbacks and quick replies open the window; the chat shows them.
    assert_eq!(env.sb.chat(PAGE, PSID).len(), 2);
    assert_eq!(env.send(&text_body("ok")).await.0, 200);
}

#[tokio::test]
async fn instagram_accounts_post_the_instagram_object() {
    let env = Env::start().await;
    env.sb.user_text(IG, IGSID, "営業時間は？").await.unwrap();
    let body = env.hook_json(0);
    assert_eq!(body["object"], "instagram");
    assert_eq!(body["entry"][0]["id"], IG);
    let ok = env
        .send_as(IG_TOKEN, IG, &json!({ "recipient": { "id": IGSID }, "messaging_type": "RESPONSE", "message": { "text": "9時からです" } }))
        .await;
    assert_eq!(ok.0, 200, "{}", ok.1);
}

#[tokio::test]
async fn a_redelivery_posts_the_same_bytes_and_a_bad_signature_can_be_forced() {
    let env = Env::start().await;
    let first = env.sb.user_text(PAGE, PSID, "再送テスト").await.unwrap();
    let again = env.sb.redeliver(PAGE, &first).await.unwrap();
    assert_eq!(again.body, first.body);
    assert_eq!(again.mid, first.mid);
    env.sb
        .post_raw(PAGE, b"{}".to_vec(), Some("sha256=00".into()))
        .await
        .unwrap();
    let hooks = env.hooks.lock().unwrap();
    assert_eq!(hooks[0].body, hooks[1].body);
    assert_eq!(hooks[2].headers["x-hub-signature-256"], "sha256=00");
    assert_eq!(
        hooks[2].headers["x-hub-signature"].to_str().unwrap(),
        independent(SECRET, b"{}").1
    );
}

#[tokio::test]
async fn an_image_from_the_person_is_served_at_an_absolute_public_url() {
    let env = Env::start().await;
    let posted = env.sb.user_image(PAGE, PSID).await.unwrap();
    let url = posted.json["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]
        ["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        url.starts_with(&format!("{}/attachments/", env.base)),
        "{url}"
    );
    let resp = env.http.get(&url).send().await.unwrap();
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(&resp.bytes().await.unwrap()[..4], b"\x89PNG");
}

#[tokio::test]
async fn nested_under_a_prefix_the_api_simulator_and_media_urls_follow_it() {
    let env = Env::start().await;
    let nested = axum::Router::new().nest("/messenger", env.sb.router());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, nested).await.unwrap() });
    let base = format!("http://{addr}/messenger");
    env.sb.set_public_url(&base);
    env.open_window().await;
    let resp = env
        .http
        .post(format!("{base}/{V}/{PAGE}/messages"))
        .bearer_auth(TOKEN)
        .json(&text_body("nested"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let posted = env.sb.user_image(PAGE, PSID).await.unwrap();
    let url = posted.json["entry"][0]["messaging"][0]["message"]["attachments"][0]["payload"]
        ["url"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(url.starts_with(&format!("{base}/attachments/")));
    assert_eq!(env.http.get(&url).send().await.unwrap().status(), 200);

    let page = env
        .http
        .get(format!("{base}/simulator"))
        .send()
        .await
        .unwrap();
    assert_eq!(page.status(), 200);
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = page.text().await.unwrap();
    assert!(
        html.contains(r#"src="simulator/app.js""#)
            && !html.contains("<script>")
            && !html.contains("style=")
    );
    let js = env
        .http
        .get(format!("{base}/simulator/app.js"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !js.contains("fetch(\"/") && !js.contains("api(\"/"),
        "fetch URLs must be relative"
    );
}

#[tokio::test]
async fn the_simulator_api_lists_people_sends_as_them_and_shows_the_chat() {
    let env = Env::start().await;
    let users: Value = env
        .http
        .get(format!("{}/simulator/api/users", env.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(users["users"]
        .as_array()
        .unwrap()
        .iter()
        .any(|u| u["psid"] == PSID && u["name"] == "山田 花子"));
    let send = |body: Value| {
        let req = env
            .http
            .post(format!("{}/simulator/api/send", env.base))
            .json(&body);
        async move { answer(req.send().await.unwrap()).await }
    };
    let (status, body) =
        send(json!({ "page": PAGE, "psid": PSID, "kind": "text", "text": "診察券をなくしました" }))
            .await;
    assert_eq!((status, body["webhook_status"].as_i64()), (200, Some(200)));
    send(json!({ "page": PAGE, "psid": PSID, "kind": "postback", "title": "はい", "payload": "YES" })).await;
    assert_eq!(env.send(&text_body("承知しました")).await.0, 200);
    let chat: Value = env
        .http
        .get(format!(
            "{}/simulator/api/messages?page={PAGE}&psid={PSID}",
            env.base
        ))
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
    assert_eq!(from, ["user", "user", "page"]);
    let created = env
        .http
        .post(format!("{}/simulator/api/users", env.base))
        .json(&json!({ "page": PAGE, "first_name": "太郎", "last_name": "佐藤" }))
        .send()
        .await
        .unwrap();
    let psid = created.json::<Value>().await.unwrap()["psid"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(psid.len() >= 16 && psid.bytes().all(|b| b.is_ascii_digit()));
    assert!(env.sb.users(PAGE).iter().any(|u| u.psid == psid));
}

#[tokio::test]
async fn auto_receipts_post_a_delivery_then_a_read_for_each_accepted_send() {
    let env = Env::start().await;
    env.sb.set_auto_receipts(true);
    env.open_window().await;
    let (_, answer) = env.send(&text_body("お大事に")).await;
    let mid = answer["message_id"].as_str().unwrap().to_owned();
    for _ in 0..50 {
        if env.hooks_len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(env.hooks_len(), 3);
    assert_eq!(
        env.hook_json(1)["entry"][0]["messaging"][0]["delivery"]["mids"],
        json!([mid])
    );
    assert!(env.hook_json(2)["entry"][0]["messaging"][0]["read"]["watermark"].is_i64());
}

#[tokio::test]
async fn verify_webhook_reports_whether_the_challenge_was_echoed() {
    let env = Env::start().await;
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::get(
            |q: axum::extract::Query<std::collections::HashMap<String, String>>| async move {
                let ok = q.get("hub.mode").map(String::as_str) == Some("subscribe")
                    && q.get("hub.verify_token").map(String::as_str) == Some("tok");
                if ok {
                    (
                        axum::http::StatusCode::OK,
                        q.get("hub.challenge").cloned().unwrap_or_default(),
                    )
                } else {
                    (axum::http::StatusCode::FORBIDDEN, String::new())
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let url = format!("http://{addr}/hook");
    assert!(env.sb.verify_webhook(&url, "tok").await.unwrap());
    assert!(!env.sb.verify_webhook(&url, "wrong").await.unwrap());
}
