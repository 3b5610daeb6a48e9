//! Webhook body parsing into a normalized form that loses nothing: every event keeps its raw JSON,
//! and unknown event, source and message types parse instead of failing the whole body.
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The body was not a webhook body at all (malformed JSON, or no `events` array).
#[derive(Debug, thiserror::Error)]
#[error("invalid LINE webhook body: {0}")]
pub struct ParseError(String);

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookBody {
    pub destination: Option<String>,
    pub events: Vec<Event>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `webhookEventId`, or `sha256:<hex of the event's raw JSON text>` when absent.
    pub webhook_event_id: String,
    /// The raw `type` string, kept even when we do not know it.
    pub kind: String,
    pub timestamp_ms: i64,
    /// `active` | `standby`.
    pub mode: Option<String>,
    pub is_redelivery: bool,
    pub source: Option<Source>,
    pub reply_token: Option<String>,
    pub detail: EventDetail,
    /// The event object exactly as received.
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    User {
        user_id: String,
    },
    Group {
        group_id: String,
        user_id: Option<String>,
    },
    Room {
        room_id: String,
        user_id: Option<String>,
    },
    /// A source type we do not know (or one missing its id); `kind` is the raw type.
    Unknown {
        kind: String,
    },
}

impl Source {
    /// The conversation this event belongs to: the user, group or room id.
    pub fn thread_key(&self) -> Option<&str> {
        match self {
            Source::User { user_id } => Some(user_id),
            Source::Group { group_id, .. } => Some(group_id),
            Source::Room { room_id, .. } => Some(room_id),
            Source::Unknown { .. } => None,
        }
    }

    /// The person who acted, when LINE tells us (group members may not have consented).
    pub fn sender_user_id(&self) -> Option<&str> {
        match self {
            Source::User { user_id } => Some(user_id),
            Source::Group { user_id, .. } | Source::Room { user_id, .. } => user_id.as_deref(),
            Source::Unknown { .. } => None,
        }
    }
}

// Unboxed on purpose: a body holds a few events, and callers match `Message(m)` directly.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum EventDetail {
    Message(InboundMessage),
    Unsend {
        message_id: String,
    },
    Follow {
        is_unblocked: bool,
    },
    Unfollow,
    Postback {
        data: String,
        params: Value,
    },
    Join,
    Leave,
    MemberJoined {
        user_ids: Vec<String>,
    },
    MemberLeft {
        user_ids: Vec<String>,
    },
    /// Any other type (beacon, accountLink, messageEdited, future ones): see `Event::raw`.
    Other,
}

#[derive(Debug, Clone, PartialEq)]
pub struct InboundMessage {
    pub id: String,
    /// text | image | video | audio | file | location | sticker | any unknown raw type.
    pub kind: String,
    /// The text, or a readable rendering (location, file name, sticker) for staff.
    pub text: Option<String>,
    /// The media is hosted by LINE: fetch it with `LineClient::content`.
    pub content_provider_line: bool,
    pub file_name: Option<String>,
    pub file_size: Option<i64>,
    /// (title, address, latitude, longitude); title/address are "" when LINE sent none.
    pub location: Option<(String, String, f64, f64)>,
    /// (package_id, sticker_id).
    pub sticker: Option<(String, String)>,
    pub quote_token: Option<String>,
    pub raw_message: Value,
}

impl WebhookBody {
    /// See [`parse`].
    pub fn parse(raw_body: &[u8]) -> Result<Self, ParseError> {
        parse(raw_body)
    }
}

#[derive(Deserialize)]
struct RawBody<'a> {
    destination: Option<String>,
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

/// LINE doc: Messaging API reference › Webhook Event Objects ("Request body" and "Common
/// properties"). Call only after `signature::verify` succeeded on the same bytes.
pub fn parse(raw_body: &[u8]) -> Result<WebhookBody, ParseError> {
    let body: RawBody<'_> =
        serde_json::from_slice(raw_body).map_err(|e| ParseError(e.to_string()))?;
    let events = body
        .events
        .iter()
        .map(|raw| parse_event(raw))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(WebhookBody {
        destination: body.destination,
        events,
    })
}

fn parse_event(raw_text: &RawValue) -> Result<Event, ParseError> {
    let raw: Value = serde_json::from_str(raw_text.get()).map_err(|e| ParseError(e.to_string()))?;
    let webhook_event_id = match str_at(&raw, "webhookEventId") {
        Some(id) if !id.is_empty() => id,
        // Very old bodies have no id: hash the exact text so a resend dedupes the same way.
        _ => format!(
            "sha256:{}",
            hex::encode(Sha256::digest(raw_text.get().as_bytes()))
        ),
    };
    let kind = str_at(&raw, "type").unwrap_or_default();
    Ok(Event {
        webhook_event_id,
        timestamp_ms: raw.get("timestamp").and_then(Value::as_i64).unwrap_or(0),
        mode: str_at(&raw, "mode"),
        is_redelivery: raw
            .pointer("/deliveryContext/isRedelivery")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        source: raw.get("source").map(parse_source),
        reply_token: str_at(&raw, "replyToken"),
        detail: parse_detail(&kind, &raw),
        kind,
        raw,
    })
}

/// LINE doc: Webhook Event Objects › "Source user / group chat / multi-person chat".
fn parse_source(v: &Value) -> Source {
    let kind = str_at(v, "type").unwrap_or_default();
    let user_id = str_at(v, "userId");
    match (kind.as_str(), user_id) {
        ("user", Some(user_id)) => Source::User { user_id },
        ("group", user_id) => match str_at(v, "groupId") {
            Some(group_id) => Source::Group { group_id, user_id },
            None => Source::Unknown { kind },
        },
        ("room", user_id) => match str_at(v, "roomId") {
            Some(room_id) => Source::Room { room_id, user_id },
            None => Source::Unknown { kind },
        },
        _ => Source::Unknown { kind },
    }
}

/// LINE doc: Webhook Event Objects › one section per event type (Message, Unsend, Follow,
/// Unfollow, Join, Leave, Member join, Member leave, Postback).
fn parse_detail(kind: &str, raw: &Value) -> EventDetail {
    match kind {
        "message" => match raw.get("message") {
            Some(m) if m.is_object() => EventDetail::Message(parse_message(m)),
            _ => EventDetail::Other,
        },
        "unsend" => match raw.pointer("/unsend/messageId").and_then(Value::as_str) {
            Some(id) => EventDetail::Unsend {
                message_id: id.to_owned(),
            },
            None => EventDetail::Other,
        },
        "follow" => EventDetail::Follow {
            is_unblocked: raw
                .pointer("/follow/isUnblocked")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        "unfollow" => EventDetail::Unfollow,
        "postback" => match raw.get("postback") {
            Some(p) => EventDetail::Postback {
                data: str_at(p, "data").unwrap_or_default(),
                params: p.get("params").cloned().unwrap_or(Value::Null),
            },
            None => EventDetail::Other,
        },
        "join" => EventDetail::Join,
        "leave" => EventDetail::Leave,
        "memberJoined" => EventDetail::MemberJoined {
            user_ids: member_ids(raw.pointer("/joined/members")),
        },
        "memberLeft" => EventDetail::MemberLeft {
            user_ids: member_ids(raw.pointer("/left/members")),
        },
        _ => EventDetail::Other,
    }
}

fn member_ids(members: Option<&Value>) -> Vec<String> {
    members
        .and_then(Value::as_array)
        .map(|ms| ms.iter().filter_map(|m| str_at(m, "userId")).collect())
        .unwrap_or_default()
}

/// LINE doc: Webhook Event Objects › "Message event" › Text, Image, Video, Audio, File,
/// Location and Sticker message objects.
fn parse_message(m: &Value) -> InboundMessage {
    let kind = str_at(m, "type").unwrap_or_default();
    let provider = m.pointer("/contentProvider/type").and_then(Value::as_str);
    let content_provider_line = match kind.as_str() {
        // Files are always hosted by LINE; other media unless LINE says "external".
        "file" => true,
        "image" | "video" | "audio" => provider.is_none_or(|p| p == "line"),
        _ => false,
    };
    let file_name = str_at(m, "fileName");
    let location = (kind == "location").then(|| {
        (
            str_at(m, "title").unwrap_or_default(),
            str_at(m, "address").unwrap_or_default(),
            m.get("latitude").and_then(Value::as_f64).unwrap_or(0.0),
            m.get("longitude").and_then(Value::as_f64).unwrap_or(0.0),
        )
    });
    let sticker = match (
        kind.as_str(),
        str_at(m, "packageId"),
        str_at(m, "stickerId"),
    ) {
        ("sticker", Some(p), Some(s)) => Some((p, s)),
        _ => None,
    };
    let text = match kind.as_str() {
        "text" => str_at(m, "text"),
        "file" => file_name.clone(),
        "location" => location.as_ref().map(render_location),
        "sticker" => sticker.as_ref().map(|(p, s)| match str_at(m, "text") {
            Some(t) if !t.is_empty() => format!("[sticker {p}/{s}] {t}"),
            _ => format!("[sticker {p}/{s}]"),
        }),
        _ => None,
    };
    InboundMessage {
        id: str_at(m, "id").unwrap_or_default(),
        text,
        content_provider_line,
        file_size: m.get("fileSize").and_then(Value::as_i64),
        file_name,
        location,
        sticker,
        quote_token: str_at(m, "quoteToken"),
        raw_message: m.clone(),
        kind,
    }
}

fn render_location((title, address, lat, lon): &(String, String, f64, f64)) -> String {
    let named: Vec<&str> = [title.as_str(), address.as_str()]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect();
    if named.is_empty() {
        format!("{lat}, {lon}")
    } else {
        named.join("\n")
    }
}

/// A string field; numbers are accepted too since ids have been numeric in old payloads.
fn str_at(v: &Value, key: &str) -> Option<String> {
    match v.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}
