//! The patient simulator at `/simulator`: pick a user, chat with the clinic's number as on
//! WhatsApp. No inline script or style (strict CSP), and only relative URLs, so it works when the
//! router is nested (e.g. `/whatsapp/simulator`). Sending goes through the real webhook driver.
use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{templates, WhatsAppSandbox};
use crate::page::{api, asset};

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");

impl WhatsAppSandbox {
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
            .route("/simulator/api/state", get(state))
            .route("/simulator/api/users", post(new_user))
            .route("/simulator/api/messages", get(messages))
            .route("/simulator/api/send", post(send))
            .with_state(self.clone())
    }
}

/// The clinic's numbers and the users, for the pickers.
async fn state(State(sb): State<WhatsAppSandbox>) -> Response {
    let st = sb.lock();
    let mut numbers: Vec<Value> = st
        .numbers
        .values()
        .map(|n| json!({ "phone_number_id": n.phone_number_id, "display_phone_number": n.display_phone_number }))
        .collect();
    numbers.sort_by_key(|n| n["phone_number_id"].as_str().unwrap_or_default().to_owned());
    api(200, json!({ "numbers": numbers, "users": st.users }))
}

#[derive(Deserialize)]
struct NewUser {
    wa_id: String,
    name: String,
}

async fn new_user(State(sb): State<WhatsAppSandbox>, Json(req): Json<NewUser>) -> Response {
    let name = req.name.trim();
    let digits =
        req.wa_id.chars().all(|c| c.is_ascii_digit()) && (7..=15).contains(&req.wa_id.len());
    if name.is_empty() || name.chars().count() > 25 || !digits {
        return api(
            400,
            json!({ "error": "a name (1–25 characters) and 7–15 digits are needed" }),
        );
    }
    sb.add_user(&req.wa_id, name);
    api(200, json!({ "wa_id": req.wa_id }))
}

/// The chat, with templates rendered into their text so the page need not know them.
async fn messages(
    State(sb): State<WhatsAppSandbox>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Some(phone), Some(user)) = (q.get("phone"), q.get("user")) else {
        return api(400, json!({ "error": "phone and user are required" }));
    };
    let waba = sb
        .lock()
        .numbers
        .get(phone)
        .map(|n| n.waba_id.clone())
        .unwrap_or_default();
    let known = sb.templates(&waba);
    let entries: Vec<Value> = sb
        .chat(phone, user)
        .into_iter()
        .map(|e| {
            let mut v = json!(e);
            if e.message["type"] == "template" {
                v["rendered"] = json!(render(&known, &e.message["template"]));
            }
            v
        })
        .collect();
    api(200, json!({ "messages": entries }))
}

/// The template's body with `{{n}}` replaced by the sent parameters.
fn render(known: &[super::Template], template: &Value) -> String {
    let name = template["name"].as_str().unwrap_or_default();
    let code = template
        .pointer("/language/code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let Some(t) = known.iter().find(|t| t.name == name && t.language == code) else {
        return format!("[template {name}]");
    };
    let params: Vec<String> = template["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c["type"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case("body"))
        })
        .flat_map(|c| c["parameters"].as_array().cloned().unwrap_or_default())
        .map(|p| {
            p["text"]
                .as_str()
                .map(str::to_owned)
                .unwrap_or_else(|| p["text"].to_string())
        })
        .collect();
    let mut text = templates::body_text(&t.components);
    for (i, p) in params.iter().enumerate().rev() {
        text = text.replace(&format!("{{{{{}}}}}", i + 1), p);
    }
    text
}

#[derive(Deserialize)]
struct SendReq {
    phone: String,
    user: String,
    /// text | image | location | button_reply | list_reply | reaction
    kind: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    context: String,
}

async fn send(State(sb): State<WhatsAppSandbox>, Json(req): Json<SendReq>) -> Response {
    let name = sb.lock().user_name(&req.user);
    let Some(name) = name else {
        return api(404, json!({ "error": "unknown user" }));
    };
    let (p, u, n) = (req.phone.as_str(), req.user.as_str(), name.as_str());
    let result = match req.kind.as_str() {
        "text" if !req.text.trim().is_empty() => sb.user_text(p, u, n, &req.text).await,
        "image" => {
            sb.user_image(
                p,
                u,
                n,
                crate::png::png(16, [37, 211, 102]),
                "image/png",
                None,
            )
            .await
        }
        "location" => {
            sb.user_location(p, u, n, 35.681236, 139.767125, Some("東京駅"))
                .await
        }
        "button_reply" => {
            sb.user_button_reply(p, u, n, &req.context, &req.id, &req.title)
                .await
        }
        "list_reply" => {
            sb.user_list_reply(p, u, n, &req.context, &req.id, &req.title, None)
                .await
        }
        "reaction" => sb.user_reaction(p, u, n, &req.context, &req.text).await,
        _ => return api(400, json!({ "error": "nothing to send" })),
    };
    match result {
        Ok(posted) => api(200, json!({ "webhook_status": posted.status })),
        Err(e) => api(502, json!({ "error": format!("{e:#}") })),
    }
}
