//! Every real WhatsApp webhook sample, signed like Meta, stored once; forged deliveries refused;
//! the GET handshake; entries for a number the channel does not serve.
use std::path::PathBuf;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tsunagu_channels::whatsapp::{events, Content};
use tsunagu_sandbox::whatsapp::{escape_non_ascii, sign};

use crate::harness::{spawn, Wa, APP_SECRET, OTHER_PHONE_ID, PATIENT, PHONE_ID, VERIFY_TOKEN};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../channels/tests/fixtures/whatsapp")
}

fn json_files(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(fixtures().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    out.sort();
    out
}

/// Every pywa case and Meta example: (name, body).
fn samples() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in json_files("pywa/updates") {
        let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for (case, body) in file.as_object().unwrap() {
            let name = path.file_name().unwrap().to_string_lossy();
            out.push((format!("pywa/{name}:{case}"), body.clone()));
        }
    }
    for path in json_files("meta-webhooks") {
        let body = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        out.push((format!("meta/{}", path.display()), body));
    }
    out
}

/// Points every change's `metadata.phone_number_id` at `phone`; serialised as Meta does.
fn routed_to(body: Value, phone: &str) -> Vec<u8> {
    routed(body, phone, None)
}

/// As [`routed_to`]; with `unique`, message and status ids get that suffix: the samples reuse
/// placeholder wamids (`wamid.xyzxyz` in 23 pywa cases), which would rightly dedupe as one.
fn routed(mut body: Value, phone: &str, unique: Option<usize>) -> Vec<u8> {
    for entry in body["entry"].as_array_mut().into_iter().flatten() {
        for change in entry["changes"].as_array_mut().into_iter().flatten() {
            if let Some(meta) = change.pointer_mut("/value/metadata") {
                meta["phone_number_id"] = json!(phone);
            }
            let Some(n) = unique.filter(|_| change["field"] == "messages") else {
                continue;
            };
            for key in ["messages", "statuses"] {
                let items = change["value"][key].as_array_mut().into_iter().flatten();
                for item in items.filter(|i| i["id"].is_string()) {
                    item["id"] = json!(format!("{}.{n}", item["id"].as_str().unwrap()));
                }
            }
        }
    }
    escape_non_ascii(&serde_json::to_string(&body).unwrap()).into_bytes()
}

/// (what is wrong, body, headers).
type Forged<'a> = (&'a str, &'a [u8], Vec<(&'a str, String)>);

async fn event_state(wa: &Wa, provider_event_id: &str) -> Option<String> {
    wa.text_of(
        "SELECT state FROM webhook_events WHERE provider_event_id = $1",
        provider_event_id,
    )
    .await
}

#[tokio::test]
async fn every_real_sample_is_accepted_once_and_a_redelivery_stores_nothing() {
    let wa = spawn().await;
    let samples = samples();
    assert!(samples.len() >= 90, "{} samples", samples.len());
    let mut expected = Vec::new();
    let mut new_messages = Vec::new();
    for (i, (name, body)) in samples.into_iter().enumerate() {
        let bytes = routed(body, PHONE_ID, Some(i));
        let parsed = events::parse(&bytes).unwrap();
        expected.extend(parsed.messages.iter().map(|m| m.wamid.clone()));
        new_messages.extend(
            parsed
                .messages
                .iter()
                .filter(|m| !matches!(m.content, Content::Edit { .. } | Content::Revoke { .. }))
                .map(|m| m.wamid.clone()),
        );
        let before = wa.counts().await;
        expected.extend(
            parsed
                .statuses
                .iter()
                .map(|s| format!("{}:{}", s.wamid, s.raw["status"].as_str().unwrap())),
        );
        let posted = wa.sb.post(PHONE_ID, bytes).await.unwrap();
        assert_eq!(posted.status, 200, "{name}");
        let after_first = wa.counts().await;
        assert!(after_first[0] > before[0], "{name}: no raw event stored");
        assert_eq!(wa.sb.redeliver(&posted).await.unwrap(), 200, "{name}");
        assert_eq!(
            wa.counts().await,
            after_first,
            "{name}: redelivery stored something"
        );
        wa.app.run_jobs().await;
    }
    for id in &expected {
        assert_eq!(
            event_state(&wa, id).await.as_deref(),
            Some("processed"),
            "{id} stored and routed"
        );
    }
    // Every message item became one message (edits and deletions change earlier ones).
    for id in &new_messages {
        let n = wa
            .text_of(
                "SELECT CAST(COUNT(*) AS TEXT) FROM messages WHERE provider_message_id = $1",
                id,
            )
            .await;
        assert_eq!(n.as_deref(), Some("1"), "{id}: one message");
    }
    let messages_n = wa.app.count("SELECT COUNT(*) FROM messages").await;
    assert_eq!(messages_n, new_messages.len() as i64);
    assert_eq!(
        wa.app
            .count("SELECT COUNT(*) FROM webhook_events WHERE state = 'unrouted'")
            .await,
        0
    );
}

#[tokio::test]
async fn forged_deliveries_are_refused_and_nothing_is_stored() {
    let wa = spawn().await;
    let body = routed_to(samples().remove(0).1, PHONE_ID);
    let text = samples()
        .into_iter()
        .find(|(n, _)| n.ends_with("message.json:text"))
        .unwrap();
    let text = routed_to(text.1, PHONE_ID);
    let right = sign(APP_SECRET, &text);
    assert!(right.starts_with("sha256="));
    // A correct HMAC-SHA1 in the old `X-Hub-Signature` header (Twilio's signer over the bare
    // body is exactly HMAC-SHA1, in base64).
    let sha1 = {
        use base64::Engine;
        let b64 = tsunagu_channels::sms::signature::sign(
            APP_SECRET,
            std::str::from_utf8(&text).unwrap(),
            &[],
        );
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        format!("sha1={}", hex::encode(raw))
    };
    let cases: Vec<Forged> = vec![
        (
            "wrong secret",
            &text,
            vec![("x-hub-signature-256", sign("not-the-secret", &text))],
        ),
        (
            "signature of another body",
            &text,
            vec![("x-hub-signature-256", sign(APP_SECRET, &body))],
        ),
        ("no header", &text, vec![]),
        ("sha1 only", &text, vec![("x-hub-signature", sha1)]),
        (
            "bare hex",
            &text,
            vec![(
                "x-hub-signature-256",
                right.trim_start_matches("sha256=").to_string(),
            )],
        ),
    ];
    for (name, bytes, headers) in cases {
        assert_eq!(
            wa.post_raw(bytes, &headers).await,
            StatusCode::UNAUTHORIZED,
            "{name}"
        );
        assert_eq!(wa.counts().await, [0; 5], "{name}: stored something");
    }
    // The same bytes, rightly signed, are accepted.
    let ok = [("x-hub-signature-256", right)];
    assert_eq!(wa.post_raw(&text, &ok).await, StatusCode::OK);
    assert_eq!(wa.app.count("SELECT COUNT(*) FROM messages").await, 1);
}

#[tokio::test]
async fn the_subscription_handshake_echoes_the_challenge_only_for_the_right_token() {
    let wa = spawn().await;
    let (s, body) = wa
        .sb
        .verify_webhook_with_challenge(&wa.webhook_url, VERIFY_TOKEN, "1158201444")
        .await
        .unwrap();
    assert_eq!((s, body.as_str()), (200, "1158201444"));
    let (s, body) = wa
        .sb
        .verify_webhook_with_challenge(&wa.webhook_url, "guess", "1158201444")
        .await
        .unwrap();
    assert_eq!(s, 403);
    assert!(!body.contains("1158201444"), "{body}");
}

#[tokio::test]
async fn an_entry_for_a_number_the_channel_does_not_serve_is_kept_unrouted() {
    let wa = spawn().await;
    let p = wa
        .sb
        .user_text(OTHER_PHONE_ID, PATIENT, "他院の患者", "こんにちは")
        .await
        .unwrap();
    assert_eq!(p.status, 200);
    let wamid = p.wamid.clone().unwrap();
    assert_eq!(event_state(&wa, &wamid).await.as_deref(), Some("unrouted"));
    let status = json!({"object": "whatsapp_business_account", "entry": [{"id": "102290129340398", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550789999", "phone_number_id": OTHER_PHONE_ID},
        "statuses": [{"id": "wamid.elsewhere", "status": "delivered", "timestamp": "1790000000", "recipient_id": PATIENT}]}}]}]});
    let s = wa
        .sb
        .post(OTHER_PHONE_ID, status.to_string())
        .await
        .unwrap();
    assert_eq!(s.status, 200);
    assert_eq!(
        event_state(&wa, "wamid.elsewhere:delivered")
            .await
            .as_deref(),
        Some("unrouted")
    );
    wa.app.run_jobs().await;
    assert_eq!(wa.app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(wa.app.count("SELECT COUNT(*) FROM conversations").await, 0);
    assert_eq!(wa.app.count("SELECT COUNT(*) FROM patients").await, 0);
    // Meta retries: still one row each.
    assert_eq!(wa.sb.redeliver(&p).await.unwrap(), 200);
    assert_eq!(wa.app.count("SELECT COUNT(*) FROM webhook_events").await, 2);
}
