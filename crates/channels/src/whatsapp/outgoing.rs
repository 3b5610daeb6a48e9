//! Send bodies for `POST /{phone-number-id}/messages`, checked against Meta's limits before
//! anything leaves, so a refusal names the field instead of costing a round trip.
use serde_json::{json, Value};

/// Meta doc: Cloud API › Messages › "Text messages" (body up to 4,096 characters).
pub const MAX_TEXT: usize = 4096;
/// Meta doc: "Interactive reply buttons messages" / "Interactive list messages".
pub const MAX_INTERACTIVE_BODY: usize = 1024;
pub const MAX_BUTTONS: usize = 3;
pub const MAX_BUTTON_ID: usize = 256;
pub const MAX_BUTTON_TITLE: usize = 20;
pub const MAX_SECTIONS: usize = 10;
pub const MAX_ROWS: usize = 10;
pub const MAX_ROW_ID: usize = 200;
pub const MAX_ROW_TITLE: usize = 24;
pub const MAX_ROW_DESCRIPTION: usize = 72;
pub const MAX_LIST_BUTTON: usize = 20;
pub const MAX_SECTION_TITLE: usize = 24;
/// Meta doc: "Media messages" (captions up to 1,024 characters).
pub const MAX_CAPTION: usize = 1024;

/// Why a body was not built; the message says which field and which limit.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {problem}")]
pub struct BuildError {
    pub field: String,
    pub problem: String,
}

fn fail<T>(field: impl Into<String>, problem: impl Into<String>) -> Result<T, BuildError> {
    Err(BuildError {
        field: field.into(),
        problem: problem.into(),
    })
}

/// Non-empty and at most `max` characters (Meta counts characters, not bytes).
fn check(field: &str, value: &str, max: usize) -> Result<(), BuildError> {
    let n = value.chars().count();
    if value.trim().is_empty() {
        return fail(field, "may not be empty");
    }
    if n > max {
        return fail(field, format!("{n} characters, WhatsApp allows {max}"));
    }
    Ok(())
}

fn envelope(to: &str, kind: &str, object: Value) -> Result<Value, BuildError> {
    let digits = to.chars().filter(char::is_ascii_digit).count();
    if !(7..=15).contains(&digits) {
        return fail("to", "a phone number or wa_id with country code is needed");
    }
    Ok(json!({
        "messaging_product": "whatsapp",
        "recipient_type": "individual",
        "to": to,
        "type": kind,
        kind: object,
    }))
}

/// Makes `body` a reply to `message_id` (quoted above it on the phone).
pub fn reply_to(mut body: Value, message_id: &str) -> Value {
    body["context"] = json!({ "message_id": message_id });
    body
}

/// Meta doc: Messages › "Text messages".
pub fn text(to: &str, body: &str, preview_url: bool) -> Result<Value, BuildError> {
    check("text.body", body, MAX_TEXT)?;
    envelope(
        to,
        "text",
        json!({ "body": body, "preview_url": preview_url }),
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    Document,
    Sticker,
}

impl MediaKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MediaKind::Image => "image",
            MediaKind::Audio => "audio",
            MediaKind::Video => "video",
            MediaKind::Document => "document",
            MediaKind::Sticker => "sticker",
        }
    }
}

/// Where media comes from: an uploaded media id, or an https link WhatsApp fetches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaSource<'a> {
    Id(&'a str),
    Link(&'a str),
}

/// Meta doc: Messages › "Media messages". Captions only on image, video and document;
/// a filename only on documents.
pub fn media(
    to: &str,
    kind: MediaKind,
    source: MediaSource<'_>,
    caption: Option<&str>,
    filename: Option<&str>,
) -> Result<Value, BuildError> {
    let k = kind.as_str();
    let mut object = match source {
        MediaSource::Id(id) if !id.trim().is_empty() => json!({ "id": id }),
        MediaSource::Link(link) if link.starts_with("https://") || link.starts_with("http://") => {
            json!({ "link": link })
        }
        _ => {
            return fail(
                format!("{k}.id/link"),
                "a media id or an http(s) link is needed",
            )
        }
    };
    if let Some(c) = caption {
        if !matches!(
            kind,
            MediaKind::Image | MediaKind::Video | MediaKind::Document
        ) {
            return fail(
                format!("{k}.caption"),
                "only images, videos and documents have captions",
            );
        }
        check(&format!("{k}.caption"), c, MAX_CAPTION)?;
        object["caption"] = json!(c);
    }
    if let Some(f) = filename {
        if kind != MediaKind::Document {
            return fail(format!("{k}.filename"), "only documents have a filename");
        }
        check("document.filename", f, 240)?;
        object["filename"] = json!(f);
    }
    envelope(to, k, object)
}

/// Meta doc: Messages › "Interactive reply buttons messages": 1–3 buttons, unique ids and titles.
pub fn buttons(to: &str, body: &str, buttons: &[(&str, &str)]) -> Result<Value, BuildError> {
    check("interactive.body.text", body, MAX_INTERACTIVE_BODY)?;
    if buttons.is_empty() || buttons.len() > MAX_BUTTONS {
        return fail(
            "interactive.action.buttons",
            format!(
                "{} buttons, WhatsApp allows 1 to {MAX_BUTTONS}",
                buttons.len()
            ),
        );
    }
    let mut list = Vec::new();
    for (i, (id, title)) in buttons.iter().enumerate() {
        check(&format!("buttons[{i}].id"), id, MAX_BUTTON_ID)?;
        check(&format!("buttons[{i}].title"), title, MAX_BUTTON_TITLE)?;
        if buttons[..i].iter().any(|(a, b)| a == id || b == title) {
            return fail(format!("buttons[{i}]"), "ids and titles must be unique");
        }
        list.push(json!({ "type": "reply", "reply": { "id": id, "title": title } }));
    }
    envelope(
        to,
        "interactive",
        json!({
            "type": "button",
            "body": { "text": body },
            "action": { "buttons": list },
        }),
    )
}

/// One row of a list message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRow {
    pub id: String,
    pub title: String,
    pub description: Option<String>,
}

/// A titled group of rows (the title is required when there are several sections).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListSection {
    pub title: Option<String>,
    pub rows: Vec<ListRow>,
}

/// Meta doc: Messages › "Interactive list messages": ≤ 10 sections, ≤ 10 rows in all.
pub fn list(
    to: &str,
    body: &str,
    button_label: &str,
    sections: &[ListSection],
) -> Result<Value, BuildError> {
    check("interactive.body.text", body, MAX_INTERACTIVE_BODY)?;
    check("interactive.action.button", button_label, MAX_LIST_BUTTON)?;
    if sections.is_empty() || sections.len() > MAX_SECTIONS {
        return fail(
            "interactive.action.sections",
            format!(
                "{} sections, WhatsApp allows 1 to {MAX_SECTIONS}",
                sections.len()
            ),
        );
    }
    let rows: usize = sections.iter().map(|s| s.rows.len()).sum();
    if rows == 0 || rows > MAX_ROWS {
        return fail(
            "interactive.action.sections",
            format!("{rows} rows in all, WhatsApp allows 1 to {MAX_ROWS}"),
        );
    }
    let mut out = Vec::new();
    let mut ids = Vec::new();
    for (s, section) in sections.iter().enumerate() {
        let mut section_json = json!({});
        match &section.title {
            Some(t) => {
                check(&format!("sections[{s}].title"), t, MAX_SECTION_TITLE)?;
                section_json["title"] = json!(t);
            }
            None if sections.len() > 1 => {
                return fail(
                    format!("sections[{s}].title"),
                    "required when there are several sections",
                )
            }
            None => {}
        }
        let mut rows = Vec::new();
        for (r, row) in section.rows.iter().enumerate() {
            let at = format!("sections[{s}].rows[{r}]");
            check(&format!("{at}.id"), &row.id, MAX_ROW_ID)?;
            check(&format!("{at}.title"), &row.title, MAX_ROW_TITLE)?;
            if ids.contains(&row.id.as_str()) {
                return fail(format!("{at}.id"), "row ids must be unique");
            }
            ids.push(row.id.as_str());
            let mut row_json = json!({ "id": row.id, "title": row.title });
            if let Some(d) = &row.description {
                check(&format!("{at}.description"), d, MAX_ROW_DESCRIPTION)?;
                row_json["description"] = json!(d);
            }
            rows.push(row_json);
        }
        section_json["rows"] = json!(rows);
        out.push(section_json);
    }
    envelope(
        to,
        "interactive",
        json!({
            "type": "list",
            "body": { "text": body },
            "action": { "button": button_label, "sections": out },
        }),
    )
}

/// Meta doc: Messages › "Template messages": an approved template by name and language, with
/// the body's `{{1}}…` values in order (no components when there are none).
pub fn template(
    to: &str,
    name: &str,
    language_code: &str,
    body_params: &[String],
) -> Result<Value, BuildError> {
    check("template.name", name, 512)?;
    check("template.language.code", language_code, 16)?;
    let mut object = json!({ "name": name, "language": { "code": language_code } });
    if !body_params.is_empty() {
        let mut params = Vec::new();
        for (i, p) in body_params.iter().enumerate() {
            // Meta refuses empty values and newlines/tabs in template parameters (error 132018).
            check(&format!("template body parameter {}", i + 1), p, 32768)?;
            if p.contains(['\n', '\t']) {
                return fail(
                    format!("template body parameter {}", i + 1),
                    "may not contain new lines or tabs",
                );
            }
            params.push(json!({ "type": "text", "text": p }));
        }
        object["components"] = json!([{ "type": "body", "parameters": params }]);
    }
    envelope(to, "template", object)
}

/// Meta doc: Messages › "Mark messages as read".
pub fn mark_read(message_id: &str) -> Value {
    json!({ "messaging_product": "whatsapp", "status": "read", "message_id": message_id })
}
