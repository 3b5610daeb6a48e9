//! Profile, content (the api-data host's path), quota, consumption and narrowcast progress.
use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxumState};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

use super::http::{authenticate, error, injected, json_response, RATE_LIMITED};
use super::state::{FaultKind, State};
use super::LineSandbox;

pub(crate) fn routes() -> Router<LineSandbox> {
    Router::new()
        .route("/v2/bot/profile/{user_id}", get(profile))
        .route("/v2/bot/message/{message_id}/content", get(content))
        .route("/v2/bot/message/quota", get(quota))
        .route("/v2/bot/message/quota/consumption", get(consumption))
        .route(
            "/v2/bot/message/progress/narrowcast",
            get(narrowcast_progress),
        )
}

/// Auth, rate limit and "before" faults, shared by every read; then the handler's answer with any
/// "after" fault applied.
async fn read(
    sb: &LineSandbox,
    headers: &HeaderMap,
    path: &str,
    answer: impl FnOnce(&State, &str) -> Response,
) -> Response {
    let now = sb.now();
    let (response, delay) = {
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
        let response = answer(&st, &token);
        match st.take_fault(path, false) {
            Some(FaultKind::After(status)) => (injected(status, None), None),
            Some(FaultKind::DelayAfter(d)) => (response, Some(d)),
            _ => (response, None),
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    response
}

/// LINE doc: Messaging API reference › "Get profile". Only friends who have not blocked the bot.
async fn profile(
    AxumState(sb): AxumState<LineSandbox>,
    Path(user_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v2/bot/profile/{user_id}");
    read(&sb, &headers, &path, |st, token| {
        let found = st.channels.get(token).and_then(|c| {
            if c.blocked.contains(&user_id) {
                return None;
            }
            c.users.iter().find(|u| u.user_id == user_id)
        });
        match found {
            Some(u) => {
                let mut body = json!({ "displayName": u.display_name, "userId": u.user_id });
                for (key, value) in [
                    ("pictureUrl", &u.picture_url),
                    ("statusMessage", &u.status_message),
                    ("language", &u.language),
                ] {
                    if let Some(v) = value {
                        body[key] = json!(v);
                    }
                }
                json_response(200, body)
            }
            None => error(404, "Not found"),
        }
    })
    .await
}

/// LINE doc: Messaging API reference › "Get content" (api-data.line.me). Serves the media the
/// sandbox generated for messages it sent in webhooks of this channel.
async fn content(
    AxumState(sb): AxumState<LineSandbox>,
    Path(message_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/v2/bot/message/{message_id}/content");
    read(&sb, &headers, &path, |st, token| {
        match st.contents.get(&message_id) {
            Some(c) if c.channel.as_deref() == Some(token) => {
                let content_type = HeaderValue::from_str(&c.content_type)
                    .unwrap_or(HeaderValue::from_static("application/octet-stream"));
                ([(header::CONTENT_TYPE, content_type)], c.bytes.clone()).into_response()
            }
            _ => error(404, "Not found"),
        }
    })
    .await
}

/// LINE doc: Messaging API reference › "Get the target limit for sending messages this month".
async fn quota(AxumState(sb): AxumState<LineSandbox>, headers: HeaderMap) -> Response {
    read(&sb, &headers, "/v2/bot/message/quota", |st, token| match st
        .channels
        .get(token)
        .and_then(|c| c.config.quota)
    {
        Some(value) => json_response(200, json!({ "type": "limited", "value": value })),
        None => json_response(200, json!({ "type": "none" })),
    })
    .await
}

/// LINE doc: Messaging API reference › "Get number of messages sent this month".
async fn consumption(AxumState(sb): AxumState<LineSandbox>, headers: HeaderMap) -> Response {
    read(
        &sb,
        &headers,
        "/v2/bot/message/quota/consumption",
        |st, token| {
            let used = st.channels.get(token).map_or(0, |c| c.consumption);
            json_response(200, json!({ "totalUsage": used }))
        },
    )
    .await
}

/// LINE doc: Messaging API reference › "Get narrowcast message status".
async fn narrowcast_progress(
    AxumState(sb): AxumState<LineSandbox>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    read(
        &sb,
        &headers,
        "/v2/bot/message/progress/narrowcast",
        |st, _| {
            let Some(id) = q.get("requestId") else {
                return error(400, "The request parameter 'requestId' is required.");
            };
            match st.narrowcasts.get(id) {
                Some(progress) => json_response(200, progress.clone()),
                None => error(404, "Not found"),
            }
        },
    )
    .await
}
