//! What the emulated LINE checks on a rich menu before keeping it: the body against LINE's
//! OpenAPI spec plus the rules the spec does not state, and an image's type and size.
#![allow(clippy::result_large_err)]
use axum::response::Response;
use serde_json::Value;

use super::super::http::{error, invalid};
use super::super::spec::{self, Detail};

pub(super) fn parse_json(body: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            400,
            &format!("The request body could not be parsed as JSON: {e}"),
        )
    })
}

pub(super) fn check_schema(schema: &str, body: &Value) -> Result<(), Response> {
    let spec = spec::spec().map_err(|e| error(500, &format!("sandbox spec failed: {e}")))?;
    let details = spec.validate(schema, body);
    if details.is_empty() {
        Ok(())
    } else {
        Err(invalid(&details))
    }
}

pub(super) fn detail(property: &str, message: &str) -> Detail {
    Detail {
        property: property.to_owned(),
        message: message.to_owned(),
    }
}

pub(super) fn size_ok(width: i64, height: i64) -> bool {
    (800..=2500).contains(&width) && height >= 250 && width * 100 >= height * 145
}

/// What LINE checks on a rich menu object beyond its schema.
pub(super) fn menu_rules(body: &Value) -> Vec<Detail> {
    let mut out = Vec::new();
    for field in ["size", "name", "chatBarText", "areas"] {
        if body.get(field).is_none() {
            out.push(detail(field, "must be specified"));
        }
    }
    let (w, h) = (
        body["size"]["width"].as_i64().unwrap_or(0),
        body["size"]["height"].as_i64().unwrap_or(0),
    );
    if body.get("size").is_some() && !size_ok(w, h) {
        out.push(detail("size", "invalid rich menu size"));
    }
    if body["chatBarText"].as_str().is_some_and(|t| t.is_empty()) {
        out.push(detail("chatBarText", "size must be between 1 and 14"));
    }
    let areas = body["areas"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    if areas.len() > 20 {
        out.push(detail("areas", "size must be between 0 and 20"));
    }
    for (i, a) in areas.iter().enumerate() {
        let b = &a["bounds"];
        let get = |k: &str| b[k].as_i64().unwrap_or(-1);
        let inside = get("x") >= 0
            && get("y") >= 0
            && get("width") > 0
            && get("height") > 0
            && get("x") + get("width") <= w
            && get("y") + get("height") <= h;
        if !inside {
            out.push(detail(
                &format!("areas[{i}].bounds"),
                "bounds must be within the rich menu",
            ));
        }
        if a.get("action").is_none() {
            out.push(detail(&format!("areas[{i}].action"), "must be specified"));
        }
    }
    out
}

/// The spec's problems and LINE's further rules, answered together as LINE does.
pub(super) fn check_menu(body: &Value) -> Result<(), Response> {
    let spec = spec::spec().map_err(|e| error(500, &format!("sandbox spec failed: {e}")))?;
    let mut details = spec.validate("RichMenuRequest", body);
    details.extend(menu_rules(body));
    details.sort_by(|a, b| a.property.cmp(&b.property));
    details.dedup();
    if details.is_empty() {
        Ok(())
    } else {
        Err(invalid(&details))
    }
}

/// An image's content type and size from its header (PNG IHDR, JPEG SOF).
pub(super) fn image_size(bytes: &[u8]) -> Option<(&'static str, i64, i64)> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        let w = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
        let h = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
        return Some(("image/png", i64::from(w), i64::from(h)));
    }
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    let mut i = 2;
    loop {
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(i + 1)?;
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = u16::from_be_bytes([*bytes.get(i + 5)?, *bytes.get(i + 6)?]);
            let w = u16::from_be_bytes([*bytes.get(i + 7)?, *bytes.get(i + 8)?]);
            return Some(("image/jpeg", i64::from(w), i64::from(h)));
        }
        i += 2 + len.max(2);
    }
}
