//! Retry keys, injected faults and rate limits: what the outbox's at-most-once logic relies on.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod common;

use common::*;
use serde_json::json;

#[tokio::test]
async fn a_repeated_retry_key_answers_409_with_the_first_request_id_and_delivers_once() {
    let env = Env::start().await;
    let key = new_key();
    let body = push_body(vec![text("明日10時のご予約です")]);
    let (s1, h1, b1) = env.post("/v2/bot/message/push", &body, Some(&key)).await;
    assert_eq!(s1, 200);
    let (s2, h2, b2) = env.post("/v2/bot/message/push", &body, Some(&key)).await;
    assert_eq!(s2, 409);
    assert_eq!(b2["message"], "The retry key is already accepted");
    assert_eq!(h2["x-line-accepted-request-id"], h1["x-line-request-id"]);
    assert_ne!(h2["x-line-request-id"], h1["x-line-request-id"]);
    assert_eq!(b2["sentMessages"], b1["sentMessages"]);
    assert_eq!(env.sb.delivered_to(USER).len(), 1);
    assert_eq!(env.sb.received().len(), 1);

    // Kept 24 hours, then the key may be used again.
    env.clock.advance(chrono::Duration::hours(25));
    assert_eq!(
        env.post("/v2/bot/message/push", &body, Some(&key)).await.0,
        200
    );
}

#[tokio::test]
async fn a_retry_key_must_be_a_uuid_and_is_refused_on_reply() {
    let env = Env::start().await;
    let body = push_body(vec![text("x")]);
    assert_eq!(
        env.post("/v2/bot/message/push", &body, Some("not-a-uuid"))
            .await
            .0,
        400
    );
    let reply = json!({"replyToken": "abc", "messages": [text("x")]});
    assert_eq!(
        env.post("/v2/bot/message/reply", &reply, Some(&new_key()))
            .await
            .0,
        400
    );
    assert!(env.sb.received().is_empty());
}

#[tokio::test]
async fn a_failure_before_accept_delivers_nothing_and_the_retry_succeeds() {
    let env = Env::start().await;
    env.sb.fail_next_before_accept("/push", 1);
    let key = new_key();
    let body = push_body(vec![text("x")]);
    assert_eq!(
        env.post("/v2/bot/message/push", &body, Some(&key)).await.0,
        500
    );
    assert!(env.sb.delivered_to(USER).is_empty());
    assert_eq!(
        env.post("/v2/bot/message/push", &body, Some(&key)).await.0,
        200
    );
    assert_eq!(env.sb.delivered_to(USER).len(), 1);
}

#[tokio::test]
async fn a_failure_after_accept_delivers_and_the_retry_with_the_same_key_gets_409() {
    let env = Env::start().await;
    env.sb.fail_next_after_accept("push", 1);
    let key = new_key();
    let body = push_body(vec![text("x")]);
    let (status, h1, _) = env.post("/v2/bot/message/push", &body, Some(&key)).await;
    assert_eq!(status, 500);
    assert_eq!(
        env.sb.delivered_to(USER).len(),
        1,
        "executed although the answer was lost"
    );
    let (status, h2, _) = env.post("/v2/bot/message/push", &body, Some(&key)).await;
    assert_eq!(status, 409);
    assert_eq!(h2["x-line-accepted-request-id"], h1["x-line-request-id"]);
    assert_eq!(env.sb.delivered_to(USER).len(), 1, "never delivered twice");
}

#[tokio::test]
async fn fail_next_with_any_status_counts_down() {
    let env = Env::start().await;
    env.sb.fail_next("push", 503, 2);
    let body = push_body(vec![text("x")]);
    assert_eq!(env.post("/v2/bot/message/push", &body, None).await.0, 503);
    assert_eq!(env.post("/v2/bot/message/push", &body, None).await.0, 503);
    assert_eq!(env.post("/v2/bot/message/push", &body, None).await.0, 200);
}

#[tokio::test]
async fn the_rate_limit_answers_429_within_one_second_of_the_sandbox_clock() {
    let env = Env::start().await;
    env.sb.set_rate_limit("/push", 2);
    let body = push_body(vec![text("x")]);
    assert_eq!(env.post("/v2/bot/message/push", &body, None).await.0, 200);
    assert_eq!(env.post("/v2/bot/message/push", &body, None).await.0, 200);
    let (status, _, err) = env.post("/v2/bot/message/push", &body, None).await;
    assert_eq!(status, 429);
    assert_eq!(
        err["message"],
        "The API rate limit has been exceeded. Try again later."
    );
    env.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(env.post("/v2/bot/message/push", &body, None).await.0, 200);
}
