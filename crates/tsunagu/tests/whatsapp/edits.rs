//! The patient edits, deletes and reacts: the inbox follows.
use serde_json::json;

use serde_json::Value;

use crate::harness::{spawn, Wa, PATIENT, PATIENT_NAME, PHONE_ID};

/// The message with this wamid, as the API shows it.
async fn by_wamid(wa: &Wa, conv: &str, wamid: &str) -> Value {
    let id = wa
        .text_of(
            "SELECT id FROM messages WHERE provider_message_id = $1",
            wamid,
        )
        .await
        .unwrap();
    wa.message(conv, &id).await
}

#[tokio::test]
async fn edits_change_the_text_revokes_leave_a_tombstone_and_reactions_are_not_dispatched() {
    let wa = spawn().await;
    let first = wa.patient_says("明日の10時に伺います").await;
    let second = wa.patient_says("保険証を忘れました").await;
    let conv = wa.conversation().await;
    let (w1, w2) = (first.wamid.unwrap(), second.wamid.unwrap());
    let dispatch = "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'inbound.dispatch'";
    assert_eq!(wa.app.count(dispatch).await, 2);

    let edit = json!({"type": "edit", "edit": {"original_message_id": w1,
        "message": {"type": "text", "text": {"body": "明日の11時に伺います"}}}});
    let edited = wa
        .sb
        .user_message(PHONE_ID, PATIENT, PATIENT_NAME, edit)
        .await
        .unwrap();
    assert_eq!(edited.status, 200);
    let revoke = json!({"type": "revoke", "revoke": {"original_message_id": w2}});
    let revoked = wa
        .sb
        .user_message(PHONE_ID, PATIENT, PATIENT_NAME, revoke)
        .await
        .unwrap();
    assert_eq!(revoked.status, 200);
    let reacted = wa
        .sb
        .user_reaction(PHONE_ID, PATIENT, PATIENT_NAME, &w1, "👍")
        .await
        .unwrap();
    assert_eq!(reacted.status, 200);
    wa.app.run_jobs().await;

    let msgs = wa.messages(&conv).await;
    let m1 = by_wamid(&wa, &conv, &w1).await;
    assert_eq!(m1["text"], "明日の11時に伺います", "{m1}");
    let m2 = by_wamid(&wa, &conv, &w2).await;
    assert_eq!(m2["unsent"], true, "{m2}");
    assert!(m2["text"].is_null(), "{m2}");
    let body: Option<String> = wa
        .text_of(
            "SELECT body FROM messages WHERE provider_message_id = $1",
            &w2,
        )
        .await;
    assert_eq!(body, None, "the deleted text is gone from the database too");
    assert_eq!(
        wa.app
            .count("SELECT COUNT(*) FROM webhook_events WHERE body LIKE '%保険証%'")
            .await,
        0,
        "and from the raw event"
    );
    let reaction = by_wamid(&wa, &conv, reacted.wamid.as_deref().unwrap()).await;
    assert_eq!(reaction["kind"], "reaction", "{reaction}");
    assert_eq!(reaction["text"], "👍");
    assert_eq!(
        msgs.len(),
        3,
        "edits and deletions add no message: {msgs:?}"
    );
    assert_eq!(
        wa.app.count(dispatch).await,
        2,
        "a reaction is not dispatched"
    );

    // Redeliveries change nothing.
    let before = wa.counts().await;
    for p in [&edited, &revoked, &reacted] {
        assert_eq!(wa.sb.redeliver(p).await.unwrap(), 200);
    }
    assert_eq!(wa.counts().await, before);
    assert_eq!(
        by_wamid(&wa, &conv, &w1).await["text"],
        "明日の11時に伺います"
    );
}
