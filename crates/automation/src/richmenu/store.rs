//! The `rich_menus` and `rich_menu_batches` rows: drafts, their image and areas, publishing.
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_channels::line::richmenu::{
    check_alias_id, check_image, check_size, Action, Area, RichMenu, Size,
};
use tsunagu_core::jobs::{RichMenuAssign, RichMenuPublish, RichMenuSetDefault};
use tsunagu_core::{new_id, ChannelId, ClinicId, Code, Refusal};
use tsunagu_store::jobs::{enqueue, Enqueue};

use super::refusal;

/// A rich menu as staff see it (the image itself is read with [`image`]).
#[derive(Clone, Debug, FromRow, Serialize)]
pub struct Menu {
    pub id: String,
    pub clinic_id: String,
    pub channel_id: String,
    pub name: String,
    pub chat_bar_text: String,
    pub width: i64,
    pub height: i64,
    pub image_type: Option<String>,
    pub areas: String,
    pub alias_id: Option<String>,
    /// draft, publishing, published or failed.
    pub state: String,
    pub failure_code: Option<String>,
    pub line_rich_menu_id: Option<String>,
    pub replaced_line_rich_menu_id: Option<String>,
    pub is_default: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl Menu {
    pub fn size(&self) -> Size {
        Size {
            width: u32::try_from(self.width).unwrap_or(0),
            height: u32::try_from(self.height).unwrap_or(0),
        }
    }

    pub fn areas(&self) -> Vec<Area> {
        serde_json::from_str(&self.areas).unwrap_or_default()
    }

    pub fn channel(&self) -> ChannelId {
        ChannelId::from_db(self.channel_id.clone())
    }

    /// The body LINE's create endpoint takes.
    pub fn line_body(&self) -> RichMenu {
        RichMenu {
            size: self.size(),
            selected: false,
            name: self.name.clone(),
            chat_bar_text: self.chat_bar_text.clone(),
            areas: self.areas(),
        }
    }
}

const COLS: &str = "id, clinic_id, channel_id, name, chat_bar_text, width, height, image_type, areas, alias_id, state, failure_code, line_rich_menu_id, replaced_line_rich_menu_id, is_default, created_at, updated_at";

/// What staff type for a menu: name, chat bar text, size and its tab name.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    pub name: String,
    pub chat_bar_text: String,
    pub width: u32,
    pub height: u32,
    pub alias_id: Option<String>,
}

fn check_draft(d: &Draft) -> Result<(), Refusal> {
    check_size(Size {
        width: d.width,
        height: d.height,
    })
    .map_err(|e| refusal(&e))?;
    let name = d.name.trim().chars().count();
    let bar = d.chat_bar_text.trim().chars().count();
    if name == 0 || name > 300 || bar == 0 || bar > 14 {
        return Err(Refusal::new(Code::RichMenuTextInvalid));
    }
    if let Some(alias) = &d.alias_id {
        check_alias_id(alias).map_err(|e| refusal(&e))?;
    }
    Ok(())
}

async fn alias_taken(
    conn: &mut AnyConnection,
    channel: &str,
    alias: Option<&str>,
    except: &str,
) -> anyhow::Result<bool> {
    let Some(alias) = alias else {
        return Ok(false);
    };
    let n: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM rich_menus WHERE channel_id = $1 AND alias_id = $2 AND id <> $3",
    )
    .bind(channel)
    .bind(alias)
    .bind(except)
    .fetch_one(conn)
    .await
    .context("checking the rich menu alias")?;
    Ok(n > 0)
}

/// A new draft on a LINE channel of the clinic.
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
    d: &Draft,
    now_ms: i64,
) -> anyhow::Result<Result<String, Refusal>> {
    let Some(ch) = tsunagu_store::channels::by_id(conn, clinic, channel).await? else {
        return Ok(Err(Refusal::new(Code::ChannelMissing)));
    };
    if ch.kind != "line" {
        return Ok(Err(Refusal::new(Code::RichMenuChannelNotLine)));
    }
    if let Err(r) = check_draft(d) {
        return Ok(Err(r));
    }
    if alias_taken(conn, channel.as_str(), d.alias_id.as_deref(), "").await? {
        return Ok(Err(Refusal::new(Code::RichMenuAliasExists)));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO rich_menus (id, clinic_id, channel_id, name, chat_bar_text, width, height, areas, alias_id, state, is_default, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, '[]', $8, 'draft', 0, $9, $9)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(channel.as_str())
    .bind(d.name.trim())
    .bind(d.chat_bar_text.trim())
    .bind(i64::from(d.width))
    .bind(i64::from(d.height))
    .bind(d.alias_id.as_deref())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating the rich menu")?;
    Ok(Ok(id))
}

/// Back to draft after a change: a published LINE menu cannot change, so the next publish makes
/// a new one and moves everyone across from this one.
const TO_DRAFT: &str = "state = 'draft', failure_code = NULL,
    replaced_line_rich_menu_id = COALESCE(replaced_line_rich_menu_id, line_rich_menu_id),
    line_rich_menu_id = NULL";

/// Changes name, chat bar text and tab name (the size stays: the image and areas follow it).
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    d: &Draft,
    now_ms: i64,
) -> anyhow::Result<Result<(), Refusal>> {
    let Some(menu) = get(conn, clinic, id).await? else {
        return Ok(Err(Refusal::new(Code::NotFound)));
    };
    let d = Draft {
        width: menu.size().width,
        height: menu.size().height,
        ..d.clone()
    };
    if let Err(r) = check_draft(&d) {
        return Ok(Err(r));
    }
    if alias_taken(conn, &menu.channel_id, d.alias_id.as_deref(), id).await? {
        return Ok(Err(Refusal::new(Code::RichMenuAliasExists)));
    }
    sqlx::query(&format!(
        "UPDATE rich_menus SET name = $1, chat_bar_text = $2, alias_id = $3, {TO_DRAFT}, updated_at = $4
         WHERE id = $5 AND clinic_id = $6"
    ))
    .bind(d.name.trim())
    .bind(d.chat_bar_text.trim())
    .bind(d.alias_id.as_deref())
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("updating the rich menu")?;
    Ok(Ok(()))
}

/// Stores the image if LINE would take it for this menu (PNG/JPEG, ≤ 1 MB, the menu's size);
/// a refused image changes nothing.
pub async fn set_image(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    bytes: &[u8],
    now_ms: i64,
) -> anyhow::Result<Result<(), Refusal>> {
    let Some(menu) = get(conn, clinic, id).await? else {
        return Ok(Err(Refusal::new(Code::NotFound)));
    };
    let info = match check_image(bytes, menu.size()) {
        Ok(info) => info,
        Err(e) => {
            let size = menu.size();
            return Ok(Err(refusal(&e)
                .arg("width", size.width)
                .arg("height", size.height)));
        }
    };
    sqlx::query(&format!(
        "UPDATE rich_menus SET image = $1, image_type = $2, {TO_DRAFT}, updated_at = $3
         WHERE id = $4 AND clinic_id = $5"
    ))
    .bind(bytes.to_vec())
    .bind(info.content_type)
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("storing the rich menu image")?;
    Ok(Ok(()))
}

/// Replaces the tappable areas. Stricter than LINE where a clinic should be: links are https
/// only, and a tab switches only to a menu of this channel that has an alias.
pub async fn set_areas(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    areas: Vec<Area>,
    now_ms: i64,
) -> anyhow::Result<Result<(), Refusal>> {
    let Some(menu) = get(conn, clinic, id).await? else {
        return Ok(Err(Refusal::new(Code::NotFound)));
    };
    let mut body = menu.line_body();
    body.areas = areas;
    if let Err(e) = body.check() {
        return Ok(Err(refusal(&e)));
    }
    let aliases: Vec<String> = sqlx::query_scalar(
        "SELECT alias_id FROM rich_menus WHERE channel_id = $1 AND alias_id IS NOT NULL",
    )
    .bind(&menu.channel_id)
    .fetch_all(&mut *conn)
    .await
    .context("listing the channel's rich menu aliases")?;
    for a in &body.areas {
        let ok = match &a.action {
            Action::Uri { uri, .. } => uri.starts_with("https://"),
            Action::RichMenuSwitch {
                rich_menu_alias_id, ..
            } => aliases.contains(rich_menu_alias_id),
            _ => true,
        };
        if !ok {
            return Ok(Err(Refusal::new(Code::RichMenuActionInvalid)));
        }
    }
    let json = serde_json::to_string(&body.areas).context("writing the areas")?;
    sqlx::query(&format!(
        "UPDATE rich_menus SET areas = $1, {TO_DRAFT}, updated_at = $2 WHERE id = $3 AND clinic_id = $4"
    ))
    .bind(json)
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("storing the rich menu areas")?;
    Ok(Ok(()))
}

/// Queues `rich_menu.publish` for a complete menu (image and valid areas).
pub async fn request_publish(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    now_ms: i64,
) -> anyhow::Result<Result<(), Refusal>> {
    let Some(menu) = get(conn, clinic, id).await? else {
        return Ok(Err(Refusal::new(Code::NotFound)));
    };
    if menu.image_type.is_none() {
        return Ok(Err(Refusal::new(Code::RichMenuImageMissing)));
    }
    if let Err(e) = menu.line_body().check() {
        return Ok(Err(refusal(&e)));
    }
    sqlx::query(
        "UPDATE rich_menus SET state = 'publishing', failure_code = NULL, updated_at = $1
         WHERE id = $2 AND clinic_id = $3",
    )
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(&mut *conn)
    .await
    .context("marking the rich menu for publishing")?;
    enqueue(
        conn,
        &RichMenuPublish {
            rich_menu_id: id.to_owned(),
        },
        Enqueue {
            clinic_id: Some(clinic),
            idempotency_key: &format!("rich_menu.publish:{id}:{now_ms}"),
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    Ok(Ok(()))
}

/// Makes a published menu its channel's default (or, with `on` false, no default) and queues
/// telling LINE.
pub async fn set_default(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    on: bool,
    now_ms: i64,
) -> anyhow::Result<Result<(), Refusal>> {
    let Some(menu) = get(conn, clinic, id).await? else {
        return Ok(Err(Refusal::new(Code::NotFound)));
    };
    if on && menu.state != "published" {
        return Ok(Err(Refusal::new(Code::RichMenuNotPublished)));
    }
    sqlx::query("UPDATE rich_menus SET is_default = 0 WHERE channel_id = $1 AND clinic_id = $2")
        .bind(&menu.channel_id)
        .bind(clinic.as_str())
        .execute(&mut *conn)
        .await
        .context("clearing the channel's default rich menu")?;
    if on {
        sqlx::query("UPDATE rich_menus SET is_default = 1 WHERE id = $1 AND clinic_id = $2")
            .bind(id)
            .bind(clinic.as_str())
            .execute(&mut *conn)
            .await
            .context("setting the default rich menu")?;
    }
    let channel = menu.channel();
    enqueue(
        conn,
        &RichMenuSetDefault {
            channel_id: channel.clone(),
        },
        Enqueue {
            clinic_id: Some(clinic),
            idempotency_key: &format!("rich_menu.default:{}:{}", channel.as_str(), new_id()),
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    Ok(Ok(()))
}

/// Deletes a menu that never reached LINE (nothing to undo there) and no rule uses.
pub async fn delete_draft(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "DELETE FROM rich_menus WHERE id = $1 AND clinic_id = $2 AND state IN ('draft', 'failed')
         AND line_rich_menu_id IS NULL AND replaced_line_rich_menu_id IS NULL
         AND NOT EXISTS (SELECT 1 FROM rich_menu_rules r WHERE r.rich_menu_id = rich_menus.id)
         AND NOT EXISTS (SELECT 1 FROM rich_menu_field_rules r WHERE r.rich_menu_id = rich_menus.id)",
    )
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("deleting the rich menu draft")?;
    Ok(done.rows_affected() > 0)
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Menu>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM rich_menus WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the rich menu")
}

/// The clinic's menus, by channel then name.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Menu>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM rich_menus WHERE clinic_id = $1 ORDER BY channel_id, created_at, id"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the rich menus")
}

/// The stored image and its type.
pub async fn image(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<(String, Vec<u8>)>> {
    let row: Option<(Option<String>, Option<Vec<u8>>)> =
        sqlx::query_as("SELECT image_type, image FROM rich_menus WHERE id = $1 AND clinic_id = $2")
            .bind(id)
            .bind(clinic.as_str())
            .fetch_optional(conn)
            .await
            .context("reading the rich menu image")?;
    Ok(match row {
        Some((Some(t), Some(b))) => Some((t, b)),
        _ => None,
    })
}

/// The jobs' writes.
pub(super) async fn set_state(
    conn: &mut AnyConnection,
    id: &str,
    state: &str,
    failure_code: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE rich_menus SET state = $1, failure_code = $2, updated_at = $3 WHERE id = $4",
    )
    .bind(state)
    .bind(failure_code)
    .bind(now_ms)
    .bind(id)
    .execute(conn)
    .await
    .context("recording the rich menu's state")?;
    Ok(())
}

pub(super) async fn set_line_id(
    conn: &mut AnyConnection,
    id: &str,
    line_id: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE rich_menus SET line_rich_menu_id = $1 WHERE id = $2")
        .bind(line_id)
        .bind(id)
        .execute(conn)
        .await
        .context("recording LINE's rich menu id")?;
    Ok(())
}

pub(super) async fn clear_replaced(conn: &mut AnyConnection, id: &str) -> anyhow::Result<()> {
    sqlx::query("UPDATE rich_menus SET replaced_line_rich_menu_id = NULL WHERE id = $1")
        .bind(id)
        .execute(conn)
        .await
        .context("forgetting the replaced LINE rich menu")?;
    Ok(())
}

pub(super) async fn by_id_unscoped(
    conn: &mut AnyConnection,
    id: &str,
) -> anyhow::Result<Option<Menu>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM rich_menus WHERE id = $1"))
        .bind(id)
        .fetch_optional(conn)
        .await
        .context("reading the rich menu")
}

pub(super) async fn default_of(
    conn: &mut AnyConnection,
    channel: &ChannelId,
) -> anyhow::Result<Option<Menu>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM rich_menus WHERE channel_id = $1 AND is_default = 1"
    ))
    .bind(channel.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the channel's default rich menu")
}

/// Queues relinking every LINE friend of the channel (a rule or a menu changed).
pub(super) async fn queue_channel(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
    now_ms: i64,
) -> anyhow::Result<()> {
    enqueue(
        conn,
        &RichMenuAssign {
            clinic_id: clinic.clone(),
            patient_id: None,
            channel_id: Some(channel.clone()),
        },
        Enqueue {
            clinic_id: Some(clinic),
            idempotency_key: &format!("rich_menu.assign:{}:{}", channel.as_str(), new_id()),
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    Ok(())
}
