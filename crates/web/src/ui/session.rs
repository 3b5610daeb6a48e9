//! Staff sessions: the `Staff` extractor every /app handler takes, and the session cookie.
//! Sign-in, 2FA and sign-out pages live in `ui::auth`; the rules live in `tsunagu_accounts::sessions`.
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::Method;
use axum::response::{IntoResponse, Redirect, Response};
use axum::Router;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use tsunagu_accounts::sessions::{self, Resolved};
use tsunagu_core::{Code, Permission, Role, StaffId};
use tsunagu_privacy::Actor;
use tsunagu_store::clinics::{self, Clinic};

use crate::{AppState, PageError};

pub use super::auth::csrf::CsrfForm;

pub const SESSION_COOKIE: &str = "tsunagu_session";
/// Requests with this header (value 1) are background refreshes, not the person acting.
pub const LIVE_HEADER: &str = "x-tsunagu-live";
/// The SSE stream: an open tab must not keep a session alive on its own.
pub const LIVE_PATH: &str = "/app/live";

/// A signed-in staff member acting in one clinic: password and second factor checked, session
/// not idle. Extracting it from a request refreshes the idle clock (except for the live stream).
#[derive(Clone, Debug)]
pub struct Staff {
    pub staff_id: StaffId,
    pub email: String,
    pub display_name: String,
    pub clinic: Clinic,
    pub role: Role,
    pub csrf_token: String,
    /// ja | en, from the clinic's locale.
    pub lang: &'static str,
}

impl Staff {
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }
    pub fn require(&self, p: Permission) -> Result<(), PageError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(PageError::forbidden())
        }
    }
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.staff_id.to_string())
    }
}

/// Not signed in (or no longer): pages send the browser to the sign-in form, anything else
/// (form posts, fetches) gets a plain 401 so no work is silently dropped behind a redirect.
#[derive(Debug)]
pub enum AuthRejection {
    SignIn { redirect: bool },
    Internal(PageError),
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        match self {
            AuthRejection::SignIn { redirect: true } => Redirect::to("/login").into_response(),
            AuthRejection::SignIn { redirect: false } => {
                PageError::from(Code::Unauthorized).into_response()
            }
            AuthRejection::Internal(e) => e.into_response(),
        }
    }
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = AuthRejection;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // A handler may take `Staff` and `CsrfForm`: look the session up once per request.
        if let Some(s) = parts.extensions.get::<Staff>() {
            return Ok(s.clone());
        }
        let redirect = parts.method == Method::GET || parts.method == Method::HEAD;
        let sign_in = || AuthRejection::SignIn { redirect };
        let internal = |e: anyhow::Error| AuthRejection::Internal(PageError::from(e));
        let Some(token) = session_token(&parts.headers) else {
            return Err(sign_in());
        };
        let live = is_live(parts);
        let resolved = sessions::resolve(&state.db, &token, state.now_ms(), idle_ms(state), live)
            .await
            .map_err(internal)?;
        let Resolved::Active(active) = resolved else {
            return Err(sign_in());
        };
        let mut conn = state
            .db
            .pool()
            .acquire()
            .await
            .map_err(|e| internal(e.into()))?;
        let clinic = clinics::by_id(&mut conn, &active.clinic_id)
            .await
            .map_err(internal)?;
        let Some(clinic) = clinic else {
            return Err(sign_in());
        };
        let staff = Staff {
            staff_id: active.staff.staff_id(),
            email: active.staff.email.clone(),
            display_name: active.staff.display_name.clone(),
            lang: crate::i18n::lang_for(&clinic.locale),
            clinic,
            role: active.role,
            csrf_token: active.session.csrf_token.clone(),
        };
        if let Some(slot) = parts.extensions.get::<crate::error_page::SessionLang>() {
            slot.set(staff.lang);
        }
        parts.extensions.insert(staff.clone());
        Ok(staff)
    }
}

/// The idle timeout in milliseconds (`security.idle_timeout_minutes`).
pub fn idle_ms(state: &AppState) -> i64 {
    i64::from(state.settings.security.idle_timeout_minutes) * 60_000
}

/// Background requests that must not count as the person being active.
pub fn is_live(parts: &Parts) -> bool {
    parts.uri.path() == LIVE_PATH
        || parts
            .headers
            .get(LIVE_HEADER)
            .is_some_and(|v| v.as_bytes() == b"1")
}

/// The raw session token from the cookie header, if any.
pub fn session_token(headers: &axum::http::HeaderMap) -> Option<String> {
    CookieJar::from_headers(headers)
        .get(SESSION_COOKIE)
        .map(|c| c.value().to_string())
        .filter(|v| !v.is_empty())
}

/// The session cookie: script cannot read it, cross-site requests do not carry it on posts,
/// and it travels only over https when tsunagu is served over https.
pub fn session_cookie(state: &AppState, token: &str) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, token.to_string()))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies())
        .build()
}

/// A cookie that makes the browser forget the session.
pub fn clear_session_cookie(state: &AppState) -> Cookie<'static> {
    Cookie::build((SESSION_COOKIE, ""))
        .path("/")
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.settings.secure_cookies())
        .removal()
        .build()
}

pub fn router() -> Router<AppState> {
    Router::new()
}
