//! Webhook body parsing for pages and Instagram accounts. Nothing is lost: every messaging item
//! becomes an [`Event`] with its raw JSON, unknown kinds included, and a stable `dedupe_key` so a
//! redelivery is recognised.
use serde_json::Value;
use sha2::{Digest, Sha256};

/// The body was not a Messenger webhook body at all (malformed JSON, no `entry` array, or an
/// `object` other than `page`/`instagram`, e.g. a WhatsApp body posted to the wrong URL).
#[derive(Debug, thiserror::Error)]
#[error("invalid Messenger webhook body: {0}")]
pub struct ParseError(String);

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookBody {
    /// `page` or `instagram`.
    pub object: String,
    pub events: Vec<Event>,
    /// Entries or changes that carry no messaging items (feed `changes`, …), raw.
    pub unhandled: Vec<Value>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// The Page id, or the Instagram professional account id (`entry[].id`).
    pub page_id: String,
    /// PSID / IGSID of the person, or the page itself for echoes.
    pub sender_id: String,
    pub recipient_id: String,
    /// Milliseconds; falls back to `entry.time` for items without one (old delivery events).
    pub timestamp_ms: i64,
    /// The body's object was `instagram`.
    pub instagram: bool,
    /// Came in `standby[]` (handover protocol: another app has the thread); never automate on it.
    pub standby: bool,
    pub kind: EventKind,
    /// Same for a redelivery of the same item (see [`parse`]).
    pub dedupe_key: String,
    /// The messaging item exactly as received.
    pub raw: Value,
}

impl Event {
    /// The person in the conversation: the recipient of an echo, the sender otherwise.
    pub fn user_id(&self) -> &str {
        match &self.kind {
            EventKind::Message { is_echo: true, .. } => &self.recipient_id,
            _ => &self.sender_id,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    Message {
        mid: String,
        text: Option<String>,
        attachments: Vec<Attachment>,
        quick_reply_payload: Option<String>,
        /// `reply_to.mid`: the message this one answers.
        reply_to_mid: Option<String>,
        /// Sent by the page itself (our own sends, or a person using the Page inbox).
        is_echo: bool,
        /// Instagram: the person unsent this message.
        is_deleted: bool,
    },
    Postback {
        mid: Option<String>,
        title: Option<String>,
        payload: Option<String>,
        /// The link or ad that started the conversation (Get Started after an m.me link).
        referral: Option<Referral>,
    },
    /// The person came back to an existing thread through an m.me link, an ad or a QR code
    /// (`messaging_referrals`); a new thread carries it on the Get Started postback instead.
    Referral(Referral),
    /// Every message sent before `watermark` (ms) was delivered.
    Delivery {
        mids: Vec<String>,
        watermark: Option<i64>,
    },
    /// Every message sent before `watermark` was read (Instagram sends the read `mid` instead).
    Read {
        watermark: Option<i64>,
        mid: Option<String>,
    },
    Reaction {
        mid: String,
        action: ReactionAction,
        emoji: Option<String>,
        /// `smile|angry|sad|wow|love|like|dislike|other`.
        reaction: Option<String>,
    },
    /// optin, account_linking, pass_thread_control… or a kind not yet known:
    /// kept for the raw event log, never an error.
    Other { kind: String },
}

/// Meta doc: Webhook events › "messaging_referrals" (`ref`, `source`, `type`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Referral {
    /// The `ref` parameter of the m.me link (`m.me/{page}?ref=…`), if it had one.
    pub ref_param: Option<String>,
    /// `SHORTLINK`, `ADS`, `MESSENGER_CODE`, … (opaque).
    pub source: Option<String>,
    /// `OPEN_THREAD`.
    pub kind: Option<String>,
}

impl Referral {
    fn read(v: &Value) -> Option<Referral> {
        let r = v.get("referral").filter(|r| r.is_object())?;
        Some(Referral {
            ref_param: str_of(r, "ref").filter(|s| !s.is_empty()),
            source: str_of(r, "source"),
            kind: str_of(r, "type"),
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReactionAction {
    React,
    Unreact,
    Other(String),
}

/// Meta doc: Webhook events › messages › "attachments".
#[derive(Debug, Clone, PartialEq)]
pub struct Attachment {
    /// `image|audio|video|file|location|fallback|template|…`, kept even when unknown.
    pub kind: String,
    /// `payload.url` (media on Meta's CDN, or the link of a `fallback`).
    pub url: Option<String>,
    pub title: Option<String>,
    /// Stickers arrive as images with `payload.sticker_id`.
    pub sticker_id: Option<i64>,
    /// `payload.coordinates` of a location as (lat, long).
    pub coordinates: Option<(f64, f64)>,
    pub raw: Value,
}

/// Meta doc: Messenger Platform › Webhooks › "Event format" (`object`, `entry[].messaging[]`),
/// Handover protocol › "standby", and Instagram Messaging › Webhooks (object `instagram`).
///
/// Dedupe keys: `message.mid` for messages (`deleted:{mid}` for an unsend); `postback:{mid}` (or
/// `postback:{sender}:{timestamp}:{payload hash}` without a mid); `delivery:{sender}:{mids}` (or
/// the watermark); `read:{sender}:{watermark or mid}`;
/// `reaction:{mid}:{action}:{sender}:{timestamp}`; `referral:{sender}:{timestamp}:{item hash}`;
/// anything else `{kind}:{sender}:{timestamp}:{item hash}`.
pub fn parse(raw: &[u8]) -> Result<WebhookBody, ParseError> {
    let root: Value = serde_json::from_slice(raw).map_err(|e| ParseError(e.to_string()))?;
    let object = str_of(&root, "object").unwrap_or_default();
    if object != "page" && object != "instagram" {
        return Err(ParseError(format!(
            "`object` is {object:?}, not page or instagram"
        )));
    }
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| ParseError("no `entry` array".to_owned()))?;
    let instagram = object == "instagram";
    let mut body = WebhookBody {
        object,
        events: Vec::new(),
        unhandled: Vec::new(),
    };
    for entry in entries {
        let ctx = Entry {
            page_id: str_of(entry, "id").unwrap_or_default(),
            time: entry.get("time").and_then(Value::as_i64).unwrap_or(0),
            instagram,
        };
        let mut any = false;
        for (key, standby) in [("messaging", false), ("standby", true)] {
            let Some(items) = entry.get(key).and_then(Value::as_array) else {
                continue;
            };
            any = true;
            body.events
                .extend(items.iter().map(|item| ctx.event(item, standby)));
        }
        if !any {
            body.unhandled.push(entry.clone());
        }
    }
    Ok(body)
}

struct Entry {
    page_id: String,
    time: i64,
    instagram: bool,
}

impl Entry {
    /// Meta doc: Webhook events › the common `sender`, `recipient`, `timestamp` fields, then one
    /// event object (`message`, `postback`, `delivery`, `read`, `reaction`, …).
    fn event(&self, item: &Value, standby: bool) -> Event {
        let party = |key: &str| {
            item.get(key)
                .and_then(|p| str_of(p, "id").or_else(|| str_of(p, "user_ref")))
                .unwrap_or_default()
        };
        let sender_id = party("sender");
        let timestamp_ms = item
            .get("timestamp")
            .and_then(Value::as_i64)
            .unwrap_or(self.time);
        let (kind, dedupe_key) = read_kind(item, &sender_id, timestamp_ms);
        Event {
            page_id: self.page_id.clone(),
            recipient_id: party("recipient"),
            sender_id,
            timestamp_ms,
            instagram: self.instagram,
            standby,
            kind,
            dedupe_key,
            raw: item.clone(),
        }
    }
}

/// Which event the item carries, and its dedupe key.
fn read_kind(item: &Value, sender: &str, ts: i64) -> (EventKind, String) {
    if let Some(m) = item.get("message").filter(|m| m.is_object()) {
        if let Some(mid) = str_of(m, "mid") {
            // An Instagram unsend reuses the message's mid: it needs its own key to be stored.
            let deleted = m.get("is_deleted").and_then(Value::as_bool) == Some(true);
            let key = if deleted {
                format!("deleted:{mid}")
            } else {
                mid.clone()
            };
            return (message(m, mid), key);
        }
    }
    if let Some(p) = item.get("postback").filter(|p| p.is_object()) {
        let mid = str_of(p, "mid");
        let payload = str_of(p, "payload");
        let key = match &mid {
            Some(mid) => format!("postback:{mid}"),
            None => format!(
                "postback:{sender}:{ts}:{}",
                short_hash(payload.as_deref().unwrap_or_default().as_bytes())
            ),
        };
        let title = str_of(p, "title");
        let referral = Referral::read(p);
        return (
            EventKind::Postback {
                mid,
                title,
                payload,
                referral,
            },
            key,
        );
    }
    if let Some(d) = item.get("delivery").filter(|d| d.is_object()) {
        let mids: Vec<String> = d
            .get("mids")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect();
        let watermark = d.get("watermark").and_then(Value::as_i64);
        let key = match mids.as_slice() {
            [] => format!("delivery:{sender}:w{}", watermark.unwrap_or(ts)),
            [one] => format!("delivery:{sender}:{one}"),
            many => format!(
                "delivery:{sender}:{}",
                short_hash(many.join(",").as_bytes())
            ),
        };
        return (EventKind::Delivery { mids, watermark }, key);
    }
    if let Some(r) = item.get("read").filter(|r| r.is_object()) {
        let watermark = r.get("watermark").and_then(Value::as_i64);
        let mid = str_of(r, "mid");
        let mark = mid
            .clone()
            .unwrap_or_else(|| watermark.unwrap_or(ts).to_string());
        return (
            EventKind::Read { watermark, mid },
            format!("read:{sender}:{mark}"),
        );
    }
    if let Some(r) = item.get("reaction").filter(|r| r.is_object()) {
        if let Some(mid) = str_of(r, "mid") {
            let action_raw = str_of(r, "action").unwrap_or_default();
            let key = format!("reaction:{mid}:{action_raw}:{sender}:{ts}");
            let action = match action_raw.as_str() {
                "react" => ReactionAction::React,
                "unreact" => ReactionAction::Unreact,
                _ => ReactionAction::Other(action_raw),
            };
            let kind = EventKind::Reaction {
                mid,
                action,
                emoji: str_of(r, "emoji"),
                reaction: str_of(r, "reaction"),
            };
            return (kind, key);
        }
    }
    if let Some(referral) = Referral::read(item) {
        // Keyed like any other item (`referral:{sender}:{ts}:{hash}`): it carries no id.
        let (_, key) = other(item, sender, ts);
        return (EventKind::Referral(referral), key);
    }
    other(item, sender, ts)
}

/// Meta doc: Webhook events › "messages" (text, attachments, quick_reply, reply_to) and
/// "message_echoes" (`is_echo`); Instagram › `is_deleted`.
fn message(m: &Value, mid: String) -> EventKind {
    let flag = |key: &str| m.get(key).and_then(Value::as_bool).unwrap_or(false);
    EventKind::Message {
        mid,
        text: str_of(m, "text"),
        attachments: m
            .get("attachments")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(attachment)
            .collect(),
        quick_reply_payload: m.get("quick_reply").and_then(|q| str_of(q, "payload")),
        reply_to_mid: m.get("reply_to").and_then(|r| str_of(r, "mid")),
        is_echo: flag("is_echo"),
        is_deleted: flag("is_deleted"),
    }
}

fn attachment(a: &Value) -> Attachment {
    let payload = a.get("payload").unwrap_or(&Value::Null);
    let coords = payload.get("coordinates");
    let coord = |k: &str| coords.and_then(|c| c.get(k)).and_then(Value::as_f64);
    Attachment {
        kind: str_of(a, "type").unwrap_or_else(|| "unknown".to_owned()),
        // A fallback (shared link) carries its URL at the top level as `URL` or `url`.
        url: str_of(payload, "url")
            .or_else(|| str_of(a, "url"))
            .or_else(|| str_of(a, "URL")),
        title: str_of(a, "title").or_else(|| str_of(payload, "title")),
        sticker_id: payload.get("sticker_id").and_then(Value::as_i64),
        coordinates: coord("lat").zip(coord("long")),
        raw: a.clone(),
    }
}

/// The first key that is neither an envelope field nor empty names the kind.
fn other(item: &Value, sender: &str, ts: i64) -> (EventKind, String) {
    const ENVELOPE: [&str; 3] = ["sender", "recipient", "timestamp"];
    let kind = item
        .as_object()
        .and_then(|o| o.keys().find(|k| !ENVELOPE.contains(&k.as_str())).cloned())
        .unwrap_or_else(|| "unknown".to_owned());
    let bytes = serde_json::to_vec(item).unwrap_or_default();
    let key = format!("{kind}:{sender}:{ts}:{}", short_hash(&bytes));
    (EventKind::Other { kind }, key)
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// 16 hex chars of SHA-256: enough to tell items apart within one sender and millisecond.
fn short_hash(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    hex::encode(&digest[..8])
}
