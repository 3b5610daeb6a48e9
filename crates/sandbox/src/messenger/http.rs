//! Graph API conventions: `{"error":{message,type,code,error_subcode,fbtrace_id}}` answers,
//! page tokens as a bearer or `access_token` query parameter, versioned paths.
// Handlers return `Result<_, Response>`: the error is the HTTP answer, built once per request.
#![allow(clippy::result_large_err)]
use axum::extract::{Request, State as AxumState};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use super::state::State;
use super::MessengerSandbox;

/// Middleware: every call is logged (path, status), refused ones too, so tests can prove a call
/// never executed; every answer carries an `x-fb-trace-id` like Graph's.
pub(crate) async fn log_call(
    AxumState(sb): AxumState<MessengerSandbox>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let mut resp = next.run(req).await;
    sb.lock().calls.push((path, resp.status().as_u16()));
    if let Ok(v) = HeaderValue::from_str(&trace_id()) {
        resp.headers_mut().entry("x-fb-trace-id").or_insert(v);
    }
    resp
}

/// A Graph-looking trace id (11 url-safe characters).
pub(crate) fn trace_id() -> String {
    let raw = uuid::Uuid::new_v4().simple().to_string();
    format!("A{}", &raw[..10])
}

pub(crate) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// Meta doc: Graph API › "Handling errors" — the error object.
pub(crate) fn graph_error(status: u16, code: i64, subcode: Option<i64>, message: &str) -> Response {
    let kind = match code {
        100 if subcode == Some(33) => "GraphMethodException",
        _ => "OAuthException",
    };
    let mut error =
        json!({ "message": message, "type": kind, "code": code, "fbtrace_id": trace_id() });
    if let Some(sub) = subcode {
        error["error_subcode"] = json!(sub);
    }
    if code == 2 {
        error["is_transient"] = json!(true);
    }
    json_response(status, json!({ "error": error }))
}

/// Code 100 "Invalid parameter" with the detail Meta gives in `message`.
pub(crate) fn invalid(message: &str) -> Response {
    graph_error(400, 100, None, message)
}

/// Meta doc: Messenger "Common error codes" — code 10 subcode 2018278.
pub(crate) fn outside_window() -> Response {
    graph_error(
        400,
        10,
        Some(2_018_278),
        "(#10) This message is sent outside of allowed window. Learn more about the new policy here: https://developers.facebook.com/docs/messenger-platform/policy-overview",
    )
}

/// Meta doc: Graph API › "Access tokens" — code 190, answered 400 with `WWW-Authenticate`.
pub(crate) fn invalid_token() -> Response {
    let mut resp = graph_error(
        400,
        190,
        None,
        "Invalid OAuth access token - Cannot parse access token",
    );
    resp.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("OAuth \"Facebook Platform\" \"invalid_token\" \"Invalid OAuth access token - Cannot parse access token\""),
    );
    resp
}

/// An object the token's page cannot see (another page's id, an unknown PSID).
pub(crate) fn no_such_object(method: &str, id: &str) -> Response {
    graph_error(
        400,
        100,
        Some(33),
        &format!("Unsupported {method} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation. Please read the Graph API documentation at https://developers.facebook.com/docs/graph-api"),
    )
}

/// A fault injected before execution: a Graph body matching the status, with `Retry-After` when
/// the test asked for one.
pub(crate) fn injected(status: u16, retry_after: Option<u64>) -> Response {
    let mut resp = match status {
        429 => graph_error(
            429,
            613,
            None,
            "(#613) Calls to this api have exceeded the rate limit.",
        ),
        500..=599 => graph_error(
            status,
            2,
            None,
            "An unexpected error has occurred. Please retry your request later.",
        ),
        _ => graph_error(status, 100, None, "(#100) Injected failure."),
    };
    if let Some(secs) = retry_after {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs));
    }
    resp
}

/// A fault injected after execution: what a proxy answers when the real answer is lost.
pub(crate) fn lost_response() -> Response {
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "Internal Server Error",
    )
        .into_response()
}

/// The page of the request's token (`Authorization: Bearer` or `access_token=`), or code 190.
pub(crate) fn authenticate(
    st: &State,
    headers: &HeaderMap,
    query_token: Option<&str>,
) -> Result<String, Response> {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim);
    let token = bearer.or(query_token).unwrap_or_default();
    if token.is_empty() {
        return Err(graph_error(
            400,
            2500,
            None,
            "An active access token must be used to query information about the current user.",
        ));
    }
    st.page_of_token(token).ok_or_else(invalid_token)
}

/// `v23.0`-style version segments only.
pub(crate) fn valid_version(v: &str) -> bool {
    let Some(rest) = v.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.split('.');
    let (Some(major), Some(minor), None) = (parts.next(), parts.next(), parts.next()) else {
        return false;
    };
    [major, minor]
        .iter()
        .all(|p| !p.is_empty() && p.len() <= 3 && p.bytes().all(|b| b.is_ascii_digit()))
}

pub(crate) fn unknown_version(path: &str) -> Response {
    graph_error(400, 2500, None, &format!("Unknown path components: {path}"))
}

pub(crate) async fn unknown_path(req: Request) -> Response {
    unknown_version(req.uri().path())
}
