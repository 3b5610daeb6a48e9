//! The password step, and signing out (this session, or every session of the account).
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_accounts::staff::{self, StaffRow};
use tsunagu_accounts::{passwords, sessions, throttle};
use tsunagu_core::ClinicId;
use tsunagu_privacy::audit::{self, Actor, AuditEntry};

use super::csrf::{self, csrf_rejection, CsrfForm};
use super::{
    audit_account_event, browser_lang, clinic_ids_of, finish_sign_in, redirect_with_cookies, render,
};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::session::{clear_session_cookie, session_cookie, session_token, Staff};
use crate::{AppState, PageError};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct LoginForm {
    csrf_token: String,
    email: String,
    password: String,
}

/// Forms that carry nothing but their CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Serialize)]
struct LoginPage<'a> {
    lang: &'a str,
    csrf_token: &'a str,
    email: &'a str,
    error: Option<String>,
}

/// GET /login. Someone already signed in goes straight to the app.
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    if let Some(token) = session_token(&headers) {
        let idle = crate::ui::session::idle_ms(&state);
        if let sessions::Resolved::Active(_) =
            sessions::resolve(&state.db, &token, state.now_ms(), idle, false).await?
        {
            return Ok(Redirect::to("/app").into_response());
        }
    }
    let (token, cookie) = csrf::login_token(&headers, &state);
    let page = LoginPage {
        lang: browser_lang(&headers),
        csrf_token: &token,
        email: "",
        error: None,
    };
    let mut res = render(&state, "auth/login.html", page)?.into_response();
    super::add_cookies(&mut res, cookie.as_slice());
    Ok(res)
}

fn again(
    state: &AppState,
    headers: &HeaderMap,
    status: StatusCode,
    email: &str,
    error: String,
) -> Response {
    let (token, cookie) = csrf::login_token(headers, state);
    let page = LoginPage {
        lang: browser_lang(headers),
        csrf_token: &token,
        email,
        error: Some(error),
    };
    match render(state, "auth/login.html", page) {
        Ok(html) => {
            let mut res = (status, html).into_response();
            super::add_cookies(&mut res, cookie.as_slice());
            res
        }
        Err(e) => e.into_response(),
    }
}

/// POST /login: reserve the attempt, check the password, then the second factor or straight in.
pub async fn submit(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Result<Response, PageError> {
    if !csrf::login_token_ok(&headers, &f.csrf_token) {
        return Ok(csrf_rejection());
    }
    let (now, lang) = (state.now_ms(), browser_lang(&headers));
    let sec = &state.settings.security;
    let source_ip = ip.as_string();
    let email = staff::normalize_email(&f.email);
    let email_hash = throttle::email_hash(&email);
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let found = staff::by_email(&mut conn, &email).await?;
    let (clinics, device) = match &found {
        Some(st) => (
            clinic_ids_of(&mut conn, &st.staff_id()).await?,
            super::known_device(&mut conn, &headers, &st.staff_id(), now).await?,
        ),
        None => (Vec::new(), None),
    };
    drop(conn);
    let staff_id = found.as_ref().map(StaffRow::staff_id);
    let who = super::Anonymous {
        clinics: &clinics,
        staff_id: staff_id.as_ref(),
        source_ip: source_ip.as_deref(),
        now,
    };

    // The attempt is reserved before argon2 runs, so parallel guesses cannot outrun the count.
    let keys = throttle::Keys::password(&email_hash, source_ip.as_deref(), device.as_deref());
    let ticket = match throttle::reserve(&state.db, sec, &keys, now).await? {
        throttle::Reserved::Granted(t) => t,
        throttle::Reserved::Refused { minutes } => {
            // Refused without checking the password, so guessing gains nothing; on the trail.
            who.audit(&state, "auth.sign_in_throttled")
                .await?
                .commit()
                .await?;
            let msg = super::throttled_message(lang, minutes);
            return Ok(again(
                &state,
                &headers,
                StatusCode::TOO_MANY_REQUESTS,
                &email,
                msg,
            ));
        }
    };

    let password_ok = check_password(&state, found.as_ref(), f.password).await?;
    let st = match found {
        Some(st) if password_ok && !st.is_disabled() && !clinics.is_empty() => st,
        _ => {
            let mut tx = who.audit(&state, "auth.sign_in_failed").await?;
            throttle::failed(tx.conn(), sec, ticket, now).await?;
            tx.commit().await?;
            return Ok(again(
                &state,
                &headers,
                StatusCode::UNAUTHORIZED,
                &email,
                text(lang, "auth.error.invalid"),
            ));
        }
    };

    let clinic = clinics.first();
    let next = next_step(&state, &st).await?;
    let mut tx = state.db.begin().await?;
    throttle::succeeded(tx.conn(), ticket).await?;
    // Whatever session the browser had before is ended: a signed-in session always has a new id.
    if let Some(old) = session_token(&headers) {
        sessions::delete(tx.conn(), &sessions::token_hash(&old)).await?;
    }
    let cookies = match next {
        Some(_) => {
            let s = sessions::create(
                tx.conn(),
                &st.staff_id(),
                clinic,
                false,
                source_ip.as_deref(),
                now,
            )
            .await?;
            vec![session_cookie(&state, &s.token)]
        }
        None => {
            let ip = source_ip.as_deref();
            finish_sign_in(&mut tx, &state, &headers, &st, clinic, ip, now).await?
        }
    };
    housekeeping(&mut tx, &state, now).await?;
    tx.commit().await?;
    Ok(redirect_with_cookies(next.unwrap_or("/app"), &cookies))
}

/// argon2 off the async threads, at most one check per core at a time; an unknown account
/// costs the same as a known one.
async fn check_password(
    state: &AppState,
    found: Option<&StaffRow>,
    password: String,
) -> anyhow::Result<bool> {
    let _permit = state.password_checks.acquire().await?;
    let stored = found.map(|s| s.password_hash.clone());
    let ok = tokio::task::spawn_blocking(move || match stored {
        Some(h) => passwords::verify(&h, &password),
        None => {
            passwords::dummy_verify(&password);
            false
        }
    })
    .await?;
    Ok(ok)
}

/// Where a password-checked account goes next: its second factor, 2FA enrolment when any of
/// its clinics requires 2FA, or nowhere (None: signed in).
async fn next_step(state: &AppState, st: &StaffRow) -> anyhow::Result<Option<&'static str>> {
    if st.totp_on() {
        return Ok(Some("/login/2fa"));
    }
    let mut conn = state.db.pool().acquire().await?;
    let required = staff::memberships(&mut conn, &st.staff_id())
        .await?
        .iter()
        .any(|m| m.require_2fa != 0);
    Ok(required.then_some("/login/2fa/setup"))
}

/// Void sessions and attempts that no longer count are removed now and then (on sign-in).
async fn housekeeping(
    tx: &mut tsunagu_store::Tx,
    state: &AppState,
    now: i64,
) -> anyhow::Result<()> {
    sessions::purge_idle(tx.conn(), crate::ui::session::idle_ms(state), now).await?;
    throttle::purge(tx.conn(), now).await?;
    tsunagu_accounts::devices::purge(tx.conn(), now).await?;
    Ok(())
}

/// POST /logout: ends this session.
pub async fn sign_out(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    if let Some(token) = session_token(&headers) {
        let mut tx = state.db.begin().await?;
        if let Some(s) = sessions::find(tx.conn(), &token).await? {
            sessions::delete(tx.conn(), &s.id_hash).await?;
            // Abandoning the second-factor step is not a sign-out: nobody was signed in.
            if s.mfa_passed() {
                let clinic = s.clinic_id.clone().map(ClinicId::from_db);
                let source_ip = ip.as_string();
                let e = AuditEntry {
                    clinic_id: clinic.as_ref(),
                    actor: &Actor::Staff(s.staff_id.clone()),
                    action: "auth.sign_out",
                    subject_type: Some("staff"),
                    subject_ids: &[s.staff_id.as_str()],
                    source_ip: source_ip.as_deref(),
                };
                audit::record(tx.conn(), state.db.backend(), e, state.now_ms()).await?;
            }
        }
        tx.commit().await?;
    }
    Ok(redirect_with_cookies(
        "/login",
        &[clear_session_cookie(&state)],
    ))
}

/// POST /logout/everywhere: ends every session of the account, on every device.
pub async fn sign_out_everywhere(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    sessions::sign_out_everywhere(tx.conn(), &staff.staff_id, now).await?;
    let clinics = clinic_ids_of(tx.conn(), &staff.staff_id).await?;
    let source_ip = ip.as_string();
    let action = "auth.sign_out_everywhere";
    audit_account_event(
        tx.conn(),
        state.db.backend(),
        &clinics,
        &staff.actor(),
        action,
        Some(&staff.staff_id),
        source_ip.as_deref(),
        now,
    )
    .await?;
    tx.commit().await?;
    Ok(redirect_with_cookies(
        "/login",
        &[clear_session_cookie(&state)],
    ))
}
