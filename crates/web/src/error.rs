//! One error type per face, mapped to HTTP once. Internal errors are logged once and shown as an
//! opaque 500; everything else carries a stable code (`tsunagu_core::Code`) the catalogs
//! translate. A domain `Refusal` becomes either with `?` / `.into()`: its status comes from
//! `api::refusal::status`, its words from `i18n::refusal`.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use tsunagu_core::{Code, Refusal};

use crate::api::refusal::{message, status};

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: Code,
    pub message: String,
}

impl ApiError {
    /// A status other than the code's own: only for what the framework decided (a body axum
    /// refused with its own status). Everything else is a `Refusal`, converted with `into()`.
    pub fn new(status: StatusCode, code: Code, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn not_found() -> Self {
        Refusal::new(Code::NotFound)
            .detail("No such resource in this clinic.")
            .into()
    }
    pub fn forbidden() -> Self {
        Refusal::new(Code::Forbidden)
            .detail("This token or role may not do that.")
            .into()
    }
    pub fn unauthorized() -> Self {
        Refusal::new(Code::Unauthorized)
            .detail("A valid bearer token is required.")
            .into()
    }
    /// 422 `invalid_request`: the request's shape, not one of its values.
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let _ = field;
        Refusal::new(Code::InvalidRequest).detail(message).into()
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Refusal::new(Code::BadRequest).detail(message).into()
    }
}

/// The one mapping of a refusal to the API: the code's status, the English detail (or the
/// code's English text) as the message.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        Self::new(status(r.code), r.code, message(&r))
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{e:#}"), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            Code::Internal,
            "Something went wrong on our side.",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = serde_json::json!({"error": {"code": self.code, "message": self.message}});
        (self.status, Json(body)).into_response()
    }
}

/// An error on a staff page: rendered as a whole page in the reader's language
/// (`error_page`).
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub code: Code,
}

impl PageError {
    pub fn new(status: StatusCode, code: Code) -> Self {
        Self { status, code }
    }
    pub fn not_found() -> Self {
        Code::NotFound.into()
    }
    pub fn forbidden() -> Self {
        Code::Forbidden.into()
    }
}

/// A refusal as a whole page, with the code's status (a form shows its refusals inline
/// instead, with `i18n::refusal`).
impl From<Code> for PageError {
    fn from(code: Code) -> Self {
        Self::new(status(code), code)
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{e:#}"), "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, Code::Internal)
    }
}

impl IntoResponse for PageError {
    /// Marked for `error_page::pages`, which renders it in the reader's language.
    fn into_response(self) -> Response {
        crate::error_page::fallback(crate::error_page::Failed {
            status: self.status,
            code: self.code,
        })
    }
}
