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

pub(crate) fn routes() -> Router<LineSandbox> {
    Router::new().route(PATH, post(mark_as_read))
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
