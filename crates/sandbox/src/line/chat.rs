//! LINE doc: Messaging API reference › "Mark messages from users as read by token"
//! (`POST /v2/bot/chat/markAsRead`): the token's message and every earlier user message in that
//! chat show as read to the user. A token works only for the bot whose webhook carried it.
use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use serde_json::{json, Value};

use super::http::{authenticate, error, injected, invalid, json_response, RATE_LIMITED};
use super::state::FaultKind;
use super::{spec, LineSandbox};

const PATH: &str = "/v2/bot/chat/markAsRead";
const INVALID_TOKEN: &str = "An invalid markAsReadToken is specified.";
const LOADING: &str = "/v2/bot/chat/loading/start";
const INVALID_LOADING: &str =
    "An invalid chat ID is specified, or the loadingSeconds value is invalid.";

pub(crate) fn routes() -> Router<LineSandbox> {
    Router::new()
        .route(PATH, post(mark_as_read))
        .route(LOADING, post(start_loading))
}

async fn mark_as_read(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sb.now();
    let mut st = sb.lock();
    let token = match authenticate(&st, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !st.within_rate_limit(&token, PATH, now) {
        return error(429, RATE_LIMITED);
    }
    if let Some(FaultKind::Before(status, retry_after)) = st.take_fault(PATH, true) {
        return injected(status, retry_after);
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                400,
                &format!("The request body could not be parsed as JSON: {e}"),
            )
        }
    };
    let spec = match spec::spec() {
        Ok(s) => s,
        Err(e) => return error(500, &format!("sandbox spec failed to load: {e}")),
    };
    let details = spec.validate("MarkMessagesAsReadByTokenRequest", &body);
    if !details.is_empty() {
        return invalid(&details);
    }
    let read_token = body["markAsReadToken"].as_str().unwrap_or_default();
    let Some(t) = st.read_tokens.get(read_token) else {
        return error(400, INVALID_TOKEN);
    };
    if t.channel.as_deref() != Some(token.as_str()) {
        return error(400, INVALID_TOKEN);
    }
    let (thread, message_id) = (t.thread.clone(), t.message_id.clone());
    let bot = st
        .channels
        .get(&token)
        .map(|c| c.config.bot_user_id.clone())
        .unwrap_or_default();
    if let Some(chat) = st.transcripts.get_mut(&thread) {
        // Up to and including the token's message, this bot's chat only.
        if let Some(upto) = chat
            .iter()
            .position(|e| e.from == "user" && e.message["id"] == message_id.as_str())
        {
            for e in chat[..=upto]
                .iter_mut()
                .filter(|e| e.from == "user" && e.channel == bot)
            {
                e.read = true;
            }
        }
    }
    match st.take_fault(PATH, false) {
        Some(FaultKind::After(status)) => injected(status, None),
        _ => json_response(200, json!({})),
    }
}

/// LINE doc: Messaging API reference › "Display a loading animation"
/// (`POST /v2/bot/chat/loading/start`, `{chatId, loadingSeconds}`): one-on-one chats with a
/// friend only; `loadingSeconds` 5–60 in steps of 5 (default 20); 202 `{}`. The spec states
/// the range, the doc the steps and the chat rule.
async fn start_loading(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sb.now();
    let mut st = sb.lock();
    let token = match authenticate(&st, &headers) {
        Ok(t) => t,
        Err(r) => return r,
    };
    if !st.within_rate_limit(&token, LOADING, now) {
        return error(429, RATE_LIMITED);
    }
    if let Some(FaultKind::Before(status, retry_after)) = st.take_fault(LOADING, true) {
        return injected(status, retry_after);
    }
    let body: Value = match serde_json::from_slice(&body) {
        Ok(b) => b,
        Err(e) => {
            return error(
                400,
                &format!("The request body could not be parsed as JSON: {e}"),
            )
        }
    };
    let spec = match spec::spec() {
        Ok(s) => s,
        Err(e) => return error(500, &format!("sandbox spec failed to load: {e}")),
    };
    let details = spec.validate("ShowLoadingAnimationRequest", &body);
    if !details.is_empty() {
        return invalid(&details);
    }
    let seconds = body["loadingSeconds"].as_u64().unwrap_or(20);
    let chat = body["chatId"].as_str().unwrap_or_default().to_string();
    let friend = st
        .channels
        .get(&token)
        .is_some_and(|c| !c.blocked.contains(&chat) && c.users.iter().any(|u| u.user_id == chat));
    if !seconds.is_multiple_of(5) || !friend {
        return error(400, INVALID_LOADING);
    }
    st.loading.push((chat, seconds));
    match st.take_fault(LOADING, false) {
        Some(FaultKind::After(status)) => injected(status, None),
        _ => json_response(202, json!({})),
    }
}
