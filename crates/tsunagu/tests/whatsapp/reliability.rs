//! Sends without an idempotency key: an unknown outcome is in doubt and never repeated;
//! throttling is retried with backoff; a refusal fails with Meta's reason; pacing defers.
use crate::harness::{spawn, Wa, PATIENT};

const MESSAGES: &str = "/messages";

async fn conversation_with_patient(wa: &Wa) -> String {
    wa.patient_says("予約の確認をお願いします").await;
    wa.conversation().await
}

async fn job_state(wa: &Wa, message_id: &str) -> String {
    wa.text_of(
        "SELECT state FROM outbox_jobs WHERE idempotency_key = 'send:' || $1",
        message_id,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn an_answer_lost_after_meta_accepted_the_send_leaves_it_in_doubt_never_resent() {
    let wa = spawn().await;
    let conv = conversation_with_patient(&wa).await;
    wa.sb.fail_next_after_accept(MESSAGES, 1);
    let mid = wa.queued_reply(&conv, "10時でお取りしました").await;
    wa.app.run_jobs().await;

    assert_eq!(wa.sends().len(), 1, "Meta executed it once");
    let m = wa.message(&conv, &mid).await;
    assert_eq!(m["status"], "in_doubt", "{m}");
    assert_eq!(m["failure_code"], "in_doubt");
    assert_eq!(job_state(&wa, &mid).await, "in_doubt");
    for _ in 0..3 {
        wa.app.clock.advance(chrono::Duration::hours(1));
        wa.app.run_jobs().await;
    }
    assert_eq!(wa.sends().len(), 1, "never re-sent automatically");
    assert_eq!(wa.sb.calls_to(MESSAGES), 1);
    assert_eq!(wa.message(&conv, &mid).await["status"], "in_doubt");
    assert_eq!(
        wa.wamid_of(&mid).await,
        None,
        "the answer with the wamid was lost"
    );

    // Meta's status webhook names the message (biz_opaque_callback_data): no longer in doubt.
    let wamid = wa.sends()[0].wamid.clone().unwrap();
    assert_eq!(wa.sends()[0].body["biz_opaque_callback_data"], mid.as_str());
    let p = wa.sb.send_status(&wamid, "delivered", None).await.unwrap();
    assert_eq!(p.status, 200);
    let m = wa.message(&conv, &mid).await;
    assert_eq!(m["status"], "delivered", "{m}");
    assert!(
        m["failure_code"].is_null() && m["failure_reason"].is_null(),
        "{m}"
    );
    assert_eq!(wa.wamid_of(&mid).await, Some(wamid));
    wa.app.clock.advance(chrono::Duration::hours(1));
    wa.app.run_jobs().await;
    assert_eq!(wa.sb.calls_to(MESSAGES), 1, "still sent once");
}

#[tokio::test]
async fn a_status_cannot_claim_a_message_that_already_has_its_wamid() {
    let wa = spawn().await;
    let conv = conversation_with_patient(&wa).await;
    let sent = wa.queued_reply(&conv, "1通目").await;
    wa.app.run_jobs().await;
    wa.sb.fail_next_after_accept(MESSAGES, 1);
    let doubtful = wa.queued_reply(&conv, "2通目").await;
    wa.app.run_jobs().await;
    let w1 = wa.wamid_of(&sent).await.unwrap();
    // A forged-looking status whose callback data names the first (already identified)
    // message under the second's wamid changes neither.
    let w2 = wa.sends()[1].wamid.clone().unwrap();
    let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": crate::harness::WABA,
        "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": crate::harness::DISPLAY, "phone_number_id": crate::harness::PHONE_ID},
            "statuses": [{"id": w2, "status": "read", "timestamp": "1795000000", "recipient_id": PATIENT,
                          "biz_opaque_callback_data": sent}]}}]}]});
    let p = wa
        .sb
        .post(crate::harness::PHONE_ID, body.to_string())
        .await
        .unwrap();
    assert_eq!(p.status, 200);
    assert_eq!(wa.wamid_of(&sent).await, Some(w1));
    assert_eq!(wa.message(&conv, &sent).await["status"], "sent");
    assert_eq!(wa.message(&conv, &doubtful).await["status"], "in_doubt");
}

#[tokio::test]
async fn throughput_throttling_is_retried_with_backoff_and_sent_once() {
    let wa = spawn().await;
    let conv = conversation_with_patient(&wa).await;
    wa.sb.fail_next_with_code(MESSAGES, 400, 130429, 1);
    wa.sb.fail_next_before_accept(MESSAGES, 429, 1);
    let mid = wa.queued_reply(&conv, "承知しました").await;
    wa.app.run_jobs().await;
    assert!(wa.sends().is_empty());
    let m = wa.message(&conv, &mid).await;
    assert_eq!(m["status"], "queued", "waiting to retry, not failed: {m}");
    assert_eq!(wa.sb.calls_to(MESSAGES), 1);
    // Not due again before its backoff.
    wa.app.run_jobs().await;
    assert_eq!(
        wa.sb.calls_to(MESSAGES),
        1,
        "retried only after the backoff"
    );

    for _ in 0..4 {
        wa.app.clock.advance(chrono::Duration::seconds(30));
        wa.app.run_jobs().await;
    }
    assert_eq!(wa.sb.calls_to(MESSAGES), 3, "130429, 429, then accepted");
    assert_eq!(wa.sends().len(), 1, "sent once");
    let m = wa.message(&conv, &mid).await;
    assert_eq!(m["status"], "sent", "{m}");
    assert_eq!(wa.wamid_of(&mid).await, wa.sends()[0].wamid);
}

#[tokio::test]
async fn a_permanent_refusal_fails_with_metas_reason_and_is_not_retried() {
    let wa = spawn().await;
    let conv = conversation_with_patient(&wa).await;
    wa.sb.fail_next_with_code(MESSAGES, 400, 100, 1);
    let mid = wa.queued_reply(&conv, "お待ちしております").await;
    wa.app.run_jobs().await;
    let m = wa.message(&conv, &mid).await;
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["failure_code"], "rejected_by_provider");
    let reason = m["failure_reason"].as_str().unwrap();
    assert!(
        reason.contains("Invalid parameter") && reason.contains("100"),
        "{reason}"
    );
    assert_eq!(job_state(&wa, &mid).await, "dead");
    wa.app.clock.advance(chrono::Duration::hours(1));
    wa.app.run_jobs().await;
    assert_eq!(wa.sb.calls_to(MESSAGES), 1);
    assert!(wa.sends().is_empty());
}

#[tokio::test]
async fn a_closed_window_at_meta_fails_with_a_reason_staff_can_act_on() {
    let wa = spawn().await;
    let conv = conversation_with_patient(&wa).await;
    // tsunagu thinks the window is open, Meta does not (e.g. the clocks disagree).
    wa.sb.fail_next_with_code(MESSAGES, 400, 131047, 1);
    let mid = wa.queued_reply(&conv, "ご来院ありがとうございました").await;
    wa.app.run_jobs().await;
    let m = wa.message(&conv, &mid).await;
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["failure_code"], "outside_service_window");
}

#[tokio::test]
async fn two_quick_replies_both_go_out_and_a_longer_burst_is_deferred_not_failed() {
    let wa = spawn().await;
    let conv = conversation_with_patient(&wa).await;
    wa.queued_reply(&conv, "1通目です").await;
    wa.queued_reply(&conv, "2通目です").await;
    wa.app.run_jobs().await;
    assert_eq!(
        wa.sends().len(),
        2,
        "a short burst to one patient goes out at once"
    );

    let mut ids = Vec::new();
    for i in 3..=8 {
        ids.push(wa.queued_reply(&conv, &format!("{i}通目です")).await);
    }
    wa.app.run_jobs().await;
    let sent_now = wa.sends().len();
    assert!(
        (3..8).contains(&sent_now),
        "the pair budget holds some back: {sent_now} sent"
    );
    for id in &ids {
        let m = wa.message(&conv, id).await;
        assert!(m["status"] == "sent" || m["status"] == "queued", "{m}");
        assert!(m["failure_code"].is_null(), "deferred, not retried: {m}");
    }
    assert_eq!(
        wa.app
            .count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'message.send' AND attempts > 1")
            .await,
        0,
        "pacing uses no attempt"
    );
    for _ in 0..10 {
        wa.app.clock.advance(chrono::Duration::seconds(6));
        wa.app.run_jobs().await;
    }
    assert_eq!(wa.sends().len(), 8);
    for id in &ids {
        assert_eq!(wa.message(&conv, id).await["status"], "sent");
    }
    let bodies: Vec<String> = wa
        .sends()
        .iter()
        .map(|r| r.body["text"]["body"].as_str().unwrap().to_string())
        .collect();
    let expected: Vec<String> = (1..=8).map(|i| format!("{i}通目です")).collect();
    assert_eq!(bodies, expected, "in order, each once");
    assert!(wa.sends().iter().all(|r| r.body["to"] == PATIENT));
}
