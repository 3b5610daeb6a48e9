//! One error type per face, mapped to HTTP once. Internal errors are logged once and shown as an
//! opaque 500; everything else carries a stable snake_case code the catalogs translate.
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }
    pub fn not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "No such resource in this clinic.",
        )
    }
    pub fn forbidden() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "This token or role may not do that.",
        )
    }
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "A valid bearer token is required.",
        )
    }
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        let _ = field;
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_request", message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{e:#}"), "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
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

/// An error on a staff page: rendered as a small HTML page in the clinic's language.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub code: &'static str,
}

impl PageError {
    pub fn new(status: StatusCode, code: &'static str) -> Self {
        Self { status, code }
    }
    pub fn not_found() -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found")
    }
    pub fn forbidden() -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden")
    }
}

impl From<anyhow::Error> for PageError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = %format!("{e:#}"), "internal error");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal")
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let ja = crate::i18n::text("ja", &format!("error.{}", self.code));
        let en = crate::i18n::text("en", &format!("error.{}", self.code));
        let html = format!(
            "<!doctype html><html lang=\"ja\"><meta charset=\"utf-8\"><title>{}</title><link rel=\"stylesheet\" href=\"/static/app.css\"><main class=\"error-page\"><h1>{}</h1><p>{}</p><p><a href=\"/app\">← tsunagu</a></p></main></html>",
            self.status.as_u16(),
            crate::security::escape(&ja),
            crate::security::escape(&en)
        );
        (self.status, axum::response::Html(html)).into_response()
    }
}
