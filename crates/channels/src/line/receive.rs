//! LINE webhooks into inbound items. LINE doc: Messaging API reference › Webhooks (signature)
//! and Webhook Event Objects (one section per event type).
use serde_json::json;

use super::events::{self, Event, EventDetail, InboundMessage, Source};
use super::{signature, Line};
use crate::provider::inbound::{
    at_or, Follow, GroupKind, Item, Message, Profile, RawEvent, Reply, Thread, Unsend, What,
};
use crate::provider::{Credentials, Malformed, Receive, WebhookRequest};

impl Receive for Line {
    /// LINE doc: Webhooks › "Signature validation": `x-line-signature` over the raw body.
    fn verify(&self, creds: &Credentials, req: &WebhookRequest<'_>) -> bool {
        let Some(c) = creds.line() else { return false };
        signature::verify(&c.channel_secret, req.body, req.header("x-line-signature"))
    }

    /// One item per event; a body without events (LINE's connectivity check) has none.
    fn parse(&self, req: &WebhookRequest<'_>, now_ms: i64) -> Result<Vec<Item>, Malformed> {
        let body = events::parse(req.body).map_err(|_| Malformed { provider: "LINE" })?;
        Ok(body.events.iter().map(|e| item(e, now_ms)).collect())
    }
}

/// One event: stored once under its `webhookEventId`, with its mode.
pub fn item(e: &Event, now_ms: i64) -> Item {
    let sender = e.source.as_ref().and_then(Source::sender_user_id);
    Item {
        event: RawEvent {
            key: e.webhook_event_id.clone(),
            kind: e.kind.clone(),
            body: e.raw.to_string(),
            sender: sender.map(str::to_owned),
            mode: e.mode.clone(),
        },
        to: None,
        what: meaning(e, now_ms),
    }
}

/// LINE doc: Webhook Event Objects › "Source user / group chat / multi-person chat".
fn thread(source: &Source) -> Option<Thread> {
    Some(match source {
        Source::User { user_id } => Thread::Direct {
            from: user_id.clone(),
        },
        Source::Group { group_id, user_id } => Thread::Group {
            kind: GroupKind::Group,
            id: group_id.clone(),
            from: user_id.clone(),
        },
        Source::Room { room_id, user_id } => Thread::Group {
            kind: GroupKind::Room,
            id: room_id.clone(),
            from: user_id.clone(),
        },
        Source::Unknown { .. } => return None,
    })
}

/// Standby mode: another bot answers; the event is kept but never automated on.
fn standby(e: &Event) -> bool {
    e.mode.as_deref() == Some("standby")
}

/// What the patient did carries a reply token, usable unless in standby.
fn reply(e: &Event) -> Option<Reply> {
    Some(Reply {
        token: e.reply_token.clone().filter(|_| !standby(e)),
        issued_at_ms: e.timestamp_ms,
    })
}

fn meaning(e: &Event, now_ms: i64) -> What {
    let Some(thread) = e.source.as_ref().and_then(thread) else {
        return What::Record;
    };
    let at = at_or(e.timestamp_ms, now_ms);
    let line = |system: bool, kind: &str, body: Option<&str>, payload| Message {
        thread: thread.clone(),
        system,
        profile: Profile::Fetch,
        fallback_name: "LINE".to_owned(),
        kind: kind.to_owned(),
        body: body.map(str::to_owned),
        payload,
        provider_message_id: None,
        at_ms: at,
        media: None,
        dispatch: false,
        reply: None,
        follow: None,
        reachable: false,
        sender_is_phone: false,
        consent: None,
    };
    // What the patient did: answered by automation unless in standby.
    let answerable = |m: Message| Message {
        dispatch: !standby(e),
        reply: reply(e),
        ..m
    };
    let m = match &e.detail {
        EventDetail::Message(msg) => message(e, msg, line(false, "", None, json!(null))),
        EventDetail::Postback { data, params } => answerable(line(
            false,
            "postback",
            Some(data),
            json!({"data": data, "params": params, "mode": e.mode}),
        )),
        EventDetail::Follow { is_unblocked } => {
            let what = if *is_unblocked {
                "unblocked"
            } else {
                "followed"
            };
            let m = line(
                true,
                "event",
                Some(what),
                json!({"event": what, "mode": e.mode}),
            );
            answerable(Message {
                follow: Some(Follow::Following),
                ..m
            })
        }
        EventDetail::Unfollow => {
            if thread.sender().is_none() {
                return What::Record;
            }
            let m = line(true, "event", Some("blocked"), json!({"event": "blocked"}));
            Message {
                follow: Some(Follow::Blocked),
                ..m
            }
        }
        EventDetail::Unsend { message_id } => {
            return What::Unsend(Unsend {
                provider_message_id: message_id.clone(),
                at_ms: at,
                thread: thread.key().to_owned(),
            })
        }
        EventDetail::Join
        | EventDetail::Leave
        | EventDetail::MemberJoined { .. }
        | EventDetail::MemberLeft { .. } => line(
            true,
            "event",
            Some(&e.kind),
            json!({"event": e.kind, "raw": e.raw}),
        ),
        // Kept as the raw event only (beacon, accountLink, future types…).
        EventDetail::Other => return What::Record,
    };
    What::Message(Box::new(m))
}

/// LINE doc: Webhook Event Objects › "Message event": media hosted by LINE is fetched through
/// the content API by message id.
fn message(e: &Event, m: &InboundMessage, base: Message) -> Message {
    let kind = match m.kind.as_str() {
        "text" | "image" | "video" | "audio" | "file" | "location" | "sticker" => m.kind.as_str(),
        _ => "unsupported",
    };
    let hosted = m.content_provider_line && matches!(kind, "image" | "video" | "audio" | "file");
    Message {
        kind: kind.to_owned(),
        body: m.text.clone(),
        payload: json!({"message": m.raw_message, "mode": e.mode}),
        provider_message_id: Some(m.id.clone()),
        media: hosted.then(|| json!({"message_id": m.id})),
        // A standby text still goes to the dispatcher, for red-flag triage only (it never
        // answers in standby: another system does, and staff are alerted).
        dispatch: !standby(e) || kind == "text",
        reply: reply(e),
        ..base
    }
}
