//! CSRF protection. Every form carries `csrf_token`: after sign-in it must equal the session's
//! token; before sign-in (the password form) it must equal a random cookie set with the form
//! (double submit, SameSite=Strict), since there is no session to hold it yet.
use axum::body::Body;
use axum::extract::{FromRequest, Request};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::de::DeserializeOwned;
use serde::Deserialize;
use subtle::ConstantTimeEq;
use tsunagu_accounts::sessions;
use tsunagu_core::Code;
use tsunagu_privacy::crypto::random_token;

use crate::ui::session::{session_token, Staff};
use crate::{AppState, PageError};

/// Form bodies larger than this are refused (a reply with a long message fits easily).
const MAX_FORM_BYTES: usize = 1024 * 1024;
pub const LOGIN_CSRF_COOKIE: &str = "tsunagu_login_csrf";

/// An `application/x-www-form-urlencoded` body parsed into `T`, accepted only when its
/// `csrf_token` field equals the session's token. Rejects with 403 (the `error.csrf` page).
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

impl<T> FromRequest<AppState> for CsrfForm<T>
where
    T: DeserializeOwned + Send,
{
    type Rejection = Response;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let expected = match parts.extensions.get::<Staff>() {
            Some(s) => Some(s.csrf_token.clone()),
            // Pages before the second factor (and sign-out) have a session but no `Staff`.
            None => session_csrf(state, &parts.headers)
                .await
                .map_err(|e| PageError::from(e).into_response())?,
        };
        let bytes = read_body(body).await?;
        let sent = serde_urlencoded::from_bytes::<TokenField>(&bytes)
            .ok()
            .and_then(|t| t.csrf_token);
        if !tokens_match(expected.as_deref(), sent.as_deref()) {
            return Err(csrf_rejection());
        }
        match serde_urlencoded::from_bytes::<T>(&bytes) {
            Ok(v) => Ok(CsrfForm(v)),
            Err(_) => Err(PageError::from(Code::BadRequest).into_response()),
        }
    }
}

async fn read_body(body: Body) -> Result<axum::body::Bytes, Response> {
    axum::body::to_bytes(body, MAX_FORM_BYTES)
        .await
        .map_err(|_| PageError::from(Code::PayloadTooLarge).into_response())
}

async fn session_csrf(state: &AppState, headers: &HeaderMap) -> anyhow::Result<Option<String>> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    let mut conn = state.db.pool().acquire().await?;
    Ok(sessions::find(&mut conn, &token)
        .await?
        .map(|s| s.csrf_token))
}

/// Equal, non-empty tokens, compared in constant time.
pub fn tokens_match(expected: Option<&str>, sent: Option<&str>) -> bool {
    match (expected, sent) {
        (Some(e), Some(s)) if !e.is_empty() => e.as_bytes().ct_eq(s.as_bytes()).into(),
        _ => false,
    }
}

pub fn csrf_rejection() -> Response {
    PageError::from(Code::Csrf).into_response()
}

/// The pre-session token for the sign-in form: the one the browser already holds (so two open
/// tabs both work), or a new one with the cookie to set.
pub fn login_token(headers: &HeaderMap, state: &AppState) -> (String, Option<Cookie<'static>>) {
    let existing = CookieJar::from_headers(headers)
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| v.len() >= 32);
    match existing {
        Some(t) => (t, None),
        None => {
            let t = random_token(32);
            let c = Cookie::build((LOGIN_CSRF_COOKIE, t.clone()))
                .path("/login")
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(state.settings.secure_cookies())
                .build();
            (t, Some(c))
        }
    }
}

/// Whether the sign-in form's token matches its cookie.
pub fn login_token_ok(headers: &HeaderMap, sent: &str) -> bool {
    let cookie = CookieJar::from_headers(headers)
        .get(LOGIN_CSRF_COOKIE)
        .map(|c| c.value().to_string());
    tokens_match(cookie.as_deref(), Some(sent))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_equal_non_empty_tokens_match() {
        assert!(tokens_match(Some("abc"), Some("abc")));
        assert!(!tokens_match(Some("abc"), Some("abd")));
        assert!(!tokens_match(Some("abc"), None));
        assert!(!tokens_match(None, Some("abc")));
        assert!(!tokens_match(Some(""), Some("")));
    }
}
