//! `TwilioClient` against the Twilio sandbox on 127.0.0.1:0: every outcome the outbox acts on,
//! media downloads, segment counts, and the sandbox's webhooks checked by this crate's verifier.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::get;
use tsunagu_channels::delivery::SendFailure;
use tsunagu_channels::sms::{
    inbound, segments, signature, status, OutgoingSms, Sender, TwilioClient,
};
use tsunagu_sandbox::twilio::{NumberConfig, TwilioSandbox};

const ACCOUNT: &str = "ACaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
const TOKEN: &str = "sandbox-auth-token";
const CLINIC: &str = "+815012345678";
const PATIENT: &str = "+819012345678";
const SERVICE: &str = "MG0123456789abcdef0123456789abcdef";

/// A form post the receiver got: URL path+query, headers, decoded params.
type Posted = (String, HeaderMap, Vec<(String, String)>);

struct Env {
    sb: TwilioSandbox,
    client: TwilioClient,
    base: String,
    hook_base: String,
    posted: Arc<Mutex<Vec<Posted>>>,
}

async fn start() -> Env {
    let posted = Arc::new(Mutex::new(Vec::new()));
    let sink = posted.clone();
    let app = axum::Router::new().fallback(
        move |uri: axum::http::Uri, headers: HeaderMap, body: Bytes| {
            let sink = sink.clone();
            async move {
                let form = url::form_urlencoded::parse(&body).into_owned().collect();
                sink.lock().unwrap().push((uri.to_string(), headers, form));
                "<Response/>"
            }
        },
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let hook_base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });

    let sb = TwilioSandbox::new();
    sb.add_number(NumberConfig {
        account_sid: ACCOUNT.into(),
        auth_token: TOKEN.into(),
        phone_number: CLINIC.into(),
        sms_url: Some(format!("{hook_base}/webhooks/sms/1")),
        messaging_service_sid: Some(SERVICE.into()),
    });
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let base = format!("http://{addr}");
    let client = TwilioClient::new(reqwest::Client::new(), &base, ACCOUNT, TOKEN);
    Env {
        sb,
        client,
        base,
        hook_base,
        posted,
    }
}

fn sms(body: &str) -> OutgoingSms {
    OutgoingSms {
        from: Sender::Number(CLINIC.into()),
        to: PATIENT.into(),
        body: body.into(),
        media_urls: Vec::new(),
        status_callback: None,
    }
}

fn to(number: &str) -> OutgoingSms {
    OutgoingSms {
        to: number.into(),
        ..sms("x")
    }
}

fn rejected_code(r: Result<tsunagu_channels::delivery::Sent, SendFailure>) -> (u16, String) {
    match r {
        Err(SendFailure::Rejected {
            status,
            code,
            message,
        }) => {
            assert!(!message.is_empty());
            (status, code.unwrap_or_default())
        }
        other => panic!("expected Rejected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_send_returns_the_sid_and_status_and_reaches_the_patient() {
    let env = start().await;
    let mut m = sms("明日10時のご予約です。");
    m.media_urls = vec!["https://example.com/map.png".into()];
    m.status_callback = Some(format!("{}/webhooks/sms/1/status", env.hook_base));
    let sent = env.client.send(&m).await.unwrap();
    assert!(sent.provider_message_id.starts_with("MM"));
    assert_eq!(sent.status.as_deref(), Some("queued"));
    let got = env.sb.sent_to(PATIENT);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].sid, sent.provider_message_id);
    assert_eq!(got[0].body, "明日10時のご予約です。");
    assert_eq!(got[0].media_urls, m.media_urls);
    assert_eq!(got[0].status_callback, m.status_callback);

    let via_service = OutgoingSms {
        from: Sender::MessagingService(SERVICE.into()),
        ..sms("x")
    };
    let sent = env.client.send(&via_service).await.unwrap();
    assert_eq!(sent.status.as_deref(), Some("accepted"));
}

#[tokio::test]
async fn refusals_are_rejected_with_twilios_code_and_message() {
    let env = start().await;
    env.sb.user_sms(CLINIC, PATIENT, "STOP").await.unwrap();
    let err = env.client.send(&sms("x")).await.unwrap_err();
    assert_eq!(err.code(), Some("21610"));
    assert!(err.to_string().contains("unsubscribed"), "{err}");
    env.sb.user_sms(CLINIC, PATIENT, "START").await.unwrap();
    assert!(env.client.send(&sms("x")).await.is_ok());

    for (number, code) in [
        ("+15005550001", "21211"),
        ("+15005550002", "21612"),
        ("+15005550003", "21408"),
    ] {
        assert_eq!(
            rejected_code(env.client.send(&to(number)).await),
            (400, code.into())
        );
    }
    let foreign = OutgoingSms {
        from: Sender::Number("+815000000000".into()),
        ..sms("x")
    };
    assert_eq!(
        rejected_code(env.client.send(&foreign).await),
        (400, "21606".into())
    );
    let wrong = TwilioClient::new(reqwest::Client::new(), &env.base, ACCOUNT, "nope");
    assert_eq!(
        rejected_code(wrong.send(&sms("x")).await),
        (401, "20003".into())
    );
}

#[tokio::test]
async fn rate_limits_and_503_with_retry_after_are_retried_other_5xx_are_in_doubt() {
    let env = start().await;
    env.sb.set_rate_limit(CLINIC, 1, 1);
    env.client.send(&sms("1")).await.unwrap();
    let err = env.client.send(&sms("2")).await.unwrap_err();
    assert!(
        matches!(&err, SendFailure::Retry { status: Some(429), code: Some(c), .. } if c == "20429"),
        "{err:?}"
    );
    env.sb.set_rate_limit(CLINIC, 100, 100);

    env.sb
        .fail_next_with_retry_after("/Messages.json", 503, 7, 1);
    let err = env.client.send(&sms("3")).await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
    assert!(matches!(err, SendFailure::Retry { .. }));

    // Without Retry-After Twilio may have acted: never repeat automatically.
    env.sb.fail_next_before_accept("/Messages.json", 503, 1);
    assert!(matches!(
        env.client.send(&sms("4")).await,
        Err(SendFailure::InDoubt { .. })
    ));
    env.sb.fail_next_after_accept("/Messages.json", 1);
    assert!(matches!(
        env.client.send(&sms("5")).await,
        Err(SendFailure::InDoubt { .. })
    ));
    let bodies: Vec<String> = env
        .sb
        .sent_to(PATIENT)
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies, ["1", "5"], "the lost answer's message was sent");
}

#[tokio::test]
async fn a_timeout_is_in_doubt_and_a_refused_connection_is_retried() {
    let env = start().await;
    env.sb
        .delay_next_after_accept("/Messages.json", Duration::from_secs(2), 1);
    let impatient = env.client.clone().with_timeout(Duration::from_millis(200));
    assert!(matches!(
        impatient.send(&sms("x")).await,
        Err(SendFailure::InDoubt { .. })
    ));
    assert_eq!(env.sb.sent_to(PATIENT).len(), 1);

    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let dead = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = TwilioClient::new(reqwest::Client::new(), &dead, ACCOUNT, TOKEN);
    assert!(matches!(
        client.send(&sms("x")).await,
        Err(SendFailure::Retry { status: None, .. })
    ));
}

#[tokio::test]
async fn invalid_messages_are_refused_before_anything_is_sent() {
    let env = start().await;
    let cases = [
        (to("090-1234-5678"), Some("21211")),
        (sms("  "), Some("21602")),
        (sms(&"a".repeat(1601)), Some("21617")),
        (
            OutgoingSms {
                media_urls: vec!["https://example.com/a.png".into(); 11],
                ..sms("x")
            },
            None,
        ),
        (
            OutgoingSms {
                from: Sender::MessagingService("MG123".into()),
                ..sms("x")
            },
            Some("21705"),
        ),
        (
            OutgoingSms {
                status_callback: Some("not a url".into()),
                ..sms("x")
            },
            Some("21609"),
        ),
    ];
    for (m, code) in cases {
        match env.client.send(&m).await {
            Err(SendFailure::Rejected {
                status: 0, code: c, ..
            }) => {
                assert_eq!(c.as_deref(), code)
            }
            other => panic!("expected a refusal before sending, got {other:?}"),
        }
    }
    assert!(env.client.send(&sms(&"a".repeat(1600))).await.is_ok());
    assert_eq!(env.sb.calls_to("/Messages.json"), 1);
}

#[tokio::test]
async fn media_is_downloaded_with_basic_auth_and_capped() {
    let env = start().await;
    let photo = vec![7u8; 4096];
    env.sb
        .user_mms(
            CLINIC,
            PATIENT,
            "写真です",
            vec![(photo.clone(), "image/jpeg".into())],
        )
        .await
        .unwrap();
    let form = env.posted.lock().unwrap()[0].2.clone();
    let sms = inbound::parse(&form).unwrap();
    assert_eq!(sms.media.len(), 1);
    let (content_type, bytes) = env.client.download_media(&sms.media[0].0).await.unwrap();
    assert_eq!(content_type, "image/jpeg");
    assert_eq!(bytes.to_vec(), photo);

    let small = env.client.clone().with_max_media_bytes(1000);
    let err = small.download_media(&sms.media[0].0).await.unwrap_err();
    assert_eq!(err.code(), Some("media_too_large"));
    let wrong = TwilioClient::new(reqwest::Client::new(), &env.base, ACCOUNT, "nope");
    assert_eq!(
        rejected_code(
            wrong
                .download_media(&sms.media[0].0)
                .await
                .map(|_| unreachable!())
        ),
        (401, "20003".into())
    );
}

#[tokio::test]
async fn credentials_never_go_to_another_origin() {
    let env = start().await;
    let seen = Arc::new(Mutex::new(None));
    let sink = seen.clone();
    let app = axum::Router::new().route(
        "/m.png",
        get(move |headers: HeaderMap| {
            let sink = sink.clone();
            async move {
                *sink.lock().unwrap() = Some(headers.contains_key("authorization"));
                ([("content-type", "image/png")], "png")
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let other = format!("http://{}/m.png", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let (ct, bytes) = env.client.download_media(&other).await.unwrap();
    assert_eq!((ct.as_str(), &bytes[..]), ("image/png", &b"png"[..]));
    assert_eq!(*seen.lock().unwrap(), Some(false));
}

#[tokio::test]
async fn the_sandboxs_webhooks_verify_with_our_signature_check() {
    let env = start().await;
    env.sb
        .user_sms(CLINIC, PATIENT, "予約の変更をお願いします")
        .await
        .unwrap();
    let cb = format!("{}/webhooks/sms/1/status?n=1", env.hook_base);
    let sent = env
        .client
        .send(&OutgoingSms {
            status_callback: Some(cb.clone()),
            ..sms("承知しました")
        })
        .await
        .unwrap();
    env.sb
        .report_status(&sent.provider_message_id, "undelivered", Some(30003))
        .await
        .unwrap();
    let posted = env.posted.lock().unwrap().clone();
    assert_eq!(posted.len(), 2);
    for (path, headers, form) in &posted {
        let url = format!("{}{path}", env.hook_base);
        let sig = headers
            .get("x-twilio-signature")
            .and_then(|v| v.to_str().ok());
        assert!(signature::verify(TOKEN, &url, form, sig), "{url}");
        assert!(!signature::verify("other-token", &url, form, sig));
    }
    let inbound = inbound::parse(&posted[0].2).unwrap();
    assert_eq!(
        (inbound.from.as_str(), inbound.to.as_str()),
        (PATIENT, CLINIC)
    );
    let cb = status::parse(&posted[1].2).unwrap();
    assert_eq!(cb.message_sid, sent.provider_message_id);
    assert_eq!(cb.status.as_str(), "undelivered");
    assert_eq!(cb.error_code, Some(30003));
}

#[test]
fn segments_follow_gsm7_and_ucs2() {
    assert_eq!(segments(""), 1);
    assert_eq!(segments(&"a".repeat(160)), 1);
    assert_eq!(segments(&"a".repeat(161)), 2);
    assert_eq!(segments(&"a".repeat(306)), 2);
    assert_eq!(segments(&"a".repeat(307)), 3);
    // Extension characters count two septets and are never split across parts.
    assert_eq!(segments(&"€".repeat(80)), 1);
    assert_eq!(segments(&format!("{}€", "a".repeat(152))), 1);
    assert_eq!(segments(&format!("{}€", "a".repeat(159))), 2);
    // Japanese is UCS-2: 70 per message, 67 per part.
    assert_eq!(segments(&"あ".repeat(70)), 1);
    assert_eq!(segments(&"あ".repeat(71)), 2);
    assert_eq!(segments(&"あ".repeat(134)), 2);
    assert_eq!(segments(&"あ".repeat(135)), 3);
    // One emoji makes the whole text UCS-2, and counts two UTF-16 units.
    assert_eq!(segments(&format!("{}😀", "a".repeat(68))), 1);
    assert_eq!(segments(&format!("{}😀", "a".repeat(69))), 2);
    assert_eq!(segments(&format!("{}😀", "a".repeat(66))), 1);
}

/// The adapter (`Deliver`) over this client: pacing by segments per sending number, the status
/// callback naming our message, and Twilio's opt-out as a refusal that marks the person.
mod adapter {
    use super::*;
    use tsunagu_channels::provider::deliver::{Channel, Delivery, Outgoing, Reach};
    use tsunagu_channels::provider::Credentials;
    use tsunagu_channels::sms::TwilioSecrets;
    use tsunagu_channels::ChannelKind;
    use tsunagu_core::jobs::SendMessage;

    fn job(text: &str) -> SendMessage {
        SendMessage {
            message_id: tsunagu_core::MessageId::from_db("m1".into()),
            channel_id: tsunagu_core::ChannelId::from_db("c1".into()),
            to: PATIENT.into(),
            messages: vec![serde_json::json!({"type": "text", "text": text})],
            retry_key: String::new(),
            channel_kind: Some("sms".into()),
            via: None,
            tag: None,
            reply: None,
        }
    }

    #[tokio::test]
    async fn a_send_is_paced_by_segments_and_an_opted_out_number_is_marked() {
        let env = start().await;
        let http = reqwest::Client::new();
        let creds = Credentials::Sms(TwilioSecrets {
            account_sid: ACCOUNT.into(),
            auth_token: TOKEN.into(),
        });
        let ch = Channel {
            http: &http,
            id: "c1",
            api_base_url: &env.base,
            api_data_base_url: None,
            creds: &creds,
            default_via: Some(CLINIC),
            messaging_service_sid: None,
            public_base: "https://clinic.example",
        };
        let sms = ChannelKind::Sms.adapter();
        let long = job(&"あ".repeat(71)); // two UCS-2 segments
        let out = Outgoing {
            job: &long,
            now_ms: 0,
            attempt: 1,
            first_attempt_at_ms: None,
            window: None,
        };
        let plan = sms.plan(&ch, &out).unwrap();
        assert_eq!(plan.budgets[0].key, format!("sms:from:{CLINIC}"));
        assert_eq!(plan.budgets[0].interval_ms, 2_000);
        assert_eq!(plan.hold.as_deref(), Some(plan.budgets[0].key.as_str()));
        assert!(matches!(sms.send(&ch, &out).await, Delivery::Sent { .. }));
        let sent = env.sb.messages().into_iter().last().unwrap();
        assert_eq!(
            sent.status_callback.as_deref(),
            Some("https://clinic.example/webhooks/sms/c1/status?message=m1")
        );

        env.sb.user_sms(CLINIC, PATIENT, "STOP").await.unwrap();
        let d = sms.send(&ch, &out).await;
        assert_eq!(
            d,
            Delivery::Rejected {
                code: "recipient_opted_out",
                error: match &d {
                    Delivery::Rejected { error, .. } => error.clone(),
                    _ => String::new(),
                },
                reach: Some(Reach::OptedOut {
                    source: "provider:21610".into()
                }),
            }
        );
    }
}
