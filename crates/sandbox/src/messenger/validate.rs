//! The Send API's body rules, checked by hand from Meta's reference (no official spec exists):
//! what the real API answers with code 100 must be refused here too.
#![allow(clippy::result_large_err)] // the error is the HTTP answer
use axum::response::Response;
use serde_json::Value;

use super::http::invalid;

/// Meta doc: Message tags — the tags still accepted (no promotion in any of them).
pub(crate) const TAGS: [&str; 4] = [
    "CONFIRMED_EVENT_UPDATE",
    "POST_PURCHASE_UPDATE",
    "ACCOUNT_UPDATE",
    "HUMAN_AGENT",
];
const SENDER_ACTIONS: [&str; 5] = ["typing_on", "typing_off", "mark_seen", "react", "unreact"];
const MEDIA_TYPES: [&str; 4] = ["image", "audio", "video", "file"];
const MAX_TEXT: usize = 2000;

/// A send the body rules accept.
pub(crate) struct SendRequest {
    pub psid: String,
    /// RESPONSE, UPDATE or MESSAGE_TAG (sender actions carry none).
    pub messaging_type: Option<String>,
    pub tag: Option<String>,
    /// A `message` object, or `None` for a sender action.
    pub message: Option<Value>,
}

/// Meta doc: Send API reference › Parameters (`recipient`, `messaging_type`, `tag`, `message`,
/// `sender_action`, `notification_type`) and the `message` object's limits.
pub(crate) fn send_request(body: &Value) -> Result<SendRequest, Response> {
    let psid = body
        .get("recipient")
        .and_then(|r| r.get("id"))
        .and_then(|id| {
            id.as_str()
                .map(str::to_owned)
                .or_else(|| id.as_u64().map(|n| n.to_string()))
        })
        .filter(|id| !id.is_empty())
        .ok_or_else(|| invalid("(#100) The parameter recipient is required"))?;
    if let Some(n) = body.get("notification_type") {
        let ok = ["REGULAR", "SILENT_PUSH", "NO_PUSH"].contains(&n.as_str().unwrap_or_default());
        if !ok {
            return Err(invalid(
                "(#100) Param notification_type must be one of {REGULAR, SILENT_PUSH, NO_PUSH}",
            ));
        }
    }
    let message = body.get("message");
    if let Some(action) = body.get("sender_action") {
        if message.is_some() {
            return Err(invalid(
                "(#100) Cannot send both message and state at the same time.",
            ));
        }
        let action = action.as_str().unwrap_or_default();
        if !SENDER_ACTIONS.contains(&action) {
            return Err(invalid(&format!(
                "(#100) Param sender_action must be one of {{TYPING_ON, TYPING_OFF, MARK_SEEN, REACT, UNREACT}} - got \"{action}\""
            )));
        }
        return Ok(SendRequest {
            psid,
            messaging_type: None,
            tag: None,
            message: None,
        });
    }
    let messaging_type = body
        .get("messaging_type")
        .and_then(Value::as_str)
        .ok_or_else(|| invalid("(#100) The parameter messaging_type is required"))?;
    if !["RESPONSE", "UPDATE", "MESSAGE_TAG"].contains(&messaging_type) {
        return Err(invalid(&format!(
            "(#100) Param messaging_type must be one of {{RESPONSE, UPDATE, MESSAGE_TAG}} - got \"{messaging_type}\""
        )));
    }
    let tag = body.get("tag").and_then(Value::as_str).map(str::to_owned);
    match (messaging_type, tag.as_deref()) {
        ("MESSAGE_TAG", None) => {
            return Err(invalid(
                "(#100) Tag is required for MESSAGE_TAG messaging type",
            ))
        }
        ("MESSAGE_TAG", Some(t)) if !TAGS.contains(&t) => {
            return Err(invalid(&format!(
                "(#100) Param tag must be one of {{{}}} - got \"{t}\"",
                TAGS.join(", ")
            )))
        }
        (_, _) => {}
    }
    let message = message
        .filter(|m| m.is_object())
        .ok_or_else(|| invalid("(#100) param message must be non-empty."))?;
    check_message(message)?;
    Ok(SendRequest {
        psid,
        messaging_type: Some(messaging_type.to_owned()),
        tag,
        message: Some(message.clone()),
    })
}

fn check_message(m: &Value) -> Result<(), Response> {
    match (m.get("text"), m.get("attachment")) {
        (Some(_), Some(_)) => {
            return Err(invalid(
                "(#100) Only one of text or attachment can be specified",
            ))
        }
        (None, None) => return Err(invalid("(#100) Must send either message or state")),
        (Some(text), None) => {
            let text = text.as_str().unwrap_or_default();
            if text.trim().is_empty() {
                return Err(invalid("(#100) param message[text] must be non-empty."));
            }
            if text.chars().count() > MAX_TEXT {
                return Err(invalid(
                    "(#100) Length of param message[text] must be less than or equal to 2000",
                ));
            }
        }
        (None, Some(a)) => check_attachment(a)?,
    }
    if let Some(q) = m.get("quick_replies") {
        check_quick_replies(q)?;
    }
    Ok(())
}

/// Meta doc: Send API › "attachment" (media by `url` or `attachment_id`, or a template).
fn check_attachment(a: &Value) -> Result<(), Response> {
    let kind = a.get("type").and_then(Value::as_str).unwrap_or_default();
    let payload = a
        .get("payload")
        .filter(|p| p.is_object())
        .ok_or_else(|| invalid("(#100) param message[attachment][payload] must be non-empty."))?;
    if kind == "template" {
        let template = payload
            .get("template_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        return match template {
            "button" => check_button_template(payload),
            "generic" => count(
                "message[attachment][payload][elements]",
                payload.get("elements"),
                1,
                10,
            ),
            "receipt" | "media" | "coupon" | "customer_feedback" | "product" => Ok(()),
            _ => Err(invalid(&format!(
                "(#100) Invalid template type: \"{template}\""
            ))),
        };
    }
    if !MEDIA_TYPES.contains(&kind) {
        return Err(invalid(&format!(
            "(#100) Param message[attachment][type] must be one of {{IMAGE, AUDIO, VIDEO, FILE, TEMPLATE}} - got \"{kind}\""
        )));
    }
    let url = payload.get("url").and_then(Value::as_str);
    let id = payload.get("attachment_id");
    match (url, id) {
        (Some(u), None) if u.starts_with("https://") || u.starts_with("http://") => Ok(()),
        (None, Some(_)) => Ok(()),
        _ => Err(invalid("(#100) Incorrect attachment payload: give exactly one of url (http or https) or attachment_id")),
    }
}

/// Meta doc: Button template (`text` ≤ 640 characters, 1–3 buttons).
fn check_button_template(payload: &Value) -> Result<(), Response> {
    let text = payload
        .get("text")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if text.is_empty() || text.chars().count() > 640 {
        return Err(invalid(
            "(#100) param message[attachment][payload][text] must be 1 to 640 characters",
        ));
    }
    count(
        "message[attachment][payload][buttons]",
        payload.get("buttons"),
        1,
        3,
    )
}

/// Meta doc: Quick replies (≤ 13; a `text` one has `title` ≤ 20 and `payload` ≤ 1000).
fn check_quick_replies(q: &Value) -> Result<(), Response> {
    count("message[quick_replies]", Some(q), 1, 13)?;
    for item in q.as_array().into_iter().flatten() {
        let kind = item
            .get("content_type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        match kind {
            "user_phone_number" | "user_email" => {}
            "text" => check_text_quick_reply(item)?,
            _ => {
                return Err(invalid(&format!(
                    "(#100) Param message[quick_replies][content_type] must be one of {{TEXT, USER_PHONE_NUMBER, USER_EMAIL}} - got \"{kind}\""
                )))
            }
        }
    }
    Ok(())
}

fn check_text_quick_reply(item: &Value) -> Result<(), Response> {
    let title = item
        .get("title")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if title.is_empty() || title.chars().count() > 20 {
        return Err(invalid(
            "(#100) param message[quick_replies][title] must be 1 to 20 characters",
        ));
    }
    // Meta accepts a number as the payload too.
    let payload = match item.get("payload") {
        Some(Value::String(p)) => p.clone(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    };
    if payload.is_empty() || payload.chars().count() > 1000 {
        return Err(invalid(
            "(#100) param message[quick_replies][payload] must be 1 to 1000 characters",
        ));
    }
    Ok(())
}

fn count(name: &str, v: Option<&Value>, min: usize, max: usize) -> Result<(), Response> {
    let n = v.and_then(Value::as_array).map_or(0, Vec::len);
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(invalid(&format!(
            "(#100) param {name} must have {min} to {max} elements, got {n}"
        )))
    }
}
