//! Twilio's answer conventions: `{code, message, more_info, status}` errors and HTTP Basic
//! authentication with AccountSid:AuthToken.
// Handlers return `Result<_, Response>`: the error is the HTTP answer, built once per request.
#![allow(clippy::result_large_err)]
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde_json::{json, Value};

use super::state::State;
use super::TwilioSandbox;

/// Twilio's error codes the sandbox answers with (<https://www.twilio.com/docs/api/errors>).
pub(crate) mod code {
    pub const AUTHENTICATE: u32 = 20003;
    pub const NOT_FOUND: u32 = 20404;
    pub const TOO_MANY_REQUESTS: u32 = 20429;
    pub const INTERNAL: u32 = 20500;
    pub const UNAVAILABLE: u32 = 20503;
    /// The sandbox's choice for a spec violation Twilio documents no specific code for.
    pub const INVALID_PARAMETER: u32 = 20001;
    pub const INVALID_TO: u32 = 21211;
    pub const INVALID_FROM: u32 = 21212;
    pub const TO_EQUALS_FROM: u32 = 21266;
    pub const NO_INTERNATIONAL_PERMISSION: u32 = 21408;
    pub const BODY_REQUIRED: u32 = 21602;
    pub const FROM_REQUIRED: u32 = 21603;
    pub const TO_REQUIRED: u32 = 21604;
    pub const FROM_NOT_OWNED: u32 = 21606;
    pub const INVALID_STATUS_CALLBACK: u32 = 21609;
    pub const UNSUBSCRIBED: u32 = 21610;
    pub const CANNOT_ROUTE: u32 = 21612;
    pub const NOT_MOBILE: u32 = 21614;
    pub const BODY_TOO_LONG: u32 = 21617;
    pub const INVALID_MEDIA: u32 = 21620;
    pub const SERVICE_NOT_FOUND: u32 = 21701;
    pub const INVALID_SERVICE: u32 = 21705;
}

/// Middleware: every call is logged as (path, status), refused ones too, so tests can prove a
/// call never left or never got through.
pub(crate) async fn log_calls(
    axum::extract::State(sb): axum::extract::State<TwilioSandbox>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    sb.lock().calls.push((path, resp.status().as_u16()));
    resp
}

pub(crate) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// An error exactly as Twilio shapes it.
pub(crate) fn error(status: u16, code: u32, message: &str) -> Response {
    json_response(
        status,
        json!({
            "code": code,
            "message": message,
            "more_info": format!("https://www.twilio.com/docs/errors/{code}"),
            "status": status,
        }),
    )
}

pub(crate) fn not_found_at(path: &str) -> Response {
    error(
        404,
        code::NOT_FOUND,
        &format!("The requested resource {path} was not found"),
    )
}

pub(crate) async fn not_found(uri: axum::http::Uri) -> Response {
    not_found_at(uri.path())
}

/// A fault injected by a test: a plausible Twilio body for the status.
pub(crate) fn injected(status: u16, retry_after: Option<u64>) -> Response {
    let (code, message) = match status {
        429 => (code::TOO_MANY_REQUESTS, "Too Many Requests"),
        503 => (code::UNAVAILABLE, "Service Unavailable"),
        500..=599 => (code::INTERNAL, "Internal Server Error"),
        _ => (code::INVALID_PARAMETER, "Injected failure"),
    };
    let mut resp = error(status, code, message);
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// Twilio doc: API › "Authentication" — HTTP Basic, AccountSid as user, AuthToken as password;
/// the account must be the one in the path. 401 with 20003 otherwise.
pub(crate) fn authenticate(
    st: &State,
    headers: &HeaderMap,
    path_account: &str,
) -> Result<(), Response> {
    let credentials = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b64| BASE64.decode(b64.trim()).ok())
        .and_then(|raw| String::from_utf8(raw).ok());
    let ok = credentials.is_some_and(|c| {
        let (user, password) = c.split_once(':').unwrap_or((c.as_str(), ""));
        user == path_account && st.auth_token(user).is_some_and(|t| t == password)
    });
    if ok {
        Ok(())
    } else {
        let mut resp = error(401, code::AUTHENTICATE, "Authenticate");
        resp.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Basic realm=\"Twilio API\""),
        );
        Err(resp)
    }
}
