//! The WhatsApp client against the sandbox emulator: every outcome class, media, templates.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone;
use serde_json::Value;
use tsunagu_channels::delivery::SendFailure;
use tsunagu_channels::whatsapp::outgoing::{self, ListRow, ListSection, MediaKind, MediaSource};
use tsunagu_channels::whatsapp::{CallError, NewTemplate, WhatsAppClient};
use tsunagu_core::FakeClock;
use tsunagu_sandbox::whatsapp::{PhoneNumberConfig, WhatsAppSandbox};

const PHONE: &str = "106540352242922";
const WABA: &str = "102290129340398";
const TOKEN: &str = "EAAclienttest";
const USER: &str = "819012345678";

struct Env {
    sb: WhatsAppSandbox,
    base: String,
    clock: FakeClock,
    client: WhatsAppClient,
}

async fn start() -> Env {
    let clock = FakeClock::new(chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap());
    let sb = WhatsAppSandbox::with_clock(Arc::new(clock.clone()));
    // A webhook receiver that accepts everything, so the driver can play the patient.
    let hook = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_url = format!("http://{}/hook", hook.local_addr().unwrap());
    let app = axum::Router::new().route("/hook", axum::routing::post(|| async { "ok" }));
    tokio::spawn(async move { axum::serve(hook, app).await.unwrap() });
    sb.add_phone_number(PhoneNumberConfig {
        phone_number_id: PHONE.into(),
        display_phone_number: "15550783881".into(),
        waba_id: WABA.into(),
        access_token: TOKEN.into(),
        app_secret: "secret".into(),
        webhook_url: Some(hook_url),
    });
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let base = format!("http://{addr}/v23.0");
    let client = WhatsAppClient::new(reqwest::Client::new(), &base, TOKEN);
    Env {
        sb,
        base,
        clock,
        client,
    }
}

fn text(body: &str) -> Value {
    outgoing::text(USER, body, false).unwrap()
}

fn code(f: &SendFailure) -> Option<&str> {
    f.code()
}

#[tokio::test]
async fn a_text_inside_the_window_is_sent_and_returns_the_wamid() {
    let env = start().await;
    env.sb
        .user_text(PHONE, USER, "山田 花子", "予約したいです")
        .await
        .unwrap();
    let sent = env
        .client
        .send(PHONE, &text("ご連絡ありがとうございます"))
        .await
        .unwrap();
    assert!(sent.provider_message_id.starts_with("wamid."));
    let received = env.sb.received();
    assert_eq!(received.len(), 1);
    assert_eq!(
        received[0].wamid.as_deref(),
        Some(sent.provider_message_id.as_str())
    );
    assert_eq!(
        received[0].body["text"]["body"],
        "ご連絡ありがとうございます"
    );
}

#[tokio::test]
async fn outside_the_24_hour_window_a_text_is_rejected_with_131047() {
    let env = start().await;
    let err = env.client.send(PHONE, &text("hello")).await.unwrap_err();
    assert!(
        matches!(err, SendFailure::Rejected { status: 400, .. }),
        "{err:?}"
    );
    assert_eq!(code(&err), Some("131047"));
    assert!(err.to_string().contains("Re-engagement message"), "{err}");
    env.sb.open_window(PHONE, USER);
    env.clock.advance(chrono::Duration::hours(24));
    assert_eq!(
        code(&env.client.send(PHONE, &text("x")).await.unwrap_err()),
        Some("131047")
    );
}

#[tokio::test]
async fn templates_need_approval_and_the_right_number_of_values() {
    let env = start().await;
    let body =
        outgoing::template(USER, "reminder", "ja", &["山田".into(), "4月2日".into()]).unwrap();
    let err = env.client.send(PHONE, &body).await.unwrap_err();
    assert_eq!(code(&err), Some("132001"));
    assert!(matches!(err, SendFailure::Rejected { .. }));
    env.sb.add_template(
        WABA,
        "reminder",
        "ja",
        "{{1}}様、{{2}}のご予約です",
        "APPROVED",
    );
    let sent = env.client.send(PHONE, &body).await.unwrap();
    assert_eq!(sent.status.as_deref(), Some("accepted"));
    let one = outgoing::template(USER, "reminder", "ja", &["山田".into()]).unwrap();
    assert_eq!(
        code(&env.client.send(PHONE, &one).await.unwrap_err()),
        Some("132000")
    );
}

#[tokio::test]
async fn throughput_and_pair_rate_limits_are_retried_later() {
    let env = start().await;
    env.sb.open_window(PHONE, USER);
    env.sb.set_pair_rate_limit(1, Duration::from_secs(6));
    env.client.send(PHONE, &text("1")).await.unwrap();
    let err = env.client.send(PHONE, &text("2")).await.unwrap_err();
    assert!(matches!(err, SendFailure::Retry { .. }), "{err:?}");
    assert_eq!(code(&err), Some("131056"));
    env.clock.advance(chrono::Duration::seconds(6));
    env.client.send(PHONE, &text("3")).await.unwrap();

    env.sb.set_pair_rate_limit(100, Duration::from_secs(1));
    env.sb.set_throughput_limit(1);
    env.clock.advance(chrono::Duration::seconds(1));
    env.client.send(PHONE, &text("4")).await.unwrap();
    let err = env.client.send(PHONE, &text("5")).await.unwrap_err();
    assert!(matches!(err, SendFailure::Retry { .. }));
    assert_eq!(code(&err), Some("130429"));
    assert_eq!(env.sb.received().len(), 3);
}

#[tokio::test]
async fn injected_errors_map_to_retry_rejected_or_in_doubt() {
    let env = start().await;
    env.sb.open_window(PHONE, USER);
    for (status, code_, retry) in [
        (503, 2, true),
        (400, 4, true),
        (500, 1, true),
        (400, 131026, false),
        (400, 131050, false),
    ] {
        env.sb.fail_next_with_code("/messages", status, code_, 1);
        let err = env.client.send(PHONE, &text("x")).await.unwrap_err();
        assert_eq!(
            matches!(err, SendFailure::Retry { .. }),
            retry,
            "{code_}: {err:?}"
        );
        assert_eq!(err.code(), Some(code_.to_string().as_str()));
    }
    assert!(
        env.sb.received().is_empty(),
        "nothing before accept is executed"
    );
    env.sb.fail_next_after_accept("/messages", 1);
    let err = env.client.send(PHONE, &text("lost")).await.unwrap_err();
    assert!(matches!(err, SendFailure::InDoubt { .. }), "{err:?}");
    assert_eq!(env.sb.received().len(), 1, "executed although answered 500");
}

#[tokio::test]
async fn a_bad_token_is_rejected_with_190() {
    let env = start().await;
    let other = WhatsAppClient::new(reqwest::Client::new(), &env.base, "wrong");
    let err = other.send(PHONE, &text("x")).await.unwrap_err();
    assert!(
        matches!(err, SendFailure::Rejected { status: 401, .. }),
        "{err:?}"
    );
    assert_eq!(err.code(), Some("190"));
}

#[tokio::test]
async fn a_timeout_after_sending_is_in_doubt_and_a_refused_connection_is_retried() {
    let env = start().await;
    env.sb.open_window(PHONE, USER);
    env.sb
        .delay_next_after_accept("/messages", Duration::from_secs(2), 1);
    let slow = env.client.clone().with_timeout(Duration::from_millis(300));
    let err = slow.send(PHONE, &text("slow")).await.unwrap_err();
    assert!(matches!(err, SendFailure::InDoubt { .. }), "{err:?}");
    assert_eq!(env.sb.received().len(), 1);

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v23.0", closed.local_addr().unwrap());
    drop(closed);
    let nowhere = WhatsAppClient::new(reqwest::Client::new(), &url, TOKEN);
    let err = nowhere.send(PHONE, &text("x")).await.unwrap_err();
    assert!(
        matches!(err, SendFailure::Retry { status: None, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn mark_read_accepts_a_received_message_and_refuses_an_unknown_one() {
    let env = start().await;
    let posted = env
        .sb
        .user_text(PHONE, USER, "山田 花子", "こんにちは")
        .await
        .unwrap();
    env.client
        .mark_read(PHONE, posted.wamid.as_deref().unwrap())
        .await
        .unwrap();
    let err = env
        .client
        .mark_read(PHONE, "wamid.unknown")
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("100"));
    assert!(env.client.send("../me", &text("x")).await.is_err());
}

#[tokio::test]
async fn built_bodies_pass_the_sandbox_spec() {
    let env = start().await;
    env.sb.open_window(PHONE, USER);
    env.sb.set_pair_rate_limit(100, Duration::from_secs(1));
    let row = |i: usize| ListRow {
        id: format!("r{i}"),
        title: format!("{i}時"),
        description: Some("空きあり".into()),
    };
    let bodies = [
        outgoing::text(USER, "https://example.com を見てください", true).unwrap(),
        outgoing::buttons(USER, "ご都合は？", &[("yes", "はい"), ("no", "いいえ")]).unwrap(),
        outgoing::list(
            USER,
            "時間を選んでください",
            "選ぶ",
            &[ListSection {
                title: Some("午前".into()),
                rows: (9..12).map(row).collect(),
            }],
        )
        .unwrap(),
        outgoing::media(
            USER,
            MediaKind::Image,
            MediaSource::Link("https://example.com/a.png"),
            Some("地図"),
            None,
        )
        .unwrap(),
        outgoing::reply_to(text("返信"), "wamid.abc"),
    ];
    for b in &bodies {
        env.client
            .send(PHONE, b)
            .await
            .unwrap_or_else(|e| panic!("{b}: {e}"));
    }
}

#[tokio::test]
async fn media_is_downloaded_with_its_checksum_checked() {
    let env = start().await;
    let bytes = b"\x89PNG fake but bytes".to_vec();
    let id = env.sb.add_media(bytes.clone(), "image/png");
    let info = env.client.media_info(&id).await.unwrap();
    assert_eq!(info.mime_type.as_deref(), Some("image/png"));
    assert_eq!(info.file_size, Some(bytes.len() as u64));
    let (ct, got) = env
        .client
        .download(&info.url, info.sha256.as_deref())
        .await
        .unwrap();
    assert_eq!((ct.as_str(), got.as_ref()), ("image/png", bytes.as_slice()));

    let info = env.client.media_info(&id).await.unwrap();
    env.sb.replace_media(&id, b"corrupted".to_vec());
    let err = env
        .client
        .download(&info.url, info.sha256.as_deref())
        .await
        .unwrap_err();
    assert!(matches!(err, CallError::Invalid { .. }), "{err:?}");
    assert!(env.client.media_info("999").await.is_err());
}

#[tokio::test]
async fn templates_are_created_pending_and_listed_across_pages() {
    let env = start().await;
    let new = NewTemplate {
        name: "appointment_reminder".into(),
        language: "ja".into(),
        category: "UTILITY".into(),
        body_text: "{{1}}様、{{2}}のご予約をお待ちしております。".into(),
        examples: vec!["山田".into(), "4月2日 10:00".into()],
    };
    let created = env.client.create_template(WABA, &new).await.unwrap();
    assert_eq!(
        (created.status.as_str(), created.category.as_str()),
        ("PENDING", "UTILITY")
    );
    let mismatch = NewTemplate {
        examples: vec![],
        ..new.clone()
    };
    assert!(matches!(
        env.client.create_template(WABA, &mismatch).await,
        Err(CallError::Rejected { status: 0, .. })
    ));
    let dup = env.client.create_template(WABA, &new).await.unwrap_err();
    assert!(
        matches!(dup, CallError::Rejected { status: 400, .. }),
        "{dup:?}"
    );

    env.sb.approve_template(WABA, "appointment_reminder");
    for i in 0..120 {
        env.sb
            .add_template(WABA, &format!("t{i}"), "ja", "本文", "PENDING");
    }
    let all = env.client.list_templates(WABA).await.unwrap();
    assert_eq!(all.len(), 121);
    let first = &all[0];
    assert_eq!(
        (first.id.as_str(), first.status.as_str()),
        (created.id.as_str(), "APPROVED")
    );
    assert_eq!(first.body_variables, 2);
    assert!(first.body_text.starts_with("{{1}}様"));
}
