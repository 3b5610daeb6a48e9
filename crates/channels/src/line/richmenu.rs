//! Rich menus: the typed request bodies and LINE's limits, checked before anything is sent.
//! LINE doc: Messaging API reference › "Rich menu" (rich menu object, area object, bounds
//! object, "Rich menu image requirements") and Action objects.
use serde::{Deserialize, Serialize};

/// LINE: at most 20 tappable areas per rich menu.
pub const MAX_AREAS: usize = 20;
/// LINE: `chatBarText` at most 14 characters.
pub const MAX_CHAT_BAR_TEXT: usize = 14;
/// LINE: `name` at most 300 characters.
pub const MAX_NAME: usize = 300;
/// LINE: an action's `label` at most 20 characters.
pub const MAX_LABEL: usize = 20;
/// LINE: postback/richmenuswitch `data` and a message action's `text` at most 300 characters.
pub const MAX_DATA: usize = 300;
/// LINE: a URI action's `uri` at most 1000 characters.
pub const MAX_URI: usize = 1000;
/// LINE: the image at most 1 MB.
pub const MAX_IMAGE_BYTES: usize = 1024 * 1024;
/// LINE: image width 800–2500 px, height at least 250 px, width/height at least 1.45.
pub const MIN_WIDTH: u32 = 800;
pub const MAX_WIDTH: u32 = 2500;
pub const MIN_HEIGHT: u32 = 250;
/// The sizes LINE's design templates use (any size within the rules is accepted).
pub const TEMPLATE_SIZES: [(u32, u32); 6] = [
    (2500, 1686),
    (2500, 843),
    (1200, 810),
    (1200, 405),
    (800, 540),
    (800, 270),
];
/// LINE: a batch control request carries at most 1,000 operations.
pub const MAX_BATCH_OPERATIONS: usize = 1000;
/// LINE: bulk link takes at most 500 user ids.
pub const MAX_BULK_USERS: usize = 500;
/// LINE: a rich menu alias id is `[a-z0-9_-]{1,32}`.
pub const MAX_ALIAS_ID: usize = 32;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Size {
    pub width: u32,
    pub height: u32,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bounds {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The actions a rich menu area may carry here (LINE allows more; these are the ones tsunagu uses).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum Action {
    /// Sends `data` to the bot in a `postback` webhook; `displayText` shows in the chat.
    Postback {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        data: String,
        #[serde(
            default,
            rename = "displayText",
            skip_serializing_if = "Option::is_none"
        )]
        display_text: Option<String>,
    },
    /// The patient sends `text` as if typed.
    Message {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        text: String,
    },
    /// Opens `uri`.
    Uri {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        uri: String,
    },
    /// Switches to the rich menu the alias points at (tabs); LINE also sends a postback.
    #[serde(rename = "richmenuswitch")]
    RichMenuSwitch {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        label: Option<String>,
        #[serde(rename = "richMenuAliasId")]
        rich_menu_alias_id: String,
        data: String,
    },
}

impl Action {
    pub fn label(&self) -> Option<&str> {
        match self {
            Action::Postback { label, .. }
            | Action::Message { label, .. }
            | Action::Uri { label, .. }
            | Action::RichMenuSwitch { label, .. } => label.as_deref(),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Area {
    pub bounds: Bounds,
    pub action: Action,
}

/// LINE's rich menu object (the body of create and validate).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RichMenu {
    pub size: Size,
    /// Shown opened when the chat opens.
    pub selected: bool,
    pub name: String,
    pub chat_bar_text: String,
    pub areas: Vec<Area>,
}

/// A rich menu as LINE lists it.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RichMenuInfo {
    pub rich_menu_id: String,
    pub name: String,
    pub chat_bar_text: String,
    pub size: Size,
    #[serde(default)]
    pub selected: bool,
}

/// One operation of `POST /v2/bot/richmenu/batch`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum BatchOperation {
    /// Everyone linked to `from` is linked to `to` instead.
    #[serde(rename = "link")]
    Link { from: String, to: String },
    /// Everyone linked to `from` is unlinked.
    #[serde(rename = "unlink")]
    Unlink { from: String },
    /// Every per-user link is removed.
    #[serde(rename = "unlinkAll")]
    UnlinkAll,
}

/// `GET /v2/bot/richmenu/progress/batch`.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BatchProgress {
    /// `ongoing`, `succeeded` or `failed`.
    pub phase: String,
    pub accepted_time: String,
    #[serde(default)]
    pub completed_time: Option<String>,
}

/// What LINE would refuse, found before sending. Each names a stable code for staff.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RichMenuError {
    #[error(
        "rich menu size {width}x{height}: width 800-2500, height >= 250, width/height >= 1.45"
    )]
    Size { width: u32, height: u32 },
    #[error("name must be 1-300 characters")]
    Name,
    #[error("chatBarText must be 1-14 characters")]
    ChatBarText,
    #[error("{count} areas: LINE allows 1-20")]
    AreaCount { count: usize },
    #[error("area {index} lies outside the image")]
    AreaOutside { index: usize },
    #[error("area {index}: {what}")]
    Action { index: usize, what: &'static str },
    #[error("image is not a PNG or JPEG")]
    ImageType,
    #[error("image is {bytes} bytes: LINE allows 1 MB")]
    ImageTooLarge { bytes: usize },
    #[error("image is {width}x{height}, the rich menu is {menu_width}x{menu_height}")]
    ImageSize {
        width: u32,
        height: u32,
        menu_width: u32,
        menu_height: u32,
    },
    #[error("alias id must be [a-z0-9_-]{{1,32}}")]
    AliasId,
    #[error("{count} operations: LINE allows 1-{max}")]
    TooMany { count: usize, max: usize },
}

impl RichMenuError {
    /// The stable code (`tsunagu_core::Code`'s wire name) staff see the words of.
    pub fn code(&self) -> &'static str {
        match self {
            RichMenuError::Size { .. } => "rich_menu_size_invalid",
            RichMenuError::ImageSize { .. } => "rich_menu_image_size_mismatch",
            RichMenuError::ImageType => "rich_menu_image_type",
            RichMenuError::ImageTooLarge { .. } => "rich_menu_image_too_large",
            RichMenuError::AreaCount { .. } | RichMenuError::AreaOutside { .. } => {
                "rich_menu_areas_invalid"
            }
            RichMenuError::Action { .. } => "rich_menu_action_invalid",
            RichMenuError::Name | RichMenuError::ChatBarText | RichMenuError::AliasId => {
                "rich_menu_text_invalid"
            }
            RichMenuError::TooMany { .. } => "rich_menu_areas_invalid",
        }
    }
}

/// LINE doc: "Rich menu image requirements": width 800–2500, height ≥ 250, aspect ≥ 1.45.
pub fn check_size(size: Size) -> Result<(), RichMenuError> {
    let Size { width, height } = size;
    // width / height >= 1.45  ⇔  100·width >= 145·height (no floats).
    let ok = (MIN_WIDTH..=MAX_WIDTH).contains(&width)
        && height >= MIN_HEIGHT
        && u64::from(width) * 100 >= u64::from(height) * 145;
    if ok {
        Ok(())
    } else {
        Err(RichMenuError::Size { width, height })
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

impl RichMenu {
    /// Everything LINE checks on create, checked here first.
    pub fn check(&self) -> Result<(), RichMenuError> {
        check_size(self.size)?;
        if self.name.trim().is_empty() || chars(&self.name) > MAX_NAME {
            return Err(RichMenuError::Name);
        }
        if self.chat_bar_text.trim().is_empty() || chars(&self.chat_bar_text) > MAX_CHAT_BAR_TEXT {
            return Err(RichMenuError::ChatBarText);
        }
        if self.areas.is_empty() || self.areas.len() > MAX_AREAS {
            return Err(RichMenuError::AreaCount {
                count: self.areas.len(),
            });
        }
        for (index, area) in self.areas.iter().enumerate() {
            let b = area.bounds;
            let inside = b.width > 0
                && b.height > 0
                && u64::from(b.x) + u64::from(b.width) <= u64::from(self.size.width)
                && u64::from(b.y) + u64::from(b.height) <= u64::from(self.size.height);
            if !inside {
                return Err(RichMenuError::AreaOutside { index });
            }
            check_action(&area.action).map_err(|what| RichMenuError::Action { index, what })?;
        }
        Ok(())
    }
}

fn check_action(action: &Action) -> Result<(), &'static str> {
    if action.label().is_some_and(|l| chars(l) > MAX_LABEL) {
        return Err("label over 20 characters");
    }
    match action {
        Action::Postback { data, .. } => {
            if data.is_empty() || chars(data) > MAX_DATA {
                return Err("postback data must be 1-300 characters");
            }
        }
        Action::Message { text, .. } => {
            if text.trim().is_empty() || chars(text) > MAX_DATA {
                return Err("message text must be 1-300 characters");
            }
        }
        Action::Uri { uri, .. } => {
            let scheme_ok = ["https://", "http://", "line://", "tel:"]
                .iter()
                .any(|s| uri.starts_with(s));
            if !scheme_ok || chars(uri) > MAX_URI || uri.chars().any(char::is_whitespace) {
                return Err("uri must be an http(s), line or tel URI of at most 1000 characters");
            }
        }
        Action::RichMenuSwitch {
            rich_menu_alias_id,
            data,
            ..
        } => {
            check_alias_id(rich_menu_alias_id).map_err(|_| "richmenuswitch needs an alias id")?;
            if data.is_empty() || chars(data) > MAX_DATA {
                return Err("richmenuswitch data must be 1-300 characters");
            }
        }
    }
    Ok(())
}

/// LINE: a rich menu alias id is 1–32 of `a-z0-9_-`.
pub fn check_alias_id(id: &str) -> Result<(), RichMenuError> {
    let ok = !id.is_empty()
        && id.len() <= MAX_ALIAS_ID
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if ok {
        Ok(())
    } else {
        Err(RichMenuError::AliasId)
    }
}

/// An image's type and pixel size, read from its header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ImageInfo {
    pub content_type: &'static str,
    pub width: u32,
    pub height: u32,
}

/// Reads a PNG's IHDR or a JPEG's first SOF marker; `None` for anything else or a broken header.
pub fn image_info(bytes: &[u8]) -> Option<ImageInfo> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") && bytes.get(12..16) == Some(b"IHDR") {
        let width = u32::from_be_bytes(bytes.get(16..20)?.try_into().ok()?);
        let height = u32::from_be_bytes(bytes.get(20..24)?.try_into().ok()?);
        return Some(ImageInfo {
            content_type: "image/png",
            width,
            height,
        });
    }
    if bytes.starts_with(&[0xFF, 0xD8]) {
        return jpeg_size(bytes).map(|(width, height)| ImageInfo {
            content_type: "image/jpeg",
            width,
            height,
        });
    }
    None
}

fn jpeg_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut i = 2;
    loop {
        // Markers may be padded with 0xFF fill bytes.
        while *bytes.get(i)? == 0xFF && *bytes.get(i + 1)? == 0xFF {
            i += 1;
        }
        if *bytes.get(i)? != 0xFF {
            return None;
        }
        let marker = *bytes.get(i + 1)?;
        let len = usize::from(u16::from_be_bytes([*bytes.get(i + 2)?, *bytes.get(i + 3)?]));
        // SOF0..SOF15 except DHT (C4), JPG (C8) and DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && !matches!(marker, 0xC4 | 0xC8 | 0xCC) {
            let h = u16::from_be_bytes([*bytes.get(i + 5)?, *bytes.get(i + 6)?]);
            let w = u16::from_be_bytes([*bytes.get(i + 7)?, *bytes.get(i + 8)?]);
            return Some((u32::from(w), u32::from(h)));
        }
        if len < 2 {
            return None;
        }
        i += 2 + len;
    }
}

/// LINE doc: "Upload rich menu image": JPEG or PNG, at most 1 MB, the rich menu's size.
pub fn check_image(bytes: &[u8], menu: Size) -> Result<ImageInfo, RichMenuError> {
    let info = image_info(bytes).ok_or(RichMenuError::ImageType)?;
    if bytes.len() > MAX_IMAGE_BYTES {
        return Err(RichMenuError::ImageTooLarge { bytes: bytes.len() });
    }
    check_size(Size {
        width: info.width,
        height: info.height,
    })?;
    if info.width != menu.width || info.height != menu.height {
        return Err(RichMenuError::ImageSize {
            width: info.width,
            height: info.height,
            menu_width: menu.width,
            menu_height: menu.height,
        });
    }
    Ok(info)
}

/// Checks a batch before it is sent (1–1,000 operations).
pub fn check_batch(operations: &[BatchOperation]) -> Result<(), RichMenuError> {
    if operations.is_empty() || operations.len() > MAX_BATCH_OPERATIONS {
        return Err(RichMenuError::TooMany {
            count: operations.len(),
            max: MAX_BATCH_OPERATIONS,
        });
    }
    Ok(())
}

#[cfg(test)]
#[path = "richmenu_tests.rs"]
mod tests;
