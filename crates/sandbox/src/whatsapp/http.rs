//! The Graph API's answer conventions: the `{"error":{…}}` envelope with `fbtrace_id`, Bearer
//! authentication, and ids shaped like Meta's.
// Handlers return `Result<_, Response>`: the error is the HTTP answer, built once per request.
#![allow(clippy::result_large_err)]
use axum::extract::Request;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde_json::{json, Value};
use uuid::Uuid;

use super::state::State;
use super::{PhoneNumberConfig, WhatsAppSandbox};

/// One Graph error, as Meta documents it (Cloud API › Support › Error codes).
#[derive(Clone, Debug)]
pub(crate) struct GraphError {
    pub status: u16,
    pub code: i64,
    pub message: String,
    pub kind: &'static str,
    pub subcode: Option<i64>,
    pub details: Option<String>,
    pub transient: Option<bool>,
    /// `Retry-After` seconds, set only by an injected fault.
    pub retry_after: Option<u64>,
}

impl GraphError {
    pub fn new(status: u16, code: i64, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            kind: "OAuthException",
            subcode: None,
            details: None,
            transient: None,
            retry_after: None,
        }
    }

    pub fn details(mut self, details: impl Into<String>) -> Self {
        self.details = Some(details.into());
        self
    }

    pub fn subcode(mut self, subcode: i64) -> Self {
        self.subcode = Some(subcode);
        self
    }

    pub fn retry_after(mut self, secs: Option<u64>) -> Self {
        self.retry_after = secs;
        self
    }

    pub fn transient(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self.transient = Some(true);
        self
    }

    pub fn into_response(self) -> Response {
        let mut error = json!({
            "message": self.message,
            "type": self.kind,
            "code": self.code,
            "fbtrace_id": fbtrace_id(),
        });
        if let Some(sub) = self.subcode {
            error["error_subcode"] = json!(sub);
        }
        if let Some(details) = self.details {
            error["error_data"] = json!({ "messaging_product": "whatsapp", "details": details });
        }
        if let Some(t) = self.transient {
            error["is_transient"] = json!(t);
        }
        let mut resp = json_response(self.status, json!({ "error": error }));
        if let Some(secs) = self.retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        resp
    }

    /// (#100) Invalid parameter, with what was wrong.
    pub fn invalid(details: impl Into<String>) -> Self {
        Self::new(400, 100, "(#100) Invalid parameter").details(details)
    }

    /// The body Meta sends for `code`, used by injected faults and the documented limits.
    pub fn for_code(status: u16, code: i64) -> Self {
        match code {
            1 => Self::new(status, 1, "An unknown error occurred").transient("OAuthException"),
            2 => Self::new(status, 2, "Service temporarily unavailable")
                .transient("OAuthException"),
            4 => Self::new(status, 4, "(#4) Application request limit reached")
                .transient("OAuthException"),
            80007 => Self::new(status, 80007, "(#80007) Rate limit issues"),
            130429 => Self::new(status, 130429, "(#130429) Rate limit hit")
                .details("Cloud API message throughput has been reached."),
            131056 => Self::new(status, 131056, "(#131056) (Business Account, Consumer Account) pair rate limit hit")
                .details("Too many messages sent from the sender phone number to the same recipient phone number in a short period of time."),
            131047 => Self::new(status, 131047, "(#131047) Re-engagement message")
                .details("Message failed to send because more than 24 hours have passed since the customer last replied to this number."),
            131026 => Self::new(status, 131026, "(#131026) Message undeliverable")
                .details("Unable to deliver message."),
            131050 => Self::new(status, 131050, "(#131050) Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business")
                .details("Unable to deliver the message. This recipient has chosen to stop receiving marketing messages on WhatsApp from your business."),
            132001 => Self::new(status, 132001, "(#132001) Template name does not exist in the translation")
                .details("The template does not exist in the specified language or the template has not been approved."),
            100 => Self::new(status, 100, "(#100) Invalid parameter")
                .details("Parameter value is not valid"),
            190 => Self::new(status, 190, "Invalid OAuth access token - Cannot parse access token"),
            131000 => Self::new(status, 131000, "(#131000) Something went wrong")
                .details("Message failed to send due to an unknown error."),
            _ if status >= 500 => Self::new(status, 2, "Service temporarily unavailable")
                .transient("OAuthException"),
            _ => Self::new(status, code, format!("(#{code}) Injected failure")),
        }
    }
}

impl From<GraphError> for Response {
    fn from(e: GraphError) -> Response {
        e.into_response()
    }
}

pub(crate) fn json_response(status: u16, body: Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(body)).into_response()
}

/// The Bearer token of the request, or Meta's 401.
pub(crate) fn bearer(headers: &HeaderMap) -> Result<String, GraphError> {
    let value = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .unwrap_or_default();
    if token.is_empty() {
        return Err(GraphError::new(
            401,
            104,
            "An access token is required to request this resource.",
        ));
    }
    Ok(token.to_owned())
}

/// The phone number behind a valid token, or 190 as Meta answers for an unknown token.
pub(crate) fn authenticate(
    st: &State,
    headers: &HeaderMap,
) -> Result<PhoneNumberConfig, GraphError> {
    let token = bearer(headers)?;
    st.number_by_token(&token)
        .cloned()
        .ok_or_else(|| GraphError::for_code(401, 190))
}

/// Graph's answer for a node the token may not use (Meta: code 100, subcode 33).
pub(crate) fn no_such_object(id: &str, verb: &str) -> GraphError {
    GraphError::new(
        400,
        100,
        format!("Unsupported {verb} request. Object with ID '{id}' does not exist, cannot be loaded due to missing permissions, or does not support this operation."),
    )
    .subcode(33)
    .graph_method()
}

impl GraphError {
    fn graph_method(mut self) -> Self {
        self.kind = "GraphMethodException";
        self
    }
}

/// `vNN.N`: the Graph API version every path starts with.
pub(crate) fn check_version(version: &str) -> Result<(), GraphError> {
    let ok = version
        .strip_prefix('v')
        .and_then(|v| v.split_once('.'))
        .is_some_and(|(major, minor)| {
            !major.is_empty()
                && !minor.is_empty()
                && major.bytes().all(|b| b.is_ascii_digit())
                && minor.bytes().all(|b| b.is_ascii_digit())
        });
    if ok {
        Ok(())
    } else {
        Err(GraphError::new(
            400,
            2500,
            format!("Unknown path components: /{version}"),
        ))
    }
}

/// Middleware: every call is logged (path, status), refused ones too, so tests can prove a call
/// never left.
pub(crate) async fn log_calls(
    axum::extract::State(sb): axum::extract::State<WhatsAppSandbox>,
    req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_owned();
    let resp = next.run(req).await;
    sb.lock().calls.push((path, resp.status().as_u16()));
    resp
}

pub(crate) async fn not_found() -> Response {
    GraphError::new(400, 2500, "Unknown path components").into_response()
}

/// Like Meta's `fbtrace_id`: 23 url-safe characters.
pub(crate) fn fbtrace_id() -> String {
    let s = Uuid::new_v4().simple().to_string();
    format!("A{}", &s[..22])
}

/// A wamid like Meta's: "wamid." + base64 of an opaque blob naming the user.
pub(crate) fn wamid(wa_id: &str) -> String {
    let mut blob = vec![0x18, 0x0c];
    blob.extend_from_slice(wa_id.as_bytes());
    blob.extend_from_slice(&[0x15, 0x02, 0x00, 0x11, 0x18, 0x12]);
    blob.extend_from_slice(
        Uuid::new_v4().simple().to_string()[..18]
            .to_uppercase()
            .as_bytes(),
    );
    blob.push(0);
    format!("wamid.{}", BASE64.encode(blob))
}

/// A numeric Graph id (media, template), 16 digits like Meta's.
pub(crate) fn numeric_id(n: u64) -> String {
    (1_000_000_000_000_000u64 + n).to_string()
}
