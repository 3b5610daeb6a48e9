//! The Messages REST API: spec validation, Twilio's error codes, auth, opt-out, queues, faults.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod twilio_common;

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::Value;
use tsunagu_sandbox::twilio::{spec, NumberConfig};
use twilio_common::*;

/// The property names of `api.v2010.account.message`, read from the spec file directly.
fn spec_message_properties() -> BTreeSet<String> {
    let raw = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/spec/twilio/twilio_api_v2010.messages.json"
    ))
    .unwrap();
    let doc: Value = serde_json::from_str(&raw).unwrap();
    doc["components"]["schemas"]["api.v2010.account.message"]["properties"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect()
}

fn assert_twilio_error(body: &Value, status: u16, code: u64) {
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], status, "{body}");
    assert_eq!(
        body["more_info"],
        format!("https://www.twilio.com/docs/errors/{code}")
    );
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()));
}

#[tokio::test]
async fn a_send_answers_201_with_exactly_the_specs_message_resource() {
    let env = Env::start().await;
    let (status, _, body) = env
        .create(&[
            ("To", PATIENT),
            ("From", CLINIC),
            ("Body", "明日10時のご予約です"),
        ])
        .await;
    assert_eq!(status, 201, "{body}");
    let keys: BTreeSet<String> = body.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, spec_message_properties());
    assert!(spec::spec().unwrap().check_message(&body).is_empty());
    let sid = body["sid"].as_str().unwrap();
    assert!(sid.starts_with("SM") && sid.len() == 34);
    assert!(sid[2..].chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(body["status"], "queued");
    assert_eq!(body["num_segments"], "1");
    assert_eq!(body["direction"], "outbound-api");
    assert_eq!(body["date_created"], "Tue, 01 Apr 2025 09:00:00 +0000");
    assert_eq!(
        body["uri"],
        format!("/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json")
    );

    // Fetch gives the same resource back.
    let (status, _, raw) = env
        .get(&format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages/{sid}.json"
        ))
        .await;
    assert_eq!(status, 200);
    let fetched: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(fetched["sid"], sid);
    assert!(spec::spec().unwrap().check_message(&fetched).is_empty());
    assert_eq!(env.sb.sent_to(PATIENT).len(), 1);
}

#[tokio::test]
async fn missing_parameters_get_twilios_codes_and_nothing_is_sent() {
    let env = Env::start().await;
    let (s, _, b) = env.create(&[("From", CLINIC), ("Body", "x")]).await;
    assert_eq!(s, 400);
    assert_twilio_error(&b, 400, 21604);
    let (_, _, b) = env.create(&[("To", PATIENT), ("Body", "x")]).await;
    assert_twilio_error(&b, 400, 21603);
    let (_, _, b) = env.create(&[("To", PATIENT), ("From", CLINIC)]).await;
    assert_twilio_error(&b, 400, 21602);
    let (_, _, b) = env
        .create(&[("To", "090-1234-5678"), ("From", CLINIC), ("Body", "x")])
        .await;
    assert_twilio_error(&b, 400, 21211);
    let long = "a".repeat(1601);
    let (_, _, b) = env
        .create(&[("To", PATIENT), ("From", CLINIC), ("Body", &long)])
        .await;
    assert_twilio_error(&b, 400, 21617);
    // Spec patterns and types: a malformed Messaging Service SID, a non-integer.
    let (_, _, b) = env
        .create(&[
            ("To", PATIENT),
            ("MessagingServiceSid", "MG123"),
            ("Body", "x"),
        ])
        .await;
    assert_twilio_error(&b, 400, 21705);
    let (_, _, b) = env
        .create(&[
            ("To", PATIENT),
            ("From", CLINIC),
            ("Body", "x"),
            ("ValidityPeriod", "soon"),
        ])
        .await;
    assert_eq!(b["status"], 400);
    let media: Vec<(&str, &str)> = (0..11)
        .map(|_| ("MediaUrl", "https://example.com/a.png"))
        .chain([("To", PATIENT), ("From", CLINIC)])
        .collect();
    let (_, _, b) = env.create(&media).await;
    assert_twilio_error(&b, 400, 21620);
    assert!(env.sb.messages().is_empty());
}

#[tokio::test]
async fn a_from_the_account_does_not_own_gets_21606_and_test_numbers_their_errors() {
    let env = Env::start().await;
    let (_, _, b) = env
        .create(&[("To", PATIENT), ("From", "+815099999999"), ("Body", "x")])
        .await;
    assert_twilio_error(&b, 400, 21606);
    for (to, code) in [
        ("+15005550001", 21211),
        ("+15005550002", 21612),
        ("+15005550003", 21408),
        ("+15005550004", 21610),
    ] {
        let (_, _, b) = env
            .create(&[("To", to), ("From", CLINIC), ("Body", "x")])
            .await;
        assert_twilio_error(&b, 400, code);
    }
    assert!(env.sb.messages().is_empty());
}

#[tokio::test]
async fn basic_auth_is_required_and_checked_against_the_path_account() {
    let env = Env::start().await;
    let params = [("To", PATIENT), ("From", CLINIC), ("Body", "x")];
    let (s, h, b) = env.create_as((ACCOUNT, "wrong"), &params).await;
    assert_eq!(s, 401);
    assert_twilio_error(&b, 401, 20003);
    assert!(h["www-authenticate"].to_str().unwrap().starts_with("Basic"));
    let resp = env
        .http
        .post(env.messages_url())
        .form(&params)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let (s, _, _) = env
        .get(&format!(
            "/2010-04-01/Accounts/{ACCOUNT}/Messages/SM00000000000000000000000000000000.json"
        ))
        .await;
    assert_eq!(s, 404);
    assert!(env.sb.messages().is_empty());
    assert_eq!(env.sb.calls_to("/Messages.json"), 2);
}

#[tokio::test]
async fn stop_blocks_sends_with_21610_until_start() {
    let env = Env::start().await;
    let params = [("To", PATIENT), ("From", CLINIC), ("Body", "お知らせ")];
    let d = env.sb.user_sms(CLINIC, PATIENT, " stop ").await.unwrap();
    assert_eq!(d.status, 200);
    assert!(env.sb.is_opted_out(CLINIC, PATIENT));
    // Twilio still forwards the keyword, marked, and answers the patient itself.
    assert_eq!(env.hook_field(0, "Body").as_deref(), Some(" stop "));
    assert_eq!(env.hook_field(0, "OptOutType").as_deref(), Some("STOP"));
    let auto = env.sb.messages();
    assert_eq!(auto.last().unwrap().direction, "outbound-reply");
    assert!(auto.last().unwrap().body.contains("unsubscribed"));

    let (s, _, b) = env.create(&params).await;
    assert_eq!(s, 400);
    assert_twilio_error(&b, 400, 21610);

    env.sb.user_sms(CLINIC, PATIENT, "HELP").await.unwrap();
    assert!(env.sb.is_opted_out(CLINIC, PATIENT), "HELP does not opt in");
    env.sb.user_sms(CLINIC, PATIENT, "Unstop").await.unwrap();
    assert!(!env.sb.is_opted_out(CLINIC, PATIENT));
    assert_eq!(env.create(&params).await.0, 201);
    assert_eq!(env.sb.sent_to(PATIENT).len(), 1);
}

#[tokio::test]
async fn opt_out_covers_the_whole_messaging_service_and_its_sticky_sender() {
    let env = Env::start().await;
    let mg = "MG0123456789abcdef0123456789abcdef";
    for n in ["+815011111111", "+815022222222"] {
        env.sb.add_number(NumberConfig {
            account_sid: ACCOUNT.into(),
            auth_token: TOKEN.into(),
            phone_number: n.into(),
            sms_url: Some(format!("{}/sms", env.hook_base)),
            messaging_service_sid: Some(mg.into()),
        });
    }
    env.sb
        .user_sms("+815022222222", PATIENT, "こんにちは")
        .await
        .unwrap();
    let (s, _, b) = env
        .create(&[
            ("To", PATIENT),
            ("MessagingServiceSid", mg),
            ("Body", "はい"),
        ])
        .await;
    assert_eq!(s, 201, "{b}");
    assert_eq!(b["status"], "accepted");
    assert_eq!(b["from"], Value::Null);
    assert_eq!(env.sb.sent_to(PATIENT)[0].from, "+815022222222");

    env.sb
        .user_sms("+815022222222", PATIENT, "STOP")
        .await
        .unwrap();
    let (_, _, b) = env
        .create(&[("To", PATIENT), ("From", "+815011111111"), ("Body", "x")])
        .await;
    assert_twilio_error(&b, 400, 21610);
    let (_, _, b) = env
        .create(&[
            ("To", PATIENT),
            ("MessagingServiceSid", "MG0000000000000000000000000000000f"),
            ("Body", "x"),
        ])
        .await;
    assert_twilio_error(&b, 404, 21701);
}

#[tokio::test]
async fn a_burst_beyond_the_numbers_queue_gets_429_20429_until_the_clock_drains_it() {
    let env = Env::start().await;
    env.sb.set_rate_limit(CLINIC, 1, 3);
    let params = [("To", PATIENT), ("From", CLINIC), ("Body", "x")];
    for _ in 0..3 {
        assert_eq!(env.create(&params).await.0, 201);
    }
    let (s, _, b) = env.create(&params).await;
    assert_eq!(s, 429);
    assert_twilio_error(&b, 429, 20429);
    // A two-segment body needs two free slots.
    env.clock.advance(chrono::Duration::seconds(1));
    let two = "a".repeat(200);
    assert_eq!(
        env.create(&[("To", PATIENT), ("From", CLINIC), ("Body", &two)])
            .await
            .0,
        429
    );
    assert_eq!(env.create(&params).await.0, 201);
    env.clock.advance(chrono::Duration::seconds(10));
    assert_eq!(
        env.create(&[("To", PATIENT), ("From", CLINIC), ("Body", &two)])
            .await
            .0,
        201
    );
    assert_eq!(env.sb.sent_to(PATIENT).len(), 5);
}

#[tokio::test]
async fn faults_before_accept_send_nothing_and_after_accept_send_once() {
    let env = Env::start().await;
    let params = [("To", PATIENT), ("From", CLINIC), ("Body", "x")];
    env.sb
        .fail_next_with_retry_after("/Messages.json", 503, 7, 1);
    let (s, h, b) = env.create(&params).await;
    assert_eq!(s, 503);
    assert_eq!(h["retry-after"], "7");
    assert_twilio_error(&b, 503, 20503);
    env.sb.fail_next_before_accept("/Messages.json", 500, 1);
    assert_eq!(env.create(&params).await.0, 500);
    assert!(env.sb.messages().is_empty());

    env.sb.fail_next_after_accept("/Messages.json", 1);
    assert_eq!(env.create(&params).await.0, 500);
    assert_eq!(env.sb.sent_to(PATIENT).len(), 1);

    env.sb
        .delay_next_after_accept("/Messages.json", Duration::from_millis(300), 1);
    let started = std::time::Instant::now();
    assert_eq!(env.create(&params).await.0, 201);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert_eq!(env.sb.sent_to(PATIENT).len(), 2);
}
