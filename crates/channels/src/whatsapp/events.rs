//! Webhook body parsing into a normalized form that loses nothing: every message and status keeps
//! its raw JSON and the phone number it arrived for; items we cannot read are kept, never fatal.
use serde_json::Value;

use super::content::{self, ApiError, Content};

/// The body was not a webhook body at all (malformed JSON, or no `entry` array).
#[derive(Debug, thiserror::Error)]
#[error("invalid WhatsApp webhook body: {0}")]
pub struct ParseError(String);

#[derive(Debug, Clone, PartialEq)]
pub struct WebhookBody {
    /// `whatsapp_business_account` for the Cloud API.
    pub object: Option<String>,
    pub messages: Vec<Message>,
    pub statuses: Vec<Status>,
    /// Other change fields (templates, account, calls...) and unreadable items, raw.
    pub others: Vec<OtherItem>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// The WhatsApp Business Account id (`entry[].id`).
    pub waba_id: String,
    /// The business number it arrived for (`metadata.phone_number_id`).
    pub phone_number_id: String,
    pub display_phone_number: Option<String>,
    /// `wamid.…`
    pub wamid: String,
    /// The sender's WhatsApp id (phone number digits).
    pub from: String,
    /// The sender's profile name from `contacts[]`, when sent.
    pub profile_name: Option<String>,
    /// Unix seconds.
    pub timestamp: i64,
    /// The raw `type` string, kept even when unknown.
    pub kind: String,
    pub content: Content,
    /// `context.id`: the message this one replies to.
    pub context_id: Option<String>,
    pub errors: Vec<ApiError>,
    /// The message object exactly as received.
    pub raw: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StatusKind {
    Sent,
    Delivered,
    Read,
    Failed,
    /// e.g. `played`, or a future status: never moves a message's state.
    Other(String),
}

impl StatusKind {
    fn from_raw(s: &str) -> Self {
        match s {
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "failed" => Self::Failed,
            other => Self::Other(other.to_owned()),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub waba_id: String,
    pub phone_number_id: String,
    /// The `wamid` of our outbound message.
    pub wamid: String,
    pub status: StatusKind,
    /// Unix seconds.
    pub timestamp: i64,
    pub recipient_id: Option<String>,
    /// `biz_opaque_callback_data` as given with the send: tsunagu puts its message id there, so
    /// a status names our message even when Meta's answer to the send never arrived.
    pub callback_data: Option<String>,
    pub errors: Vec<ApiError>,
    pub raw: Value,
}

impl Status {
    /// The status as a word: `sent`, `delivered`, `read`, `failed`, or Meta's own (`played`…).
    pub fn word(&self) -> &str {
        match &self.status {
            StatusKind::Sent => "sent",
            StatusKind::Delivered => "delivered",
            StatusKind::Read => "read",
            StatusKind::Failed => "failed",
            StatusKind::Other(o) => o,
        }
    }

    /// The first error's code and a reason staff can read (message or title, then details).
    pub fn failure(&self) -> (Option<String>, Option<String>) {
        let err = self.errors.first();
        let code = err.and_then(|e| e.code).map(|c| c.to_string());
        let reason = err.map(|e| {
            let text = e.message.clone().or(e.title.clone()).unwrap_or_default();
            match &e.details {
                Some(d) => format!("{text} ({d})"),
                None => text,
            }
        });
        (code, reason)
    }
}

/// One `statuses[]` item read on its own, e.g. from the raw event log: a status that arrived
/// before Meta's answer to the send is applied once the wamid is known.
pub fn status_item(phone_number_id: &str, raw: &Value) -> Option<Status> {
    let ctx = Ctx {
        waba_id: "",
        phone_number_id,
        display: None,
        contacts: None,
    };
    ctx.status(raw)
}

/// A change or item we do not normalize, kept for the raw event log.
#[derive(Debug, Clone, PartialEq)]
pub struct OtherItem {
    pub waba_id: Option<String>,
    /// The change `field` (`messages`, `message_template_status_update`, `calls`...).
    pub field: Option<String>,
    pub phone_number_id: Option<String>,
    pub raw: Value,
}

/// Meta doc: Cloud API › Webhooks › Reference › messages › "status" — the order statuses take.
///
/// sent 1 < delivered 2 < read 3 < failed 4 (terminal); unknown ones rank 0.
pub fn status_rank(status: &StatusKind) -> u8 {
    match status {
        StatusKind::Other(_) => 0,
        StatusKind::Sent => 1,
        StatusKind::Delivered => 2,
        StatusKind::Read => 3,
        StatusKind::Failed => 4,
    }
}

/// Meta doc: messages › "status" (webhooks may arrive out of order) — whether `next` should
/// replace `current`: only forward, never out of `failed`, never to an unknown status.
pub fn status_should_apply(current: Option<&StatusKind>, next: &StatusKind) -> bool {
    let next_rank = status_rank(next);
    match current {
        None => next_rank > 0,
        Some(StatusKind::Failed) => false,
        Some(cur) => next_rank > status_rank(cur),
    }
}

/// Meta doc: Cloud API › Webhooks › "Webhook payload" (`object`, `entry[].changes[]`) and
/// Reference › messages (the `messages` field's value).
///
/// Fails only when the body is not JSON or has no `entry` array.
pub fn parse(raw: &[u8]) -> Result<WebhookBody, ParseError> {
    let root: Value = serde_json::from_slice(raw).map_err(|e| ParseError(e.to_string()))?;
    let entries = root
        .get("entry")
        .and_then(Value::as_array)
        .ok_or_else(|| ParseError("no `entry` array".to_owned()))?;
    let mut body = WebhookBody {
        object: root
            .get("object")
            .and_then(Value::as_str)
            .map(str::to_owned),
        messages: Vec::new(),
        statuses: Vec::new(),
        others: Vec::new(),
    };
    for entry in entries {
        let waba_id = entry.get("id").and_then(Value::as_str).map(str::to_owned);
        let Some(changes) = entry.get("changes").and_then(Value::as_array) else {
            body.others.push(other(waba_id.clone(), None, None, entry));
            continue;
        };
        for change in changes {
            read_change(&mut body, waba_id.as_deref(), change);
        }
    }
    Ok(body)
}

fn str_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn other(
    waba: Option<String>,
    field: Option<String>,
    phone: Option<String>,
    v: &Value,
) -> OtherItem {
    OtherItem {
        waba_id: waba,
        field,
        phone_number_id: phone,
        raw: v.clone(),
    }
}

/// Meta doc: Reference › messages — `value.metadata`, `contacts[]`, `messages[]`, `statuses[]`.
fn read_change(body: &mut WebhookBody, waba_id: Option<&str>, change: &Value) {
    let field = str_of(change, "field");
    let value = change.get("value").unwrap_or(&Value::Null);
    let meta = value.get("metadata").unwrap_or(&Value::Null);
    let phone = str_of(meta, "phone_number_id");
    let (Some("messages"), Some(waba), Some(phone_id)) = (field.as_deref(), waba_id, &phone) else {
        body.others
            .push(other(waba_id.map(str::to_owned), field, phone, change));
        return;
    };
    let ctx = Ctx {
        waba_id: waba,
        phone_number_id: phone_id,
        display: str_of(meta, "display_phone_number"),
        contacts: value.get("contacts").and_then(Value::as_array),
    };
    let items = |key| {
        value
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
    };
    for m in items("messages") {
        match ctx.message(m) {
            Some(msg) => body.messages.push(msg),
            None => body.others.push(ctx.other(m)),
        }
    }
    for s in items("statuses") {
        match ctx.status(s) {
            Some(st) => body.statuses.push(st),
            None => body.others.push(ctx.other(s)),
        }
    }
}

struct Ctx<'a> {
    waba_id: &'a str,
    phone_number_id: &'a str,
    display: Option<String>,
    contacts: Option<&'a Vec<Value>>,
}

/// Meta sends Unix seconds as a string; accept a number too.
fn timestamp(v: &Value) -> Option<i64> {
    let t = v.get("timestamp")?;
    t.as_i64()
        .or_else(|| t.as_str().and_then(|s| s.parse().ok()))
}

impl Ctx<'_> {
    fn other(&self, v: &Value) -> OtherItem {
        let phone = Some(self.phone_number_id.to_owned());
        other(
            Some(self.waba_id.to_owned()),
            Some("messages".to_owned()),
            phone,
            v,
        )
    }

    fn profile_name(&self, wa_id: &str) -> Option<String> {
        self.contacts?
            .iter()
            .find(|c| c.get("wa_id").and_then(Value::as_str) == Some(wa_id))
            .and_then(|c| c.get("profile"))
            .and_then(|p| str_of(p, "name"))
    }

    /// Meta doc: Reference › messages › "messages" object.
    fn message(&self, m: &Value) -> Option<Message> {
        let from = str_of(m, "from")?;
        let kind = str_of(m, "type").unwrap_or_else(|| "unknown".to_owned());
        Some(Message {
            waba_id: self.waba_id.to_owned(),
            phone_number_id: self.phone_number_id.to_owned(),
            display_phone_number: self.display.clone(),
            wamid: str_of(m, "id")?,
            profile_name: self.profile_name(&from),
            from,
            timestamp: timestamp(m)?,
            content: content::read(&kind, m),
            kind,
            context_id: m.get("context").and_then(|c| str_of(c, "id")),
            errors: content::errors(m),
            raw: m.clone(),
        })
    }

    /// Meta doc: Reference › messages › "statuses" object.
    fn status(&self, s: &Value) -> Option<Status> {
        Some(Status {
            waba_id: self.waba_id.to_owned(),
            phone_number_id: self.phone_number_id.to_owned(),
            wamid: str_of(s, "id")?,
            status: StatusKind::from_raw(s.get("status")?.as_str()?),
            timestamp: timestamp(s)?,
            recipient_id: str_of(s, "recipient_id"),
            callback_data: str_of(s, "biz_opaque_callback_data"),
            errors: content::errors(s),
            raw: s.clone(),
        })
    }
}
