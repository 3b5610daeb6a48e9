//! `/api/v1/automation/rich-menus` and `/api/v1/automation/rich-menu-rules`: LINE rich menus
//! as the settings page keeps them — a draft with its image (base64, PNG or JPEG, at most 1 MB,
//! exactly the menu's size, as LINE takes it) and areas (LINE's area objects), publishing and
//! the default through the `rich_menu.*` jobs, and the tag rules that choose a patient's menu.
//! Every check is `tsunagu_automation::richmenu`'s, the page's.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use tsunagu_automation::richmenu::{self, Draft, Menu};
use tsunagu_channels::line::richmenu::Area;
use tsunagu_core::{ChannelId, ClinicId, Code, Permission, Refusal};
use utoipa::ToSchema;

use super::auth::{audit_one, ApiAuth};
use super::extract::{rfc3339, ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// Base64 of 1 MB with room for the JSON around it.
pub const BODY_LIMIT: usize = 2 * 1024 * 1024;

#[derive(Deserialize, ToSchema)]
pub struct RichMenuIn {
    /// A LINE channel of the clinic.
    pub channel_id: String,
    /// 1–300 characters (staff see it; LINE keeps it).
    #[schema(example = "初診の方へ")]
    pub name: String,
    /// 1–14 characters on the chat bar.
    #[schema(example = "メニュー")]
    pub chat_bar_text: String,
    /// 800–2500 wide, at least 250 high, width/height at least 1.45 (LINE's rule).
    #[schema(example = 2500)]
    pub width: u32,
    #[schema(example = 1686)]
    pub height: u32,
    /// The tab name other menus switch to (`richmenuswitch`).
    pub alias_id: Option<String>,
    /// LINE's area objects (`bounds`, `action`: `message`, `uri` with https, `postback`,
    /// `richmenuswitch`), up to 20.
    #[schema(value_type = Option<Vec<Object>>)]
    pub areas: Option<Vec<Value>>,
    /// The image, base64 (PNG or JPEG, at most 1 MB, exactly `width`×`height`).
    pub image_base64: Option<String>,
}

/// Fields left out keep their value; a change makes a published menu a draft again.
#[derive(Deserialize, ToSchema)]
pub struct RichMenuPatch {
    pub name: Option<String>,
    pub chat_bar_text: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub alias_id: Option<Option<String>>,
    #[schema(value_type = Option<Vec<Object>>)]
    pub areas: Option<Vec<Value>>,
    pub image_base64: Option<String>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Deserialize, ToSchema)]
pub struct DefaultIn {
    /// Shown to every follower of the channel without a menu of their own.
    pub default: bool,
}

#[derive(Serialize, ToSchema)]
pub struct RichMenuOut {
    pub id: String,
    pub channel_id: String,
    pub name: String,
    pub chat_bar_text: String,
    pub width: i64,
    pub height: i64,
    pub alias_id: Option<String>,
    #[schema(value_type = Vec<Object>)]
    pub areas: Vec<Area>,
    /// `image/png` or `image/jpeg`; null until an image is uploaded.
    pub image_type: Option<String>,
    /// `draft`, `publishing`, `published` or `failed`.
    pub state: String,
    pub failure_code: Option<String>,
    pub is_default: bool,
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct RichMenuList {
    pub items: Vec<RichMenuOut>,
}

#[derive(Deserialize, ToSchema)]
pub struct RichMenuRuleIn {
    /// Patients with this tag (1–50 characters) get the menu; rules are tried in the order added.
    #[schema(example = "初診")]
    pub tag: String,
    pub rich_menu_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct RichMenuRuleOut {
    pub id: String,
    pub channel_id: String,
    pub tag: String,
    pub rich_menu_id: String,
    pub priority: i64,
}

#[derive(Serialize, ToSchema)]
pub struct RichMenuRuleList {
    pub items: Vec<RichMenuRuleOut>,
}

fn out(m: Menu) -> RichMenuOut {
    RichMenuOut {
        areas: m.areas(),
        is_default: m.is_default != 0,
        created_at: rfc3339(m.created_at),
        updated_at: rfc3339(m.updated_at),
        id: m.id,
        channel_id: m.channel_id,
        name: m.name,
        chat_bar_text: m.chat_bar_text,
        width: m.width,
        height: m.height,
        alias_id: m.alias_id,
        image_type: m.image_type,
        state: m.state,
        failure_code: m.failure_code,
    }
}

async fn one(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> Result<RichMenuOut, ApiError> {
    let m = richmenu::get(conn, clinic, id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(out(m))
}

fn areas(v: Vec<Value>) -> Result<Vec<Area>, Refusal> {
    v.into_iter()
        .map(serde_json::from_value)
        .collect::<Result<_, _>>()
        .map_err(|e| Refusal::new(Code::RichMenuActionInvalid).detail(format!("{e}")))
}

fn image(b64: &str) -> Result<Vec<u8>, Refusal> {
    B64.decode(b64.trim())
        .map_err(|_| Refusal::new(Code::RichMenuImageType).detail("image_base64 is not base64"))
}

/// Areas and image of a body, each checked by the domain; a refusal undoes the transaction.
async fn parts(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    id: &str,
    (a, img): (Option<Vec<Value>>, Option<String>),
    now: i64,
) -> Result<(), ApiError> {
    if let Some(a) = a {
        richmenu::set_areas(conn, clinic, id, areas(a)?, now).await??;
    }
    if let Some(b64) = img {
        richmenu::set_image(conn, clinic, id, &image(&b64)?, now).await??;
    }
    Ok(())
}

const INVALID: &str = "`rich_menu_text_invalid`, `rich_menu_size_invalid`, `rich_menu_alias_exists`, `rich_menu_areas_invalid`, `rich_menu_action_invalid`, `rich_menu_image_type`, `rich_menu_image_too_large`, `rich_menu_image_size_mismatch`, `rich_menu_channel_not_line`, `invalid_request`";

/// List the clinic's rich menus.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/rich-menus",
    tag = "automation",
    responses(
        (status = 200, description = "Every rich menu of the clinic, by channel", body = RichMenuList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<RichMenuList>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    let items = richmenu::list(&mut conn, &auth.clinic).await?;
    Ok(Json(RichMenuList {
        items: items.into_iter().map(out).collect(),
    }))
}

/// Read one rich menu.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/rich-menus/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Rich menu id")),
    responses(
        (status = 200, description = "The rich menu", body = RichMenuOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
        (status = 404, description = "No such rich menu in this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
) -> Result<Json<RichMenuOut>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    Ok(Json(one(&mut conn, &auth.clinic, &id).await?))
}

/// Add a rich menu draft (with its areas and image, or add them later).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rich_menu.create`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/rich-menus",
    tag = "automation",
    params(IdempotencyKey),
    request_body = RichMenuIn,
    responses(
        (status = 201, description = "Stored as a draft", body = RichMenuOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "The channel is not this clinic's", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(b): ApiJson<RichMenuIn>,
) -> Result<(StatusCode, Json<RichMenuOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let draft = Draft {
        name: b.name,
        chat_bar_text: b.chat_bar_text,
        width: b.width,
        height: b.height,
        alias_id: b.alias_id,
    };
    let channel = ChannelId::from_db(b.channel_id);
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let id = match richmenu::create(tx.conn(), &auth.clinic, &channel, &draft, now).await? {
        Ok(id) => id,
        Err(r) if r.code == Code::ChannelMissing => return Err(ApiError::not_found()),
        Err(r) => return Err(r.into()),
    };
    parts(tx.conn(), &auth.clinic, &id, (b.areas, b.image_base64), now).await?;
    let what = ("api.automation.rich_menu.create", "rich_menu");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    let menu = one(tx.conn(), &auth.clinic, &id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(menu)))
}

/// Change a rich menu's words, tab name, areas or image (it becomes a draft to publish again).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rich_menu.update`.
#[utoipa::path(
    patch,
    path = "/api/v1/automation/rich-menus/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Rich menu id")),
    request_body = RichMenuPatch,
    responses(
        (status = 200, description = "As now saved", body = RichMenuOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such rich menu in this clinic", body = ErrorBody),
        (status = 413, description = "`payload_too_large`", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<RichMenuPatch>,
) -> Result<Json<RichMenuOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let m = richmenu::get(tx.conn(), &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    if b.name.is_some() || b.chat_bar_text.is_some() || b.alias_id.is_some() {
        let draft = Draft {
            name: b.name.unwrap_or(m.name),
            chat_bar_text: b.chat_bar_text.unwrap_or(m.chat_bar_text),
            alias_id: b.alias_id.unwrap_or(m.alias_id),
            ..Draft::default()
        };
        richmenu::update(tx.conn(), &auth.clinic, &id, &draft, now).await??;
    }
    parts(tx.conn(), &auth.clinic, &id, (b.areas, b.image_base64), now).await?;
    let what = ("api.automation.rich_menu.update", "rich_menu");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    let menu = one(tx.conn(), &auth.clinic, &id).await?;
    tx.commit().await?;
    Ok(Json(menu))
}

/// Publish a rich menu to LINE (queued: `state` goes `publishing`, then `published` or
/// `failed` with its `failure_code`).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rich_menu.publish`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/rich-menus/{id}/publish",
    tag = "automation",
    params(("id" = String, Path, description = "Rich menu id"), IdempotencyKey),
    responses(
        (status = 202, description = "Queued", body = RichMenuOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such rich menu in this clinic", body = ErrorBody),
        (status = 422, description = "`rich_menu_image_missing`, `rich_menu_areas_invalid`", body = ErrorBody),
    )
)]
pub async fn publish(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<(StatusCode, Json<RichMenuOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    richmenu::request_publish(tx.conn(), &auth.clinic, &id, state.now_ms()).await??;
    let what = ("api.automation.rich_menu.publish", "rich_menu");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    let menu = one(tx.conn(), &auth.clinic, &id).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(menu)))
}

/// Make a published rich menu its channel's default, or stop it being the default.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rich_menu.default`.
#[utoipa::path(
    put,
    path = "/api/v1/automation/rich-menus/{id}/default",
    tag = "automation",
    params(("id" = String, Path, description = "Rich menu id")),
    request_body = DefaultIn,
    responses(
        (status = 200, description = "As now saved (LINE is told by a queued job)", body = RichMenuOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such rich menu in this clinic", body = ErrorBody),
        (status = 422, description = "`rich_menu_not_published`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn set_default(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(b): ApiJson<DefaultIn>,
) -> Result<Json<RichMenuOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    richmenu::set_default(tx.conn(), &auth.clinic, &id, b.default, state.now_ms()).await??;
    let what = ("api.automation.rich_menu.default", "rich_menu");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    let menu = one(tx.conn(), &auth.clinic, &id).await?;
    tx.commit().await?;
    Ok(Json(menu))
}

/// Remove a rich menu that LINE never got (a draft or a failed one, without rules).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rich_menu.delete`.
#[utoipa::path(
    delete,
    path = "/api/v1/automation/rich-menus/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Rich menu id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such draft in this clinic (a published menu, or one a rule names, stays)", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !richmenu::delete_draft(tx.conn(), &auth.clinic, &id).await? {
        return Err(ApiError::not_found());
    }
    let what = ("api.automation.rich_menu.delete", "rich_menu");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

/// List the rules that give patients with a tag a rich menu.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/rich-menu-rules",
    tag = "automation",
    responses(
        (status = 200, description = "Every rule, per channel in the order tried", body = RichMenuRuleList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn list_rules(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<RichMenuRuleList>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    let items = richmenu::rules(&mut conn, &auth.clinic)
        .await?
        .into_iter()
        .map(|r| RichMenuRuleOut {
            id: r.id,
            channel_id: r.channel_id,
            tag: r.tag,
            rich_menu_id: r.rich_menu_id,
            priority: r.priority,
        })
        .collect();
    Ok(Json(RichMenuRuleList { items }))
}

/// Give patients with a tag a rich menu (relinking the channel's patients is queued).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rich_menu.rule_create`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/rich-menu-rules",
    tag = "automation",
    params(IdempotencyKey),
    request_body = RichMenuRuleIn,
    responses(
        (status = 201, description = "Stored", body = RichMenuRuleOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "The rich menu is not this clinic's", body = ErrorBody),
        (status = 422, description = "`invalid_tag`, `rich_menu_rule_exists`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn create_rule(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(b): ApiJson<RichMenuRuleIn>,
) -> Result<(StatusCode, Json<RichMenuRuleOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let now = state.now_ms();
    let id = richmenu::add_rule(tx.conn(), &auth.clinic, &b.rich_menu_id, &b.tag, now).await??;
    let what = ("api.automation.rich_menu.rule_create", "rich_menu_rule");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    let rule = richmenu::rules(tx.conn(), &auth.clinic)
        .await?
        .into_iter()
        .find(|r| r.id == id)
        .ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(RichMenuRuleOut {
            id: rule.id,
            channel_id: rule.channel_id,
            tag: rule.tag,
            rich_menu_id: rule.rich_menu_id,
            priority: rule.priority,
        }),
    ))
}

/// Remove a rich menu rule (relinking the channel's patients is queued).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rich_menu.rule_delete`.
#[utoipa::path(
    delete,
    path = "/api/v1/automation/rich-menu-rules/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Rule id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such rule in this clinic", body = ErrorBody),
    )
)]
pub async fn delete_rule(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !richmenu::delete_rule(tx.conn(), &auth.clinic, &id, state.now_ms()).await? {
        return Err(ApiError::not_found());
    }
    let what = ("api.automation.rich_menu.rule_delete", "rich_menu_rule");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
