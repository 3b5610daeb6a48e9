//! The webhook endpoint: signatures, the GET handshake, redelivery, and every kind of item.
use reqwest::StatusCode;
use serde_json::json;
use tsunagu_sandbox::messenger::{meta_json, sign_sha1, sign_sha256};

use crate::support::{spawn, Ms, APP_SECRET, OTHER_PAGE, PAGE, PSID, VERIFY_TOKEN};

fn events(ms: &Ms) -> String {
    format!(
        "SELECT COUNT(*) FROM webhook_events WHERE channel_id = '{}'",
        ms.channel
    )
}

fn messages(ms: &Ms) -> String {
    format!(
        "SELECT COUNT(*) FROM messages WHERE channel_id = '{}'",
        ms.channel
    )
}

fn text_body(page: &str, text: &str) -> Vec<u8> {
    meta_json(
        &json!({"object": "page", "entry": [{"id": page, "time": 1_795_000_000_000i64,
        "messaging": [{"sender": {"id": PSID}, "recipient": {"id": page},
            "timestamp": 1_795_000_000_000i64,
            "message": {"mid": "m_sig_test_0001", "text": text}}]}]}),
    )
}

#[tokio::test]
async fn only_a_valid_x_hub_signature_256_is_accepted() {
    let ms = spawn().await;
    let body = text_body(PAGE, "こんにちは");
    let good = sign_sha256(APP_SECRET, &body);
    let sha1 = sign_sha1(APP_SECRET, &body);
    let wrong = sign_sha256("another-app-secret", &body);
    let cases = [
        (None, None, "no signature"),
        (Some(wrong.as_str()), Some(sha1.as_str()), "wrong SHA-256"),
        (None, Some(sha1.as_str()), "the legacy SHA-1 header alone"),
        (
            Some(sha1.as_str()),
            None,
            "a sha1= value in the SHA-256 header",
        ),
    ];
    for (s256, s1, why) in cases {
        let status = ms.post_signed(&body, s256, s1).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{why}");
    }
    // Signed bytes that were changed on the way.
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    let status = ms.post_signed(&tampered, Some(&good), Some(&sha1)).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "tampered body");
    assert_eq!(ms.count(&events(&ms)).await, 0, "nothing stored");
    assert_eq!(ms.count(&messages(&ms)).await, 0);

    let status = ms.post_signed(&body, Some(&good), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ms.count(&messages(&ms)).await, 1);
}

#[tokio::test]
async fn the_get_handshake_answers_the_challenge_only_for_the_right_verify_token() {
    let ms = spawn().await;
    assert!(ms
        .sb
        .verify_webhook(&ms.webhook_url, VERIFY_TOKEN)
        .await
        .unwrap());
    assert!(!ms
        .sb
        .verify_webhook(&ms.webhook_url, "wrong-token")
        .await
        .unwrap());
    let r = ms
        .app
        .http
        .get(&ms.webhook_url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.challenge", "1158201444"),
            ("hub.verify_token", VERIFY_TOKEN),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    assert_eq!(r.text().await.unwrap(), "1158201444");
    let r = ms
        .app
        .http
        .get(&ms.webhook_url)
        .query(&[
            ("hub.mode", "subscribe"),
            ("hub.challenge", "1158201444"),
            ("hub.verify_token", "nope"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_ne!(r.text().await.unwrap(), "1158201444");
}

#[tokio::test]
async fn a_redelivered_event_is_stored_once() {
    let ms = spawn().await;
    let posted = ms.says(PAGE, PSID, "予約したいです").await;
    let again = ms.sb.redeliver(PAGE, &posted).await.unwrap();
    assert_eq!(again.status, 200, "a redelivery still gets 200");
    ms.app.run_jobs().await;
    assert_eq!(ms.count(&events(&ms)).await, 1);
    assert_eq!(ms.count(&messages(&ms)).await, 1);
    assert_eq!(
        ms.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'inbound.dispatch'")
            .await,
        1,
        "dispatched once"
    );
}

#[tokio::test]
async fn postbacks_quick_replies_and_reactions_become_messages() {
    let ms = spawn().await;
    let first = ms.says(PAGE, PSID, "はじめまして").await;
    let pb = ms
        .sb
        .postback(PAGE, PSID, "予約する", "BOOK_APPOINTMENT")
        .await
        .unwrap();
    assert_eq!(pb.status, 200);
    let qr = ms
        .sb
        .quick_reply(PAGE, PSID, "午前", "SLOT_AM")
        .await
        .unwrap();
    assert_eq!(qr.status, 200);
    let first_mid = first.mid.clone().unwrap();
    let re = ms
        .sb
        .reaction(PAGE, PSID, &first_mid, Some("❤"))
        .await
        .unwrap();
    assert_eq!(re.status, 200);
    ms.app.run_jobs().await;

    let conv = ms.conv(PSID).await;
    let msgs = ms.messages(&conv).await;
    let kinds: Vec<_> = msgs
        .iter()
        .map(|m| {
            (
                m["kind"].as_str().unwrap(),
                m["text"].as_str().unwrap_or(""),
            )
        })
        .collect();
    for expected in [
        ("text", "はじめまして"),
        ("postback", "予約する"),
        ("text", "午前"),
        ("reaction", "❤"),
    ] {
        assert!(kinds.contains(&expected), "{expected:?} in {kinds:?}");
    }
    assert_eq!(msgs.len(), 4, "{kinds:?}");
    let payload =
        |mid: &str| format!("SELECT payload FROM messages WHERE provider_message_id = '{mid}'");
    let qr_payload = ms.text(&payload(qr.mid.as_deref().unwrap())).await.unwrap();
    let qr_payload: serde_json::Value = serde_json::from_str(&qr_payload).unwrap();
    assert_eq!(qr_payload["quick_reply"], "SLOT_AM");
    let pb_payload = ms.text(&payload(pb.mid.as_deref().unwrap())).await.unwrap();
    let pb_payload: serde_json::Value = serde_json::from_str(&pb_payload).unwrap();
    assert_eq!(pb_payload["postback"]["payload"], "BOOK_APPOINTMENT");
    let reaction: serde_json::Value = serde_json::from_str(
        &ms.text("SELECT payload FROM messages WHERE kind = 'reaction'")
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(reaction["target"], first_mid.as_str());
}

#[tokio::test]
async fn an_image_is_downloaded_into_an_attachment() {
    let ms = spawn().await;
    let p = ms.sb.user_image(PAGE, PSID).await.unwrap();
    assert_eq!(p.status, 200);
    assert_eq!(
        ms.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'channel.fetch_media'")
            .await,
        1
    );
    ms.app.run_jobs().await;
    let conv = ms.conv(PSID).await;
    let msgs = ms.messages(&conv).await;
    assert_eq!(msgs[0]["kind"], "image");
    assert_eq!(
        msgs[0]["attachments"][0]["content_type"], "image/png",
        "{msgs:?}"
    );
    let png = ms
        .count(
            "SELECT COUNT(*) FROM attachments WHERE content_type = 'image/png' AND size_bytes > 8",
        )
        .await;
    assert_eq!(png, 1);
    assert_eq!(
        ms.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'channel.fetch_media' AND state = 'done'")
            .await,
        1
    );
}

#[tokio::test]
async fn every_photo_of_a_multi_photo_message_is_downloaded() {
    let ms = spawn().await;
    let p = ms.sb.user_images(PAGE, PSID, 3).await.unwrap();
    assert_eq!(p.status, 200);
    assert_eq!(
        p.json["entry"][0]["messaging"][0]["message"]["attachments"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    ms.app.run_jobs().await;
    let conv = ms.conv(PSID).await;
    let msgs = ms.messages(&conv).await;
    assert_eq!(msgs.len(), 1, "one message");
    let atts = msgs[0]["attachments"].as_array().unwrap();
    assert_eq!(atts.len(), 3, "{msgs:?}");
    let distinct = ms
        .count("SELECT COUNT(DISTINCT sha256) FROM attachments")
        .await;
    assert_eq!(distinct, 3, "three different photos");
}

#[tokio::test]
async fn an_echo_is_kept_raw_and_makes_no_message() {
    let ms = spawn().await;
    ms.says(PAGE, PSID, "ありがとうございました").await;
    let before = ms.count(&messages(&ms)).await;
    let echo = json!({"object": "page", "entry": [{"id": PAGE, "time": 1_795_000_000_000i64,
        "messaging": [{"sender": {"id": PAGE}, "recipient": {"id": PSID},
            "timestamp": 1_795_000_000_000i64,
            "message": {"mid": "m_echo_0001", "is_echo": true, "app_id": 1517776481860111i64,
                        "text": "お大事に（ページの受信箱から）"}}]}]});
    assert_eq!(ms.sb.post(PAGE, &echo).await.unwrap().status, 200);
    assert_eq!(ms.count(&messages(&ms)).await, before, "no message");
    let kept = ms
        .text("SELECT body FROM webhook_events WHERE provider_event_id = 'm_echo_0001'")
        .await
        .unwrap();
    assert!(kept.contains("is_echo"), "{kept}");
}

#[tokio::test]
async fn an_event_for_a_page_the_channel_does_not_list_is_stored_unrouted() {
    let ms = spawn().await;
    let p = ms
        .sb
        .user_text(OTHER_PAGE, PSID, "別の医院です")
        .await
        .unwrap();
    assert_eq!(p.status, 200, "acknowledged so Meta does not retry forever");
    ms.app.run_jobs().await;
    let mid = p.mid.unwrap();
    let state = ms
        .text(&format!(
            "SELECT state FROM webhook_events WHERE provider_event_id = '{mid}'"
        ))
        .await;
    assert_eq!(state.as_deref(), Some("unrouted"));
    assert_eq!(ms.count(&messages(&ms)).await, 0);
    assert_eq!(
        ms.count(&format!(
            "SELECT COUNT(*) FROM conversations WHERE channel_id = '{}'",
            ms.channel
        ))
        .await,
        0
    );
}

#[tokio::test]
async fn one_delivery_with_entries_for_a_listed_and_an_unlisted_page_routes_each() {
    let ms = spawn().await;
    let entry = |page: &str, mid: &str| {
        json!({"id": page, "time": 1_795_000_000_000i64, "messaging": [{
            "sender": {"id": PSID}, "recipient": {"id": page}, "timestamp": 1_795_000_000_000i64,
            "message": {"mid": mid, "text": "まとめて届いた"}}]})
    };
    let body = json!({"object": "page", "entry": [entry(OTHER_PAGE, "m_batch_other"), entry(PAGE, "m_batch_ours")]});
    assert_eq!(ms.sb.post(PAGE, &body).await.unwrap().status, 200);
    let state =
        |mid: &str| format!("SELECT state FROM webhook_events WHERE provider_event_id = '{mid}'");
    assert_eq!(
        ms.text(&state("m_batch_other")).await.as_deref(),
        Some("unrouted")
    );
    assert_eq!(
        ms.text(&state("m_batch_ours")).await.as_deref(),
        Some("processed")
    );
    assert_eq!(ms.count(&messages(&ms)).await, 1);
}
