//! Twilio webhooks into inbound items: an incoming SMS/MMS (addressed to our number, with
//! STOP/START mirrored) and the status callback set on each send. Twilio doc: Security ›
//! Validating requests; Messaging › Webhooks; Outbound message status; Advanced Opt-Out.
use serde_json::json;

use super::keywords::{classify, Keyword};
use super::{field, inbound, signature, status, InboundSms, MessageStatus, Sms, StatusCallback};
use crate::provider::inbound::{
    self as items, Address, Consent, Delivered, Item, Profile, RawEvent, Thread, Unreachable, What,
};
use crate::provider::receive::form_pairs;
use crate::provider::{Answer, Credentials, Endpoint, Malformed, Receive, Routes, WebhookRequest};

/// "Attempt to send to unsubscribed recipient": the patient texted STOP to this sender.
const OPTED_OUT: u32 = 21610;
/// Carrier answers that mean the number cannot receive SMS at all (unknown destination,
/// landline or unreachable carrier).
const UNREACHABLE: [u32; 2] = [30005, 30006];

/// Twilio reads the answer to an incoming message as TwiML: an empty one sends nothing back.
const EMPTY_TWIML: Answer = Answer {
    content_type: "text/xml; charset=utf-8",
    body: "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
};

impl Receive for Sms {
    fn routes(&self) -> Routes {
        Routes {
            handshake: false,
            status_callback: true,
        }
    }

    /// `X-Twilio-Signature` over the URL Twilio called (with and without the default port) and
    /// the form fields exactly as received.
    fn verify(&self, creds: &Credentials, req: &WebhookRequest<'_>) -> bool {
        let Some(c) = creds.sms() else { return false };
        let form = form_pairs(req.body);
        signature::verify(
            &c.auth_token,
            req.url,
            &form,
            req.header("x-twilio-signature"),
        )
    }

    fn parse(&self, req: &WebhookRequest<'_>, now_ms: i64) -> Result<Vec<Item>, Malformed> {
        let form = form_pairs(req.body);
        let malformed = |_| Malformed { provider: "Twilio" };
        let item = match req.endpoint {
            Endpoint::Events => incoming(&inbound::parse(&form).map_err(malformed)?, now_ms),
            Endpoint::Status { message } => {
                callback(&status::parse(&form).map_err(malformed)?, message, now_ms)
            }
        };
        Ok(vec![item])
    }

    fn answer(&self, endpoint: Endpoint<'_>) -> Answer {
        match endpoint {
            Endpoint::Events => EMPTY_TWIML,
            Endpoint::Status { .. } => Answer::OK,
        }
    }
}

/// Every form field as received, as one JSON object (a repeated name keeps its last value).
fn raw_json(form: &[(String, String)]) -> String {
    let map: serde_json::Map<String, serde_json::Value> =
        form.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    serde_json::Value::Object(map).to_string()
}

/// Twilio's `OptOutType` (Advanced Opt-Out) when present, else the default keywords.
fn keyword(sms: &InboundSms) -> Option<Keyword> {
    match field(&sms.raw, "OptOutType") {
        Some("STOP") => Some(Keyword::OptOut),
        Some("START") => Some(Keyword::OptIn),
        Some("HELP") => Some(Keyword::Help),
        _ => classify(&sms.body),
    }
}

/// An incoming SMS/MMS, stored once under its `MessageSid`, routed by the number it was sent
/// to (or the Messaging Service it came through).
pub fn incoming(sms: &InboundSms, now_ms: i64) -> Item {
    let word = keyword(sms);
    let kind = match sms.media.first().map(|(_, ct)| ct.as_str()) {
        Some(ct) if ct.starts_with("image/") => "image",
        Some(ct) if ct.starts_with("video/") => "video",
        Some(ct) if ct.starts_with("audio/") => "audio",
        Some(_) => "file",
        None => "text",
    };
    let consent = match word {
        Some(Keyword::OptOut) => Some(Consent::OptedOut {
            source: format!("sms:{}", sms.body.trim().to_uppercase()),
        }),
        Some(Keyword::OptIn) => Some(Consent::OptedIn),
        Some(Keyword::Help) | None => None,
    };
    let message = items::Message {
        thread: Thread::Direct {
            from: sms.from.clone(),
        },
        system: false,
        profile: Profile::Unknown,
        fallback_name: sms.from.clone(),
        kind: kind.to_owned(),
        body: (!sms.body.is_empty()).then(|| sms.body.clone()),
        payload: json!({"to": sms.to, "num_media": sms.num_media}),
        provider_message_id: Some(sms.message_sid.clone()),
        // Twilio gives no time: it posts as the message arrives.
        at_ms: now_ms,
        media: (!sms.media.is_empty()).then(|| json!({"urls": sms.media})),
        // Twilio answers the keywords itself; tsunagu must not answer them too.
        dispatch: word.is_none(),
        reply: None,
        follow: None,
        reachable: true,
        sender_is_phone: true,
        consent,
    };
    Item {
        event: RawEvent {
            key: sms.message_sid.clone(),
            kind: "message".to_owned(),
            body: raw_json(&sms.raw),
            sender: Some(sms.from.clone()),
            mode: None,
        },
        to: Some(Address {
            id: sms.to.clone(),
            service: field(&sms.raw, "MessagingServiceSid").map(str::to_owned),
        }),
        what: What::Message(Box::new(message)),
    }
}

/// A status callback, stored once per message and status; `ours` is the message id tsunagu put
/// in the callback URL (covered by the signature), so it finds its message even before (or
/// without) the send's answer giving the sid.
pub fn callback(cb: &StatusCallback, ours: Option<&str>, now_ms: i64) -> Item {
    let to = field(&cb.raw, "To").map(str::to_owned);
    let state = match cb.status {
        MessageStatus::Sent => Some(Delivered::Sent),
        MessageStatus::Delivered => Some(Delivered::Delivered),
        MessageStatus::Read => Some(Delivered::Read),
        MessageStatus::Undelivered | MessageStatus::Failed | MessageStatus::Canceled => {
            Some(Delivered::Failed)
        }
        MessageStatus::Queued
        | MessageStatus::Sending
        | MessageStatus::Receiving
        | MessageStatus::Received
        | MessageStatus::Accepted
        | MessageStatus::Scheduled
        | MessageStatus::Other(_) => None,
    };
    let what = match state {
        None => What::Record,
        Some(state) => {
            let reason = cb.error_code.map(|c| {
                format!(
                    "Twilio {} (error {c}: https://www.twilio.com/docs/errors/{c})",
                    cb.status.as_str()
                )
            });
            let unreachable = match cb.error_code {
                // A Messaging Service accepts the send and reports the opt-out by callback.
                Some(OPTED_OUT) => Some(Unreachable::OptedOut {
                    source: format!("provider:{OPTED_OUT}"),
                }),
                Some(c) if UNREACHABLE.contains(&c) => Some(Unreachable::Bounced {
                    reason: reason.clone().unwrap_or_else(|| "unreachable".into()),
                }),
                Some(_) | None => None,
            };
            What::Status(items::Status {
                provider_message_id: cb.message_sid.clone(),
                state,
                failure_code: cb.error_code.map(|c| c.to_string()),
                failure_reason: reason,
                at_ms: now_ms,
                ours: ours.map(str::to_owned),
                recipient: to.clone(),
                unreachable,
            })
        }
    };
    Item {
        event: RawEvent {
            key: format!("{}:{}", cb.message_sid, cb.status.as_str()),
            kind: "status".to_owned(),
            body: raw_json(&cb.raw),
            sender: to,
            mode: None,
        },
        // Callbacks come for our own sends, whichever number they left from.
        to: None,
        what,
    }
}
