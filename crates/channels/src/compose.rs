//! tsunagu's own message objects (what the outbox stores and every sender reads) turned into
//! each provider's body, with the provider's limits checked. The same functions run when a
//! message is queued (to refuse what the provider would refuse) and when it is sent.
//!
//! - `{"type":"text","text"}`
//! - `{"type":"template","name","language","params":[…]}` (WhatsApp)
//! - `{"type":"media","media":"image|video|audio|document","url","caption"?,"filename"?}`
//! - `{"type":"buttons","body","buttons":[{"id","title"}]}` (WhatsApp reply buttons; Messenger
//!   quick replies)
//! - `{"type":"list","body","button","sections":[{"title"?,"rows":[{"id","title","description"?}]}]}`
//!   (WhatsApp)
use serde_json::Value;

use crate::messenger::client::{self as fb, AttachmentType, MessagingKind};
use crate::whatsapp::outgoing::{self as wa, ListRow, ListSection, MediaKind, MediaSource};

fn s<'a>(m: &'a Value, key: &str) -> &'a str {
    m.get(key).and_then(Value::as_str).unwrap_or_default()
}

fn opt<'a>(m: &'a Value, key: &str) -> Option<&'a str> {
    m.get(key).and_then(Value::as_str).filter(|v| !v.is_empty())
}

fn items<'a>(m: &'a Value, key: &str) -> &'a [Value] {
    m.get(key)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default()
}

fn unsupported(channel: &str, m: &Value) -> String {
    format!("{channel} cannot carry a {:?} message", s(m, "type"))
}

/// The WhatsApp Cloud API body for `to`.
pub fn whatsapp(to: &str, m: &Value) -> Result<Value, String> {
    let built = match s(m, "type") {
        "text" => wa::text(to, s(m, "text"), false),
        "template" => {
            let params: Vec<String> = items(m, "params")
                .iter()
                .filter_map(|p| p.as_str().map(str::to_string))
                .collect();
            wa::template(to, s(m, "name"), s(m, "language"), &params)
        }
        "media" => {
            let kind = match s(m, "media") {
                "image" => MediaKind::Image,
                "video" => MediaKind::Video,
                "audio" => MediaKind::Audio,
                "document" => MediaKind::Document,
                other => return Err(format!("unknown media kind {other:?}")),
            };
            let source = MediaSource::Link(s(m, "url"));
            wa::media(to, kind, source, opt(m, "caption"), opt(m, "filename"))
        }
        "buttons" => {
            let pairs: Vec<(&str, &str)> = items(m, "buttons")
                .iter()
                .map(|b| (s(b, "id"), s(b, "title")))
                .collect();
            wa::buttons(to, s(m, "body"), &pairs)
        }
        "list" => {
            let sections: Vec<ListSection> = items(m, "sections")
                .iter()
                .map(|sec| ListSection {
                    title: opt(sec, "title").map(str::to_string),
                    rows: items(sec, "rows")
                        .iter()
                        .map(|r| ListRow {
                            id: s(r, "id").to_string(),
                            title: s(r, "title").to_string(),
                            description: opt(r, "description").map(str::to_string),
                        })
                        .collect(),
                })
                .collect();
            wa::list(to, s(m, "body"), s(m, "button"), &sections)
        }
        _ => return Err(unsupported("WhatsApp", m)),
    };
    built.map_err(|e| e.to_string())
}

/// The Messenger Send API body for `psid`.
pub fn messenger(psid: &str, m: &Value, kind: MessagingKind) -> Result<Value, String> {
    let built = match s(m, "type") {
        "text" => fb::text(psid, s(m, "text"), kind),
        "media" => {
            let media = match s(m, "media") {
                "image" => AttachmentType::Image,
                "video" => AttachmentType::Video,
                "audio" => AttachmentType::Audio,
                "document" => AttachmentType::File,
                other => return Err(format!("unknown media kind {other:?}")),
            };
            fb::attachment(psid, media, s(m, "url"), kind)
        }
        // Reply buttons become quick replies: the tap comes back as the title with the id.
        "buttons" => {
            let pairs: Vec<(&str, &str)> = items(m, "buttons")
                .iter()
                .map(|b| (s(b, "title"), s(b, "id")))
                .collect();
            fb::quick_replies(psid, s(m, "body"), &pairs, kind)
        }
        _ => return Err(unsupported("Messenger", m)),
    };
    built.map_err(|e| e.to_string())
}

/// An SMS (or MMS with a media link): `(body, media urls)`.
pub fn sms(m: &Value) -> Result<(String, Vec<String>), String> {
    match s(m, "type") {
        "text" => Ok((s(m, "text").to_string(), Vec::new())),
        "media" => {
            let url = s(m, "url");
            if !(url.starts_with("https://") || url.starts_with("http://")) {
                return Err("media needs an http(s) url".into());
            }
            Ok((
                opt(m, "caption").unwrap_or_default().to_string(),
                vec![url.to_string()],
            ))
        }
        _ => Err(unsupported("SMS", m)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_provider_gets_its_own_shape_and_limits() {
        let media = json!({"type": "media", "media": "image", "url": "https://example.com/map.png", "caption": "地図"});
        let wa_body = whatsapp("819012345678", &media).unwrap();
        assert_eq!(wa_body["image"]["link"], "https://example.com/map.png");
        let fb_body = messenger("123", &media, MessagingKind::Response).unwrap();
        assert_eq!(fb_body["message"]["attachment"]["type"], "image");
        assert_eq!(
            sms(&media).unwrap().1,
            vec!["https://example.com/map.png".to_string()]
        );

        let buttons = json!({"type": "buttons", "body": "ご都合は？", "buttons": [{"id": "am", "title": "午前"}, {"id": "pm", "title": "午後"}]});
        assert_eq!(
            whatsapp("819012345678", &buttons).unwrap()["interactive"]["type"],
            "button"
        );
        assert_eq!(
            messenger("1", &buttons, MessagingKind::Response).unwrap()["message"]["quick_replies"]
                [1]["payload"],
            "pm"
        );
        assert!(sms(&buttons).is_err(), "SMS has no buttons");

        let four = json!({"type": "buttons", "body": "?", "buttons": [
            {"id": "1", "title": "a"}, {"id": "2", "title": "b"}, {"id": "3", "title": "c"}, {"id": "4", "title": "d"}]});
        assert!(
            whatsapp("819012345678", &four).is_err(),
            "WhatsApp allows 3 reply buttons"
        );
        let list = json!({"type": "list", "body": "診療科を選んでください", "button": "選ぶ",
            "sections": [{"title": "内科", "rows": [{"id": "im", "title": "一般内科"}]}]});
        assert_eq!(
            whatsapp("819012345678", &list).unwrap()["interactive"]["type"],
            "list"
        );
        assert!(messenger("1", &list, MessagingKind::Response).is_err());
    }
}
