//! Status callbacks that the send's own answer does not see: one that overtakes the answer,
//! one that settles a message in doubt, and an asynchronous refusal (Messaging Services report
//! 21610 by callback).
use std::time::Duration as StdDuration;

use chrono::Duration;
use tsunagu_core::{Clock, MessageId};
use tsunagu_outbox::retry::{retry_message, RetryOutcome};

use crate::support::{spawn_sms_app, SmsApp};

const SEND: &str = "/Messages.json";

/// Waits (bounded) until the sandbox holds the reply: Twilio has executed the send.
async fn executed_sid(app: &SmsApp) -> String {
    let wait = async {
        loop {
            if let Some(m) = app.sent().first() {
                return m.sid.clone();
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(StdDuration::from_secs(10), wait)
        .await
        .expect("Twilio never executed the send")
}

async fn retry(app: &SmsApp, mid: &str) -> RetryOutcome {
    let id = MessageId::parse(mid).unwrap();
    retry_message(&app.db, &app.clinic, &id, app.clock.now_ms())
        .await
        .unwrap()
}

#[tokio::test]
async fn callbacks_that_overtake_the_send_answer_are_not_lost_nor_undone() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("明日は何時からですか").await;
    // Twilio executes the send at once but its answer reaches tsunagu a second later, after
    // the message's callbacks.
    app.twilio
        .delay_next_after_accept(SEND, StdDuration::from_secs(1), 1);
    let mid = app.reply_queued(&conv, "9時からです").await;
    let callbacks = async {
        let sid = executed_sid(&app).await;
        for status in ["sent", "delivered"] {
            let d = app.twilio.report_status(&sid, status, None).await.unwrap();
            assert_eq!(d.unwrap().status, 200);
        }
        sid
    };
    let (_, sid) = tokio::join!(app.run_jobs(), callbacks);
    let row = app.row(&mid).await;
    assert_eq!(row.status, "delivered", "{row:?}");
    assert_eq!(row.provider_message_id.as_deref(), Some(sid.as_str()));
    assert_eq!(app.send_calls(), 1);
}

#[tokio::test]
async fn a_callback_settles_a_message_in_doubt_and_staff_cannot_send_it_twice() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("領収書を再発行できますか").await;
    app.twilio.fail_next_after_accept(SEND, 1);
    let mid = app.reply_queued(&conv, "受付でお渡しします").await;
    app.run_jobs().await;
    assert_eq!(app.row(&mid).await.status, "in_doubt");
    let sid = app.sent()[0].sid.clone();
    app.twilio
        .report_status(&sid, "delivered", None)
        .await
        .unwrap();
    let row = app.row(&mid).await;
    assert_eq!(row.status, "delivered", "{row:?}");
    assert_eq!(row.provider_message_id.as_deref(), Some(sid.as_str()));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE state = 'in_doubt'")
            .await,
        0,
        "no longer in doubt"
    );
    assert_eq!(retry(&app, &mid).await, RetryOutcome::NotRetryable);
    app.clock.advance(Duration::hours(1));
    app.run_jobs().await;
    assert_eq!(app.sent().len(), 1);
}

#[tokio::test]
async fn staff_retry_a_message_in_doubt_that_twilio_never_executed() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("今日は混んでいますか").await;
    app.twilio.fail_next_before_accept(SEND, 502, 1);
    let mid = app.reply_queued(&conv, "比較的空いています").await;
    app.run_jobs().await;
    assert_eq!(app.row(&mid).await.status, "in_doubt");
    assert!(app.sent().is_empty());
    // Staff check Twilio's console, see nothing, and press retry.
    assert_eq!(retry(&app, &mid).await, RetryOutcome::Requeued);
    app.run_jobs().await;
    let sent = app.sent();
    assert_eq!(sent.len(), 1);
    let row = app.row(&mid).await;
    assert_eq!(row.status, "sent", "{row:?}");
    assert_eq!(
        row.provider_message_id.as_deref(),
        Some(sent[0].sid.as_str())
    );
    assert_eq!(row.failure_code, None);
}

#[tokio::test]
async fn a_21610_reported_by_callback_opts_the_patient_out() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("よろしくお願いします").await;
    let mid = app.reply_queued(&conv, "こちらこそ").await;
    app.run_jobs().await;
    let sid = app.sent()[0].sid.clone();
    app.twilio
        .report_status(&sid, "failed", Some(21610))
        .await
        .unwrap();
    let row = app.row(&mid).await;
    assert_eq!(row.status, "failed", "{row:?}");
    assert_eq!(row.failure_code.as_deref(), Some("21610"));
    let (at, source) = app.opt_out().await;
    assert!(at.is_some(), "opted out");
    assert_eq!(source.as_deref(), Some("provider:21610"));
    let (s, body) = app.reply(&conv, "もう一度").await;
    assert_eq!(s, reqwest::StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(app.send_calls(), 1);
}
