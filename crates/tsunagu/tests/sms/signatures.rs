//! `X-Twilio-Signature`: the URL forms Twilio may sign, forgeries, redeliveries, and numbers
//! the channel does not serve.
use tsunagu_sandbox::twilio::sign;

use crate::support::{
    spawn_sms_app, spawn_sms_app_with, SmsApp, AUTH_TOKEN, CLINIC, OTHER_NUMBER, PATIENT,
};

/// A minimal incoming SMS as Twilio posts it.
fn form(sid: &str, to: &str, body: &str) -> Vec<(String, String)> {
    [
        ("MessageSid", sid),
        ("SmsSid", sid),
        ("AccountSid", crate::support::ACCOUNT),
        ("From", PATIENT),
        ("To", to),
        ("Body", body),
        ("NumMedia", "0"),
        ("ApiVersion", "2010-04-01"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
    .collect()
}

async fn nothing_stored(app: &SmsApp) {
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox_jobs").await, 0);
}

#[tokio::test]
async fn the_public_url_is_accepted_with_and_without_the_default_port() {
    // Behind a TLS proxy: Twilio calls https://clinic.example.jp/…, which the app rebuilds from
    // its public URL; Twilio may sign it with or without :443.
    let app = spawn_sms_app_with(|s| s.public_url = Some("https://clinic.example.jp".into())).await;
    let public = format!("https://clinic.example.jp/webhooks/sms/{}", app.sms_channel);
    let with_port = format!(
        "https://clinic.example.jp:443/webhooks/sms/{}",
        app.sms_channel
    );
    let f = form("SM00000000000000000000000000000001", CLINIC, "ポート付き");
    let sig = sign(AUTH_TOKEN, &with_port, &f);
    let s = app
        .twilio
        .post_form_signed(&app.webhook_url, &f, Some(&sig))
        .await
        .unwrap();
    assert_eq!(s, 200, "signed over the URL with :443");
    let f = form("SM00000000000000000000000000000002", CLINIC, "ポートなし");
    let sig = sign(AUTH_TOKEN, &public, &f);
    let s = app
        .twilio
        .post_form_signed(&app.webhook_url, &f, Some(&sig))
        .await
        .unwrap();
    assert_eq!(s, 200, "signed over the URL without a port");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2);

    // Another port is another URL.
    let f = form("SM00000000000000000000000000000003", CLINIC, "別ポート");
    let wrong = format!(
        "https://clinic.example.jp:8443/webhooks/sms/{}",
        app.sms_channel
    );
    let sig = sign(AUTH_TOKEN, &wrong, &f);
    let s = app
        .twilio
        .post_form_signed(&app.webhook_url, &f, Some(&sig))
        .await
        .unwrap();
    assert_eq!(s, 401);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2);
}

#[tokio::test]
async fn the_exact_url_with_its_port_is_accepted_and_a_query_string_is_signed_too() {
    let app = spawn_sms_app().await;
    // The harness's public URL carries a port (http://127.0.0.1:NNNN): signed as is.
    let f = form("SM00000000000000000000000000000004", CLINIC, "こんにちは");
    let d = app
        .twilio
        .post_form(CLINIC, &app.webhook_url, &f)
        .await
        .unwrap();
    assert_eq!(d.status, 200, "{d:?}");
    let query_url = format!("{}?clinic=sakura", app.webhook_url);
    let f = form("SM00000000000000000000000000000005", CLINIC, "クエリ付き");
    let d = app.twilio.post_form(CLINIC, &query_url, &f).await.unwrap();
    assert_eq!(d.status, 200, "the query is part of the signed URL: {d:?}");
    let f = form("SM00000000000000000000000000000006", CLINIC, "クエリ抜き");
    let sig = sign(AUTH_TOKEN, &app.webhook_url, &f);
    let s = app
        .twilio
        .post_form_signed(&query_url, &f, Some(&sig))
        .await
        .unwrap();
    assert_eq!(s, 401, "a signature without the query does not cover it");
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2);
}

#[tokio::test]
async fn a_wrong_or_missing_signature_is_refused_and_nothing_is_stored() {
    let app = spawn_sms_app().await;
    let f = form("SM00000000000000000000000000000007", CLINIC, "偽物");
    let forged = sign("not-the-auth-token", &app.webhook_url, &f);
    let cases = [Some(forged.as_str()), None, Some(""), Some("garbage!")];
    for sig in cases {
        let s = app
            .twilio
            .post_form_signed(&app.webhook_url, &f, sig)
            .await
            .unwrap();
        assert_eq!(s, 401, "{sig:?}");
    }
    // Signed, then a parameter changed on the way.
    let sig = sign(AUTH_TOKEN, &app.webhook_url, &f);
    let mut tampered = f.clone();
    tampered[5].1 = "改ざん".into();
    let s = app
        .twilio
        .post_form_signed(&app.webhook_url, &tampered, Some(&sig))
        .await
        .unwrap();
    assert_eq!(s, 401);
    // Status callbacks are checked the same way.
    let status_url = format!("{}/status", app.webhook_url);
    let cb: Vec<(String, String)> = vec![
        (
            "MessageSid".into(),
            "SM00000000000000000000000000000008".into(),
        ),
        ("MessageStatus".into(), "delivered".into()),
    ];
    let s = app
        .twilio
        .post_form_signed(&status_url, &cb, Some(&forged))
        .await
        .unwrap();
    assert_eq!(s, 401);
    nothing_stored(&app).await;
}

#[tokio::test]
async fn an_unsigned_duplicate_field_is_refused_and_a_signed_one_is_accepted() {
    // The handler hands the form to the check exactly as posted, duplicates and order kept.
    let app = spawn_sms_app().await;
    let mut f = form("MM00000000000000000000000000000009", CLINIC, "写真です");
    f[6].1 = "1".into(); // NumMedia
    let media = "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM9/Media/ME9";
    f.push(("MediaUrl0".into(), media.into()));
    f.push(("MediaContentType0".into(), "image/jpeg".into()));
    let sig = sign(AUTH_TOKEN, &app.webhook_url, &f);
    for dup in ["MediaUrl0", "Body"] {
        let mut extra = f.clone();
        let field = f.iter().find(|(k, _)| k == dup).cloned().unwrap();
        extra.push(field);
        let s = app
            .twilio
            .post_form_signed(&app.webhook_url, &extra, Some(&sig))
            .await
            .unwrap();
        assert_eq!(s, 401, "an unsigned second {dup} was accepted");
    }
    nothing_stored(&app).await;
    // Twilio signing the duplicate too: accepted.
    let mut doubled = form("SM00000000000000000000000000000010", CLINIC, "二重");
    doubled.push(("Body".into(), "二重".into()));
    let sig = sign(AUTH_TOKEN, &app.webhook_url, &doubled);
    let s = app
        .twilio
        .post_form_signed(&app.webhook_url, &doubled, Some(&sig))
        .await
        .unwrap();
    assert_eq!(s, 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

#[tokio::test]
async fn a_redelivered_message_sid_is_stored_once() {
    let app = spawn_sms_app().await;
    let d = app.patient_texts("予約の確認です").await;
    let again = app.twilio.redeliver(&d).await.unwrap();
    assert_eq!(again.status, 200, "{again:?}");
    assert_eq!(again.idempotency_token, d.idempotency_token);
    app.run_jobs().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'inbound.dispatch'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_message_to_a_number_the_channel_does_not_serve_is_kept_unrouted() {
    let app = spawn_sms_app().await;
    let d = app
        .twilio
        .user_sms(OTHER_NUMBER, PATIENT, "どなたですか")
        .await
        .unwrap();
    assert_eq!(d.status, 200, "{d:?}");
    app.run_jobs().await;
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM webhook_events")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert_eq!(states, vec!["unrouted".to_string()]);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM channel_identities").await,
        0
    );
    // A redelivery stays one event.
    assert_eq!(app.twilio.redeliver(&d).await.unwrap().status, 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 1);
}
