//! What the Send API's failures do: no idempotency key, so a lost answer is in doubt for good;
//! throttling is retried; a person who is unavailable bounces the identity.
use reqwest::StatusCode;
use tsunagu_sandbox::messenger::RateLimitAnswer;

use crate::support::{spawn, Ms, PAGE, PSID};

async fn queue(ms: &Ms, conv: &str, text: &str) -> String {
    let (s, m) = ms.api_reply(conv, text).await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    m["id"].as_str().unwrap().to_string()
}

/// Moves the clock in steps and runs what became due each time.
async fn drive(ms: &Ms, steps: usize, minutes: i64) {
    for _ in 0..steps {
        ms.app.clock.advance(chrono::Duration::minutes(minutes));
        ms.app.run_jobs().await;
    }
}

#[tokio::test]
async fn a_5xx_after_meta_accepted_is_in_doubt_and_never_sent_again_automatically() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "明日の予約を変更したいです").await;
    let conv = ms.conv(PSID).await;
    ms.sb.fail_next_after_accept("/messages", 1);
    let id = queue(&ms, &conv, "午後3時はいかがですか").await;
    ms.app.run_jobs().await;
    drive(&ms, 6, 30).await;

    let out = ms.message(&conv, &id).await;
    assert_eq!(out["status"], "in_doubt", "{out}");
    assert_eq!(out["failure_code"], "in_doubt");
    assert_eq!(ms.sb.calls_to("/messages"), 1, "called once, never again");
    assert_eq!(ms.sb.delivered_to(PAGE, PSID).len(), 1, "delivered once");
    assert_eq!(
        ms.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'message.send' AND state = 'in_doubt'"
        )
        .await,
        1
    );
}

#[tokio::test]
async fn a_5xx_before_acceptance_is_retried_and_sent_once() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "診療時間を教えてください").await;
    let conv = ms.conv(PSID).await;
    ms.sb.fail_next_before_accept("/messages", 503, 2);
    let id = queue(&ms, &conv, "9時から18時までです").await;
    ms.app.run_jobs().await;
    assert_eq!(ms.message(&conv, &id).await["status"], "queued");
    drive(&ms, 4, 10).await;
    assert_eq!(ms.message(&conv, &id).await["status"], "sent");
    assert_eq!(ms.sb.calls_to("/messages"), 3);
    assert_eq!(ms.sb.delivered_to(PAGE, PSID).len(), 1);
}

#[tokio::test]
async fn a_429_rate_limit_before_acceptance_is_retried_with_backoff_then_sent_once() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "こんにちは").await;
    let conv = ms.conv(PSID).await;
    ms.sb.fail_next_before_accept("/messages", 429, 2);
    let id = queue(&ms, &conv, "お返事です").await;
    ms.app.run_jobs().await;
    assert!(ms.sb.delivered_to(PAGE, PSID).is_empty());
    let attempts = "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'message.send' AND state = 'queued' AND attempts = 1";
    assert_eq!(ms.count(attempts).await, 1, "waiting to retry");
    // Backoff: nothing is tried again before the job is due.
    ms.app.run_jobs().await;
    assert_eq!(ms.sb.calls_to("/messages"), 1);
    drive(&ms, 4, 10).await;
    assert_eq!(ms.message(&conv, &id).await["status"], "sent");
    assert_eq!(ms.sb.calls_to("/messages"), 3);
    assert_eq!(ms.sb.received().len(), 1, "accepted once");
}

#[tokio::test]
async fn code_613_from_the_page_rate_limit_is_retried_and_each_reply_is_sent_once() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "質問が2つあります").await;
    let conv = ms.conv(PSID).await;
    ms.sb.set_rate_limit(1, RateLimitAnswer::Code613);
    let a = queue(&ms, &conv, "1つ目のお答えです").await;
    let b = queue(&ms, &conv, "2つ目のお答えです").await;
    ms.app.run_jobs().await;
    assert_eq!(ms.sb.received().len(), 1, "one per second");
    drive(&ms, 4, 1).await;
    for id in [&a, &b] {
        assert_eq!(ms.message(&conv, id).await["status"], "sent");
    }
    let texts: Vec<_> = ms
        .sb
        .delivered_to(PAGE, PSID)
        .into_iter()
        .map(|m| m["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts.len(), 2, "{texts:?}");
    assert!(texts.contains(&"1つ目のお答えです".to_string()));
    assert!(texts.contains(&"2つ目のお答えです".to_string()));
}

#[tokio::test]
async fn an_unavailable_person_fails_the_message_and_bounces_the_next_reply_before_meta() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "よろしくお願いします").await;
    let conv = ms.conv(PSID).await;
    ms.sb.block_user(PAGE, PSID);
    let id = queue(&ms, &conv, "ご連絡ありがとうございます").await;
    ms.app.run_jobs().await;
    let out = ms.message(&conv, &id).await;
    assert_eq!(out["status"], "failed", "{out}");
    assert_eq!(out["failure_code"], "recipient_unavailable");
    assert!(
        out["failure_reason"]
            .as_str()
            .unwrap()
            .contains("not available"),
        "{out}"
    );
    let bounced = ms
        .count(&format!(
            "SELECT COUNT(*) FROM channel_identities WHERE channel_id = '{}' AND external_id = '{PSID}' AND bounced_at IS NOT NULL",
            ms.channel
        ))
        .await;
    assert_eq!(bounced, 1, "the identity is marked bounced");
    assert_eq!(ms.sb.calls_to("/messages"), 1);

    let (s, body) = ms.api_reply(&conv, "もう一度お送りします").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "recipient_bounced");
    ms.app.run_jobs().await;
    assert_eq!(
        ms.sb.calls_to("/messages"),
        1,
        "refused before reaching Meta"
    );
}
