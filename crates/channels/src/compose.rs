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
//! - `{"type":"choice","body","choices":[{"id","title"}]}` (a question with 2–10 answers, each
//!   provider's native way: LINE quick replies, WhatsApp reply buttons (≤ 3) or a list,
//!   Messenger quick replies, numbered text on SMS; a tap comes back as the title's text)
use serde_json::{json, Value};

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

/// LINE quick reply items and their labels (LINE: 13 items, labels ≤ 20 characters).
const LINE_MAX_QUICK_REPLIES: usize = 13;
const LINE_MAX_LABEL: usize = 20;
/// WhatsApp's list button label (≤ 20 characters).
const WA_LIST_BUTTON: &str = "選択肢を見る";
const WA_MAX_BUTTONS: usize = 3;

fn choice_titles(m: &Value) -> Vec<&str> {
    items(m, "choices").iter().map(|c| s(c, "title")).collect()
}

/// A LINE message object: tsunagu's text as itself, a choice as a text with quick reply
/// buttons whose tap sends the title back (a `message` action); LINE's own objects unchanged.
pub fn line(m: &Value) -> Result<Value, String> {
    match s(m, "type") {
        "choice" => {
            let titles = choice_titles(m);
            if titles.is_empty() || titles.len() > LINE_MAX_QUICK_REPLIES {
                return Err(format!(
                    "{} quick replies, LINE allows 1 to {LINE_MAX_QUICK_REPLIES}",
                    titles.len()
                ));
            }
            if let Some(t) = titles
                .iter()
                .find(|t| t.trim().is_empty() || t.chars().count() > LINE_MAX_LABEL)
            {
                return Err(format!(
                    "quick reply label {t:?}: 1 to {LINE_MAX_LABEL} characters"
                ));
            }
            let items: Vec<Value> = titles
                .iter()
                .map(|t| {
                    json!({"type": "action", "action": {"type": "message", "label": t, "text": t}})
                })
                .collect();
            Ok(json!({"type": "text", "text": s(m, "body"), "quickReply": {"items": items}}))
        }
        _ => Ok(m.clone()),
    }
}

/// The WhatsApp Cloud API body for `to`.
pub fn whatsapp(to: &str, m: &Value) -> Result<Value, String> {
    let built = match s(m, "type") {
        "choice" => {
            let choices = items(m, "choices");
            if choices.len() <= WA_MAX_BUTTONS {
                let pairs: Vec<(&str, &str)> = choices
                    .iter()
                    .map(|c| (s(c, "id"), s(c, "title")))
                    .collect();
                wa::buttons(to, s(m, "body"), &pairs)
            } else {
                let rows = choices
                    .iter()
                    .map(|c| ListRow {
                        id: s(c, "id").to_string(),
                        title: s(c, "title").to_string(),
                        description: None,
                    })
                    .collect();
                let section = ListSection { title: None, rows };
                wa::list(to, s(m, "body"), WA_LIST_BUTTON, &[section])
            }
        }
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
        // Reply buttons and choices become quick replies: the tap comes back as the title
        // with the id.
        "buttons" | "choice" => {
            let key = if s(m, "type") == "choice" {
                "choices"
            } else {
                "buttons"
            };
            let pairs: Vec<(&str, &str)> = items(m, key)
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
        // 「1. 発熱」… one per line, answered by number.
        "choice" => {
            let titles = choice_titles(m);
            if titles.is_empty() {
                return Err("a choice needs at least one answer".into());
            }
            let mut body = s(m, "body").to_string();
            for (i, t) in titles.iter().enumerate() {
                body.push_str(&format!("\n{}. {t}", i + 1));
            }
            body.push_str("\n番号でお答えください");
            Ok((body, Vec::new()))
        }
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

    #[test]
    fn a_choice_is_native_on_each_channel() {
        let two = json!({"type": "choice", "body": "症状は？", "choices": [
            {"id": "1", "title": "発熱"}, {"id": "2", "title": "せき"}]});
        let line_body = line(&two).unwrap();
        assert_eq!(line_body["type"], "text");
        assert_eq!(
            line_body["quickReply"]["items"][1]["action"],
            json!({"type": "message", "label": "せき", "text": "せき"})
        );
        assert_eq!(
            line(&json!({"type": "text", "text": "x"})).unwrap(),
            json!({"type": "text", "text": "x"})
        );
        assert_eq!(
            whatsapp("819012345678", &two).unwrap()["interactive"]["type"],
            "button"
        );
        let choices: Vec<Value> = (1..=10)
            .map(|i| json!({"id": i.to_string(), "title": format!("選択肢{i}")}))
            .collect();
        let ten = json!({"type": "choice", "body": "どれ？", "choices": choices});
        let wa_list = whatsapp("819012345678", &ten).unwrap();
        assert_eq!(wa_list["interactive"]["type"], "list");
        assert_eq!(
            wa_list["interactive"]["action"]["sections"][0]["rows"]
                .as_array()
                .unwrap()
                .len(),
            10
        );
        assert_eq!(
            messenger("1", &two, MessagingKind::Response).unwrap()["message"]["quick_replies"][0]
                ["title"],
            "発熱"
        );
        assert_eq!(
            sms(&two).unwrap().0,
            "症状は？\n1. 発熱\n2. せき\n番号でお答えください"
        );
        let long = json!({"type": "choice", "body": "?", "choices": [
            {"id": "1", "title": "とても長い選択肢のラベルで二十文字を超えています"}]});
        assert!(line(&long).is_err());
    }
}
