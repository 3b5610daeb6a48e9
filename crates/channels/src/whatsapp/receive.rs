//! WhatsApp Cloud API webhooks into inbound items: messages, statuses and every other change,
//! each addressed to the phone number id it arrived for. Meta doc: Graph API › Webhooks
//! ("Verification Requests", "Validate payloads"); Cloud API › Webhooks › Reference › messages.
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::events::{self, Message, OtherItem, Status, StatusKind};
use super::{signature, verification, Content, WhatsApp};
use crate::provider::inbound::{
    self, at_or, Address, Delivered, Edit, Item, Profile, RawEvent, Thread, Unreachable, Unsend,
    What,
};
use crate::provider::{Credentials, Malformed, Receive, Routes, WebhookRequest};

/// Meta's "message undeliverable" family: the number cannot receive WhatsApp messages.
const UNDELIVERABLE: [i64; 2] = [131026, 131000];

impl Receive for WhatsApp {
    fn routes(&self) -> Routes {
        Routes {
            handshake: true,
            status_callback: false,
        }
    }

    fn handshake(&self, creds: &Credentials, query: &[(String, String)]) -> Option<String> {
        meta_handshake(creds.whatsapp()?.verify_token.as_str(), query)
    }

    /// `X-Hub-Signature-256` with the app secret, on the raw bytes.
    fn verify(&self, creds: &Credentials, req: &WebhookRequest<'_>) -> bool {
        let Some(c) = creds.whatsapp() else {
            return false;
        };
        signature::verify(&c.app_secret, req.body, req.header("x-hub-signature-256"))
    }

    fn parse(&self, req: &WebhookRequest<'_>, now_ms: i64) -> Result<Vec<Item>, Malformed> {
        let body = events::parse(req.body).map_err(|_| Malformed {
            provider: "WhatsApp",
        })?;
        let messages = body.messages.iter().map(|m| message(m, now_ms));
        let statuses = body.statuses.iter().map(|s| status(s, now_ms));
        let others = body.others.iter().map(other);
        Ok(messages.chain(statuses).chain(others).collect())
    }
}

/// Meta doc: Graph API › Webhooks › "Verification Requests" (Messenger's is the same). The
/// last value of each parameter counts, as a query map would read it.
pub(crate) fn meta_handshake(verify_token: &str, query: &[(String, String)]) -> Option<String> {
    let get = |k: &str| {
        query
            .iter()
            .rev()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.as_str())
    };
    verification::handshake(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
        verify_token,
    )
    .ok()
}

fn seconds(ts: i64, now_ms: i64) -> i64 {
    at_or(ts.saturating_mul(1000), now_ms)
}

/// A message: stored once under its wamid; edits and deletions change the earlier one.
fn message(m: &Message, now_ms: i64) -> Item {
    let event = RawEvent {
        key: m.wamid.clone(),
        kind: "message".to_owned(),
        body: json!({"phone_number_id": m.phone_number_id, "message": m.raw}).to_string(),
        sender: Some(m.from.clone()),
        mode: None,
    };
    let at = seconds(m.timestamp, now_ms);
    let what = match &m.content {
        Content::Revoke {
            original_message_id,
        } => What::Unsend(Unsend {
            provider_message_id: original_message_id.clone(),
            at_ms: at,
            thread: m.from.clone(),
        }),
        Content::Edit {
            original_message_id,
            body,
        } => What::Edit(Edit {
            provider_message_id: original_message_id.clone(),
            body: body.clone(),
            at_ms: at,
            thread: m.from.clone(),
        }),
        _ => {
            let (kind, body, media) = shape(m);
            What::Message(Box::new(inbound::Message {
                thread: Thread::Direct {
                    from: m.from.clone(),
                },
                system: false,
                profile: m
                    .profile_name
                    .clone()
                    .map_or(Profile::Unknown, Profile::Given),
                fallback_name: "WhatsApp".to_owned(),
                kind: kind.to_owned(),
                body,
                payload: json!({"type": m.kind, "message": m.raw, "context_id": m.context_id}),
                provider_message_id: Some(m.wamid.clone()),
                at_ms: at,
                media,
                dispatch: !matches!(m.content, Content::Reaction { .. } | Content::System { .. }),
                reply: None,
                follow: None,
                reachable: true,
                sender_is_phone: false,
                consent: None,
            }))
        }
    };
    Item {
        event,
        to: Some(Address::id(&m.phone_number_id)),
        what,
    }
}

/// tsunagu's kind, the text staff see, and the media reference to download.
fn shape(m: &Message) -> (&'static str, Option<String>, Option<Value>) {
    match &m.content {
        Content::Text { body } => ("text", Some(body.clone()), None),
        Content::Media {
            media_id,
            mime_type,
            caption,
            filename,
            ..
        } => {
            let kind = match m.kind.as_str() {
                "image" => "image",
                "video" => "video",
                "audio" => "audio",
                "sticker" => "sticker",
                _ => "file",
            };
            let media = media_id
                .as_ref()
                .map(|id| json!({"media_id": id, "mime_type": mime_type}));
            (kind, caption.clone().or(filename.clone()), media)
        }
        Content::Location {
            latitude,
            longitude,
            name,
            address,
        } => {
            let label = [name.clone(), address.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let text = if label.is_empty() {
                format!(
                    "{}, {}",
                    latitude.unwrap_or_default(),
                    longitude.unwrap_or_default()
                )
            } else {
                label
            };
            ("location", Some(text), None)
        }
        Content::Contacts { contacts } => {
            let names: Vec<String> = contacts
                .iter()
                .filter_map(|c| {
                    c.pointer("/name/formatted_name")?
                        .as_str()
                        .map(str::to_string)
                })
                .collect();
            ("contacts", Some(names.join(", ")), None)
        }
        Content::Reaction { emoji, .. } => (
            "reaction",
            Some(
                emoji
                    .clone()
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| "(reaction removed)".into()),
            ),
            None,
        ),
        Content::Button { text, payload } => ("postback", text.clone().or(payload.clone()), None),
        Content::ButtonReply { title, id } => {
            ("postback", title.clone().or(Some(id.clone())), None)
        }
        Content::ListReply { title, id, .. } => {
            ("postback", title.clone().or(Some(id.clone())), None)
        }
        Content::Interactive { subtype } => ("interactive", subtype.clone(), None),
        Content::Order { text, .. } => ("unsupported", text.clone(), None),
        Content::System { body, .. } => ("event", body.clone(), None),
        Content::Unsupported { .. }
        | Content::Unknown
        | Content::Edit { .. }
        | Content::Revoke { .. } => ("unsupported", None, None),
    }
}

/// A status of one of our messages, stored once per wamid and status. Kept even when no
/// message has the wamid yet: Meta's status can overtake its answer to the send.
fn status(s: &Status, now_ms: i64) -> Item {
    let event = RawEvent {
        key: format!("{}:{}", s.wamid, s.word()),
        kind: "status".to_owned(),
        body: s.raw.to_string(),
        sender: s.recipient_id.clone(),
        mode: None,
    };
    let state = match &s.status {
        StatusKind::Sent => Some(Delivered::Sent),
        StatusKind::Delivered => Some(Delivered::Delivered),
        StatusKind::Read => Some(Delivered::Read),
        StatusKind::Failed => Some(Delivered::Failed),
        // `played` and future statuses never move a message.
        StatusKind::Other(_) => None,
    };
    let what = match state {
        None => What::Record,
        Some(state) => {
            let (code, reason) = s.failure();
            let undeliverable = state == Delivered::Failed
                && s.errors
                    .first()
                    .and_then(|e| e.code)
                    .is_some_and(|c| UNDELIVERABLE.contains(&c));
            What::Status(inbound::Status {
                provider_message_id: s.wamid.clone(),
                state,
                unreachable: undeliverable.then(|| Unreachable::Bounced {
                    reason: reason.clone().unwrap_or_else(|| "undeliverable".into()),
                }),
                failure_code: code,
                failure_reason: reason,
                at_ms: seconds(s.timestamp, now_ms),
                ours: s.callback_data.clone(),
                recipient: s.recipient_id.clone(),
            })
        }
    };
    Item {
        event,
        to: Some(Address::id(&s.phone_number_id)),
        what,
    }
}

/// Any other change (template reviews, account updates, calls…): no id of its own, so its
/// content is its identity and a redelivery dedupes.
fn other(o: &OtherItem) -> Item {
    let body = o.raw.to_string();
    let field = o.field.as_deref();
    let digest = hex::encode(&Sha256::digest(body.as_bytes())[..16]);
    let key = format!("other:{}:{digest}", field.unwrap_or("-"));
    let what = match field {
        // Meta reviewed a template: fetch the review states now rather than at the next sync.
        Some("message_template_status_update") => What::TemplateReview,
        _ => What::Record,
    };
    Item {
        event: RawEvent {
            key,
            kind: field.unwrap_or("other").to_owned(),
            body,
            sender: None,
            mode: None,
        },
        to: o.phone_number_id.as_deref().map(Address::id),
        what,
    }
}
