//! `MessengerClient` against the Messenger sandbox: sends, the window, classified failures,
//! the profile and attachment downloads.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::TimeZone;
use serde_json::json;
use tsunagu_channels::delivery::SendFailure;
use tsunagu_channels::messenger::client::{self, AttachmentType, MessagingKind, MessengerClient};
use tsunagu_channels::messenger::{events, signature, window};
use tsunagu_core::{Clock, FakeClock};
use tsunagu_sandbox::messenger::{MessengerSandbox, MessengerUser, PageConfig, RateLimitAnswer};

const PAGE: &str = "104927532236412";
const TOKEN: &str = "EAAsandboxPageToken1";
const SECRET: &str = "3f1c9a0e5b7d2468ace13579bdf02468";
const PSID: &str = "7051846318273645";

/// Raw bodies and X-Hub-Signature-256 values the webhook received.
type Hooks = Arc<Mutex<Vec<(Vec<u8>, Option<String>)>>>;

struct Env {
    sb: MessengerSandbox,
    client: MessengerClient,
    base: String,
    clock: FakeClock,
    hooks: Hooks,
}

async fn start() -> Env {
    let clock = FakeClock::new(chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap());
    let sb = MessengerSandbox::with_clock(Arc::new(clock.clone()));
    let hooks: Hooks = Arc::new(Mutex::new(Vec::new()));
    let sink = hooks.clone();
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(
            move |headers: axum::http::HeaderMap, body: axum::body::Bytes| {
                let sink = sink.clone();
                async move {
                    let sig = headers
                        .get("x-hub-signature-256")
                        .map(|v| v.to_str().unwrap().to_owned());
                    sink.lock().unwrap().push((body.to_vec(), sig));
                    "EVENT_RECEIVED"
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    sb.add_page(PageConfig {
        page_id: PAGE.into(),
        name: "さくら内科".into(),
        access_token: TOKEN.into(),
        app_secret: SECRET.into(),
        webhook_url: Some(hook),
        instagram: false,
    });
    sb.add_user(
        PAGE,
        MessengerUser {
            psid: PSID.into(),
            first_name: "花子".into(),
            last_name: "山田".into(),
            profile_pic: Some("https://example.com/p.png".into()),
        },
    );
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let base = format!("http://{addr}/v23.0");
    let client = MessengerClient::new(reqwest::Client::new(), &base, TOKEN);
    Env {
        sb,
        client,
        base,
        clock,
        hooks,
    }
}

fn text(t: &str, kind: MessagingKind) -> serde_json::Value {
    client::text(PSID, t, kind).unwrap()
}

#[tokio::test]
async fn a_text_reply_inside_the_window_is_sent_and_its_mid_returned() {
    let env = start().await;
    env.sb
        .user_text(PAGE, PSID, "予約したいです")
        .await
        .unwrap();
    let sent = env
        .client
        .send(PAGE, &text("ご希望の日時は？", MessagingKind::Response))
        .await
        .unwrap();
    let received = env.sb.received();
    assert_eq!(sent.provider_message_id, received[0].message_id);
    assert_eq!(received[0].body["message"]["text"], "ご希望の日時は？");
    let qr = client::quick_replies(
        PSID,
        "午前と午後どちら？",
        &[("午前", "AM"), ("午後", "PM")],
        MessagingKind::Response,
    )
    .unwrap();
    env.client.send(PAGE, &qr).await.unwrap();
    let image = client::attachment(
        PSID,
        AttachmentType::Image,
        "https://example.com/map.png",
        MessagingKind::Response,
    )
    .unwrap();
    env.client.send(PAGE, &image).await.unwrap();
    assert_eq!(env.sb.delivered_to(PAGE, PSID).len(), 3);
}

#[tokio::test]
async fn the_window_rule_matches_what_the_platform_enforces() {
    let env = start().await;
    let posted = env.sb.user_text(PAGE, PSID, "こんにちは").await.unwrap();
    let body = events::parse(&posted.body).unwrap();
    let last = body.events[0].timestamp_ms;

    env.clock.advance(chrono::Duration::hours(30));
    let now = env.clock.now_ms();
    assert!(window::allowed_kind(Some(last), now, false).is_err());
    let refused = env
        .client
        .send(PAGE, &text("自動送信", MessagingKind::Response))
        .await
        .unwrap_err();
    assert!(matches!(refused, SendFailure::Rejected { status: 400, .. }));
    assert_eq!(refused.code(), Some("10/2018278"));
    assert!(
        refused.to_string().contains("outside the allowed window"),
        "{refused}"
    );

    let kind = window::allowed_kind(Some(last), now, true).unwrap();
    assert_eq!(kind, MessagingKind::HumanAgent);
    env.client
        .send(PAGE, &text("スタッフからの返信です", kind))
        .await
        .unwrap();

    env.clock.advance(chrono::Duration::days(7));
    assert!(window::allowed_kind(Some(last), env.clock.now_ms(), true).is_err());
    let late = env
        .client
        .send(PAGE, &text("x", MessagingKind::HumanAgent))
        .await
        .unwrap_err();
    assert_eq!(late.code(), Some("10/2018278"));
}

#[tokio::test]
async fn throttling_and_failures_before_accept_are_retried() {
    let env = start().await;
    env.sb.user_text(PAGE, PSID, "x").await.unwrap();
    env.sb.set_rate_limit(0, RateLimitAnswer::Code613);
    let f = env
        .client
        .send(PAGE, &text("x", MessagingKind::Response))
        .await
        .unwrap_err();
    assert!(matches!(f, SendFailure::Retry { .. }), "{f:?}");
    assert_eq!(f.code(), Some("613"));
    env.sb.set_rate_limit(0, RateLimitAnswer::Http429);
    let f = env
        .client
        .send(PAGE, &text("x", MessagingKind::Response))
        .await
        .unwrap_err();
    assert!(matches!(
        f,
        SendFailure::Retry {
            status: Some(429),
            ..
        }
    ));
    env.sb.set_rate_limit(1000, RateLimitAnswer::Http429);
    env.sb.fail_next_before_accept("/messages", 503, 1);
    let f = env
        .client
        .send(PAGE, &text("x", MessagingKind::Response))
        .await
        .unwrap_err();
    assert!(matches!(f, SendFailure::Retry { .. }), "{f:?}");
    assert!(env.sb.received().is_empty());
}

#[tokio::test]
async fn a_lost_or_late_answer_after_execution_is_in_doubt() {
    let env = start().await;
    env.sb.user_text(PAGE, PSID, "x").await.unwrap();
    env.sb.fail_next_after_accept("/messages", 1);
    let f = env
        .client
        .send(PAGE, &text("x", MessagingKind::Response))
        .await
        .unwrap_err();
    assert!(matches!(f, SendFailure::InDoubt { .. }), "{f:?}");
    env.sb
        .delay_next_after_accept("/messages", Duration::from_millis(400), 1);
    let impatient = env.client.clone().with_timeout(Duration::from_millis(100));
    let f = impatient
        .send(PAGE, &text("y", MessagingKind::Response))
        .await
        .unwrap_err();
    assert!(matches!(f, SendFailure::InDoubt { .. }), "{f:?}");
    assert_eq!(env.sb.received().len(), 2, "both were executed");
}

#[tokio::test]
async fn a_bad_token_an_unknown_person_and_no_connection_are_classified() {
    let env = start().await;
    let wrong = MessengerClient::new(reqwest::Client::new(), &env.base, "EAAwrong");
    let f = wrong
        .send(PAGE, &text("x", MessagingKind::Response))
        .await
        .unwrap_err();
    assert_eq!(f.code(), Some("190"));
    assert!(f.to_string().contains("token"), "{f}");
    let body = json!({ "recipient": { "id": "1" }, "messaging_type": "RESPONSE", "message": { "text": "x" } });
    let f = env.client.send(PAGE, &body).await.unwrap_err();
    assert_eq!(f.code(), Some("100/2018001"));
    env.sb.block_user(PAGE, PSID);
    env.sb.user_text(PAGE, PSID, "x").await.unwrap();
    let f = env
        .client
        .send(PAGE, &text("x", MessagingKind::Response))
        .await
        .unwrap_err();
    assert!(
        matches!(&f, SendFailure::Rejected { code: Some(c), .. } if c.starts_with("551")),
        "{f:?}"
    );
    let nowhere = MessengerClient::new(reqwest::Client::new(), "http://127.0.0.1:9/v23.0", TOKEN);
    let f = nowhere
        .send(PAGE, &text("x", MessagingKind::Response))
        .await
        .unwrap_err();
    assert!(
        matches!(f, SendFailure::Retry { status: None, .. }),
        "{f:?}"
    );
}

#[tokio::test]
async fn the_profile_and_an_inbound_image_can_be_fetched_with_a_size_cap() {
    let env = start().await;
    let profile = env.client.user_profile(PSID).await.unwrap();
    assert_eq!(profile.first_name.as_deref(), Some("花子"));
    assert_eq!(profile.last_name.as_deref(), Some("山田"));
    assert_eq!(
        profile.profile_pic.as_deref(),
        Some("https://example.com/p.png")
    );

    let posted = env.sb.user_image(PAGE, PSID).await.unwrap();
    let body = events::parse(&posted.body).unwrap();
    let events::EventKind::Message { attachments, .. } = &body.events[0].kind else {
        panic!()
    };
    let url = attachments[0].url.clone().unwrap();
    let (content_type, bytes) = env.client.download(&url).await.unwrap();
    assert_eq!(content_type, "image/png");
    assert_eq!(&bytes[..4], b"\x89PNG");
    let tiny = env.client.clone().with_max_download_bytes(10);
    let f = tiny.download(&url).await.unwrap_err();
    assert_eq!(f.code(), Some("attachment_too_large"));
}

#[tokio::test]
async fn sandbox_webhooks_verify_and_parse_with_the_adapter() {
    let env = start().await;
    env.sb
        .user_text(PAGE, PSID, "頭痛がします 😢")
        .await
        .unwrap();
    env.sb.postback(PAGE, PSID, "はい", "YES").await.unwrap();
    let hooks = env.hooks.lock().unwrap().clone();
    for (body, sig) in &hooks {
        assert!(signature::verify(SECRET, body, sig.as_deref()));
        assert!(!signature::verify("wrong", body, sig.as_deref()));
        let parsed = events::parse(body).unwrap();
        assert_eq!(parsed.events[0].sender_id, PSID);
    }
    let first = events::parse(&hooks[0].0).unwrap();
    assert!(
        matches!(&first.events[0].kind, events::EventKind::Message { text: Some(t), .. } if t == "頭痛がします 😢")
    );
}
