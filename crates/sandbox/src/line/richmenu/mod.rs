//! LINE doc: Messaging API reference › "Rich menu", "Per-user rich menu", "Rich menu alias",
//! "Replace or unlink the linked rich menus in batches". Bodies are validated against LINE's
//! OpenAPI spec plus the rules the spec does not state (≤ 20 areas inside the image, the image
//! size rules, JPEG/PNG ≤ 1 MB matching the menu); a menu needs its image before it is linked.
// Handlers return `Result<_, Response>`-like answers: the error is the HTTP answer.
#![allow(clippy::result_large_err)]
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Serialize;
use serde_json::{json, Value};

use super::http::{
    authenticate, error, injected, invalid, json_response, AUTH_FAILED, RATE_LIMITED,
};
use super::state::{Channel, FaultKind};
use super::LineSandbox;

pub(crate) const NOT_FOUND: &str = "richmenu not found";
const NO_IMAGE: &str = "must upload richmenu image before applying it to user";
const IMAGE_TWICE: &str = "An image has already been uploaded to the richmenu";
const MAX_IMAGE: usize = 1024 * 1024;

/// One channel's rich menus.
#[derive(Default)]
pub(crate) struct RichMenus {
    pub menus: HashMap<String, Menu>,
    /// Creation order, for the list.
    pub order: Vec<String>,
    pub default: Option<String>,
    /// User id → rich menu id.
    pub links: HashMap<String, String>,
    pub aliases: HashMap<String, String>,
    /// Batch request id → its progress.
    pub batches: HashMap<String, Batch>,
}

pub(crate) struct Menu {
    /// The rich menu object as created (with `richMenuId`).
    pub body: Value,
    pub image: Option<(String, Bytes)>,
}

pub(crate) struct Batch {
    accepted: String,
    /// How often progress was asked: the first answer is `ongoing`.
    asked: u32,
    phase: &'static str,
}

/// The menu a user sees: their own link, else the channel's default.
#[derive(Clone, Debug, Serialize)]
pub struct LinkedMenu {
    pub rich_menu_id: String,
    pub name: String,
    pub chat_bar_text: String,
    /// `true` when it is the channel's default rather than a per-user link.
    pub is_default: bool,
    /// LINE's area objects (`bounds`, `action`).
    pub areas: Vec<Value>,
}

pub(crate) fn routes() -> Router<LineSandbox> {
    Router::new()
        .route("/v2/bot/richmenu", post(create))
        .route("/v2/bot/richmenu/validate", post(validate))
        .route("/v2/bot/richmenu/list", get(list))
        .route("/v2/bot/richmenu/{id}", get(get_menu).delete(delete_menu))
        .route("/v2/bot/richmenu/{id}/content", post(upload).get(download))
        .route(
            "/v2/bot/user/all/richmenu",
            get(get_default).delete(cancel_default),
        )
        .route("/v2/bot/user/all/richmenu/{id}", post(set_default))
        .route(
            "/v2/bot/user/{user}/richmenu",
            get(get_user_menu).delete(unlink),
        )
        .route("/v2/bot/user/{user}/richmenu/{id}", post(link))
        .route("/v2/bot/richmenu/bulk/link", post(bulk_link))
        .route("/v2/bot/richmenu/bulk/unlink", post(bulk_unlink))
        .route("/v2/bot/richmenu/alias", post(alias_create))
        .route("/v2/bot/richmenu/alias/list", get(alias_list))
        .route(
            "/v2/bot/richmenu/alias/{alias}",
            get(alias_get).post(alias_update).delete(alias_delete),
        )
        .route("/v2/bot/richmenu/batch", post(batch))
        .route("/v2/bot/richmenu/validate/batch", post(validate_batch))
        .route("/v2/bot/richmenu/progress/batch", get(batch_progress))
}

/// Auth, rate limit and injected faults around a handler that works on the channel's menus.
fn call(
    sb: &LineSandbox,
    headers: &HeaderMap,
    path: &str,
    f: impl FnOnce(&mut Channel) -> Response,
) -> Response {
    let now = sb.now();
    let mut st = sb.lock();
    let token = match authenticate(&st, headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !st.within_rate_limit(&token, path, now) {
        return error(429, RATE_LIMITED);
    }
    if let Some(FaultKind::Before(status, retry_after)) = st.take_fault(path, true) {
        return injected(status, retry_after);
    }
    let response = match st.channels.get_mut(&token) {
        Some(ch) => f(ch),
        None => error(401, AUTH_FAILED),
    };
    match st.take_fault(path, false) {
        Some(FaultKind::After(status)) if response.status().is_success() => injected(status, None),
        _ => response,
    }
}

fn menus(ch: &mut Channel) -> &mut RichMenus {
    &mut ch.rich_menus
}

async fn create(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(&sb, &headers, "/v2/bot/richmenu", |st| {
        let mut body = match parse_json(&body).and_then(|b| check_menu(&b).map(|()| b)) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let id = format!("richmenu-{}", uuid::Uuid::new_v4().simple());
        body["richMenuId"] = json!(id);
        body["selected"] = json!(body["selected"].as_bool().unwrap_or(false));
        let m = menus(st);
        m.menus.insert(id.clone(), Menu { body, image: None });
        m.order.push(id.clone());
        json_response(200, json!({ "richMenuId": id }))
    })
}

async fn validate(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(
        &sb,
        &headers,
        "/v2/bot/richmenu/validate",
        |_| match parse_json(&body).and_then(|b| check_menu(&b)) {
            Ok(()) => json_response(200, json!({})),
            Err(r) => r,
        },
    )
}

async fn list(AxumState(sb): AxumState<LineSandbox>, headers: HeaderMap) -> Response {
    call(&sb, &headers, "/v2/bot/richmenu/list", |st| {
        let m = menus(st);
        let list: Vec<&Value> = m
            .order
            .iter()
            .filter_map(|id| m.menus.get(id).map(|x| &x.body))
            .collect();
        json_response(200, json!({ "richmenus": list }))
    })
}

async fn get_menu(
    AxumState(sb): AxumState<LineSandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    call(
        &sb,
        &headers,
        &format!("/v2/bot/richmenu/{id}"),
        |st| match menus(st).menus.get(&id) {
            Some(m) => json_response(200, m.body.clone()),
            None => error(404, NOT_FOUND),
        },
    )
}

async fn delete_menu(
    AxumState(sb): AxumState<LineSandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    call(&sb, &headers, &format!("/v2/bot/richmenu/{id}"), |st| {
        let m = menus(st);
        if m.menus.remove(&id).is_none() {
            return error(404, NOT_FOUND);
        }
        m.order.retain(|x| *x != id);
        m.links.retain(|_, x| *x != id);
        if m.default.as_deref() == Some(id.as_str()) {
            m.default = None;
        }
        json_response(200, json!({}))
    })
}

async fn upload(
    AxumState(sb): AxumState<LineSandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = format!("/v2/bot/richmenu/{id}/content");
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    call(&sb, &headers, &path, |st| {
        if !matches!(content_type.as_str(), "image/png" | "image/jpeg") {
            return error(415, "Unsupported Media Type");
        }
        if body.len() > MAX_IMAGE {
            return error(413, "Request Entity Too Large");
        }
        let Some(menu) = menus(st).menus.get_mut(&id) else {
            return error(404, NOT_FOUND);
        };
        if menu.image.is_some() {
            return error(400, IMAGE_TWICE);
        }
        let want = (
            menu.body["size"]["width"].as_i64().unwrap_or(0),
            menu.body["size"]["height"].as_i64().unwrap_or(0),
        );
        match image_size(&body) {
            Some((kind, w, h)) if kind == content_type && (w, h) == want => {
                menu.image = Some((content_type.clone(), body.clone()));
                json_response(200, json!({}))
            }
            Some((kind, ..)) if kind != content_type => {
                error(400, "The image does not match its content type")
            }
            Some(_) => error(400, "Image size is not the same as the rich menu size"),
            None => error(400, "The image could not be read"),
        }
    })
}

async fn download(
    AxumState(sb): AxumState<LineSandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v2/bot/richmenu/{id}/content");
    call(&sb, &headers, &path, |st| {
        match menus(st).menus.get(&id).and_then(|m| m.image.clone()) {
            Some((ct, bytes)) => {
                let ct = HeaderValue::from_str(&ct)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream"));
                ([(header::CONTENT_TYPE, ct)], bytes).into_response()
            }
            None => error(404, NOT_FOUND),
        }
    })
}

/// A menu that may be shown to users: it exists and has its image.
fn usable(m: &RichMenus, id: &str) -> Result<(), Response> {
    match m.menus.get(id) {
        None => Err(error(404, NOT_FOUND)),
        Some(menu) if menu.image.is_none() => Err(error(400, NO_IMAGE)),
        Some(_) => Ok(()),
    }
}

async fn set_default(
    AxumState(sb): AxumState<LineSandbox>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    call(&sb, &headers, "/v2/bot/user/all/richmenu/{id}", |st| {
        let m = menus(st);
        if let Err(r) = usable(m, &id) {
            return r;
        }
        m.default = Some(id.clone());
        json_response(200, json!({}))
    })
}

async fn get_default(AxumState(sb): AxumState<LineSandbox>, headers: HeaderMap) -> Response {
    call(
        &sb,
        &headers,
        "/v2/bot/user/all/richmenu",
        |st| match &menus(st).default {
            Some(id) => json_response(200, json!({ "richMenuId": id })),
            None => error(404, "no default richmenu"),
        },
    )
}

async fn cancel_default(AxumState(sb): AxumState<LineSandbox>, headers: HeaderMap) -> Response {
    call(&sb, &headers, "/v2/bot/user/all/richmenu", |st| {
        menus(st).default = None;
        json_response(200, json!({}))
    })
}

fn is_friend(ch: &Channel, user: &str) -> bool {
    ch.users.iter().any(|u| u.user_id == user)
}

async fn link(
    AxumState(sb): AxumState<LineSandbox>,
    Path((user, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    call(&sb, &headers, "/v2/bot/user/{user}/richmenu/{id}", |st| {
        if !super::ids::is_line_id(&user, &['U']) {
            return error(400, "The value for the 'userId' parameter is invalid");
        }
        let friend = is_friend(st, &user);
        let m = menus(st);
        if let Err(r) = usable(m, &id) {
            return r;
        }
        if !friend {
            return error(404, "Not found");
        }
        m.links.insert(user.clone(), id.clone());
        json_response(200, json!({}))
    })
}

async fn get_user_menu(
    AxumState(sb): AxumState<LineSandbox>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Response {
    call(
        &sb,
        &headers,
        "/v2/bot/user/{user}/richmenu",
        |st| match menus(st).links.get(&user) {
            Some(id) => json_response(200, json!({ "richMenuId": id })),
            None => error(404, "the user has no richmenu"),
        },
    )
}

async fn unlink(
    AxumState(sb): AxumState<LineSandbox>,
    Path(user): Path<String>,
    headers: HeaderMap,
) -> Response {
    call(&sb, &headers, "/v2/bot/user/{user}/richmenu", |st| {
        menus(st).links.remove(&user);
        json_response(200, json!({}))
    })
}

async fn bulk_link(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(&sb, &headers, "/v2/bot/richmenu/bulk/link", |st| {
        let body = match parse_json(&body)
            .and_then(|b| check_schema("RichMenuBulkLinkRequest", &b).map(|()| b))
        {
            Ok(b) => b,
            Err(r) => return r,
        };
        let id = body["richMenuId"].as_str().unwrap_or_default().to_owned();
        let users: Vec<String> = body["userIds"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u.as_str().map(str::to_owned))
            .collect();
        let friends: Vec<String> = users.into_iter().filter(|u| is_friend(st, u)).collect();
        let m = menus(st);
        if let Err(r) = usable(m, &id) {
            return r;
        }
        // Applied asynchronously on LINE; users who are not friends are skipped silently.
        for u in friends {
            m.links.insert(u, id.clone());
        }
        json_response(202, json!({}))
    })
}

async fn bulk_unlink(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(&sb, &headers, "/v2/bot/richmenu/bulk/unlink", |st| {
        let body = match parse_json(&body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let users = body["userIds"].as_array().cloned().unwrap_or_default();
        if users.is_empty() || users.len() > 500 {
            return invalid(&[detail("userIds", "size must be between 1 and 500")]);
        }
        let m = menus(st);
        for u in users.iter().filter_map(Value::as_str) {
            m.links.remove(u);
        }
        json_response(202, json!({}))
    })
}

mod alias;
mod validate;

use alias::{
    alias_create, alias_delete, alias_get, alias_list, alias_update, batch, batch_progress,
    validate_batch,
};
use validate::{check_menu, check_schema, detail, image_size, parse_json};

impl LineSandbox {
    /// The rich menu `user_id` sees on this channel: their link, else the default.
    pub fn linked_menu(&self, access_token_or_channel: &str, user_id: &str) -> Option<LinkedMenu> {
        let st = self.lock();
        let token = st.resolve(access_token_or_channel)?;
        let m = &st.channels.get(&token)?.rich_menus;
        let (id, is_default) = match m.links.get(user_id) {
            Some(id) => (id.clone(), false),
            None => (m.default.clone()?, true),
        };
        let body = &m.menus.get(&id)?.body;
        Some(LinkedMenu {
            rich_menu_id: id,
            name: body["name"].as_str().unwrap_or_default().to_owned(),
            chat_bar_text: body["chatBarText"].as_str().unwrap_or_default().to_owned(),
            is_default,
            areas: body["areas"].as_array().cloned().unwrap_or_default(),
        })
    }

    /// Ids of the channel's rich menus, in creation order.
    pub fn rich_menu_ids(&self, access_token_or_channel: &str) -> Vec<String> {
        let st = self.lock();
        st.resolve(access_token_or_channel)
            .and_then(|t| st.channels.get(&t))
            .map(|c| c.rich_menus.order.clone())
            .unwrap_or_default()
    }

    /// The channel's default rich menu id.
    pub fn default_rich_menu(&self, access_token_or_channel: &str) -> Option<String> {
        let st = self.lock();
        let token = st.resolve(access_token_or_channel)?;
        st.channels.get(&token)?.rich_menus.default.clone()
    }

    /// Where the channel's rich menu alias points.
    pub fn rich_menu_alias(&self, access_token_or_channel: &str, alias: &str) -> Option<String> {
        let st = self.lock();
        let token = st.resolve(access_token_or_channel)?;
        st.channels
            .get(&token)?
            .rich_menus
            .aliases
            .get(alias)
            .cloned()
    }

    /// A user taps a richmenuswitch area: LINE shows the alias's menu on that user's screen
    /// (no API call; the link set through the API stays as it was for other devices, here it
    /// simply becomes the user's menu) and sends the postback.
    pub(crate) fn switch_menu(&self, token: &str, user_id: &str, alias: &str) -> bool {
        let mut st = self.lock();
        let Some(c) = st.channels.get_mut(token) else {
            return false;
        };
        let Some(id) = c.rich_menus.aliases.get(alias).cloned() else {
            return false;
        };
        c.rich_menus.links.insert(user_id.to_owned(), id);
        true
    }
}

fn now_iso(sb: &LineSandbox) -> String {
    sb.now().format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}
