//! What a sender queues besides plain text (a WhatsApp template, media by link, reply buttons, a
//! list), as tsunagu's message objects (`tsunagu_channels::compose`), and the check that the
//! conversation's channel can carry it within the provider's limits.
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_core::{Code, Refusal};

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

    /// A question with 2–10 answers, each channel's native way (LINE quick replies, WhatsApp
    /// buttons or a list, Messenger quick replies, numbered SMS); the tap comes back as the
    /// answer's text.
    pub fn choice(body: &str, answers: &[String]) -> Self {
        let choices: Vec<Value> = answers
            .iter()
            .enumerate()
            .map(|(i, t)| json!({"id": (i + 1).to_string(), "title": t}))
            .collect();
        Outgoing {
            kind: "interactive".into(),
            body: Some(body.to_string()),
            payload: json!({"type": "choice", "body": body, "choices": choices}),
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

/// `message_too_long`, with the limit the catalog text names (`{max}`).
pub(super) fn too_long(max: usize) -> Refusal {
    Refusal::new(Code::MessageTooLong)
        .detail(format!(
            "the message is longer than the channel allows ({max} characters)"
        ))
        .arg("max", max)
}

/// Whether `kind` can carry the content: its adapter checks the message object the way its
/// sender will build it, so what the provider would refuse is refused before anything is queued.
pub(super) fn check(kind: ChannelKind, content: &Outgoing) -> Result<(), Refusal> {
    let max = kind.rules().max_text_chars;
    if content.kind == "text" {
        let chars = content.body.as_deref().unwrap_or_default().chars().count();
        if chars > max {
            return Err(too_long(max));
        }
    }
    kind.adapter()
        .can_carry(&content.payload)
        .map_err(|why| Refusal::new(Code::UnsupportedContent).detail(why))
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
            check(ChannelKind::Sms, &long).map_err(|e| e.code),
            Err(Code::MessageTooLong)
        );
        assert!(check(ChannelKind::Line, &long).is_ok());
    }
}
