//! Send API request bodies, validated before they leave so staff see a clear refusal instead of
//! Meta's code 100.
use serde_json::{json, Value};

/// Meta doc: Send API › message › `text` ("UTF-8, 2000 character limit").
pub const MAX_TEXT_CHARS: usize = 2000;
/// Meta doc: Quick replies › "up to 13 quick replies", title "20 character limit".
pub const MAX_QUICK_REPLIES: usize = 13;
pub const MAX_QUICK_REPLY_TITLE_CHARS: usize = 20;
/// Meta doc: Quick replies › `payload` ("1000 character limit").
pub const MAX_PAYLOAD_CHARS: usize = 1000;

/// Meta doc: Send API › `messaging_type` and Message tags. Outside the 24-hour window only tags
/// may be used, and never for promotion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessagingKind {
    /// Answers a person's message, inside 24 h of it.
    Response,
    /// A proactive update, also inside 24 h.
    Update,
    /// `MESSAGE_TAG` + `HUMAN_AGENT`: a staff member's reply, up to 7 days after the person's
    /// last message (the app needs Human Agent permission).
    HumanAgent,
    ConfirmedEventUpdate,
    AccountUpdate,
    PostPurchaseUpdate,
}

impl MessagingKind {
    /// (`messaging_type`, `tag`).
    pub fn wire(self) -> (&'static str, Option<&'static str>) {
        match self {
            Self::Response => ("RESPONSE", None),
            Self::Update => ("UPDATE", None),
            Self::HumanAgent => ("MESSAGE_TAG", Some("HUMAN_AGENT")),
            Self::ConfirmedEventUpdate => ("MESSAGE_TAG", Some("CONFIRMED_EVENT_UPDATE")),
            Self::AccountUpdate => ("MESSAGE_TAG", Some("ACCOUNT_UPDATE")),
            Self::PostPurchaseUpdate => ("MESSAGE_TAG", Some("POST_PURCHASE_UPDATE")),
        }
    }
}

/// Meta doc: Send API › attachment `type` for media sent by URL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttachmentType {
    Image,
    Audio,
    Video,
    File,
}

impl AttachmentType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Image => "image",
            Self::Audio => "audio",
            Self::Video => "video",
            Self::File => "file",
        }
    }
}

/// Why a body was not built; the `Display` starts with a stable key for the UI catalogs.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("recipient_missing")]
    NoRecipient,
    #[error("text_empty")]
    EmptyText,
    #[error("text_too_long: {chars} characters, Messenger allows 2000")]
    TextTooLong { chars: usize },
    #[error("attachment_url_invalid: {0}")]
    BadUrl(String),
    #[error("quick_replies_count: {0}, Messenger allows 1 to 13")]
    QuickReplyCount(usize),
    #[error("quick_reply_title_invalid: {0:?} must be 1 to 20 characters")]
    QuickReplyTitle(String),
    #[error("quick_reply_payload_invalid: must be 1 to 1000 characters")]
    QuickReplyPayload,
}

/// Meta doc: Send API › "Sending a text message".
pub fn text(psid: &str, text: &str, kind: MessagingKind) -> Result<Value, BodyError> {
    check_text(text)?;
    envelope(psid, kind, json!({ "text": text }))
}

/// Meta doc: Send API › "Sending attachments" › "Attachment from URL".
pub fn attachment(
    psid: &str,
    kind_of_media: AttachmentType,
    url: &str,
    kind: MessagingKind,
) -> Result<Value, BodyError> {
    let parsed = url::Url::parse(url).map_err(|e| BodyError::BadUrl(e.to_string()))?;
    if !matches!(parsed.scheme(), "https" | "http") {
        return Err(BodyError::BadUrl(format!(
            "scheme {} is not http(s)",
            parsed.scheme()
        )));
    }
    let message = json!({ "attachment": {
        "type": kind_of_media.as_str(),
        "payload": { "url": url, "is_reusable": false }
    }});
    envelope(psid, kind, message)
}

/// Meta doc: Send messages › "Quick replies" (`content_type: text`, `title`, `payload`).
pub fn quick_replies(
    psid: &str,
    text: &str,
    replies: &[(&str, &str)],
    kind: MessagingKind,
) -> Result<Value, BodyError> {
    check_text(text)?;
    if replies.is_empty() || replies.len() > MAX_QUICK_REPLIES {
        return Err(BodyError::QuickReplyCount(replies.len()));
    }
    let mut items = Vec::with_capacity(replies.len());
    for (title, payload) in replies {
        let chars = title.chars().count();
        if title.trim().is_empty() || chars > MAX_QUICK_REPLY_TITLE_CHARS {
            return Err(BodyError::QuickReplyTitle((*title).to_owned()));
        }
        if payload.is_empty() || payload.chars().count() > MAX_PAYLOAD_CHARS {
            return Err(BodyError::QuickReplyPayload);
        }
        items.push(json!({ "content_type": "text", "title": title, "payload": payload }));
    }
    envelope(psid, kind, json!({ "text": text, "quick_replies": items }))
}

fn check_text(text: &str) -> Result<(), BodyError> {
    if text.trim().is_empty() {
        return Err(BodyError::EmptyText);
    }
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(BodyError::TextTooLong { chars });
    }
    Ok(())
}

fn envelope(psid: &str, kind: MessagingKind, message: Value) -> Result<Value, BodyError> {
    if psid.trim().is_empty() {
        return Err(BodyError::NoRecipient);
    }
    let (messaging_type, tag) = kind.wire();
    let mut body = json!({
        "recipient": { "id": psid },
        "messaging_type": messaging_type,
        "message": message,
    });
    if let Some(tag) = tag {
        body["tag"] = json!(tag);
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_human_agent_reply_carries_the_message_tag() {
        let body = text("123", "こんにちは", MessagingKind::HumanAgent).unwrap_or_default();
        assert_eq!(body["messaging_type"], "MESSAGE_TAG");
        assert_eq!(body["tag"], "HUMAN_AGENT");
        let body = text("123", "hi", MessagingKind::Response).unwrap_or_default();
        assert_eq!(body["messaging_type"], "RESPONSE");
        assert!(body.get("tag").is_none());
    }

    #[test]
    fn text_is_counted_in_characters_up_to_2000() {
        assert!(text("1", &"あ".repeat(2000), MessagingKind::Update).is_ok());
        assert_eq!(
            text("1", &"あ".repeat(2001), MessagingKind::Update),
            Err(BodyError::TextTooLong { chars: 2001 })
        );
        assert_eq!(
            text("1", "  ", MessagingKind::Update),
            Err(BodyError::EmptyText)
        );
        assert_eq!(
            text("", "x", MessagingKind::Update),
            Err(BodyError::NoRecipient)
        );
    }

    #[test]
    fn quick_replies_allow_13_titles_of_20_characters() {
        let ok: Vec<(&str, &str)> = vec![("はい", "YES"); 13];
        assert!(quick_replies("1", "ご予約は?", &ok, MessagingKind::Response).is_ok());
        let too_many: Vec<(&str, &str)> = vec![("はい", "YES"); 14];
        assert_eq!(
            quick_replies("1", "?", &too_many, MessagingKind::Response),
            Err(BodyError::QuickReplyCount(14))
        );
        let long = "あ".repeat(21);
        assert!(matches!(
            quick_replies("1", "?", &[(long.as_str(), "P")], MessagingKind::Response),
            Err(BodyError::QuickReplyTitle(_))
        ));
    }

    #[test]
    fn attachments_need_an_http_url() {
        let b = attachment(
            "1",
            AttachmentType::Image,
            "https://example.com/a.png",
            MessagingKind::Response,
        )
        .unwrap_or_default();
        assert_eq!(b["message"]["attachment"]["type"], "image");
        assert!(attachment(
            "1",
            AttachmentType::File,
            "file:///etc/passwd",
            MessagingKind::Response
        )
        .is_err());
        assert!(attachment(
            "1",
            AttachmentType::File,
            "not a url",
            MessagingKind::Response
        )
        .is_err());
    }
}
