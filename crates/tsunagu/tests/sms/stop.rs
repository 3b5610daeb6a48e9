//! STOP / START mirrored in reachability: nothing is attempted while a patient is opted out,
//! and Twilio's 21610 tells tsunagu about a STOP it missed.
use reqwest::StatusCode;

use crate::support::{spawn_sms_app, CLINIC, PATIENT};

#[tokio::test]
async fn stop_opts_the_patient_out_and_no_reply_is_attempted_until_start() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("来週の予約をお願いします").await;
    let before = app.count("SELECT COUNT(*) FROM messages").await;

    let d = app.patient_texts("Stop").await;
    assert!(!d.answer.contains("<Message"), "Twilio answers STOP itself");
    app.run_jobs().await;
    let (at, source) = app.opt_out().await;
    assert!(at.is_some(), "opted out");
    assert_eq!(source.as_deref(), Some("sms:STOP"));
    let msgs = app.messages(&conv).await;
    assert_eq!(
        msgs.len() as i64,
        before + 2,
        "the STOP and a note: {msgs:?}"
    );
    let note = msgs
        .iter()
        .find(|m| m["author_kind"] == "system")
        .unwrap_or_else(|| panic!("a system note: {msgs:?}"));
    assert_eq!(note["text"], "opted_out");
    assert!(
        !msgs.iter().any(|m| m["direction"] == "out"),
        "tsunagu answers nothing: {msgs:?}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'inbound.dispatch'")
            .await,
        1,
        "only the first message went to the dispatcher"
    );
    assert_eq!(app.send_calls(), 0);

    let (s, body) = app.reply(&conv, "承知しました").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "recipient_opted_out");
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 0, "nothing attempted at Twilio");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
            .await,
        0
    );

    app.patient_texts("start").await;
    app.run_jobs().await;
    assert_eq!(app.opt_out().await, (None, None));
    let msgs = app.messages(&conv).await;
    assert!(
        msgs.iter()
            .any(|m| m["text"] == "opted_in" && m["author_kind"] == "system"),
        "{msgs:?}"
    );
    let mid = app
        .reply_queued(&conv, "再開しました。ご予約を承ります")
        .await;
    app.run_jobs().await;
    let sent = app.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].body, "再開しました。ご予約を承ります");
    assert_eq!(app.row(&mid).await.status, "sent");
}

#[tokio::test]
async fn a_stop_tsunagu_missed_comes_back_as_21610_and_opts_the_patient_out() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("診察券をなくしました").await;
    // The STOP reaches Twilio while tsunagu's webhook is unreachable: Twilio blocks the number
    // but tsunagu never hears of it.
    app.twilio
        .set_sms_url(CLINIC, &format!("{}/webhooks/sms/not-a-channel", app.base));
    let lost = app.twilio.user_sms(CLINIC, PATIENT, "STOP").await.unwrap();
    assert_ne!(lost.status, 200);
    app.twilio.set_sms_url(CLINIC, &app.webhook_url);
    assert!(app.twilio.is_opted_out(CLINIC, PATIENT));
    assert_eq!(app.opt_out().await.0, None, "tsunagu does not know yet");

    let mid = app.reply_queued(&conv, "再発行できます").await;
    app.run_jobs().await;
    let row = app.row(&mid).await;
    assert_eq!(row.status, "failed", "{row:?}");
    assert_eq!(row.failure_code.as_deref(), Some("recipient_opted_out"));
    assert!(
        row.failure_reason
            .as_deref()
            .is_some_and(|r| r.contains("21610")),
        "{row:?}"
    );
    let (at, source) = app.opt_out().await;
    assert!(at.is_some());
    assert_eq!(source.as_deref(), Some("provider:21610"));
    assert_eq!(app.send_calls(), 1);
    assert!(app.sent().is_empty());

    // From now on nothing is attempted.
    let (s, body) = app.reply(&conv, "もう一度").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "recipient_opted_out");
    app.run_jobs().await;
    assert_eq!(app.send_calls(), 1);
}

#[tokio::test]
async fn help_is_answered_by_twilio_and_not_by_tsunagu() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("HELP").await;
    assert_eq!(app.opt_out().await, (None, None));
    let msgs = app.messages(&conv).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'inbound.dispatch'")
            .await,
        0
    );
    assert_eq!(app.send_calls(), 0);
}

/// What the receptionist sees: the STOP as a sentence in Japanese, never its code, and a reply
/// box closed before 送信 with what to do instead; START opens it again.
#[tokio::test]
async fn after_stop_the_conversation_says_so_in_words_and_closes_the_reply_box_until_start() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("来週の予約をお願いします").await;
    let me = app
        .staff_session(&app.clinic, tsunagu_core::Role::Receptionist, "受付 佐藤")
        .await;
    let open = page(&app, &me, &conv).await;
    assert!(!open.contains("data-testid=\"reply-closed\""), "{open}");

    app.patient_texts("STOP").await;
    app.run_jobs().await;
    let closed = page(&app, &me, &conv).await;
    assert!(closed.contains("配信停止(STOP)を送りました"), "{closed}");
    assert!(!closed.contains(">opted_out<") && !closed.contains("opted_out "));
    assert!(closed.contains("data-reason=\"opted_out\""), "{closed}");
    assert!(closed.contains("お電話など別の方法で"), "{closed}");
    assert!(closed.contains("data-testid=\"reply-text\" placeholder=\"返信を入力…\" disabled"));

    app.patient_texts("START").await;
    app.run_jobs().await;
    let reopened = page(&app, &me, &conv).await;
    assert!(
        reopened.contains("配信再開(START)を送りました"),
        "{reopened}"
    );
    assert!(!reopened.contains("data-testid=\"reply-closed\""));
}

async fn page(
    app: &crate::support::SmsApp,
    me: &tsunagu_testkit::app::StaffSession,
    conv: &str,
) -> String {
    let path = format!("/app/conversations/{conv}");
    let res = app
        .request(axum::http::Method::GET, &path)
        .session(me)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    res.text()
}
