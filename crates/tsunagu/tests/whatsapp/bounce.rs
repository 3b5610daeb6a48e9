//! Meta says a number cannot receive WhatsApp (131026): staff see why, later replies are
//! refused before any call, and the patient writing again makes them reachable.
use reqwest::StatusCode;
use serde_json::json;

use crate::harness::spawn;

#[tokio::test]
async fn an_undeliverable_failure_bounces_the_patient_until_they_write_again() {
    let wa = spawn().await;
    wa.patient_says("よろしくお願いします").await;
    let conv = wa.conversation().await;
    let mid = wa.queued_reply(&conv, "ご予約を承りました").await;
    wa.app.run_jobs().await;
    let wamid = wa.wamid_of(&mid).await.unwrap();
    let errors = json!([{"code": 131026, "title": "Message undeliverable",
        "message": "Message undeliverable", "error_data": {"details": "Receiver is incapable of receiving this message"}}]);
    let p = wa
        .sb
        .send_status(&wamid, "failed", Some(errors))
        .await
        .unwrap();
    assert_eq!(p.status, 200);
    let m = wa.message(&conv, &mid).await;
    assert_eq!(m["status"], "failed", "{m}");
    assert_eq!(m["failure_code"], "131026");
    assert!(
        m["failure_reason"]
            .as_str()
            .unwrap()
            .contains("incapable of receiving"),
        "{m}"
    );

    let calls = wa.sb.calls_to("/messages");
    let (s, err) = wa.reply(&conv, "お電話でご連絡します").await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{err}");
    assert_eq!(err["error"]["code"], "recipient_bounced");
    wa.app.run_jobs().await;
    assert_eq!(wa.sb.calls_to("/messages"), calls, "nothing attempted");

    wa.patient_says("届いていますか？").await;
    wa.queued_reply(&conv, "はい、届いています").await;
    wa.app.run_jobs().await;
    assert_eq!(wa.sends().len(), 2);
}
