//! Patient → inbox → staff reply → patient, and the status webhooks that follow.
use crate::harness::{spawn, PATIENT, PATIENT_NAME, PHONE_ID};

#[tokio::test]
async fn a_patient_text_reaches_the_inbox_and_the_staff_reply_goes_out_from_the_same_number() {
    let wa = spawn().await;
    let posted = wa.patient_says("明日の予約を変更できますか？").await;
    let conv = wa.conversation().await;

    let msgs = wa.messages(&conv).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["direction"], "in");
    assert_eq!(msgs[0]["text"], "明日の予約を変更できますか？");
    assert_eq!(msgs[0]["author_kind"], "patient");
    assert_eq!(
        wa.text_of("SELECT via FROM conversations WHERE id = $1", &conv)
            .await
            .as_deref(),
        Some(PHONE_ID),
        "the conversation remembers the number the patient wrote to"
    );
    assert_eq!(
        wa.text_of(
            "SELECT provider_message_id FROM messages WHERE conversation_id = $1",
            &conv
        )
        .await,
        posted.wamid
    );
    let (_, list) = wa.app.api_get("/api/v1/conversations").await;
    let patient = list["items"][0]["patient_id"].as_str().unwrap().to_string();
    let (_, p) = wa.app.api_get(&format!("/api/v1/patients/{patient}")).await;
    assert_eq!(p["display_name"], PATIENT_NAME, "{p}");

    let mid = wa
        .queued_reply(&conv, "はい、ご希望の日時をお知らせください。")
        .await;
    assert_eq!(wa.message(&conv, &mid).await["status"], "queued");
    wa.app.run_jobs().await;

    let sends = wa.sends();
    assert_eq!(sends.len(), 1, "{sends:?}");
    assert_eq!(sends[0].phone_number_id, PHONE_ID);
    assert_eq!(sends[0].body["to"], PATIENT);
    assert_eq!(sends[0].body["type"], "text");
    assert_eq!(
        sends[0].body["text"]["body"],
        "はい、ご希望の日時をお知らせください。"
    );
    let chat = wa.sb.chat(PHONE_ID, PATIENT);
    assert_eq!(
        chat.iter().map(|e| e.from).collect::<Vec<_>>(),
        ["user", "business"]
    );
    assert_eq!(sends[0].body["biz_opaque_callback_data"], mid.as_str());
    assert_eq!(wa.message(&conv, &mid).await["status"], "sent");
    assert_eq!(wa.wamid_of(&mid).await, sends[0].wamid);
}

#[tokio::test]
async fn statuses_only_move_a_message_forward_and_a_redelivery_changes_nothing() {
    let wa = spawn().await;
    wa.patient_says("薬の飲み方を教えてください").await;
    let conv = wa.conversation().await;
    let first = wa.queued_reply(&conv, "食後に1錠です").await;
    let second = wa.queued_reply(&conv, "お大事になさってください").await;
    wa.app.run_jobs().await;
    let w1 = wa.wamid_of(&first).await.unwrap();
    let w2 = wa.wamid_of(&second).await.unwrap();

    // In order: sent (already known) → delivered → read.
    for status in ["sent", "delivered"] {
        let p = wa.sb.send_status(&w1, status, None).await.unwrap();
        assert_eq!(p.status, 200);
    }
    assert_eq!(wa.message(&conv, &first).await["status"], "delivered");
    let read = wa.sb.send_status(&w1, "read", None).await.unwrap();
    assert_eq!(read.status, 200);
    assert_eq!(wa.message(&conv, &first).await["status"], "read");

    // Out of order: read first, then a late delivered.
    let r = wa.sb.send_status(&w2, "read", None).await.unwrap();
    assert_eq!(r.status, 200);
    let d = wa.sb.send_status(&w2, "delivered", None).await.unwrap();
    assert_eq!(d.status, 200);
    assert_eq!(wa.message(&conv, &second).await["status"], "read");

    // Meta redelivers the same bytes: 200, no new row, nothing moves.
    let times = "SELECT status || ':' || COALESCE(CAST(delivered_at AS TEXT), '-') || ':' || COALESCE(CAST(read_at AS TEXT), '-') FROM messages WHERE id = $1";
    let before = (wa.counts().await, wa.text_of(times, &first).await);
    wa.app.clock.advance(chrono::Duration::minutes(5));
    for p in [&read, &d, &r] {
        assert_eq!(wa.sb.redeliver(p).await.unwrap(), 200);
    }
    assert_eq!((wa.counts().await, wa.text_of(times, &first).await), before);
    assert_eq!(wa.message(&conv, &second).await["status"], "read");
}
