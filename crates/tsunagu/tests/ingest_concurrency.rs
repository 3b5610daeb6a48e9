//! Concurrent deliveries share group commits (SQLite) and are each stored once, answered only
//! after they are durable.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{sign, spawn_app};
use reqwest::StatusCode;
use serde_json::json;

fn delivery(i: usize) -> Vec<u8> {
    let event = json!({
        "type": "message", "mode": "active", "timestamp": 1_700_000_000_000i64 + i as i64,
        "webhookEventId": format!("01CONCURRENT{i:014}"), "deliveryContext": {"isRedelivery": false},
        "source": {"type": "user", "userId": format!("U{:032x}", i % 8)},
        "replyToken": format!("{i:032x}"),
        "message": {"id": format!("{}", 600_000_000_000_000_000u64 + i as u64), "type": "text", "quoteToken": "q", "text": format!("こんにちは {i}")}
    });
    json!({"destination": "U0123456789abcdef0123456789abcdef", "events": [event]})
        .to_string()
        .into_bytes()
}

#[tokio::test]
async fn concurrent_deliveries_and_their_redeliveries_are_each_stored_once() {
    let app = std::sync::Arc::new(spawn_app().await);
    let posts: Vec<_> = (0..96)
        .map(|n| {
            let app = app.clone();
            // Every delivery is sent twice, the copies racing each other.
            let body = delivery(n % 48);
            tokio::spawn(async move {
                let first = app.post_webhook(&body, Some(&sign(&body))).await;
                // LINE redelivers what was not answered 200.
                let mut last = first;
                for _ in 0..3 {
                    if last == StatusCode::OK {
                        break;
                    }
                    last = app.post_webhook(&body, Some(&sign(&body))).await;
                }
                (first, last)
            })
        })
        .collect();
    for p in posts {
        let (first, last) = p.await.unwrap();
        assert_eq!(last, StatusCode::OK);
        // Racing first contacts of one new user must not fail a delivery on either database.
        assert_eq!(first, StatusCode::OK);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients").await,
        8,
        "no orphan patient from a lost race"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM webhook_events").await, 48);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'in'")
            .await,
        48
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations").await, 8);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM channel_identities").await,
        8
    );
}
