//! Patient SMS → inbox → staff reply → Twilio → status callbacks; MMS media.
use crate::support::{spawn_sms_app, ACCOUNT, CLINIC, PATIENT};
use reqwest::StatusCode;

#[tokio::test]
async fn a_patient_sms_reaches_the_inbox_and_the_staff_reply_goes_out_and_is_delivered() {
    let app = spawn_sms_app().await;
    let d = app.patient_texts("明日の予約を変更できますか？").await;
    assert!(
        d.content_type.as_deref().is_some_and(|c| c.contains("xml")),
        "TwiML: {d:?}"
    );
    assert!(d.answer.contains("<Response"), "TwiML: {}", d.answer);
    assert!(
        !d.answer.contains("<Message"),
        "tsunagu answers nothing itself"
    );
    app.run_jobs().await;

    let conv = app.conversation().await;
    let via: Option<String> = sqlx::query_scalar("SELECT via FROM conversations WHERE id = $1")
        .bind(&conv)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(via.as_deref(), Some(CLINIC));
    let msgs = app.messages(&conv).await;
    assert_eq!(msgs.len(), 1, "{msgs:?}");
    assert_eq!(msgs[0]["text"], "明日の予約を変更できますか？");
    assert_eq!(msgs[0]["direction"], "in");
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let item = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == conv.as_str())
        .unwrap()
        .clone();
    let patient = item["patient_id"].as_str().unwrap();
    let (_, p) = app.api_get(&format!("/api/v1/patients/{patient}")).await;
    assert_eq!(p["phone"], PATIENT, "{p}");
    assert_eq!(p["display_name"], PATIENT, "named by the number: {p}");
    assert_eq!(p["provisional"], true);

    let mid = app
        .reply_queued(&conv, "はい、何時がよろしいですか？")
        .await;
    app.run_jobs().await;
    let sent = app.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    let out = &sent[0];
    assert_eq!(out.from, CLINIC);
    // The sandbox accepts a send only with HTTP Basic AccountSid:AuthToken for the path's account.
    assert_eq!(out.account_sid, ACCOUNT);
    assert_eq!(out.body, "はい、何時がよろしいですか？");
    assert_eq!(
        out.status_callback.as_deref(),
        Some(
            format!(
                "{}/webhooks/sms/{}/status?message={mid}",
                app.base, app.sms_channel
            )
            .as_str()
        )
    );
    let row = app.row(&mid).await;
    assert_eq!(row.status, "sent", "{row:?}");
    assert_eq!(row.provider_message_id.as_deref(), Some(out.sid.as_str()));
    assert!(out.sid.starts_with("SM"));

    let sent_cb = app
        .twilio
        .report_status(&out.sid, "sent", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(sent_cb.status, 200, "{sent_cb:?}");
    assert_eq!(app.row(&mid).await.status, "sent");
    let delivered = app
        .twilio
        .report_status(&out.sid, "delivered", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(delivered.status, 200);
    assert_eq!(app.row(&mid).await.status, "delivered");

    // A redelivered callback changes nothing, not even the stored events.
    let events = app.count("SELECT COUNT(*) FROM webhook_events").await;
    let again = app.twilio.redeliver(&delivered).await.unwrap();
    assert_eq!(again.status, 200);
    let late_sent = app.twilio.redeliver(&sent_cb).await.unwrap();
    assert_eq!(late_sent.status, 200);
    assert_eq!(app.row(&mid).await.status, "delivered");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events").await,
        events
    );
    assert_eq!(app.sent().len(), 1, "nothing sent twice");
}

#[tokio::test]
async fn delivered_arriving_before_sent_stays_delivered() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("駐車場はありますか？").await;
    let mid = app.reply_queued(&conv, "はい、5台分ございます").await;
    app.run_jobs().await;
    let sid = app.sent()[0].sid.clone();
    app.twilio
        .report_status(&sid, "delivered", None)
        .await
        .unwrap();
    assert_eq!(app.row(&mid).await.status, "delivered");
    let late = app
        .twilio
        .report_status(&sid, "sent", None)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(late.status, 200);
    let row = app.row(&mid).await;
    assert_eq!(row.status, "delivered", "{row:?}");
}

#[tokio::test]
async fn an_undelivered_callback_marks_the_reply_failed_with_twilios_code() {
    let app = spawn_sms_app().await;
    let conv = app.patient_says("検査結果はいつ出ますか").await;
    let mid = app.reply_queued(&conv, "来週の月曜日です").await;
    app.run_jobs().await;
    let sid = app.sent()[0].sid.clone();
    app.twilio
        .report_status(&sid, "undelivered", Some(30003))
        .await
        .unwrap();
    let row = app.row(&mid).await;
    assert_eq!(row.status, "failed", "{row:?}");
    assert_eq!(row.failure_code.as_deref(), Some("30003"));
}

#[tokio::test]
async fn every_mms_item_is_downloaded_with_basic_auth_into_attachments() {
    let app = spawn_sms_app().await;
    let png = b"\x89PNG\r\n\x1a\n-insurance-card".to_vec();
    let jpeg = b"\xff\xd8\xff\xe0-rash-photo".to_vec();
    let d = app
        .twilio
        .user_mms(
            CLINIC,
            PATIENT,
            "保険証と患部の写真です",
            vec![
                (png.clone(), "image/png".into()),
                (jpeg.clone(), "image/jpeg".into()),
            ],
        )
        .await
        .unwrap();
    assert_eq!(d.status, 200, "{d:?}");
    app.run_jobs().await;
    // The sandbox serves media only with Basic auth (401 otherwise, and the job would die):
    // the bytes below prove the credentials went along; each item was fetched exactly once.
    for n in 0..2 {
        let url = &d
            .params
            .iter()
            .find(|(k, _)| *k == format!("MediaUrl{n}"))
            .unwrap()
            .1;
        let path = url
            .strip_prefix(&format!("http://{}", url.split('/').nth(2).unwrap()))
            .unwrap();
        assert_eq!(app.twilio.calls_to(path), 1, "{path}");
    }
    let conv = app.conversation().await;
    let msgs = app.messages(&conv).await;
    let m = &msgs[0];
    assert_eq!(m["text"], "保険証と患部の写真です");
    assert_eq!(m["kind"], "image");
    let atts = m["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 2, "{m}");
    let mut got = Vec::new();
    for a in atts {
        let r = app
            .http
            .get(format!("{}{}", app.base, a["url"].as_str().unwrap()))
            .bearer_auth(&app.api_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        got.push((
            a["content_type"].as_str().unwrap().to_string(),
            r.bytes().await.unwrap().to_vec(),
        ));
    }
    got.sort();
    let mut want = vec![
        ("image/jpeg".to_string(), jpeg),
        ("image/png".to_string(), png),
    ];
    want.sort();
    assert_eq!(got, want);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'channel.fetch_media' AND state <> 'done'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_text_longer_than_an_sms_allows_is_refused_before_twilio() {
    let sms = spawn_sms_app().await;
    let conv = sms.patient_says("長い説明をお願いします").await;
    let (status, body) = sms.reply(&conv, &"あ".repeat(1_601)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(body["error"]["code"], "message_too_long", "{body}");
    assert!(
        body["error"]["message"].as_str().unwrap().contains("1600"),
        "{body}"
    );
    sms.app.run_jobs().await;
    assert_eq!(sms.send_calls(), 0, "nothing reaches Twilio");
    let (status, _) = sms.reply(&conv, &"あ".repeat(1_600)).await;
    assert_eq!(status, StatusCode::CREATED, "the limit itself is allowed");
}
