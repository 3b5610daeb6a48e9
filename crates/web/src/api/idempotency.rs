//! The `Idempotency-Key` header of API writes; the keys are kept by
//! `tsunagu_store::idempotency` (claim, store, release), which `api::idempotent` drives.
use axum::http::HeaderMap;
use tsunagu_core::{Code, Refusal};
pub use tsunagu_store::idempotency::{claim, release, store, Claim, KeyScope};

use crate::ApiError;

pub const HEADER: &str = "idempotency-key";

/// The header's value: 1–255 visible ASCII characters, or `None` when absent.
pub fn key_from(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get(HEADER) else {
        return Ok(None);
    };
    let bad = || -> ApiError {
        Refusal::new(Code::InvalidIdempotencyKey)
            .detail("Idempotency-Key must be 1 to 255 visible ASCII characters.")
            .into()
    };
    let s = v.to_str().map_err(|_| bad())?.trim();
    if s.is_empty() || s.len() > 255 || !s.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(bad());
    }
    Ok(Some(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = v.parse() {
            h.insert(HEADER, v);
        }
        h
    }

    #[test]
    fn keys_are_short_visible_ascii() {
        assert_eq!(key_from(&HeaderMap::new()).ok(), Some(None));
        assert_eq!(
            key_from(&headers("abc-123")).ok(),
            Some(Some("abc-123".to_string()))
        );
        assert!(key_from(&headers(" ")).is_err());
        assert!(key_from(&headers(&"x".repeat(256))).is_err());
        assert!(key_from(&headers("has space")).is_err());
    }
}
