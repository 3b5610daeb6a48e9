//! Meta's status webhook can overtake the answer to the send itself: a status for a wamid
//! tsunagu has not recorded yet must still reach the message once the answer arrives.
use std::time::Duration;

use serde_json::json;

use crate::harness::spawn;

#[tokio::test]
async fn a_failure_reported_before_the_send_answer_still_fails_the_message() {
    let wa = spawn().await;
    wa.patient_says("明日伺います").await;
    let conv = wa.conversation().await;
    // Meta accepts the send but its answer is slow; meanwhile the status webhook arrives.
    wa.sb
        .delay_next_after_accept("/messages", Duration::from_millis(400), 1);
    let mid = wa.queued_reply(&conv, "お待ちしております").await;
    let worker = wa.app.services.worker.clone();
    let run = tokio::spawn(async move { worker.run_until_idle().await.unwrap() });
    // Wait (without sleeping) until the sandbox executed the send.
    let mut spins = 0u64;
    while wa.sends().is_empty() {
        spins += 1;
        assert!(spins < 10_000_000, "the send never reached the sandbox");
        tokio::task::yield_now().await;
    }
    let wamid = wa.sends()[0].wamid.clone().unwrap();
    let errors = json!([{"code": 131026, "title": "Message undeliverable",
        "message": "Message undeliverable", "error_data": {"details": "Message Undeliverable."}}]);
    let early = wa
        .sb
        .send_status(&wamid, "failed", Some(errors))
        .await
        .unwrap();
    assert_eq!(early.status, 200);
    assert!(
        !run.is_finished(),
        "the status must arrive before the send's answer"
    );
    run.await.unwrap();

    let m = wa.message(&conv, &mid).await;
    assert_eq!(wa.wamid_of(&mid).await.as_deref(), Some(wamid.as_str()));
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["failure_code"], "131026");
    assert!(
        m["failure_reason"]
            .as_str()
            .unwrap()
            .contains("undeliverable"),
        "{m}"
    );
    // Redelivered later: nothing changes.
    let before = wa.counts().await;
    assert_eq!(wa.sb.redeliver(&early).await.unwrap(), 200);
    assert_eq!(wa.counts().await, before);
}

#[tokio::test]
async fn a_read_receipt_that_overtakes_the_send_answer_is_kept() {
    let wa = spawn().await;
    wa.patient_says("確認しました").await;
    let conv = wa.conversation().await;
    wa.sb
        .delay_next_after_accept("/messages", Duration::from_millis(400), 1);
    let mid = wa.queued_reply(&conv, "ありがとうございます").await;
    let worker = wa.app.services.worker.clone();
    let run = tokio::spawn(async move { worker.run_until_idle().await.unwrap() });
    let mut spins = 0u64;
    while wa.sends().is_empty() {
        spins += 1;
        assert!(spins < 10_000_000, "the send never reached the sandbox");
        tokio::task::yield_now().await;
    }
    let wamid = wa.sends()[0].wamid.clone().unwrap();
    for status in ["delivered", "read"] {
        assert_eq!(
            wa.sb
                .send_status(&wamid, status, None)
                .await
                .unwrap()
                .status,
            200
        );
    }
    assert!(!run.is_finished());
    run.await.unwrap();
    let m = wa.message(&conv, &mid).await;
    assert_eq!(m["status"], "read", "{m}");
}
