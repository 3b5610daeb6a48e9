//! What a sender queues besides plain text (a WhatsApp template, media by link, reply buttons, a
//! list), as tsunagu's message objects (`tsunagu_channels::compose`), and the check that the
//! conversation's channel can carry it within the provider's limits.
use serde_json::{json, Value};
use tsunagu_channels::compose;
use tsunagu_channels::messenger::client::MessagingKind;
use tsunagu_channels::ChannelKind;

use super::ReplyRefused;

/// What is sent: the stored kind and preview body, and the message object the provider's
/// sender turns into its wire format.
#[derive(Clone, Debug)]
pub struct Outgoing {
    /// text, template, image, video, audio, file, interactive
    pub kind: String,
    /// What staff see in the conversation (a template's rendered text, a caption).
    pub body: Option<String>,
    pub payload: Value,
}

/// A reply button or list row: the id comes back when the patient taps it.
#[derive(Clone, Debug, serde::Serialize, serde::Deserialize)]
pub struct Choice {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Outgoing {
    pub fn text(text: &str) -> Self {
        Outgoing {
            kind: "text".into(),
            body: Some(text.to_string()),
            payload: json!({"type": "text", "text": text}),
        }
    }

    /// `media`: image, video, audio or document, fetched by the provider from `url`.
    pub fn media(media: &str, url: &str, caption: Option<&str>, filename: Option<&str>) -> Self {
        let kind = if media == "document" { "file" } else { media };
        Outgoing {
            kind: kind.to_string(),
            body: caption.or(filename).map(str::to_string),
            payload: json!({"type": "media", "media": media, "url": url, "caption": caption,
                "filename": filename}),
        }
    }

    /// Up to three reply buttons under a text (Messenger shows them as quick replies).
    pub fn buttons(body: &str, buttons: &[Choice]) -> Self {
        Outgoing {
            kind: "interactive".into(),
            body: Some(body.to_string()),
            payload: json!({"type": "buttons", "body": body, "buttons": buttons}),
        }
    }

    /// A WhatsApp list: one button opening sections of rows.
    pub fn list(body: &str, button: &str, sections: &[(Option<String>, Vec<Choice>)]) -> Self {
        let sections: Vec<Value> = sections
            .iter()
            .map(|(title, rows)| json!({"title": title, "rows": rows}))
            .collect();
        Outgoing {
            kind: "interactive".into(),
            body: Some(body.to_string()),
            payload: json!({"type": "list", "body": body, "button": button, "sections": sections}),
        }
    }
}

/// Whether `kind` can carry the content: the provider's own builder runs on it (with a
/// stand-in recipient), so what it would refuse is refused before anything is queued.
pub(super) fn check(kind: ChannelKind, content: &Outgoing) -> Result<(), ReplyRefused> {
    if content.kind == "text" {
        let chars = content.body.as_deref().unwrap_or_default().chars().count();
        if chars > kind.rules().max_text_chars {
            return Err(ReplyRefused::TooLong {
                max: kind.rules().max_text_chars,
            });
        }
    }
    let checked = match kind {
        ChannelKind::Line if content.kind == "text" => Ok(()),
        ChannelKind::Line => Err("LINE replies from tsunagu carry text only".to_string()),
        ChannelKind::WhatsApp => compose::whatsapp("10000000000", &content.payload).map(drop),
        ChannelKind::Messenger => {
            compose::messenger("0", &content.payload, MessagingKind::Response).map(drop)
        }
        ChannelKind::Sms => compose::sms(&content.payload).map(drop),
    };
    checked.map_err(ReplyRefused::Unsupported)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_channel_carries_what_its_provider_can() {
        let map = Outgoing::media("image", "https://clinic.example/map.png", None, None);
        assert!(
            check(ChannelKind::Line, &map).is_err(),
            "LINE replies are text"
        );
        assert!(check(ChannelKind::WhatsApp, &map).is_ok());
        assert!(check(ChannelKind::Sms, &map).is_ok());
        let long = Outgoing::text(&"a".repeat(1_601));
        assert_eq!(
            check(ChannelKind::Sms, &long).map_err(|e| e.code()),
            Err("message_too_long")
        );
        assert!(check(ChannelKind::Line, &long).is_ok());
    }
}
