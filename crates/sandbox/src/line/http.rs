//! LINE's response conventions: `X-Line-Request-Id` everywhere, `{"message","details"}` errors,
//! bearer-token authentication.
// Handlers return `Result<_, Response>`: the error is the HTTP answer, built once per request.
#![allow(clippy::result_large_err)]
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::ids;
use super::spec::Detail;
use super::state::State;

pub(crate) const AUTH_FAILED: &str =
    "Authentication failed. Confirm that the access token in the authorization header is valid.";
pub(crate) const AUTH_MISSING: &str =
    "Authorization header required. Must follow the scheme, 'Authorization: Bearer <ACCESS TOKEN>'";
pub(crate) const RATE_LIMITED: &str = "The API rate limit has been exceeded. Try again later.";
pub(crate) const MONTHLY_LIMIT: &str = "You have reached your monthly limit.";

/// This request's id, made by [`request_id`] before the handler runs.
#[derive(Clone, Debug)]
pub(crate) struct RequestId(pub String);

/// Middleware: every response carries `X-Line-Request-Id`, errors and 404s included. Every
/// call is also logged (path, status), refused ones too, so tests can prove a call never left.
pub(crate) async fn request_id(
    axum::extract::State(sb): axum::extract::State<super::LineSandbox>,
    mut req: Request,
    next: Next,
) -> Response {
    let id = ids::request_id();
    let path = req.uri().path().to_owned();
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut resp = next.run(req).await;
    sb.lock().calls.push((path, resp.status().as_u16()));
    if let Ok(v) = HeaderValue::from_str(&id) {
        resp.headers_mut().entry("x-line-request-id").or_insert(v);
    }
    resp
}

pub(crate) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

pub(crate) fn error(status: u16, message: &str) -> Response {
    json_response(status, json!({ "message": message }))
}

/// 400 with LINE's details array (omitted when empty, as LINE does).
pub(crate) fn invalid(details: &[Detail]) -> Response {
    let list: Vec<Value> = details
        .iter()
        .map(|d| json!({ "message": d.message, "property": d.property }))
        .collect();
    json_response(
        400,
        json!({ "message": format!("The request body has {} error(s)", details.len()), "details": list }),
    )
}

/// A fault injected by a test: a plausible LINE body for the status, with `Retry-After` when
/// the test asked for one.
pub(crate) fn injected(status: u16, retry_after: Option<u64>) -> Response {
    let message = match status {
        429 => RATE_LIMITED,
        500 => "An unexpected error occurred on the LINE Platform.",
        502..=504 => "The LINE Platform is temporarily unavailable.",
        _ => "Injected failure.",
    };
    let mut resp = error(status, message);
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// The channel access token of an authenticated request, or the 401 LINE would answer.
pub(crate) fn authenticate(st: &State, headers: &HeaderMap) -> Result<String, Response> {
    let Some(value) = headers.get("authorization").and_then(|v| v.to_str().ok()) else {
        return Err(error(401, AUTH_MISSING));
    };
    let Some(token) = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
    else {
        return Err(error(401, AUTH_MISSING));
    };
    let token = token.trim();
    if st.channels.contains_key(token) {
        Ok(token.to_owned())
    } else {
        Err(error(401, AUTH_FAILED))
    }
}

pub(crate) async fn not_found() -> Response {
    error(404, "Not found")
}
