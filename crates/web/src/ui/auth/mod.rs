//! Signing in and out: password, second factor (TOTP or a recovery code), first-time 2FA
//! enrolment, clinic switching, the account page, and the audit page.
pub mod account;
pub mod csrf;
pub mod login;
pub mod two_factor;

// The audit page sits beside the other /app pages; it is declared here so `ui/mod.rs` needs
// only one line for everything this area adds.
#[path = "../audit/mod.rs"]
pub mod audit_page;

use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use axum_extra::extract::cookie::Cookie;
use tsunagu_accounts::staff::{self, StaffRow};
use tsunagu_accounts::{devices, sessions};
use tsunagu_core::{ClinicId, StaffId};
use tsunagu_privacy::audit::{self, Actor, AuditEntry};
use tsunagu_store::Backend;

pub(crate) use crate::ui::render;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        // The address a newcomer types: sign-in, which sends a signed-in person to the app.
        .route("/", get(|| async { Redirect::to("/login") }))
        .route("/login", get(login::form).post(login::submit))
        .route("/login/2fa", get(two_factor::form).post(two_factor::submit))
        .route(
            "/login/2fa/setup",
            get(two_factor::setup_form).post(two_factor::setup_submit),
        )
        .route("/logout", post(login::sign_out))
        .route("/logout/everywhere", post(login::sign_out_everywhere))
        .route("/app/account", get(account::page))
        .route("/app/clinic", post(account::switch_clinic))
        .route("/app/audit", get(audit_page::page))
}

/// The language before a clinic is known: Japanese unless the browser prefers English.
pub(crate) fn browser_lang(headers: &HeaderMap) -> &'static str {
    let Some(v) = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
    else {
        return "ja";
    };
    let mut best: Option<(f32, &'static str)> = None;
    for item in v.split(',') {
        let mut it = item.trim().split(';');
        let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        let lang = match tag.split('-').next() {
            Some("ja") => "ja",
            Some("en") => "en",
            _ => continue,
        };
        // The first of equal weights wins, as the browser listed them.
        if best.is_none_or(|(bq, _)| q > bq) {
            best = Some((q, lang));
        }
    }
    best.map(|(_, l)| l).unwrap_or("ja")
}

/// The language for a session that has a clinic (the 2FA steps), else the browser's.
pub(crate) async fn session_lang(
    state: &AppState,
    clinic: Option<&ClinicId>,
    headers: &HeaderMap,
) -> &'static str {
    if let Some(c) = clinic {
        if let Ok(mut conn) = state.db.pool().acquire().await {
            if let Ok(Some(c)) = tsunagu_store::clinics::by_id(&mut conn, c).await {
                return crate::i18n::lang_for(&c.locale);
            }
        }
    }
    browser_lang(headers)
}

/// Account-level events (sign-in, 2FA, sign-out everywhere) appear in the trail of every clinic
/// the account can act in, so each clinic's administrators see them; unknown accounts get one
/// clinic-less row.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn audit_account_event(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    clinics: &[ClinicId],
    actor: &Actor,
    action: &str,
    staff_id: Option<&StaffId>,
    source_ip: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<()> {
    let subject: Vec<&str> = staff_id.map(|s| s.as_str()).into_iter().collect();
    let targets: Vec<Option<&ClinicId>> = if clinics.is_empty() {
        vec![None]
    } else {
        clinics.iter().map(Some).collect()
    };
    for clinic_id in targets {
        let e = AuditEntry {
            clinic_id,
            actor,
            action,
            subject_type: staff_id.map(|_| "staff"),
            subject_ids: &subject,
            source_ip,
        };
        audit::record(&mut *conn, backend, e, now_ms).await?;
    }
    Ok(())
}

pub(crate) async fn clinic_ids_of(
    conn: &mut sqlx::AnyConnection,
    staff: &StaffId,
) -> anyhow::Result<Vec<ClinicId>> {
    Ok(staff::memberships(conn, staff)
        .await?
        .into_iter()
        .map(|m| ClinicId::from_db(m.clinic_id))
        .collect())
}

/// An attempt not (yet) signed in, for the trail.
pub(crate) struct Anonymous<'a> {
    pub clinics: &'a [ClinicId],
    pub staff_id: Option<&'a tsunagu_core::StaffId>,
    pub source_ip: Option<&'a str>,
    pub now: i64,
}

impl Anonymous<'_> {
    /// Writes the audit row into the caller's transaction.
    pub(crate) async fn record(
        &self,
        tx: &mut tsunagu_store::Tx,
        backend: Backend,
        action: &str,
    ) -> anyhow::Result<()> {
        let (clinics, staff_id, ip) = (self.clinics, self.staff_id, self.source_ip);
        let conn = tx.conn();
        audit_account_event(
            conn,
            backend,
            clinics,
            &Actor::Anonymous,
            action,
            staff_id,
            ip,
            self.now,
        )
        .await
    }

    /// A new transaction holding the audit row; the caller adds to it and commits.
    pub(crate) async fn audit(
        &self,
        state: &AppState,
        action: &str,
    ) -> anyhow::Result<tsunagu_store::Tx> {
        let mut tx = state.db.begin().await?;
        self.record(&mut tx, state.db.backend(), action).await?;
        Ok(tx)
    }
}

/// Completes a sign-in inside the caller's transaction: a fresh session that has passed every
/// factor, this browser remembered as a known device, and `auth.sign_in` in the trail. Returns
/// the cookies to set (the session's, and the device's when it changed).
pub(crate) async fn finish_sign_in(
    tx: &mut tsunagu_store::Tx,
    state: &AppState,
    headers: &HeaderMap,
    st: &StaffRow,
    clinic: Option<&ClinicId>,
    source_ip: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<Vec<Cookie<'static>>> {
    let staff_id = st.staff_id();
    let new = sessions::create(tx.conn(), &staff_id, clinic, true, source_ip, now_ms).await?;
    let mut cookies = vec![crate::ui::session::session_cookie(state, &new.token)];
    let known = device_cookie_value(headers);
    if let Some(value) =
        devices::remember(tx.conn(), &devices::tokens(&known), &staff_id, now_ms).await?
    {
        cookies.push(device_cookie(state, value));
    }
    let clinics = clinic_ids_of(tx.conn(), &staff_id).await?;
    let actor = Actor::Staff(staff_id.to_string());
    audit_account_event(
        tx.conn(),
        state.db.backend(),
        &clinics,
        &actor,
        "auth.sign_in",
        Some(&staff_id),
        source_ip,
        now_ms,
    )
    .await?;
    Ok(cookies)
}

/// "Try again in …", in minutes below two hours and in whole hours (rounded up) beyond.
pub(crate) fn throttled_message(lang: &str, minutes: u32) -> String {
    if minutes < 120 {
        crate::i18n::text(lang, "auth.error.throttled").replace("{minutes}", &minutes.to_string())
    } else {
        let hours = minutes.div_ceil(60).to_string();
        crate::i18n::text(lang, "auth.error.throttled_hours").replace("{hours}", &hours)
    }
}

/// The known-device cookie's raw value ("" when absent).
pub(crate) fn device_cookie_value(headers: &HeaderMap) -> String {
    axum_extra::extract::cookie::CookieJar::from_headers(headers)
        .get(devices::COOKIE)
        .map(|c| c.value().to_string())
        .unwrap_or_default()
}

/// The hash of this browser's known-device token for `staff`, if it has one.
pub(crate) async fn known_device(
    conn: &mut sqlx::AnyConnection,
    headers: &HeaderMap,
    staff: &StaffId,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let value = device_cookie_value(headers);
    devices::recognise(conn, &devices::tokens(&value), staff, now_ms).await
}

fn device_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((devices::COOKIE, value))
        .path("/login")
        .http_only(true)
        .same_site(axum_extra::extract::cookie::SameSite::Strict)
        .secure(state.settings.secure_cookies())
        .max_age(time::Duration::milliseconds(devices::LIFETIME_MS))
        .build()
}

/// A 303 to `to` that also sets (or clears) cookies.
pub(crate) fn redirect_with_cookies(to: &str, cookies: &[Cookie<'static>]) -> Response {
    let mut res = Redirect::to(to).into_response();
    add_cookies(&mut res, cookies);
    res
}

pub(crate) fn add_cookies(res: &mut Response, cookies: &[Cookie<'static>]) {
    for c in cookies {
        if let Ok(v) = HeaderValue::from_str(&c.to_string()) {
            res.headers_mut().append(header::SET_COOKIE, v);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        if let Ok(v) = HeaderValue::from_str(v) {
            h.insert(header::ACCEPT_LANGUAGE, v);
        }
        h
    }

    #[test]
    fn the_browser_language_is_japanese_unless_english_is_preferred() {
        assert_eq!(browser_lang(&HeaderMap::new()), "ja");
        assert_eq!(browser_lang(&accept("en-US,en;q=0.9,ja;q=0.8")), "en");
        assert_eq!(browser_lang(&accept("ja,en-US;q=0.9")), "ja");
        assert_eq!(browser_lang(&accept("fr-FR,en;q=0.5,ja;q=0.7")), "ja");
        assert_eq!(browser_lang(&accept("de")), "ja");
    }
}
