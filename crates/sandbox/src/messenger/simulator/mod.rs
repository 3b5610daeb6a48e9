//! The chat simulator at `/simulator`: pick a page and a person, write to the page as them, tap
//! quick replies and postback buttons, see what the clinic sends. No inline script or style
//! (strict CSP) and only relative URLs, because the router may be nested (`/messenger/simulator`).
//! Sending goes through the real webhook driver.
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{MessengerSandbox, MessengerUser, Posted};
use crate::page::api;

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");

pub(crate) fn routes() -> Router<MessengerSandbox> {
    Router::new()
        .route(
            "/simulator",
            get(|| async { messenger_asset("text/html; charset=utf-8", INDEX_HTML) }),
        )
        .route(
            "/simulator/app.js",
            get(|| async { messenger_asset("text/javascript; charset=utf-8", APP_JS) }),
        )
        .route(
            "/simulator/style.css",
            get(|| async { messenger_asset("text/css; charset=utf-8", STYLE_CSS) }),
        )
        .route("/simulator/api/users", get(users).post(new_user))
        .route("/simulator/api/messages", get(messages))
        .route("/simulator/api/send", post(send))
}

#[derive(Serialize)]
struct SimUser {
    page: String,
    page_name: String,
    instagram: bool,
    psid: String,
    name: String,
    blocked: bool,
}

async fn users(State(sb): State<MessengerSandbox>) -> Response {
    let st = sb.lock();
    let mut list: Vec<SimUser> = st
        .pages
        .values()
        .flat_map(|p| {
            p.users.iter().map(|u| SimUser {
                page: p.config.page_id.clone(),
                page_name: p.config.name.clone(),
                instagram: p.config.instagram,
                psid: u.psid.clone(),
                name: format!("{} {}", u.last_name, u.first_name)
                    .trim()
                    .to_owned(),
                blocked: p.blocked.contains(&u.psid),
            })
        })
        .collect();
    list.sort_by(|a, b| (&a.page, &a.name).cmp(&(&b.page, &b.name)));
    api(200, json!({ "users": list }))
}

#[derive(Deserialize)]
struct NewUser {
    page: String,
    first_name: String,
    #[serde(default)]
    last_name: String,
}

/// A new person for the page (they exist for the page once they write to it).
async fn new_user(State(sb): State<MessengerSandbox>, Json(req): Json<NewUser>) -> Response {
    let first = req.first_name.trim();
    if first.is_empty() || first.chars().count() > 30 || req.last_name.chars().count() > 30 {
        return api(
            400,
            json!({ "error": "first_name must be 1–30 characters" }),
        );
    }
    if !sb.lock().pages.contains_key(&req.page) {
        return api(404, json!({ "error": "unknown page" }));
    }
    // PSIDs are 16-17 digit numbers.
    let psid = format!(
        "{}",
        7_000_000_000_000_000u64 + u64::from(uuid::Uuid::new_v4().as_fields().0) % 999_999_999
    );
    sb.add_user(
        &req.page,
        MessengerUser {
            psid: psid.clone(),
            first_name: first.to_owned(),
            last_name: req.last_name.trim().to_owned(),
            profile_pic: None,
        },
    );
    api(200, json!({ "psid": psid }))
}

async fn messages(
    State(sb): State<MessengerSandbox>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Some(page), Some(psid)) = (q.get("page"), q.get("psid")) else {
        return api(400, json!({ "error": "page and psid are required" }));
    };
    api(200, json!({ "messages": sb.chat(page, psid) }))
}

#[derive(Deserialize)]
struct SendReq {
    page: String,
    psid: String,
    /// text | image | quick_reply | postback | link (an m.me link's `ref` in `payload`)
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    payload: String,
}

async fn send(State(sb): State<MessengerSandbox>, Json(req): Json<SendReq>) -> Response {
    let (page, psid) = (req.page.as_str(), req.psid.as_str());
    let result: anyhow::Result<Posted> = match req.kind.as_str() {
        "text" if !req.text.trim().is_empty() => sb.user_text(page, psid, &req.text).await,
        "image" => sb.user_image(page, psid).await,
        "quick_reply" => sb.quick_reply(page, psid, &req.title, &req.payload).await,
        "postback" => sb.postback(page, psid, &req.title, &req.payload).await,
        "link" if !req.payload.trim().is_empty() => {
            sb.open_link(page, psid, req.payload.trim()).await
        }
        _ => return api(400, json!({ "error": "nothing to send" })),
    };
    match result {
        Ok(posted) => api(200, json!({ "webhook_status": posted.status })),
        Err(e) => api(502, json!({ "error": format!("{e:#}") })),
    }
}

/// Profile pictures come from other hosts.
fn messenger_asset(content_type: &'static str, body: &'static str) -> Response {
    crate::page::asset_with(&crate::page::csp(" http: https:"), content_type, body)
}
