//! `POST /{version}/{page_id}/messages` in the order Meta checks: path → token → rate limit →
//! body rules → recipient → conversation window → execute.
#![allow(clippy::result_large_err)] // the error is the HTTP answer, built once per request
use std::collections::HashMap;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::http::{
    authenticate, graph_error, injected, invalid, json_response, lost_response, no_such_object,
    outside_window, unknown_version, valid_version,
};
use super::state::{ChatEntry, FaultKind, State};
use super::validate::{send_request, SendRequest};
use super::{MessengerSandbox, RateLimitAnswer, Received};

/// Meta doc: Send messages › "Standard messaging" (24 h) and Message tags › HUMAN_AGENT (7 days).
const STANDARD_WINDOW: chrono::Duration = chrono::Duration::hours(24);
const HUMAN_AGENT_WINDOW: chrono::Duration = chrono::Duration::days(7);

pub(crate) fn routes() -> Router<MessengerSandbox> {
    Router::new().route("/{version}/{page_id}/messages", post(send))
}

/// What happens once the answer is decided.
struct Outcome {
    response: Response,
    delay: Option<Duration>,
    /// (page, psid, mid) of an accepted message, for automatic receipts.
    receipts: Option<(String, String, String)>,
}

/// Meta doc: Messenger Platform › Send API reference.
async fn send(
    AxumState(sb): AxumState<MessengerSandbox>,
    Path((version, page_id)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let now = sb.now();
    let path = format!("/{version}/{page_id}/messages");
    let outcome = {
        let mut st = sb.lock();
        match execute(
            &mut st, &path, &version, &page_id, &query, &headers, &raw, now,
        ) {
            Err(response) => Outcome {
                response,
                delay: None,
                receipts: None,
            },
            Ok((response, receipts)) => {
                let receipts = receipts.filter(|_| st.auto_receipts);
                match st.take_fault(&path, false) {
                    Some(FaultKind::After) => Outcome {
                        response: lost_response(),
                        delay: None,
                        receipts,
                    },
                    Some(FaultKind::DelayAfter(d)) => Outcome {
                        response,
                        delay: Some(d),
                        receipts,
                    },
                    _ => Outcome {
                        response,
                        delay: None,
                        receipts,
                    },
                }
            }
        }
    };
    if let Some((page, psid, mid)) = outcome.receipts {
        let sb = sb.clone();
        tokio::spawn(async move { sb.post_receipts(&page, &psid, &mid).await });
    }
    if let Some(delay) = outcome.delay {
        tokio::time::sleep(delay).await;
    }
    outcome.response
}

type Accepted = (Response, Option<(String, String, String)>);

#[allow(clippy::too_many_arguments)]
fn execute(
    st: &mut State,
    path: &str,
    version: &str,
    page_id: &str,
    query: &HashMap<String, String>,
    headers: &HeaderMap,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Result<Accepted, Response> {
    if !valid_version(version) {
        return Err(unknown_version(path));
    }
    let form = is_form(headers);
    let fields: HashMap<String, String> = if form {
        serde_urlencoded::from_bytes(raw).unwrap_or_default()
    } else {
        HashMap::new()
    };
    let query_token = query
        .get("access_token")
        .or_else(|| fields.get("access_token"))
        .map(String::as_str);
    let page = authenticate(st, headers, query_token)?;
    if page_id != page && page_id != "me" {
        return Err(no_such_object("post", page_id));
    }
    match st.over_rate_limit(&page, now) {
        Some(RateLimitAnswer::Code613) => {
            return Err(graph_error(
                400,
                613,
                None,
                "(#613) Calls to this api have exceeded the rate limit.",
            ))
        }
        Some(RateLimitAnswer::Http429) => {
            return Err(graph_error(
                429,
                4,
                None,
                "(#4) Application request limit reached",
            ))
        }
        None => {}
    }
    if let Some(FaultKind::Before(status, retry_after)) = st.take_fault(path, true) {
        return Err(injected(status, retry_after));
    }
    let body = if form {
        form_body(&fields)
    } else {
        json_body(raw)?
    };
    let req = send_request(&body)?;
    check_recipient(st, &page, &req.psid)?;
    if !window_open(st, &page, &req, now) {
        return Err(outside_window());
    }

    // Accepted from here on: nothing below may fail.
    let token = st
        .pages
        .get(&page)
        .map(|p| p.config.access_token.clone())
        .unwrap_or_default();
    let Some(message) = req.message else {
        return Ok((
            json_response(200, json!({ "recipient_id": req.psid })),
            None,
        ));
    };
    let mid = st.mid();
    let entry = ChatEntry {
        from: "page",
        at: now,
        mid: mid.clone(),
        message,
    };
    st.log_chat(&page, &req.psid, entry);
    st.received.push(Received {
        page_id: page.clone(),
        access_token: token,
        body,
        at: now,
        message_id: mid.clone(),
    });
    let answer = json!({ "recipient_id": req.psid, "message_id": mid });
    Ok((json_response(200, answer), Some((page, req.psid, mid))))
}

fn is_form(headers: &HeaderMap) -> bool {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        })
}

fn json_body(raw: &[u8]) -> Result<Value, Response> {
    serde_json::from_slice::<Value>(raw)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| invalid("(#100) The request body could not be parsed as a JSON object"))
}

/// Form fields as Meta reads them: `recipient` and `message` hold JSON, the rest plain strings.
fn form_body(fields: &HashMap<String, String>) -> Value {
    let mut body = serde_json::Map::new();
    for (k, v) in fields {
        if k == "access_token" {
            continue;
        }
        let value = serde_json::from_str::<Value>(v)
            .ok()
            .filter(|j| j.is_object())
            .unwrap_or_else(|| Value::String(v.clone()));
        body.insert(k.clone(), value);
    }
    Value::Object(body)
}

/// Meta doc: Common error codes — 100/2018001 "No matching user found", 551 unavailable.
fn check_recipient(st: &State, page: &str, psid: &str) -> Result<(), Response> {
    if st.user(page, psid).is_none() {
        return Err(graph_error(
            400,
            100,
            Some(2_018_001),
            "(#100) No matching user found",
        ));
    }
    let blocked = st.pages.get(page).is_some_and(|p| p.blocked.contains(psid));
    if blocked {
        return Err(graph_error(
            400,
            551,
            Some(1_545_041),
            "(#551) This person isn't available right now.",
        ));
    }
    Ok(())
}

/// RESPONSE, UPDATE and sender actions within 24 h of the person's last message; HUMAN_AGENT
/// within 7 days; the other tags at any time.
fn window_open(st: &State, page: &str, req: &SendRequest, now: DateTime<Utc>) -> bool {
    let last = st.last_inbound.get(&(page.to_owned(), req.psid.clone()));
    let within = |d: chrono::Duration| last.is_some_and(|t| now - *t <= d);
    match (req.messaging_type.as_deref(), req.tag.as_deref()) {
        (Some("MESSAGE_TAG"), Some("HUMAN_AGENT")) => within(HUMAN_AGENT_WINDOW),
        (Some("MESSAGE_TAG"), _) => true,
        _ => within(STANDARD_WINDOW),
    }
}
