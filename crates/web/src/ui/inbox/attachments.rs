//! `GET /app/attachments/{id}`: the bytes of a patient's image or file, for the staff of that
//! clinic who may read messages. Only well-known image, audio and video types are shown inline;
//! anything else (HTML, SVG, PDF…) is served as a download so it can never run in our origin.
use axum::extract::{Path, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use tsunagu_core::{AttachmentId, MessageId, Permission};
use tsunagu_store::conversations;

use super::{audit_throttled, conn};
use crate::client_ip::ClientIp;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

fn base_type(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Images the browser may render in an `<img>` on the conversation page.
pub fn shows_inline_image(content_type: &str) -> bool {
    matches!(
        base_type(content_type).as_str(),
        "image/jpeg" | "image/png" | "image/gif" | "image/webp"
    )
}

fn plays_inline(content_type: &str) -> bool {
    matches!(
        base_type(content_type).as_str(),
        "video/mp4"
            | "video/quicktime"
            | "audio/mp4"
            | "audio/m4a"
            | "audio/x-m4a"
            | "audio/mpeg"
            | "audio/aac"
    )
}

fn extension(content_type: &str) -> &'static str {
    match base_type(content_type).as_str() {
        "image/jpeg" => "jpg",
        "image/png" => "png",
        "image/gif" => "gif",
        "image/webp" => "webp",
        "video/mp4" => "mp4",
        "video/quicktime" => "mov",
        "audio/mp4" | "audio/m4a" | "audio/x-m4a" => "m4a",
        "audio/mpeg" => "mp3",
        "audio/aac" => "aac",
        "application/pdf" => "pdf",
        _ => "bin",
    }
}

/// `filename*=UTF-8''…` (RFC 6266/5987), so Japanese file names survive; control characters
/// and path separators are dropped first.
fn disposition(kind: &str, name: &str) -> String {
    let clean: String = name
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '/' | '\\'))
        .collect();
    let mut enc = String::new();
    for b in clean.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            enc.push(b as char);
        } else {
            enc.push_str(&format!("%{b:02X}"));
        }
    }
    format!("{kind}; filename*=UTF-8''{enc}")
}

pub async fn serve(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    staff.require(Permission::ReadMessages)?;
    let id = AttachmentId::parse(&id).map_err(|_| PageError::not_found())?;
    let clinic = staff.clinic.clinic_id();
    let mut conn = conn(&state).await?;
    let a = conversations::attachment(&mut conn, &clinic, id.as_str())
        .await?
        .ok_or_else(PageError::not_found)?;
    let message = conversations::message_by_id(
        &mut conn,
        &clinic,
        &MessageId::from_db(a.message_id.clone()),
    )
    .await?;
    drop(conn);
    audit_throttled(
        &state,
        &staff,
        &ip,
        "attachment.read",
        "attachment",
        &[a.id.as_str(), a.message_id.as_str()],
    )
    .await?;
    let file_name = message
        .and_then(|m| serde_json::from_str::<serde_json::Value>(&m.payload).ok())
        .and_then(|p| {
            p.get("fileName")
                .and_then(|f| f.as_str())
                .map(str::to_string)
        })
        .unwrap_or_else(|| format!("{}.{}", a.id, extension(&a.content_type)));
    let inline = shows_inline_image(&a.content_type) || plays_inline(&a.content_type);
    let content_type = if inline {
        base_type(&a.content_type)
    } else {
        "application/octet-stream".to_string()
    };
    let mut res = a.data.into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_str(&content_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream")),
    );
    let disp = disposition(if inline { "inline" } else { "attachment" }, &file_name);
    if let Ok(v) = HeaderValue::from_str(&disp) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    // Patient data: kept by no cache, the browser's included.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-store"),
    );
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_image_types_render_inline() {
        assert!(shows_inline_image("image/jpeg"));
        assert!(shows_inline_image("IMAGE/PNG; charset=binary"));
        assert!(!shows_inline_image("image/svg+xml"));
        assert!(!shows_inline_image("text/html"));
    }

    #[test]
    fn a_japanese_file_name_is_percent_encoded() {
        assert_eq!(
            disposition("attachment", "問診票.pdf"),
            "attachment; filename*=UTF-8''%E5%95%8F%E8%A8%BA%E7%A5%A8.pdf"
        );
        assert_eq!(
            disposition("attachment", "../a\"b"),
            "attachment; filename*=UTF-8''..a%22b"
        );
    }
}
