//! Reply, push, multicast, narrowcast and broadcast, with LINE's order of checks:
//! auth → rate limit → retry key → body against the spec → recipients → monthly quota → execute.
#![allow(clippy::result_large_err)] // the error is the HTTP answer, built once per request
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State as AxumState;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::routing::post;
use axum::{Extension, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::http::{
    authenticate, error, injected, invalid, json_response, RequestId, MONTHLY_LIMIT, RATE_LIMITED,
};
use super::state::{AcceptedKey, FaultKind, State};
use super::{ids, spec, LineSandbox, Received};

/// LINE keeps retry keys for 24 hours; reply tokens are good for about a minute.
const RETRY_KEY_TTL: chrono::Duration = chrono::Duration::hours(24);
pub(crate) const REPLY_TOKEN_TTL: chrono::Duration = chrono::Duration::minutes(1);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Reply,
    Push,
    Multicast,
    Narrowcast,
    Broadcast,
}

impl Endpoint {
    fn path(self) -> &'static str {
        match self {
            Endpoint::Reply => "/v2/bot/message/reply",
            Endpoint::Push => "/v2/bot/message/push",
            Endpoint::Multicast => "/v2/bot/message/multicast",
            Endpoint::Narrowcast => "/v2/bot/message/narrowcast",
            Endpoint::Broadcast => "/v2/bot/message/broadcast",
        }
    }

    fn schema(self) -> &'static str {
        match self {
            Endpoint::Reply => "ReplyMessageRequest",
            Endpoint::Push => "PushMessageRequest",
            Endpoint::Multicast => "MulticastRequest",
            Endpoint::Narrowcast => "NarrowcastRequest",
            Endpoint::Broadcast => "BroadcastRequest",
        }
    }
}

pub(crate) fn routes() -> Router<LineSandbox> {
    Router::new()
        .route(Endpoint::Reply.path(), post(reply))
        .route(Endpoint::Push.path(), post(push))
        .route(Endpoint::Multicast.path(), post(multicast))
        .route(Endpoint::Narrowcast.path(), post(narrowcast))
        .route(Endpoint::Broadcast.path(), post(broadcast))
}

type Args = (
    AxumState<LineSandbox>,
    Extension<RequestId>,
    HeaderMap,
    Bytes,
);

/// LINE doc: Messaging API reference › "Send reply message".
async fn reply(
    s: AxumState<LineSandbox>,
    r: Extension<RequestId>,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    handle(Endpoint::Reply, (s, r, h, b)).await
}
/// LINE doc: Messaging API reference › "Send push message".
async fn push(
    s: AxumState<LineSandbox>,
    r: Extension<RequestId>,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    handle(Endpoint::Push, (s, r, h, b)).await
}
/// LINE doc: Messaging API reference › "Send multicast message".
async fn multicast(
    s: AxumState<LineSandbox>,
    r: Extension<RequestId>,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    handle(Endpoint::Multicast, (s, r, h, b)).await
}
/// LINE doc: Messaging API reference › "Send narrowcast message" (202, then progress).
async fn narrowcast(
    s: AxumState<LineSandbox>,
    r: Extension<RequestId>,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    handle(Endpoint::Narrowcast, (s, r, h, b)).await
}
/// LINE doc: Messaging API reference › "Send broadcast message".
async fn broadcast(
    s: AxumState<LineSandbox>,
    r: Extension<RequestId>,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    handle(Endpoint::Broadcast, (s, r, h, b)).await
}

async fn handle(ep: Endpoint, (AxumState(sb), Extension(rid), headers, body): Args) -> Response {
    let now = sb.now();
    let (response, delay) = {
        let mut st = sb.lock();
        decide(&mut st, ep, &rid.0, &headers, &body, now)
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    response
}

fn decide(
    st: &mut State,
    ep: Endpoint,
    request_id: &str,
    headers: &HeaderMap,
    raw: &[u8],
    now: DateTime<Utc>,
) -> (Response, Option<Duration>) {
    match execute(st, ep, request_id, headers, raw, now) {
        Err(response) => (response, None),
        // Executed: an "after accept" fault now loses or delays the answer.
        Ok(response) => match st.take_fault(ep.path(), false) {
            Some(FaultKind::After(status)) => (injected(status, None), None),
            Some(FaultKind::DelayAfter(d)) => (response, Some(d)),
            _ => (response, None),
        },
    }
}

fn execute(
    st: &mut State,
    ep: Endpoint,
    request_id: &str,
    headers: &HeaderMap,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Result<Response, Response> {
    let token = authenticate(st, headers)?;
    if !st.within_rate_limit(&token, ep.path(), now) {
        return Err(error(429, RATE_LIMITED));
    }
    if let Some(FaultKind::Before(status, retry_after)) = st.take_fault(ep.path(), true) {
        return Err(injected(status, retry_after));
    }
    let is_json = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.trim_start()
                .to_ascii_lowercase()
                .starts_with("application/json")
        });
    if !is_json {
        return Err(error(
            415,
            "The Content-Type header must be application/json.",
        ));
    }
    let retry_key = check_retry_key(st, ep, &token, headers, now)?;
    let body: Value = serde_json::from_slice(raw).map_err(|e| {
        error(
            400,
            &format!("The request body could not be parsed as JSON: {e}"),
        )
    })?;
    let spec =
        spec::spec().map_err(|e| error(500, &format!("sandbox spec failed to load: {e}")))?;
    let details = spec.validate(ep.schema(), &body);
    if !details.is_empty() {
        return Err(invalid(&details));
    }
    let recipients = recipients(st, ep, &token, &body, now)?;
    let channel = st
        .channels
        .get(&token)
        .ok_or_else(|| error(401, super::http::AUTH_FAILED))?;
    // LINE counts one message per recipient, whatever the number of bubbles; replies are free.
    let cost = if ep == Endpoint::Reply {
        0
    } else {
        i64::try_from(
            recipients
                .iter()
                .filter(|r| !channel.blocked.contains(*r))
                .count(),
        )
        .unwrap_or(i64::MAX)
    };
    if let Some(quota) = channel.config.quota {
        if ep != Endpoint::Reply && channel.consumption + cost > quota {
            return Err(error(429, MONTHLY_LIMIT));
        }
    }
    let bot = channel.config.bot_user_id.clone();
    let blocked = channel.blocked.clone();

    // Accepted from here on: nothing below may fail.
    if let Some(rt) = body.get("replyToken").and_then(Value::as_str) {
        if let Some(t) = st.reply_tokens.get_mut(rt) {
            t.used = true;
        }
    }
    let messages: Vec<Value> = body["messages"].as_array().cloned().unwrap_or_default();
    let sent: Vec<Value> = messages
        .iter()
        .map(|_| json!({ "id": st.message_id(), "quoteToken": ids::quote_token() }))
        .collect();
    for to in recipients.iter().filter(|r| !blocked.contains(*r)) {
        for m in &messages {
            st.log_chat(to, "bot", &bot, m.clone(), now);
        }
    }
    if let Some(channel) = st.channels.get_mut(&token) {
        channel.consumption += cost;
    }
    st.received.push(Received {
        endpoint: ep.path().to_owned(),
        access_token: token.clone(),
        retry_key: retry_key.clone(),
        body,
        at: now,
        request_id: request_id.to_owned(),
    });
    let answer = match ep {
        Endpoint::Reply | Endpoint::Push => json!({ "sentMessages": sent }),
        _ => json!({}),
    };
    if let Some(key) = retry_key {
        let sent_messages = answer.get("sentMessages").cloned().unwrap_or(Value::Null);
        st.retry_keys.insert(
            (token, key),
            AcceptedKey {
                request_id: request_id.to_owned(),
                at: now,
                sent_messages,
            },
        );
    }
    if ep == Endpoint::Narrowcast {
        let n = recipients.len();
        let at = now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        st.narrowcasts.insert(
            request_id.to_owned(),
            json!({ "phase": "succeeded", "successCount": n, "failureCount": 0, "targetCount": n,
                    "acceptedTime": at, "completedTime": at }),
        );
        return Ok(json_response(202, answer));
    }
    Ok(json_response(200, answer))
}

/// LINE doc: Messaging API reference › "Retry failed API requests" (X-Line-Retry-Key).
fn check_retry_key(
    st: &State,
    ep: Endpoint,
    token: &str,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<Option<String>, Response> {
    let Some(value) = headers.get("x-line-retry-key") else {
        return Ok(None);
    };
    if ep == Endpoint::Reply {
        return Err(error(
            400,
            "The X-Line-Retry-Key header cannot be used with reply messages.",
        ));
    }
    let key = value
        .to_str()
        .ok()
        .and_then(|k| uuid::Uuid::try_parse(k).ok());
    let Some(key) = key else {
        return Err(error(
            400,
            "The value of the X-Line-Retry-Key header is invalid. Specify a UUID.",
        ));
    };
    let key = key.hyphenated().to_string();
    if let Some(accepted) = st.retry_keys.get(&(token.to_owned(), key.clone())) {
        if now - accepted.at < RETRY_KEY_TTL {
            let mut body = json!({ "message": "The retry key is already accepted" });
            if accepted.sent_messages.is_array() {
                body["sentMessages"] = accepted.sent_messages.clone();
            }
            let mut resp = json_response(409, body);
            if let Ok(v) = HeaderValue::from_str(&accepted.request_id) {
                resp.headers_mut().insert("x-line-accepted-request-id", v);
            }
            return Err(resp);
        }
    }
    Ok(Some(key))
}

/// Who the request reaches, or LINE's 400 for an unusable target.
fn recipients(
    st: &State,
    ep: Endpoint,
    token: &str,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Vec<String>, Response> {
    match ep {
        Endpoint::Reply => {
            let rt = body["replyToken"].as_str().unwrap_or_default();
            match st.reply_tokens.get(rt) {
                Some(t)
                    if !t.used
                        && t.channel.as_deref() == Some(token)
                        && now - t.issued_at <= REPLY_TOKEN_TTL =>
                {
                    Ok(vec![t.target.clone()])
                }
                _ => Err(error(400, "Invalid reply token")),
            }
        }
        Endpoint::Push => {
            let to = body["to"].as_str().unwrap_or_default();
            if ids::is_line_id(to, &['U', 'C', 'R']) {
                Ok(vec![to.to_owned()])
            } else {
                Err(error(
                    400,
                    "The property, 'to', in the request body is invalid (line: -, column: -)",
                ))
            }
        }
        Endpoint::Multicast => {
            let to: Vec<String> = body["to"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect();
            if to.iter().all(|id| ids::is_line_id(id, &['U'])) {
                Ok(to)
            } else {
                Err(error(
                    400,
                    "The property, 'to', in the request body is invalid (line: -, column: -)",
                ))
            }
        }
        // The sandbox ignores narrowcast filters: every follower matches.
        Endpoint::Narrowcast | Endpoint::Broadcast => Ok(st.followers(token)),
    }
}
