//! The webhook driver: inbound SMS/MMS and status callbacks posted and signed as Twilio does,
//! media hosted behind Basic auth, and the simulator page nested under `/twilio`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod twilio_common;

use std::time::Duration;

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use tsunagu_sandbox::twilio::{sign, NumberConfig, TwilioSandbox};
use twilio_common::*;

/// Twilio's documented algorithm, written out again here rather than calling the sandbox.
fn expected_signature(token: &str, url: &str, form: &[(String, String)]) -> String {
    let mut pairs: Vec<String> = form.iter().map(|(k, v)| format!("{k}{v}")).collect();
    pairs.sort();
    let mut mac = Hmac::<Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(format!("{url}{}", pairs.concat()).as_bytes());
    BASE64.encode(mac.finalize().into_bytes())
}

#[test]
fn sign_matches_twilios_own_test_vector() {
    // twilio-python tests/unit/test_request_validator.py (MIT), the basic form POST case.
    let params: Vec<(String, String)> = [
        ("CallSid", "CA1234567890ABCDE"),
        ("Digits", "1234"),
        ("From", "+14158675309"),
        ("To", "+18005551212"),
        ("Caller", "+14158675309"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
    assert_eq!(sign("12345", url, &params), "RSOYDt4T1cUTdK1PDd93/VVr8B8=");
}

#[tokio::test]
async fn an_inbound_sms_is_posted_with_twilios_fields_and_signed_over_the_configured_url() {
    let env = Env::start().await;
    // A query string and an explicit port: the signature covers the URL exactly as configured.
    let url = format!("{}/sms?clinic=7", env.hook_base);
    env.sb.set_sms_url(CLINIC, &url);
    let d = env
        .sb
        .user_sms(CLINIC, PATIENT, "予約を変更したいです")
        .await
        .unwrap();
    assert_eq!(d.status, 200);
    assert!(d.message_sid.starts_with("SM"));

    let hooks = env.hooks.lock().unwrap();
    let hook = &hooks[0];
    let field = |n: &str| {
        hook.form
            .iter()
            .find(|(k, _)| k == n)
            .map(|(_, v)| v.as_str())
    };
    assert_eq!(field("MessageSid"), Some(d.message_sid.as_str()));
    assert_eq!(field("SmsSid"), Some(d.message_sid.as_str()));
    assert_eq!(field("SmsMessageSid"), Some(d.message_sid.as_str()));
    assert_eq!(field("AccountSid"), Some(ACCOUNT));
    assert_eq!(field("From"), Some(PATIENT));
    assert_eq!(field("To"), Some(CLINIC));
    assert_eq!(field("Body"), Some("予約を変更したいです"));
    assert_eq!(field("NumMedia"), Some("0"));
    assert_eq!(field("NumSegments"), Some("1"));
    assert_eq!(field("FromCountry"), Some("JP"));
    assert_eq!(field("ApiVersion"), Some("2010-04-01"));
    assert_eq!(field("MessagingServiceSid"), None);
    assert_eq!(
        hook.headers["content-type"],
        "application/x-www-form-urlencoded"
    );
    assert_eq!(
        hook.headers["i-twilio-idempotency-token"],
        d.idempotency_token.as_str()
    );
    let signature = hook.headers["x-twilio-signature"].to_str().unwrap();
    assert_eq!(signature, expected_signature(TOKEN, &url, &hook.form));
    // The port is part of what was signed: without it the signature differs.
    let without_port = "http://127.0.0.1/sms?clinic=7";
    assert_ne!(
        signature,
        expected_signature(TOKEN, without_port, &hook.form)
    );
}

#[tokio::test]
async fn a_redelivery_repeats_the_params_and_idempotency_token() {
    let env = Env::start().await;
    let first = env.sb.user_sms(CLINIC, PATIENT, "hello").await.unwrap();
    let again = env.sb.redeliver(&first).await.unwrap();
    assert_eq!(again.params, first.params);
    assert_eq!(again.idempotency_token, first.idempotency_token);
    let hooks = env.hooks.lock().unwrap();
    assert_eq!(hooks.len(), 2);
    assert_eq!(hooks[0].form, hooks[1].form);
    // One message on Twilio's side, whatever the number of deliveries.
    assert_eq!(env.sb.messages().len(), 1);
}

#[tokio::test]
async fn mms_media_is_hosted_under_the_public_url_behind_basic_auth() {
    let env = Env::start().await;
    // The router nested under /twilio, as the demo mounts it.
    let sb = TwilioSandbox::new();
    sb.add_number(NumberConfig {
        account_sid: ACCOUNT.into(),
        auth_token: TOKEN.into(),
        phone_number: CLINIC.into(),
        sms_url: Some(format!("{}/sms", env.hook_base)),
        messaging_service_sid: None,
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/twilio", listener.local_addr().unwrap());
    let app = axum::Router::new().nest("/twilio", sb.router());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    sb.set_public_url(&base);

    let photo = b"\x89PNG\r\n\x1a\nnot really".to_vec();
    let d = sb
        .user_mms(
            CLINIC,
            PATIENT,
            "",
            vec![(photo.clone(), "image/png".into())],
        )
        .await
        .unwrap();
    assert!(d.message_sid.starts_with("MM"));
    assert_eq!(env.hook_field(0, "NumMedia").as_deref(), Some("1"));
    assert_eq!(
        env.hook_field(0, "MediaContentType0").as_deref(),
        Some("image/png")
    );
    let media_url = env.hook_field(0, "MediaUrl0").unwrap();
    assert!(media_url.starts_with(&format!(
        "{base}/2010-04-01/Accounts/{ACCOUNT}/Messages/{}/Media/ME",
        d.message_sid
    )));

    let http = reqwest::Client::new();
    let resp = http
        .get(&media_url)
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 200);
    assert_eq!(resp.headers()["content-type"], "image/png");
    assert_eq!(resp.bytes().await.unwrap().to_vec(), photo);
    let resp = http.get(&media_url).send().await.unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let meta: serde_json::Value = http
        .get(format!("{media_url}.json"))
        .basic_auth(ACCOUNT, Some(TOKEN))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(meta["parent_sid"], d.message_sid.as_str());
    assert_eq!(meta["content_type"], "image/png");

    // The simulator page under the same prefix: relative URLs, strict CSP, no inline code.
    let page = http.get(format!("{base}/simulator")).send().await.unwrap();
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"));
    let html = page.text().await.unwrap();
    assert!(html.contains("src=\"simulator/app.js\"") && !html.contains("<script>"));
    let js = http
        .get(format!("{base}/simulator/app.js"))
        .send()
        .await
        .unwrap();
    assert_eq!(js.status().as_u16(), 200);
    let sent = http
        .post(format!("{base}/simulator/api/send"))
        .json(&serde_json::json!({ "number": CLINIC, "phone": PATIENT, "body": "STOP" }))
        .send()
        .await
        .unwrap();
    assert_eq!(sent.status().as_u16(), 200);
    assert!(sb.is_opted_out(CLINIC, PATIENT));
}

#[tokio::test]
async fn status_callbacks_are_signed_and_carry_twilios_fields() {
    let env = Env::start().await;
    let callback = format!("{}/status", env.hook_base);
    let (s, _, b) = env
        .create(&[
            ("To", PATIENT),
            ("From", CLINIC),
            ("Body", "x"),
            ("StatusCallback", &callback),
        ])
        .await;
    assert_eq!(s, 201);
    let sid = b["sid"].as_str().unwrap();
    env.sb
        .report_status(sid, "sent", None)
        .await
        .unwrap()
        .unwrap();
    env.sb
        .report_status(sid, "undelivered", Some(30003))
        .await
        .unwrap()
        .unwrap();
    let hooks = env.hooks.lock().unwrap();
    assert_eq!(hooks.len(), 2);
    for hook in hooks.iter() {
        assert_eq!(hook.path, "/status");
        let signature = hook.headers["x-twilio-signature"].to_str().unwrap();
        assert_eq!(signature, expected_signature(TOKEN, &callback, &hook.form));
    }
    let field = |n: usize, k: &str| {
        hooks[n]
            .form
            .iter()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(field(0, "MessageSid").as_deref(), Some(sid));
    assert_eq!(field(0, "MessageStatus").as_deref(), Some("sent"));
    assert_eq!(field(0, "SmsStatus").as_deref(), Some("sent"));
    assert_eq!(field(0, "ErrorCode"), None);
    assert_eq!(field(1, "ErrorCode").as_deref(), Some("30003"));
    assert_eq!(field(1, "From").as_deref(), Some(CLINIC));
    assert_eq!(field(1, "To").as_deref(), Some(PATIENT));
    assert_eq!(field(1, "AccountSid").as_deref(), Some(ACCOUNT));
    assert_eq!(field(1, "ApiVersion").as_deref(), Some("2010-04-01"));
    let m = env.sb.message(sid).unwrap();
    assert_eq!(
        (m.status.as_str(), m.error_code),
        ("undelivered", Some(30003))
    );
}

#[tokio::test]
async fn auto_status_walks_queued_sent_delivered() {
    let env = Env::start().await;
    env.sb.set_auto_status(true);
    let callback = format!("{}/status", env.hook_base);
    let (_, _, b) = env
        .create(&[
            ("To", PATIENT),
            ("From", CLINIC),
            ("Body", "x"),
            ("StatusCallback", &callback),
        ])
        .await;
    let sid = b["sid"].as_str().unwrap().to_owned();
    for _ in 0..50 {
        if env.hooks_len() == 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let statuses: Vec<String> = (0..env.hooks_len())
        .map(|n| env.hook_field(n, "MessageStatus").unwrap())
        .collect();
    assert_eq!(statuses, ["queued", "sent", "delivered"]);
    assert_eq!(env.sb.message(&sid).unwrap().status, "delivered");
}
