//! LINE webhooks end to end: the official SDK sample bodies, signatures, dedupe and limits.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{sign, spawn_app};
use reqwest::StatusCode;

fn sample_bodies() -> Vec<(String, Vec<u8>)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../channels/tests/fixtures/line/sdk-samples");
    let mut out = Vec::new();
    let mut stack = vec![root];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap().flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json") {
                out.push((p.display().to_string(), std::fs::read(&p).unwrap()));
            }
        }
    }
    out.sort();
    assert!(
        out.len() >= 20,
        "expected the LINE SDK samples, found {}",
        out.len()
    );
    out
}

fn distinct_event_ids(bodies: &[(String, Vec<u8>)]) -> usize {
    let mut ids = std::collections::HashSet::new();
    for (_, b) in bodies {
        let parsed = tsunagu_channels::line::events::parse(b).unwrap();
        for e in parsed.events {
            ids.insert(e.webhook_event_id);
        }
    }
    ids.len()
}

#[tokio::test]
async fn every_sdk_sample_is_answered_200_and_stored_once_even_when_sent_twice() {
    let app = spawn_app().await;
    let bodies: Vec<_> = sample_bodies()
        .into_iter()
        .filter(|(name, b)| {
            // flex/ holds message objects, not webhook bodies.
            !name.contains("/flex/")
                && serde_json::from_slice::<serde_json::Value>(b)
                    .is_ok_and(|v| v.get("events").is_some())
        })
        .collect();
    for round in 0..2 {
        for (name, body) in &bodies {
            let status = app.post_webhook(body, Some(&sign(body))).await;
            assert_eq!(status, StatusCode::OK, "{name} (round {round})");
        }
    }
    let stored = app.count("SELECT COUNT(*) FROM webhook_events").await;
    assert_eq!(stored as usize, distinct_event_ids(&bodies));
    assert!(
        app.count("SELECT COUNT(*) FROM messages WHERE kind = 'text'")
            .await
            > 0
    );
}

#[tokio::test]
async fn a_wrong_or_missing_signature_stores_nothing_and_gets_401() {
    let app = spawn_app().await;
    let body = br#"{"destination":"U0123","events":[{"type":"message","mode":"active","timestamp":1700000000000,"webhookEventId":"01HZZZZZZZZZZZZZZZZZZZZZZZ","deliveryContext":{"isRedelivery":false},"source":{"type":"user","userId":"U4af4980629a1b2c3d4e5f60718293a4b"},"replyToken":"r","message":{"id":"1","type":"text","quoteToken":"q","text":"hi"}}]}"#;
    assert_eq!(app.post_webhook(body, None).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.post_webhook(body, Some("AAAA")).await,
        StatusCode::UNAUTHORIZED
    );
    let mut tampered = body.to_vec();
    let n = tampered.len();
    tampered[n - 5] = b'X';
    assert_eq!(
        app.post_webhook(&tampered, Some(&sign(body))).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(
        app.post_webhook(body, Some(&sign(body))).await,
        StatusCode::OK
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 1);
}

#[tokio::test]
async fn malformed_and_oversized_bodies_store_nothing() {
    let app = spawn_app().await;
    let bad = b"{\"events\": [";
    assert_eq!(
        app.post_webhook(bad, Some(&sign(bad))).await,
        StatusCode::BAD_REQUEST
    );
    let big = vec![b' '; 4 * 1024 * 1024 + 1];
    assert_eq!(
        app.post_webhook(&big, Some(&sign(&big))).await,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let empty = br#"{"destination":"U0","events":[]}"#;
    assert_eq!(
        app.post_webhook(empty, Some(&sign(empty))).await,
        StatusCode::OK,
        "the console's connectivity check"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 0);
}

#[tokio::test]
async fn an_unknown_channel_is_404() {
    let app = spawn_app().await;
    let body = br#"{"events":[]}"#;
    let url = format!("{}/webhooks/line/{}", app.base, tsunagu_core::new_id());
    let r = app
        .http
        .post(url)
        .header("x-line-signature", sign(body))
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
}
