//! Messenger and Instagram webhooks into inbound items, each addressed to the page (or
//! Instagram account) it arrived for. Meta doc: Messenger Platform › Webhooks › messages,
//! messaging_postbacks, message_deliveries, message_reads, message_reactions.
use serde_json::json;

use super::events::{self, Event, EventKind, ReactionAction, Referral};
use super::{signature, Messenger};
use crate::provider::inbound::{
    self, at_or, Address, Delivered, Item, Profile, RawEvent, Receipt, Thread, Unsend, What,
};
use crate::provider::{Credentials, Malformed, Receive, Routes, WebhookRequest};
use crate::whatsapp::receive::meta_handshake;

impl Receive for Messenger {
    fn routes(&self) -> Routes {
        Routes {
            handshake: true,
            status_callback: false,
        }
    }

    fn handshake(&self, creds: &Credentials, query: &[(String, String)]) -> Option<String> {
        meta_handshake(creds.messenger()?.verify_token.as_str(), query)
    }

    /// `X-Hub-Signature-256` only: a body signed with the legacy SHA-1 header alone is refused.
    fn verify(&self, creds: &Credentials, req: &WebhookRequest<'_>) -> bool {
        let Some(c) = creds.messenger() else {
            return false;
        };
        signature::verify(&c.app_secret, req.body, req.header("x-hub-signature-256"))
    }

    fn parse(&self, req: &WebhookRequest<'_>, now_ms: i64) -> Result<Vec<Item>, Malformed> {
        let body = events::parse(req.body).map_err(|_| Malformed {
            provider: "Messenger",
        })?;
        Ok(body.events.iter().map(|e| item(e, now_ms)).collect())
    }
}

fn event_type(kind: &EventKind) -> &str {
    match kind {
        EventKind::Message { .. } => "message",
        EventKind::Postback { .. } => "postback",
        EventKind::Delivery { .. } => "delivery",
        EventKind::Read { .. } => "read",
        EventKind::Reaction { .. } => "reaction",
        EventKind::Referral(_) => "referral",
        EventKind::Other { kind } => kind,
    }
}

/// One messaging item, stored once under its dedupe key (see `events::parse`).
pub fn item(e: &Event, now_ms: i64) -> Item {
    Item {
        event: RawEvent {
            key: e.dedupe_key.clone(),
            kind: event_type(&e.kind).to_owned(),
            body: e.raw.to_string(),
            sender: Some(e.user_id().to_owned()),
            mode: None,
        },
        to: Some(Address::id(&e.page_id)),
        what: meaning(e, now_ms),
    }
}

/// The `ref` of the link that brought the person (`m.me/{page}?ref=S-7K2Q`): dispatch reads
/// `payload.source_ref` on any channel to attribute an inflow source.
fn source_ref(r: Option<&Referral>) -> Option<&str> {
    r.and_then(|r| r.ref_param.as_deref())
}

fn meaning(e: &Event, now_ms: i64) -> What {
    let at = at_or(e.timestamp_ms, now_ms);
    let line = |kind: &str, body: Option<String>, payload, mid: Option<&String>| {
        inbound::Message {
            thread: Thread::Direct {
                from: e.sender_id.clone(),
            },
            system: false,
            // A first message: the name comes from the Graph API (Instagram profiles differ).
            profile: if e.instagram {
                Profile::Unknown
            } else {
                Profile::Fetch
            },
            fallback_name: if e.instagram {
                "Instagram"
            } else {
                "Messenger"
            }
            .to_owned(),
            kind: kind.to_owned(),
            body,
            payload,
            provider_message_id: mid.cloned(),
            at_ms: at,
            media: None,
            // Handover protocol: another app has the thread.
            dispatch: !e.standby,
            reply: None,
            follow: None,
            reachable: true,
            sender_is_phone: false,
            consent: None,
        }
    };
    let receipt = |state, mids: Vec<String>, watermark| {
        What::Receipt(Receipt {
            state,
            provider_message_ids: mids,
            watermark,
            thread: e.user_id().to_owned(),
            at_ms: at,
        })
    };
    let m = match &e.kind {
        // The page's own messages (sent by us or another tool): kept raw only.
        EventKind::Message { is_echo: true, .. } | EventKind::Other { .. } => return What::Record,
        EventKind::Message {
            is_deleted: true,
            mid,
            ..
        } => {
            return What::Unsend(Unsend {
                provider_message_id: mid.clone(),
                at_ms: at,
                thread: e.sender_id.clone(),
            })
        }
        EventKind::Message {
            mid,
            text,
            attachments,
            quick_reply_payload,
            reply_to_mid,
            ..
        } => {
            let first = attachments.first();
            let kind = match first.map(|a| a.kind.as_str()) {
                None => "text",
                Some(_) if first.is_some_and(|a| a.sticker_id.is_some()) => "sticker",
                Some("image") => "image",
                Some("video") => "video",
                Some("audio") => "audio",
                Some("location") => "location",
                Some("file") => "file",
                Some(_) => "unsupported",
            };
            // A multi-photo pick is one message with an attachment per photo: every URL is
            // downloaded (they expire), not just the first.
            let urls: Vec<&str> = attachments
                .iter()
                .filter(|a| {
                    a.sticker_id.is_some()
                        || matches!(a.kind.as_str(), "image" | "video" | "audio" | "file")
                })
                .filter_map(|a| a.url.as_deref())
                .collect();
            let media = urls
                .first()
                .filter(|_| matches!(kind, "image" | "video" | "audio" | "file" | "sticker"))
                .map(|url| json!({"url": url, "urls": urls}));
            let body = text.clone().or_else(|| first.and_then(|a| a.title.clone()));
            let payload = json!({"message": e.raw.get("message"), "quick_reply": quick_reply_payload,
                "reply_to": reply_to_mid, "instagram": e.instagram});
            inbound::Message {
                media,
                ..line(kind, body, payload, Some(mid))
            }
        }
        EventKind::Postback {
            mid,
            title,
            payload,
            referral,
        } => {
            let body = title.clone().or(payload.clone());
            let p = json!({"postback": e.raw.get("postback"), "instagram": e.instagram,
                "source_ref": source_ref(referral.as_ref())});
            line("postback", body, p, mid.as_ref())
        }
        // A system line ("opened the conversation from a link"): it carries the link's `ref`
        // for the clinic's inflow sources, and reopens Meta's 24-hour window.
        EventKind::Referral(r) => {
            let p = json!({"event": "referral", "referral": e.raw.get("referral"),
                "instagram": e.instagram, "source_ref": source_ref(Some(r))});
            inbound::Message {
                system: true,
                ..line("event", Some("referral".to_owned()), p, None)
            }
        }
        EventKind::Reaction {
            mid, emoji, action, ..
        } => {
            let body = match action {
                ReactionAction::Unreact => Some("(reaction removed)".to_string()),
                ReactionAction::React | ReactionAction::Other(_) => emoji.clone(),
            };
            // Stored, never dispatched.
            inbound::Message {
                dispatch: false,
                ..line("reaction", body, json!({"target": mid}), None)
            }
        }
        EventKind::Delivery { mids, watermark } => {
            return receipt(Delivered::Delivered, mids.clone(), *watermark)
        }
        EventKind::Read { watermark, mid } => {
            return receipt(Delivered::Read, mid.iter().cloned().collect(), *watermark)
        }
    };
    What::Message(Box::new(m))
}
