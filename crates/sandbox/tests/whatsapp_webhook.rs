//! The webhook driver: Meta's envelope, `\uXXXX` escaping, a signature an independent HMAC
//! verifies, statuses, redelivery and the GET handshake.
#![allow(clippy::unwrap_used, clippy::expect_used)]
mod whatsapp_common;

use hmac::{Hmac, Mac};
use serde_json::json;
use sha2::Sha256;
use tsunagu_sandbox::whatsapp::{escape_non_ascii, sign};
use whatsapp_common::*;

fn independent_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body);
    let hex: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("sha256={hex}")
}

#[test]
fn the_signature_matches_pywas_recorded_meta_delivery() {
    // A real Cloud API delivery and its header, recorded in pywa's tests (MIT).
    let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"264937493375603","changes":[{"value":{"messaging_product":"whatsapp","metadata":{"display_phone_number":"15550953877","phone_number_id":"277321005464405"},"contacts":[{"profile":{"name":"PyWa Tests"},"wa_id":"972544401243"}],"messages":[{"from":"972544401243","id":"wamid.HBgMOTcyNTQ0NDAxMjQzFQIAEhggM0RFQTNCMEEwRTY3QzUwODYzMDc4NjQ4QzM4ODAxM0YA","timestamp":"1730231903","text":{"body":"Hey there! I am using PyWa."},"type":"text"}]},"field":"messages"}]}]}"#;
    assert_eq!(
        sign("1222e786b144d0e85b9f365372d93676", body),
        "sha256=54edfa1d7259e0eb13c677cc7d73d1b5c86cfa12433d19156e058ab9251bc441"
    );
}

#[test]
fn non_ascii_is_escaped_as_utf16_units_like_meta() {
    assert_eq!(
        escape_non_ascii(r#"{"a":"山田 😀/x"}"#),
        r#"{"a":"\u5c71\u7530 \ud83d\ude00\/x"}"#
    );
}

#[tokio::test]
async fn a_user_text_is_posted_in_metas_envelope_and_signed_over_the_exact_bytes() {
    let env = Env::start().await;
    let posted = env
        .sb
        .user_text(PHONE, USER, NAME, "予約したいです")
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    let (headers, body) = env.hook(0);
    let header = headers["x-hub-signature-256"].to_str().unwrap();
    assert_eq!(header, independent_signature(SECRET, &body));
    assert!(body.is_ascii(), "non-ASCII must be escaped");
    assert!(std::str::from_utf8(&body)
        .unwrap()
        .contains("\\u4e88\\u7d04"));
    let v = env.hook_json(0);
    assert_eq!(v["object"], "whatsapp_business_account");
    assert_eq!(v["entry"][0]["id"], WABA);
    let change = &v["entry"][0]["changes"][0];
    assert_eq!(change["field"], "messages");
    assert_eq!(
        change["value"]["metadata"],
        json!({ "display_phone_number": DISPLAY, "phone_number_id": PHONE })
    );
    assert_eq!(
        change["value"]["contacts"][0],
        json!({ "profile": { "name": NAME }, "wa_id": USER })
    );
    let m = &change["value"]["messages"][0];
    assert_eq!(
        (m["from"].as_str(), m["type"].as_str()),
        (Some(USER), Some("text"))
    );
    assert_eq!(m["text"]["body"], "予約したいです");
    assert_eq!(m["id"].as_str(), posted.wamid.as_deref());
    assert!(m["timestamp"].as_str().unwrap().parse::<i64>().is_ok());
    // Meta's field order: object first, value before field.
    let raw = std::str::from_utf8(&body).unwrap();
    assert!(raw.starts_with(r#"{"object":"whatsapp_business_account","entry":[{"id":"#));
    assert!(raw.find("\"value\"").unwrap() < raw.find("\"field\"").unwrap());

    assert_eq!(env.sb.redeliver(&posted).await.unwrap(), 200);
    assert_eq!(env.hook(1).1, body, "a redelivery posts the same bytes");
}

#[tokio::test]
async fn images_replies_reactions_and_locations_carry_metas_objects() {
    let env = Env::start().await;
    let image = env
        .sb
        .user_image(
            PHONE,
            USER,
            NAME,
            b"png".to_vec(),
            "image/png",
            Some("保険証"),
        )
        .await
        .unwrap();
    let img = &env.hook_json(0)["entry"][0]["changes"][0]["value"]["messages"][0]["image"];
    assert_eq!(
        (img["mime_type"].as_str(), img["caption"].as_str()),
        (Some("image/png"), Some("保険証"))
    );
    let (_, info) = env
        .get(&format!("/{V}/{}", img["id"].as_str().unwrap()))
        .await;
    assert_eq!(info["mime_type"], "image/png");

    let (_, sent) = env.send(&json!({ "messaging_product": "whatsapp", "to": USER, "type": "interactive",
        "interactive": { "type": "button", "body": { "text": "来院されますか" },
                         "action": { "buttons": [{ "type": "reply", "reply": { "id": "yes", "title": "はい" } }] } } })).await;
    let wamid = sent["messages"][0]["id"].as_str().unwrap().to_owned();
    env.sb
        .user_button_reply(PHONE, USER, NAME, &wamid, "yes", "はい")
        .await
        .unwrap();
    let m = env.hook_json(1)["entry"][0]["changes"][0]["value"]["messages"][0].clone();
    assert_eq!(
        m["interactive"]["button_reply"],
        json!({ "id": "yes", "title": "はい" })
    );
    assert_eq!(m["context"], json!({ "from": DISPLAY, "id": wamid }));
    env.sb
        .user_list_reply(PHONE, USER, NAME, &wamid, "r1", "10時", Some("空きあり"))
        .await
        .unwrap();
    assert_eq!(
        env.hook_json(2)["entry"][0]["changes"][0]["value"]["messages"][0]["interactive"]["type"],
        "list_reply"
    );
    env.sb
        .user_reaction(PHONE, USER, NAME, &wamid, "👍")
        .await
        .unwrap();
    assert_eq!(
        env.hook_json(3)["entry"][0]["changes"][0]["value"]["messages"][0]["reaction"]["emoji"],
        "👍"
    );
    env.sb
        .user_location(PHONE, USER, NAME, 35.68, 139.76, Some("東京駅"))
        .await
        .unwrap();
    assert_eq!(
        env.hook_json(4)["entry"][0]["changes"][0]["value"]["messages"][0]["location"]["name"],
        "東京駅"
    );
    assert_eq!(env.sb.chat(PHONE, USER).len(), 6);
    assert!(image.wamid.is_some());
}

#[tokio::test]
async fn statuses_refer_to_the_business_message_and_update_the_chat() {
    let env = Env::start().await;
    env.sb.open_window(PHONE, USER);
    let (_, sent) = env.send(&text(USER, "明日10時です")).await;
    let wamid = sent["messages"][0]["id"].as_str().unwrap();
    env.sb.send_status(wamid, "delivered", None).await.unwrap();
    let errors = json!([{ "code": 131026, "title": "Message undeliverable", "message": "Message undeliverable",
                          "error_data": { "details": "Message Undeliverable." } }]);
    env.sb
        .send_status(wamid, "failed", Some(errors.clone()))
        .await
        .unwrap();
    let s = &env.hook_json(0)["entry"][0]["changes"][0]["value"]["statuses"][0];
    assert_eq!(
        (
            s["id"].as_str(),
            s["status"].as_str(),
            s["recipient_id"].as_str()
        ),
        (Some(wamid), Some("delivered"), Some(USER))
    );
    assert!(s["conversation"]["id"].is_string());
    assert_eq!(
        env.hook_json(1)["entry"][0]["changes"][0]["value"]["statuses"][0]["errors"],
        errors
    );
    assert_eq!(
        env.sb.chat(PHONE, USER)[0].status.as_deref(),
        Some("failed")
    );
    assert!(env
        .sb
        .send_status("wamid.nope", "read", None)
        .await
        .is_err());
}

#[tokio::test]
async fn the_handshake_helper_reports_what_the_endpoint_answered() {
    let env = Env::start().await;
    let (status, body) = env
        .sb
        .verify_webhook_with_challenge(&env.hook_url, VERIFY, "1158201444")
        .await
        .unwrap();
    assert_eq!((status, body.as_str()), (200, "1158201444"));
    assert_eq!(
        env.sb
            .verify_webhook(&env.hook_url, "wrong")
            .await
            .unwrap()
            .0,
        403
    );
    let bad = env
        .sb
        .post_with_signature(PHONE, b"{}".to_vec(), "sha256=00")
        .await
        .unwrap();
    assert_eq!(
        bad.status, 200,
        "the test receiver does not check; tsunagu's endpoint must"
    );
}

#[tokio::test]
async fn auto_status_posts_sent_delivered_read_after_an_accepted_send() {
    let env = Env::start().await;
    env.sb.open_window(PHONE, USER);
    env.sb
        .set_auto_status(Some(std::time::Duration::from_millis(10)));
    let (_, sent) = env.send(&text(USER, "a")).await;
    for _ in 0..200 {
        if env.hooks_len() == 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let statuses: Vec<String> = (0..env.hooks_len())
        .map(|i| {
            env.hook_json(i)["entry"][0]["changes"][0]["value"]["statuses"][0]["status"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(statuses, ["sent", "delivered", "read"]);
    assert_eq!(env.sb.chat(PHONE, USER)[0].status.as_deref(), Some("read"));
    assert!(sent["messages"][0]["id"].is_string());
}
