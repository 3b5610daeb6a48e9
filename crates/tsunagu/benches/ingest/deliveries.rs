//! Signed deliveries as each provider sends them, one text message each with a unique id
//! (LINE `webhookEventId`, WhatsApp wamid, Messenger mid, Twilio MessageSid), from `USERS`
//! patients in turn, signed with the sandbox's own implementations of the providers' schemes.
use axum::body::Bytes;
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_sandbox::{line, messenger, twilio, whatsapp};

use crate::load::Delivery;

/// Distinct patients writing in per channel; the warm-up creates them, so the measured run is
/// the steady state of returning patients.
pub const USERS: usize = 500;
const TEXT: &str = "明日の予約を変更したいのですが、午後は空いていますか？";

pub const LINE_SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
pub const META_APP_SECRET: &str = "5f1c0a9e8b7d6c5b4a39281706f5e4d3";
pub const WA_WABA: &str = "102290129340398";
pub const WA_PHONE_ID: &str = "106540352242922";
pub const WA_DISPLAY: &str = "15550783881";
pub const FB_PAGE: &str = "104385229123456";
pub const TWILIO_ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TWILIO_TOKEN: &str = "5f2c9a8b7e6d4c3b2a1908f7e6d5c4b3";
pub const SMS_NUMBER: &str = "+815012345678";

/// The credentials `POST /api/v1/channels` takes for `kind`.
pub fn credentials(kind: ChannelKind) -> Value {
    match kind {
        ChannelKind::Line => {
            json!({"channel_secret": LINE_SECRET, "channel_access_token": "bench-token"})
        }
        ChannelKind::WhatsApp => json!({
            "app_secret": META_APP_SECRET, "verify_token": "bench-verify", "access_token": "bench-token",
            "waba_id": WA_WABA,
            "phone_numbers": [{"phone_number_id": WA_PHONE_ID, "display_phone_number": "+1 555-078-3881"}],
        }),
        ChannelKind::Messenger => json!({
            "app_secret": META_APP_SECRET, "verify_token": "bench-verify",
            "pages": [{"page_id": FB_PAGE, "name": "ベンチ内科", "access_token": "bench-page-token"}],
        }),
        ChannelKind::Sms => json!({
            "account_sid": TWILIO_ACCOUNT, "auth_token": TWILIO_TOKEN, "numbers": [SMS_NUMBER],
        }),
    }
}

/// Deliveries `first..first + count` for `kind`, addressed to `url` (Twilio signs the URL).
pub fn build(
    kind: ChannelKind,
    url: &str,
    first: usize,
    count: usize,
    now_ms: i64,
) -> Vec<Delivery> {
    (first..first + count)
        .map(|i| match kind {
            ChannelKind::Line => line_text(i, now_ms),
            ChannelKind::WhatsApp => whatsapp_text(i, now_ms),
            ChannelKind::Messenger => messenger_text(i, now_ms),
            ChannelKind::Sms => sms_text(i, url),
        })
        .collect()
}

/// LINE doc: Messaging API › Webhook event objects › Message event (text).
fn line_text(i: usize, now_ms: i64) -> Delivery {
    let event = json!({
        "type": "message", "mode": "active", "timestamp": now_ms,
        "webhookEventId": format!("01BENCH{i:019}"),
        "deliveryContext": {"isRedelivery": false},
        "source": {"type": "user", "userId": format!("U{:032x}", i % USERS)},
        "replyToken": format!("{:032x}", i),
        "message": {"id": format!("{}", 500_000_000_000_000_000u64 + i as u64), "type": "text",
                    "quoteToken": format!("q{i}"), "text": TEXT}
    });
    let body =
        json!({"destination": "U0123456789abcdef0123456789abcdef", "events": [event]}).to_string();
    let sig = line::sign(LINE_SECRET, body.as_bytes());
    Delivery {
        content_type: "application/json; charset=utf-8",
        headers: vec![("x-line-signature", sig)],
        body: Bytes::from(body),
    }
}

/// Meta doc: WhatsApp Cloud API › Webhooks › messages (text), escaped as Meta serialises it.
fn whatsapp_text(i: usize, now_ms: i64) -> Delivery {
    let wa_id = format!("8190{:08}", i % USERS);
    let message = json!({
        "from": wa_id, "id": format!("wamid.HBgMBENCH{i:020}"), "timestamp": (now_ms / 1000).to_string(),
        "type": "text", "text": {"body": TEXT},
    });
    let value = json!({
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": WA_DISPLAY, "phone_number_id": WA_PHONE_ID},
        "contacts": [{"profile": {"name": format!("患者 {}", i % USERS)}, "wa_id": wa_id}],
        "messages": [message],
    });
    let body = json!({"object": "whatsapp_business_account",
                      "entry": [{"id": WA_WABA, "changes": [{"value": value, "field": "messages"}]}]});
    let body = whatsapp::escape_non_ascii(&body.to_string()).into_bytes();
    meta(whatsapp::sign(META_APP_SECRET, &body), body)
}

/// Meta doc: Messenger Platform › Webhook events › messages (text).
fn messenger_text(i: usize, now_ms: i64) -> Delivery {
    let item = json!({
        "sender": {"id": format!("61203948{:08}", i % USERS)}, "recipient": {"id": FB_PAGE},
        "timestamp": now_ms, "message": {"mid": format!("m_BENCH{i:024}"), "text": TEXT},
    });
    let body =
        json!({"object": "page", "entry": [{"id": FB_PAGE, "time": now_ms, "messaging": [item]}]});
    let body = messenger::meta_json(&body);
    meta(messenger::sign_sha256(META_APP_SECRET, &body), body)
}

fn meta(sig: String, body: Vec<u8>) -> Delivery {
    Delivery {
        content_type: "application/json",
        headers: vec![("x-hub-signature-256", sig)],
        body: Bytes::from(body),
    }
}

/// Twilio doc: Messaging › Webhooks › "Twilio's request to your application" (an SMS), signed
/// over `url` and the form's parameters.
fn sms_text(i: usize, url: &str) -> Delivery {
    let sid = format!("SM{i:032}");
    let params: Vec<(String, String)> = [
        ("MessageSid", sid.as_str()),
        ("SmsSid", &sid),
        ("SmsMessageSid", &sid),
        ("AccountSid", TWILIO_ACCOUNT),
        ("From", &format!("+8190{:08}", i % USERS)),
        ("To", SMS_NUMBER),
        ("Body", TEXT),
        ("NumMedia", "0"),
        ("NumSegments", "1"),
        ("SmsStatus", "received"),
        ("ApiVersion", "2010-04-01"),
        ("FromCountry", "JP"),
        ("ToCountry", "JP"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let sig = twilio::sign(TWILIO_TOKEN, url, &params);
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(&params)
        .finish();
    Delivery {
        content_type: "application/x-www-form-urlencoded; charset=utf-8",
        headers: vec![("x-twilio-signature", sig)],
        body: Bytes::from(body),
    }
}
