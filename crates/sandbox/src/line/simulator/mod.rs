//! The patient simulator at `/simulator`: pick a sandbox user, chat with the clinic as on LINE.
//! No inline script or style, so it runs under `script-src 'self'`; the page polls
//! `/simulator/api/messages` every second. Sending goes through the real webhook driver.
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use super::{ids, LineSandbox, UserProfile};
use crate::page::{api, asset};

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");

impl LineSandbox {
    /// `/simulator` (page, `app.js`, `style.css`) and its JSON API under `/simulator/api/`.
    pub fn simulator_router(&self) -> Router {
        Router::new()
            .route(
                "/simulator",
                get(|| async { asset("text/html; charset=utf-8", INDEX_HTML) }),
            )
            .route(
                "/simulator/app.js",
                get(|| async { asset("text/javascript; charset=utf-8", APP_JS) }),
            )
            .route(
                "/simulator/style.css",
                get(|| async { asset("text/css; charset=utf-8", STYLE_CSS) }),
            )
            .route("/simulator/api/users", get(users).post(new_user))
            .route("/simulator/api/messages", get(messages))
            .route("/simulator/api/send", axum::routing::post(send))
            .route("/simulator/api/richmenu", get(rich_menu))
            .route("/simulator/api/richmenu/tap", axum::routing::post(tap))
            .with_state(self.clone())
    }
}

#[derive(Serialize)]
struct SimUser {
    channel: String,
    user_id: String,
    display_name: String,
    blocked: bool,
}

async fn users(State(sb): State<LineSandbox>) -> Response {
    let st = sb.lock();
    let mut list: Vec<SimUser> = st
        .channels
        .values()
        .flat_map(|c| {
            c.users.iter().map(|u| SimUser {
                channel: c.config.bot_user_id.clone(),
                user_id: u.user_id.clone(),
                display_name: u.display_name.clone(),
                blocked: c.blocked.contains(&u.user_id),
            })
        })
        .collect();
    list.sort_by(|a, b| (&a.channel, &a.display_name).cmp(&(&b.channel, &b.display_name)));
    api(200, json!({ "users": list }))
}

#[derive(Deserialize)]
struct NewUser {
    channel: String,
    display_name: String,
}

/// A new patient adds the clinic as a friend (a `follow` webhook is sent).
async fn new_user(State(sb): State<LineSandbox>, Json(req): Json<NewUser>) -> Response {
    let name = req.display_name.trim();
    if name.is_empty() || name.chars().count() > 20 {
        return api(
            400,
            json!({ "error": "display_name must be 1–20 characters" }),
        );
    }
    let user_id = ids::user_id();
    let Some(token) = sb.lock().resolve(&req.channel) else {
        return api(404, json!({ "error": "unknown channel" }));
    };
    let profile = UserProfile {
        user_id: user_id.clone(),
        display_name: name.to_owned(),
        language: Some("ja".into()),
        ..Default::default()
    };
    sb.add_user(&token, profile);
    let event = sb.follow(&user_id);
    deliver(&sb, &token, event, json!({ "user_id": user_id })).await
}

async fn messages(
    State(sb): State<LineSandbox>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let Some(user) = q.get("user") else {
        return api(400, json!({ "error": "user is required" }));
    };
    let channel = q.get("channel");
    let entries: Vec<_> = sb
        .chat(user)
        .into_iter()
        .filter(|e| channel.is_none_or(|c| *c == e.channel))
        .collect();
    api(200, json!({ "messages": entries }))
}

#[derive(Deserialize)]
struct SendReq {
    channel: String,
    user: String,
    /// text | image | postback | follow | unfollow
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    data: String,
}

async fn send(State(sb): State<LineSandbox>, Json(req): Json<SendReq>) -> Response {
    let Some(token) = sb.lock().resolve(&req.channel) else {
        return api(404, json!({ "error": "unknown channel" }));
    };
    let event = match req.kind.as_str() {
        "text" if !req.text.trim().is_empty() => sb.user_text(&req.user, &req.text),
        "image" => sb.user_image(&req.user),
        "postback" => sb.postback(&req.user, &req.data),
        "follow" => sb.follow(&req.user),
        "unfollow" => sb.unfollow(&req.user),
        _ => return api(400, json!({ "error": "nothing to send" })),
    };
    deliver(&sb, &token, event, json!({})).await
}

async fn deliver(sb: &LineSandbox, token: &str, event: Value, mut extra: Value) -> Response {
    match sb.send_event(token, event).await {
        Ok(status) => {
            extra["webhook_status"] = json!(status);
            api(200, extra)
        }
        Err(e) => api(502, json!({ "error": format!("{e:#}") })),
    }
}

#[derive(Deserialize)]
struct MenuQuery {
    channel: String,
    user: String,
}

/// The rich menu this user sees (their link, else the default), or `null`.
async fn rich_menu(State(sb): State<LineSandbox>, Query(q): Query<MenuQuery>) -> Response {
    api(200, json!({ "menu": sb.linked_menu(&q.channel, &q.user) }))
}

#[derive(Deserialize)]
struct TapReq {
    channel: String,
    user: String,
    area: usize,
}

/// The user taps an area of their rich menu: LINE sends what its action says.
async fn tap(State(sb): State<LineSandbox>, Json(req): Json<TapReq>) -> Response {
    let Some(token) = sb.lock().resolve(&req.channel) else {
        return api(404, json!({ "error": "unknown channel" }));
    };
    let Some(menu) = sb.linked_menu(&token, &req.user) else {
        return api(404, json!({ "error": "no rich menu" }));
    };
    let Some(action) = menu.areas.get(req.area).map(|a| a["action"].clone()) else {
        return api(404, json!({ "error": "no such area" }));
    };
    let text = |k: &str| action[k].as_str().unwrap_or_default().to_owned();
    let event = match action["type"].as_str() {
        Some("message") => sb.user_text(&req.user, &text("text")),
        Some("postback") => sb.postback(&req.user, &text("data")),
        Some("richmenuswitch") => {
            let alias = text("richMenuAliasId");
            let status = if sb.switch_menu(&token, &req.user, &alias) {
                "SUCCESS"
            } else {
                "RICHMENU_ALIAS_ID_NOTFOUND"
            };
            let params = json!({ "newRichMenuAliasId": alias, "status": status });
            sb.postback_with_params(&req.user, &text("data"), Some(params))
        }
        Some("uri") => return api(200, json!({ "open": text("uri") })),
        _ => return api(400, json!({ "error": "unsupported action" })),
    };
    deliver(&sb, &token, event, json!({})).await
}
