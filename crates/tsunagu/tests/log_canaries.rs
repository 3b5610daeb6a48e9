//! Logs never carry a patient's text, name or contact details, a provider's user id, a
//! password or a token: canaries go through every path (four webhooks, profile fetches, staff
//! replies through the outbox, a patient created through the API, sign-ins) while everything
//! is captured at TRACE; none may appear. The capture must show request ids, route templates,
//! webhook, job and provider-call spans, so the test cannot pass by capturing nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

#[path = "log_canaries/capture.rs"]
mod capture;
#[path = "log_canaries/channels.rs"]
mod channels;
#[path = "log_canaries/staff.rs"]
mod staff;

use common::{spawn_app_with, TestApp, ACCESS_TOKEN};
use reqwest::StatusCode;
use serde_json::json;
use tsunagu_sandbox::line::UserProfile;

/// Distinctive values; each is looked for in the logs (case-insensitively, digits alone for
/// numbers, which may be formatted differently).
mod canary {
    pub const LINE_USER: &str = "Uca7a11e0ca7a11e0ca7a11e0ca7a11e0";
    pub const LINE_NAME: &str = "CanaryLineName";
    pub const LINE_TEXT: &str = "CanaryLineText";
    pub const WA_ID: &str = "819077331155";
    pub const WA_NAME: &str = "CanaryWaName";
    pub const WA_TEXT: &str = "CanaryWaText";
    pub const WA_TOKEN: &str = "CanaryWaToken0123456789";
    pub const WA_APP_SECRET: &str = "ca7a5ec0ca7a5ec0ca7a5ec0ca7a5ec0";
    pub const MS_PSID: &str = "7300451299887766";
    pub const MS_FIRST: &str = "CanaryFirst";
    pub const MS_LAST: &str = "CanaryLast";
    pub const MS_TEXT: &str = "CanaryMsText";
    pub const MS_TOKEN: &str = "CanaryMsPageToken0001";
    pub const MS_APP_SECRET: &str = "ca7a5ec1ca7a5ec1ca7a5ec1ca7a5ec1";
    pub const SMS_FROM: &str = "+818055667788";
    pub const SMS_TEXT: &str = "CanarySmsText";
    pub const TWILIO_SID: &str = "AC0123456789abcdef0123456789abcdef";
    pub const TWILIO_TOKEN: &str = "7a0ce4a11b0bca7a11e0d0d0e5e5f1f1";
    pub const REPLY: &str = "CanaryReplyText";
    pub const PATIENT_NAME: &str = "CanaryPatientName";
    pub const PATIENT_PHONE: &str = "090-6611-2299";
    pub const PATIENT_EMAIL: &str = "canarymail42@example.jp";
    pub const STAFF_EMAIL: &str = "canarystaff17@example.jp";
    pub const STAFF_PASSWORD: &str = "CanaryPassw0rd-x";
    pub const WRONG_EMAIL: &str = "canarywrong23@example.jp";
    pub const WRONG_PASSWORD: &str = "CanaryBadPass-y";

    /// What must not appear: the distinctive part of each canary.
    pub fn needles() -> Vec<String> {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let local = |s: &str| s.split('@').next().unwrap_or(s).to_string();
        let mut v: Vec<String> = [
            LINE_USER,
            LINE_NAME,
            LINE_TEXT,
            WA_NAME,
            WA_TEXT,
            WA_TOKEN,
            WA_APP_SECRET,
            MS_PSID,
            MS_FIRST,
            MS_LAST,
            MS_TEXT,
            MS_TOKEN,
            MS_APP_SECRET,
            SMS_TEXT,
            TWILIO_TOKEN,
            REPLY,
            PATIENT_NAME,
            STAFF_PASSWORD,
            WRONG_PASSWORD,
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.push(digits(&WA_ID[2..]));
        v.push(digits(&SMS_FROM[3..]));
        v.push(digits(PATIENT_PHONE)[1..].to_string());
        v.extend([PATIENT_EMAIL, STAFF_EMAIL, WRONG_EMAIL].map(local));
        v.extend([super::common::SECRET, super::ACCESS_TOKEN].map(String::from));
        v
    }
}

/// The single conversation on a channel.
async fn conversation(app: &TestApp, channel: &str) -> String {
    sqlx::query_scalar("SELECT id FROM conversations WHERE channel_id = $1")
        .bind(channel)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// A staff reply through the API and the outbox; it must reach the sandbox.
async fn reply_and_send(app: &TestApp, channel: &str) {
    let conv = conversation(app, channel).await;
    let (s, m) = app
        .api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({ "text": canary::REPLY }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    app.run_jobs().await;
    let status: String = sqlx::query_scalar("SELECT status FROM messages WHERE id = $1")
        .bind(m["id"].as_str().unwrap())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(
        matches!(status.as_str(), "sent" | "delivered" | "read"),
        "{channel}: {status}"
    );
}

async fn line(app: &TestApp) {
    app.sandbox.add_user(
        ACCESS_TOKEN,
        UserProfile {
            user_id: canary::LINE_USER.into(),
            display_name: canary::LINE_NAME.into(),
            picture_url: None,
            status_message: None,
            language: Some("ja".into()),
        },
    );
    let ev = app.sandbox.user_text(canary::LINE_USER, canary::LINE_TEXT);
    assert_eq!(app.sandbox.send_event(ACCESS_TOKEN, ev).await.unwrap(), 200);
    app.run_jobs().await;
    reply_and_send(app, app.channel.as_str()).await;
}

async fn whatsapp(app: &TestApp) {
    let (sb, channel) = channels::whatsapp(app);
    let posted = sb
        .user_text(
            channels::WA_PHONE_ID,
            canary::WA_ID,
            canary::WA_NAME,
            canary::WA_TEXT,
        )
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    app.run_jobs().await;
    reply_and_send(app, &channel).await;
}

async fn messenger(app: &TestApp) {
    let (sb, channel) = channels::messenger(app);
    let posted = sb
        .user_text(channels::PAGE, canary::MS_PSID, canary::MS_TEXT)
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    app.run_jobs().await;
    reply_and_send(app, &channel).await;
}

async fn sms(app: &TestApp) {
    let (sb, channel) = channels::sms(app);
    let d = sb
        .user_sms(channels::SMS_NUMBER, canary::SMS_FROM, canary::SMS_TEXT)
        .await
        .unwrap();
    assert_eq!(d.status, 200, "{d:?}");
    app.run_jobs().await;
    reply_and_send(app, &channel).await;
}

async fn patient_through_the_api(app: &TestApp) {
    let (s, p) = app
        .api_post(
            "/api/v1/patients",
            json!({
                "name": canary::PATIENT_NAME,
                "phone": canary::PATIENT_PHONE,
                "email": canary::PATIENT_EMAIL,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{p}");
    let (s, _) = app
        .api_get(&format!("/api/v1/patients/{}", p["id"].as_str().unwrap()))
        .await;
    assert_eq!(s, StatusCode::OK);
}

#[tokio::test]
async fn no_patient_data_provider_id_or_secret_reaches_the_logs() {
    capture::install();
    let app = channels::spawn_app().await;
    line(&app).await;
    whatsapp(&app).await;
    messenger(&app).await;
    sms(&app).await;
    patient_through_the_api(&app).await;
    staff::sign_ins(&app).await;

    let logs = capture::text();
    // To read what was captured: TSUNAGU_LOG_CAPTURE=/tmp/capture.log cargo test ...
    if let Ok(path) = std::env::var("TSUNAGU_LOG_CAPTURE") {
        std::fs::write(path, &logs).unwrap();
    }
    let lower = logs.to_lowercase();
    let mut needles = canary::needles();
    needles.push(app.api_token.clone());
    for needle in needles {
        let found: Vec<&str> = logs
            .lines()
            .filter(|l| l.to_lowercase().contains(&needle.to_lowercase()))
            .take(3)
            .collect();
        assert!(
            !lower.contains(&needle.to_lowercase()),
            "{needle:?} is in the logs:\n{}",
            found.join("\n")
        );
    }
    // Not vacuous: the capture saw requests, webhooks, jobs and provider calls.
    for expected in [
        "request{request_id=",
        "route=/webhooks/line/{channel_id}",
        "route=/webhooks/whatsapp/{channel_id}",
        "route=/webhooks/messenger/{channel_id}",
        "route=/webhooks/sms/{channel_id}",
        "route=/api/v1/conversations/{id}/messages",
        "route=/api/v1/patients/{id}",
        "route=/login",
        "webhook{kind=\"line\"",
        "webhook{kind=\"whatsapp\"",
        "webhook{kind=\"messenger\"",
        "webhook{kind=\"sms\"",
        "kind=message.send",
        "kind=channel.fetch_profile",
        "outbound{provider=\"line\" operation=\"push\"",
        "outbound{provider=\"line\" operation=\"profile\"",
        "outbound{provider=\"whatsapp\" operation=\"send\"",
        "outbound{provider=\"messenger\" operation=\"user_profile\"",
        "outbound{provider=\"sms\" operation=\"send\"",
        "status=200",
    ] {
        assert!(
            logs.contains(expected),
            "no {expected:?} in the logs:\n{logs}"
        );
    }
    assert!(
        !logs.contains(&format!("/webhooks/line/{}", app.channel)),
        "a raw path with an id was logged"
    );
}

#[tokio::test]
async fn a_request_id_comes_from_a_trusted_proxy_or_is_made_here() {
    capture::install();
    let app = spawn_app_with(|s| s.trusted_proxies = "127.0.0.1".into()).await;
    let get = |id: &'static str| {
        app.http
            .get(format!("{}/healthz", app.base))
            .header("x-request-id", id)
            .send()
    };
    let echoed = |r: &reqwest::Response| r.headers()["x-request-id"].to_str().unwrap().to_string();
    let taken = get("proxy-req-4711").await.unwrap();
    assert_eq!(echoed(&taken), "proxy-req-4711");
    let malformed = get("bad id; x=1").await.unwrap();
    let made = echoed(&malformed);
    assert!(uuid::Uuid::parse_str(&made).is_ok(), "{made}");
    assert!(capture::text().contains("request_id=proxy-req-4711"));
    // Unrouted paths get an id and a span too, without their path.
    let lost = app
        .http
        .get(format!("{}/no/such/page-4711", app.base))
        .header("x-request-id", "lost-4711")
        .send()
        .await
        .unwrap();
    assert_eq!(lost.status(), StatusCode::NOT_FOUND);
    assert_eq!(echoed(&lost), "lost-4711");
    let logs = capture::text();
    assert!(logs.contains("request{request_id=lost-4711 method=GET route=(unmatched)"));
    assert!(!logs.contains("page-4711"));

    // The same header from an address that is not a trusted proxy is ignored.
    let app = spawn_app_with(|s| s.trusted_proxies = "10.0.0.0/8".into()).await;
    let r = app
        .http
        .get(format!("{}/healthz", app.base))
        .header("x-request-id", "spoofed-4711")
        .send()
        .await
        .unwrap();
    assert!(uuid::Uuid::parse_str(&echoed(&r)).is_ok());
}
