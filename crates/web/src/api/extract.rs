//! The API's own extractors and list helpers. axum's stock extractors answer a bad request with
//! plain text; these answer with the JSON error envelope like every other API error.
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine;
use serde::de::DeserializeOwned;
use serde::Serialize;
use tsunagu_core::{Code, Refusal};
use utoipa::ToSchema;

use crate::ApiError;

/// The error envelope every API error uses.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// Stable snake_case key (`not_found`, `forbidden`, `recipient_blocked`, …); translate this,
    /// not the message.
    #[schema(example = "not_found")]
    pub code: String,
    /// A short English explanation for developers.
    pub message: String,
}

/// A JSON body; a missing, malformed or mistyped body becomes an enveloped 4xx.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(ApiJson(v)),
            Err(e) => {
                let code = match &e {
                    JsonRejection::JsonDataError(_) => Code::InvalidRequest,
                    JsonRejection::JsonSyntaxError(_) => Code::MalformedJson,
                    JsonRejection::MissingJsonContentType(_) => Code::UnsupportedMediaType,
                    _ => Code::BadRequest,
                };
                // axum decided the status (a body over the limit is 413 whatever the code).
                Err(ApiError::new(e.status(), code, e.body_text()))
            }
        }
    }
}

/// Query parameters; an unreadable query becomes a 422 `invalid_request`.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        serde_urlencoded::from_str(parts.uri.query().unwrap_or(""))
            .map(ApiQuery)
            .map_err(|e| ApiError::invalid("query", format!("The query string is not valid: {e}")))
    }
}

/// The `{id}` segment as text. Handlers parse it into a typed id; anything unreadable is a 404,
/// the same answer as an id that does not exist in this clinic.
pub struct IdPath(pub String);

impl<S: Send + Sync> FromRequestParts<S> for IdPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Path::<String>::from_request_parts(parts, state)
            .await
            .map(|Path(s)| IdPath(s))
            .map_err(|_| ApiError::not_found())
    }
}

pub const DEFAULT_LIMIT: i64 = 50;
pub const MAX_LIMIT: i64 = 100;

/// `limit`: 1–100, 50 when omitted.
pub fn page_limit(limit: Option<i64>) -> Result<i64, ApiError> {
    match limit {
        None => Ok(DEFAULT_LIMIT),
        Some(l) if (1..=MAX_LIMIT).contains(&l) => Ok(l),
        Some(_) => Err(Refusal::new(Code::InvalidLimit)
            .detail(format!("limit must be between 1 and {MAX_LIMIT}."))
            .into()),
    }
}

/// A cursor is the last row's sort key as base64url JSON: opaque to clients, cheap to check.
pub fn encode_cursor<K: Serialize>(key: &K) -> String {
    B64URL.encode(serde_json::to_vec(key).unwrap_or_default())
}

pub fn decode_cursor<K: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<K>, ApiError> {
    let Some(c) = cursor.filter(|c| !c.is_empty()) else {
        return Ok(None);
    };
    B64URL
        .decode(c)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .map(Some)
        .ok_or_else(|| {
            Refusal::new(Code::InvalidCursor)
                .detail("The cursor is not one this API returned.")
                .into()
        })
}

/// Stored milliseconds as RFC 3339 UTC (`2025-04-01T09:30:00.000Z`).
pub fn rfc3339(ms: i64) -> String {
    tsunagu_core::clock::from_ms(ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_refused() {
        let c = encode_cursor(&(42i64, "abc"));
        let back: Option<(i64, String)> = decode_cursor(Some(&c)).ok().flatten();
        assert_eq!(back, Some((42, "abc".to_string())));
        assert!(decode_cursor::<(i64, String)>(Some("%%%")).is_err());
        assert!(matches!(decode_cursor::<(i64, String)>(None), Ok(None)));
    }

    #[test]
    fn limits_outside_one_to_a_hundred_are_refused() {
        assert_eq!(page_limit(None).ok(), Some(50));
        assert_eq!(page_limit(Some(100)).ok(), Some(100));
        assert!(page_limit(Some(0)).is_err());
        assert!(page_limit(Some(101)).is_err());
    }

    #[test]
    fn times_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
    }
}
