//! The patient simulator at `/simulator`: pick a phone, text the clinic's number (STOP/START
//! included), see the clinic's SMS with their delivery status. No inline script or style, so it
//! runs under `script-src 'self'`; every URL is relative, so it works nested under `/twilio`.
//! Sending goes through the real webhook driver.
use std::collections::{BTreeSet, HashMap};

use axum::extract::{Query, State};
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{json, Value};

use super::{ids, TwilioSandbox};
use crate::page::{api, asset};

const INDEX_HTML: &str = include_str!("index.html");
const APP_JS: &str = include_str!("app.js");
const STYLE_CSS: &str = include_str!("style.css");

pub(crate) fn routes(sb: &TwilioSandbox) -> Router {
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
        .route("/simulator/api/messages", get(messages))
        .route("/simulator/api/send", post(send))
        .with_state(sb.clone())
}

/// The clinic's numbers and every patient phone the sandbox has seen.
async fn state(State(sb): State<TwilioSandbox>) -> Response {
    let st = sb.lock();
    let mut numbers: Vec<&String> = st.numbers.keys().collect();
    numbers.sort();
    let phones: BTreeSet<&String> = st
        .messages
        .iter()
        .map(|m| {
            if m.direction == "inbound" {
                &m.from
            } else {
                &m.to
            }
        })
        .collect();
    api(200, json!({ "numbers": numbers, "phones": phones }))
}

/// The conversation between a clinic number and a phone, with opt-out state.
async fn messages(
    State(sb): State<TwilioSandbox>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let (Some(number), Some(phone)) = (q.get("number"), q.get("phone")) else {
        return api(400, json!({ "error": "number and phone are required" }));
    };
    let entries: Vec<Value> = sb
        .messages()
        .into_iter()
        .filter(|m| (m.from == *phone && m.to == *number) || (m.from == *number && m.to == *phone))
        .map(|m| {
            json!({ "mine": m.direction == "inbound", "body": m.body, "status": m.status,
                    "error_code": m.error_code, "media": m.media_urls.len(),
                    "auto": m.direction == "outbound-reply", "at": m.date_created })
        })
        .collect();
    let opted_out = sb.is_opted_out(number, phone);
    api(200, json!({ "messages": entries, "opted_out": opted_out }))
}

#[derive(Deserialize)]
struct SendReq {
    number: String,
    phone: String,
    #[serde(default)]
    body: String,
    #[serde(default)]
    photo: bool,
}

async fn send(State(sb): State<TwilioSandbox>, Json(req): Json<SendReq>) -> Response {
    if !ids::is_e164(&req.phone) {
        return api(
            400,
            json!({ "error": "phone must be E.164, e.g. +819012345678" }),
        );
    }
    if req.body.trim().is_empty() && !req.photo {
        return api(400, json!({ "error": "nothing to send" }));
    }
    if req.body.chars().count() > 1600 {
        return api(400, json!({ "error": "at most 1600 characters" }));
    }
    let media = if req.photo {
        vec![(crate::png::png(8, [242, 47, 70]), "image/png".to_owned())]
    } else {
        Vec::new()
    };
    match sb.user_mms(&req.number, &req.phone, &req.body, media).await {
        Ok(d) => api(200, json!({ "webhook_status": d.status })),
        Err(e) => api(502, json!({ "error": format!("{e:#}") })),
    }
}
