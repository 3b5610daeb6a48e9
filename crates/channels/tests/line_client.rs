//! `LineClient` against the sandbox emulator on 127.0.0.1:0: every outcome the outbox acts on.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::routing::post;
use serde_json::{json, Value};
use tsunagu_channels::line::{text_message, LineClient, SendError};
use tsunagu_sandbox::line::{ChannelConfig, LineSandbox, UserProfile};

const TOKEN: &str = "client-test-token";
const BOT: &str = "Ub0b00000000000000000000000000001";
const USER: &str = "U1234567890abcdef1234567890abcdef";

struct Env {
    sb: LineSandbox,
    client: LineClient,
    base: String,
    hooks: Arc<Mutex<Vec<Value>>>,
}

async fn start() -> Env {
    let hooks = Arc::new(Mutex::new(Vec::new()));
    let sink = hooks.clone();
    let app = axum::Router::new().route(
        "/hook",
        post(move |body: Bytes| {
            let sink = sink.clone();
            async move {
                sink.lock()
                    .unwrap()
                    .push(serde_json::from_slice(&body).unwrap());
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sb = LineSandbox::new();
    sb.add_channel(ChannelConfig {
        channel_secret: "secret".into(),
        access_token: TOKEN.into(),
        bot_user_id: BOT.into(),
        webhook_url: Some(format!("http://{hook_addr}/hook")),
        quota: None,
    });
    sb.add_user(
        TOKEN,
        UserProfile {
            user_id: USER.into(),
            display_name: "田中 太郎".into(),
            language: Some("ja".into()),
            ..Default::default()
        },
    );
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let base = format!("http://{addr}");
    let client = LineClient::new(reqwest::Client::new(), &base, &base, TOKEN);
    Env {
        sb,
        client,
        base,
        hooks,
    }
}

fn msg(text: &str) -> Vec<Value> {
    vec![text_message(text).unwrap()]
}

fn key() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test]
async fn a_push_returns_the_request_id_and_sent_message_ids() {
    let env = start().await;
    let ok = env
        .client
        .push(USER, &msg("明日の予約の確認です"), &key())
        .await
        .unwrap();
    assert!(ok.request_id.is_some());
    assert_eq!(ok.sent_message_ids.len(), 1);
    assert!(!ok.already_accepted);
    assert_eq!(env.sb.delivered_to(USER), msg("明日の予約の確認です"));
    assert!(env.sb.received()[0].retry_key.is_some());
}

#[tokio::test]
async fn a_lost_answer_is_retryable_and_the_retry_reports_already_accepted() {
    let env = start().await;
    env.sb.fail_next_after_accept("/push", 1);
    let k = key();
    let err = env.client.push(USER, &msg("x"), &k).await.unwrap_err();
    assert!(
        matches!(
            err,
            SendError::Retryable {
                status: Some(500),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_retryable() && err.may_have_been_sent());
    let ok = env.client.push(USER, &msg("x"), &k).await.unwrap();
    assert!(ok.already_accepted);
    assert_eq!(
        ok.accepted_request_id.as_deref(),
        env.sb.received()[0].request_id.as_str().into()
    );
    assert_eq!(
        ok.sent_message_ids.len(),
        1,
        "the 409 carries the first send's ids"
    );
    assert_eq!(env.sb.delivered_to(USER).len(), 1);
}

#[tokio::test]
async fn a_timeout_after_sending_is_unknown_and_a_retry_with_the_key_is_safe() {
    let env = start().await;
    env.sb
        .delay_next_after_accept("/push", Duration::from_secs(2), 1);
    let client = env.client.clone().with_timeout(Duration::from_millis(300));
    let k = key();
    let err = client.push(USER, &msg("x"), &k).await.unwrap_err();
    assert!(matches!(err, SendError::Unknown { .. }), "{err:?}");
    assert!(err.may_have_been_sent());
    assert_eq!(env.sb.delivered_to(USER).len(), 1);
    assert!(
        client
            .push(USER, &msg("x"), &k)
            .await
            .unwrap()
            .already_accepted
    );
    assert_eq!(env.sb.delivered_to(USER).len(), 1);
}

#[tokio::test]
async fn a_refused_connection_is_retryable_and_sent_nothing() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let base = format!("http://{addr}");
    let client = LineClient::new(reqwest::Client::new(), &base, &base, TOKEN);
    let err = client.push(USER, &msg("x"), &key()).await.unwrap_err();
    assert!(
        matches!(err, SendError::Retryable { status: None, .. }),
        "{err:?}"
    );
    assert!(!err.may_have_been_sent());
}

#[tokio::test]
async fn server_errors_rate_limits_and_quota_are_told_apart() {
    let env = start().await;
    env.sb.fail_next_before_accept("/push", 1);
    let err = env.client.push(USER, &msg("x"), &key()).await.unwrap_err();
    assert!(matches!(
        err,
        SendError::Retryable {
            status: Some(500),
            ..
        }
    ));
    assert!(env.sb.delivered_to(USER).is_empty());

    env.sb.set_rate_limit("/push", 1);
    env.client.push(USER, &msg("x"), &key()).await.unwrap();
    let err = env.client.push(USER, &msg("x"), &key()).await.unwrap_err();
    assert!(
        matches!(
            err,
            SendError::Retryable {
                status: Some(429),
                ..
            }
        ),
        "{err:?}"
    );
    assert!(!err.may_have_been_sent());

    env.sb.set_rate_limit("/push", 1000);
    env.sb.set_quota(TOKEN, Some(1));
    let err = env.client.push(USER, &msg("x"), &key()).await.unwrap_err();
    assert!(matches!(err, SendError::QuotaExceeded { .. }), "{err:?}");
    assert!(!err.is_retryable());
}

#[tokio::test]
async fn an_invalid_message_is_rejected_with_lines_details() {
    let env = start().await;
    let err = env
        .client
        .push(USER, &[json!({"type": "text"})], &key())
        .await
        .unwrap_err();
    match err {
        SendError::Rejected {
            status, details, ..
        } => {
            assert_eq!(status, 400);
            assert_eq!(details[0].0, "messages[0].text");
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
    let wrong = LineClient::new(reqwest::Client::new(), &env.base, &env.base, "nope");
    let err = wrong.quota().await.unwrap_err();
    assert!(
        matches!(err, SendError::Rejected { status: 401, .. }),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_reply_token_is_used_once_without_a_retry_key() {
    let env = start().await;
    env.sb
        .send_event(TOKEN, env.sb.user_text(USER, "予約できますか"))
        .await
        .unwrap();
    let token = env.hooks.lock().unwrap()[0]["events"][0]["replyToken"]
        .as_str()
        .unwrap()
        .to_owned();
    let ok = env
        .client
        .reply(&token, &msg("はい、お取りできます"))
        .await
        .unwrap();
    assert_eq!(ok.sent_message_ids.len(), 1);
    assert!(env.sb.received()[0].retry_key.is_none());
    let err = env.client.reply(&token, &msg("二度目")).await.unwrap_err();
    assert!(
        matches!(err, SendError::Rejected { status: 400, ref message, .. } if message == "Invalid reply token"),
        "{err:?}"
    );
    assert_eq!(env.sb.consumption(TOKEN), 0, "replies are free");
}

#[tokio::test]
async fn profile_content_quota_and_consumption() {
    let env = start().await;
    let p = env.client.profile(USER).await.unwrap();
    assert_eq!(
        (
            p.display_name.as_str(),
            p.user_id.as_str(),
            p.language.as_deref()
        ),
        ("田中 太郎", USER, Some("ja"))
    );
    let err = env
        .client
        .profile("U00000000000000000000000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, SendError::Rejected { status: 404, .. }));

    env.sb
        .send_event(TOKEN, env.sb.user_image(USER))
        .await
        .unwrap();
    let id = env.hooks.lock().unwrap()[0]["events"][0]["message"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let (content_type, bytes) = env.client.content(&id).await.unwrap();
    assert_eq!(content_type, "image/png");
    assert!(bytes.starts_with(b"\x89PNG"));

    let quota = env.client.quota().await.unwrap();
    assert_eq!((quota.kind.as_str(), quota.value), ("none", None));
    env.sb.set_quota(TOKEN, Some(200));
    env.client.push(USER, &msg("x"), &key()).await.unwrap();
    assert_eq!(env.client.quota().await.unwrap().value, Some(200));
    assert_eq!(env.client.consumption().await.unwrap(), 1);
}

/// The adapter (`Deliver`) over this client: what the outbox gets for each answer.
mod adapter {
    use super::*;
    use tsunagu_channels::line::LineSecrets;
    use tsunagu_channels::provider::deliver::{Channel, Delivery, Outgoing, ProfileFetch};
    use tsunagu_channels::provider::Credentials;
    use tsunagu_channels::ChannelKind;
    use tsunagu_core::jobs::{ReplyToken, SendMessage};

    /// The adapter decides by the worker's clock; the token below is as old as the attempt.
    const NOW: i64 = 1_700_000_000_000;

    fn creds() -> Credentials {
        Credentials::Line(LineSecrets {
            channel_secret: "secret".into(),
            channel_access_token: TOKEN.into(),
        })
    }

    fn job(retry_key: &str, reply: Option<ReplyToken>) -> SendMessage {
        SendMessage {
            message_id: tsunagu_core::MessageId::from_db("m1".into()),
            channel_id: tsunagu_core::ChannelId::from_db("c1".into()),
            to: USER.into(),
            messages: msg("お大事に"),
            retry_key: retry_key.into(),
            channel_kind: Some("line".into()),
            via: None,
            tag: None,
            reply,
        }
    }

    async fn send(env: &Env, job: &SendMessage) -> Delivery {
        let http = reqwest::Client::new();
        let creds = creds();
        let ch = Channel {
            http: &http,
            id: "c1",
            api_base_url: &env.base,
            api_data_base_url: Some(&env.base),
            creds: &creds,
            default_via: None,
            messaging_service_sid: None,
            public_base: "http://localhost",
        };
        let out = Outgoing {
            job,
            now_ms: NOW,
            attempt: 1,
            first_attempt_at_ms: None,
            window: None,
        };
        let line = ChannelKind::Line.adapter();
        assert!(line.plan(&ch, &out).is_ok());
        line.send(&ch, &out).await
    }

    #[tokio::test]
    async fn the_monthly_quota_is_dead_with_the_plans_numbers() {
        let env = start().await;
        env.sb.set_quota(TOKEN, Some(1));
        assert!(matches!(
            send(&env, &job(&key(), None)).await,
            Delivery::Sent { .. }
        ));
        match send(&env, &job(&key(), None)).await {
            Delivery::Rejected { code, error, .. } => {
                assert_eq!(code, "quota_exceeded");
                assert!(
                    error.contains("plan limit 1 messages this month"),
                    "{error}"
                );
            }
            other => panic!("{other:?}"),
        }
    }

    #[tokio::test]
    async fn a_reply_lost_after_line_took_it_is_in_doubt_and_never_a_push() {
        let env = start().await;
        env.sb.fail_next_after_accept("/reply", 1);
        // A token the emulator issued with a patient's message.
        let event = env.sb.user_text(USER, "駐車場はありますか");
        env.sb.send_event(TOKEN, event).await.unwrap();
        let issued = env.hooks.lock().unwrap()[0]["events"][0]["replyToken"].clone();
        let token = ReplyToken {
            token: issued.as_str().unwrap().to_string(),
            issued_at_ms: NOW,
        };
        let d = send(&env, &job("", Some(token))).await;
        assert!(matches!(d, Delivery::InDoubt { .. }), "{d:?}");
        assert_eq!(env.sb.calls_to("/push"), 0);
    }

    #[tokio::test]
    async fn a_profile_is_found_and_a_stranger_has_none() {
        let env = start().await;
        let http = reqwest::Client::new();
        let creds = creds();
        let ch = Channel {
            http: &http,
            id: "c1",
            api_base_url: &env.base,
            api_data_base_url: None,
            creds: &creds,
            default_via: None,
            messaging_service_sid: None,
            public_base: "http://localhost",
        };
        let line = ChannelKind::Line.adapter();
        match line.fetch_profile(&ch, USER, None).await {
            ProfileFetch::Found(p) => assert_eq!(p.display_name, "田中 太郎"),
            other => panic!("{other:?}"),
        }
        let stranger = "U0000000000000000000000000000dead";
        assert_eq!(
            line.fetch_profile(&ch, stranger, None).await,
            ProfileFetch::Nothing
        );
    }
}
