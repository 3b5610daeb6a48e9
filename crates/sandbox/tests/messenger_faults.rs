//! Injected faults and rate limits: what the outbox's at-most-once logic relies on.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod messenger_common;

use std::time::Duration;

use messenger_common::*;
use tsunagu_sandbox::messenger::RateLimitAnswer;

#[tokio::test]
async fn a_failure_before_accept_is_not_executed_and_says_so_in_metas_terms() {
    let env = Env::start().await;
    env.open_window().await;
    env.sb.fail_next_before_accept("/messages", 503, 1);
    let (status, body) = env.send(&text_body("x")).await;
    assert_eq!(status, 503);
    assert_eq!(body["error"]["code"], 2);
    assert_eq!(body["error"]["is_transient"], true);
    assert!(env.sb.received().is_empty());
    assert_eq!(env.send(&text_body("x")).await.0, 200);
    assert_eq!(env.sb.received().len(), 1);
    assert_eq!(env.sb.calls_to("/messages"), 2);
}

#[tokio::test]
async fn a_failure_after_accept_delivers_but_answers_a_bare_500() {
    let env = Env::start().await;
    env.open_window().await;
    env.sb.fail_next_after_accept("/messages", 1);
    let resp = env
        .http
        .post(format!("{}/{V}/{PAGE}/messages", env.base))
        .bearer_auth(TOKEN)
        .json(&text_body("lost answer"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 500);
    assert!(serde_json::from_slice::<serde_json::Value>(&resp.bytes().await.unwrap()).is_err());
    assert_eq!(env.sb.delivered_to(PAGE, PSID).len(), 1);
    assert_eq!(env.sb.received().len(), 1);
}

#[tokio::test]
async fn a_delayed_answer_arrives_after_the_send_was_executed() {
    let env = Env::start().await;
    env.open_window().await;
    env.sb
        .delay_next_after_accept("/messages", Duration::from_millis(300), 1);
    let req = env
        .http
        .post(format!("{}/{V}/{PAGE}/messages", env.base))
        .bearer_auth(TOKEN)
        .timeout(Duration::from_millis(100))
        .json(&text_body("slow"));
    assert!(req.send().await.unwrap_err().is_timeout());
    assert_eq!(env.sb.received().len(), 1);
}

#[tokio::test]
async fn the_rate_limit_answers_613_or_429_per_second_and_page() {
    let env = Env::start().await;
    env.open_window().await;
    env.sb.set_rate_limit(2, RateLimitAnswer::Code613);
    assert_eq!(env.send(&text_body("1")).await.0, 200);
    assert_eq!(env.send(&text_body("2")).await.0, 200);
    let (status, body) = env.send(&text_body("3")).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (400, Some(613)));
    env.clock.advance(chrono::Duration::seconds(1));
    assert_eq!(env.send(&text_body("4")).await.0, 200);
    env.sb.set_rate_limit(0, RateLimitAnswer::Http429);
    let (status, body) = env.send(&text_body("5")).await;
    assert_eq!((status, body["error"]["code"].as_i64()), (429, Some(4)));
    assert_eq!(env.sb.received().len(), 3);
}
