//! One inbound message's typed content, read from its `type` and the same-named object.
use serde_json::Value;

/// An error object Meta attaches to messages and statuses (`errors[]`).
#[derive(Debug, Clone, PartialEq)]
pub struct ApiError {
    pub code: Option<i64>,
    pub title: Option<String>,
    pub message: Option<String>,
    /// `error_data.details`, when present.
    pub details: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Content {
    Text {
        body: String,
    },
    /// image | audio | video | document | sticker: fetch the bytes later by `media_id`.
    Media {
        media_id: Option<String>,
        mime_type: Option<String>,
        caption: Option<String>,
        filename: Option<String>,
        /// Audio recorded as a voice note.
        voice: bool,
        animated: bool,
    },
    Location {
        latitude: Option<f64>,
        longitude: Option<f64>,
        name: Option<String>,
        address: Option<String>,
    },
    /// Shared contact cards, as sent.
    Contacts {
        contacts: Vec<Value>,
    },
    /// `emoji` is `None` (or empty) when the user removed their reaction.
    Reaction {
        message_id: String,
        emoji: Option<String>,
    },
    /// A template quick-reply button.
    Button {
        payload: Option<String>,
        text: Option<String>,
    },
    ButtonReply {
        id: String,
        title: Option<String>,
    },
    ListReply {
        id: String,
        title: Option<String>,
        description: Option<String>,
    },
    /// Another interactive reply (flow `nfm_reply`, call permission, missing body...).
    Interactive {
        subtype: Option<String>,
    },
    Order {
        catalog_id: Option<String>,
        text: Option<String>,
        items: usize,
    },
    /// e.g. `user_changed_number` (with the new `wa_id`) or `customer_identity_changed`.
    System {
        body: Option<String>,
        system_type: Option<String>,
        new_wa_id: Option<String>,
    },
    /// The user edited an earlier message; `body` is its new text or caption.
    Edit {
        original_message_id: String,
        body: Option<String>,
    },
    /// The user deleted an earlier message.
    Revoke {
        original_message_id: String,
    },
    /// WhatsApp could not deliver the content to us (see `errors`).
    Unsupported {
        unsupported_type: Option<String>,
    },
    /// A type we do not know: see `Message::raw`.
    Unknown,
}

fn s(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

/// Meta doc: Cloud API › Webhooks › Reference › messages › "errors".
pub fn errors(v: &Value) -> Vec<ApiError> {
    let Some(items) = v.get("errors").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .map(|e| ApiError {
            code: e.get("code").and_then(Value::as_i64),
            title: s(e, "title"),
            message: s(e, "message"),
            details: e.get("error_data").and_then(|d| s(d, "details")),
        })
        .collect()
}

/// Meta doc: Cloud API › Webhooks › Reference › messages (one section per message `type`).
///
/// Never fails: a type we know but whose object is missing or odd becomes `Unknown`.
pub fn read(kind: &str, msg: &Value) -> Content {
    if kind == "contacts" {
        return contacts(msg);
    }
    let obj = msg.get(kind).unwrap_or(&Value::Null);
    read_typed(kind, obj).unwrap_or(Content::Unknown)
}

fn read_typed(kind: &str, o: &Value) -> Option<Content> {
    Some(match kind {
        "text" => Content::Text {
            body: s(o, "body")?,
        },
        "image" | "audio" | "video" | "document" | "sticker" => Content::Media {
            media_id: s(o, "id"),
            mime_type: s(o, "mime_type"),
            caption: s(o, "caption"),
            filename: s(o, "filename"),
            voice: o.get("voice").and_then(Value::as_bool).unwrap_or(false),
            animated: o.get("animated").and_then(Value::as_bool).unwrap_or(false),
        },
        "location" => Content::Location {
            latitude: o.get("latitude").and_then(Value::as_f64),
            longitude: o.get("longitude").and_then(Value::as_f64),
            name: s(o, "name"),
            address: s(o, "address"),
        },
        "reaction" => Content::Reaction {
            message_id: s(o, "message_id")?,
            emoji: s(o, "emoji").filter(|e| !e.is_empty()),
        },
        "button" => Content::Button {
            payload: s(o, "payload"),
            text: s(o, "text"),
        },
        "interactive" => interactive(o),
        "order" => Content::Order {
            catalog_id: s(o, "catalog_id"),
            text: s(o, "text"),
            items: o
                .get("product_items")
                .and_then(Value::as_array)
                .map_or(0, Vec::len),
        },
        "system" => Content::System {
            body: s(o, "body"),
            system_type: s(o, "type"),
            new_wa_id: s(o, "wa_id").or_else(|| s(o, "new_wa_id")),
        },
        "edit" => Content::Edit {
            original_message_id: s(o, "original_message_id")?,
            body: edited_body(o.get("message")?),
        },
        "revoke" => Content::Revoke {
            original_message_id: s(o, "original_message_id")?,
        },
        "unsupported" => Content::Unsupported {
            unsupported_type: s(o, "type"),
        },
        _ => return None,
    })
}

/// `contacts` is an array next to `type`, not an object.
fn contacts(msg: &Value) -> Content {
    let contacts = msg
        .get("contacts")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    Content::Contacts { contacts }
}

/// Meta doc: messages › "interactive" (`button_reply`, `list_reply`, `nfm_reply`...).
fn interactive(o: &Value) -> Content {
    let subtype = s(o, "type");
    let reply = subtype.as_deref().and_then(|t| o.get(t));
    match (subtype.as_deref(), reply.and_then(|r| s(r, "id"))) {
        (Some("button_reply"), Some(id)) => Content::ButtonReply {
            id,
            title: reply.and_then(|r| s(r, "title")),
        },
        (Some("list_reply"), Some(id)) => Content::ListReply {
            id,
            title: reply.and_then(|r| s(r, "title")),
            description: reply.and_then(|r| s(r, "description")),
        },
        _ => Content::Interactive { subtype },
    }
}

fn edited_body(m: &Value) -> Option<String> {
    let kind = m.get("type").and_then(Value::as_str)?;
    let o = m.get(kind)?;
    s(o, "body").or_else(|| s(o, "caption"))
}
