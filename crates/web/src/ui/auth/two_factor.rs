//! The second factor: a TOTP code (or a recovery code) after the password, and first-time
//! enrolment (QR code, confirm with a code, recovery codes shown once).
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_accounts::sessions::{self, Resolved, SessionRow};
use tsunagu_accounts::staff::{self, StaffRow};
use tsunagu_accounts::{throttle, totp};
use tsunagu_privacy::Actor;

use super::csrf::CsrfForm;
use super::{audit_account_event, clinic_ids_of, finish_sign_in, render, session_lang};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::session::{idle_ms, session_token};
use crate::{AppState, PageError};

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

#[derive(Serialize)]
struct CodePage<'a> {
    lang: &'a str,
    csrf_token: &'a str,
    error: Option<String>,
}

/// The session between password and second factor, if the browser has one.
async fn pending(
    state: &AppState,
    headers: &HeaderMap,
) -> anyhow::Result<Option<(SessionRow, StaffRow)>> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    match sessions::resolve(&state.db, &token, state.now_ms(), idle_ms(state), false).await? {
        Resolved::PendingMfa(p) => Ok(Some((p.session, p.staff))),
        _ => Ok(None),
    }
}

fn to_login() -> Response {
    Redirect::to("/login").into_response()
}

/// GET /login/2fa
pub async fn form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some((s, st)) = pending(&state, &headers).await? else {
        return Ok(to_login());
    };
    if !st.totp_on() {
        return Ok(Redirect::to("/login/2fa/setup").into_response());
    }
    let lang = session_lang(&state, s.clinic_id().as_ref(), &headers).await;
    Ok(render(
        &state,
        "auth/two_factor.html",
        CodePage {
            lang,
            csrf_token: &s.csrf_token,
            error: None,
        },
    )?
    .into_response())
}

/// POST /login/2fa: a 6-digit code, or one of the recovery codes.
pub async fn submit(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    let Some((s, st)) = pending(&state, &headers).await? else {
        return Ok(to_login());
    };
    if !st.totp_on() {
        return Ok(Redirect::to("/login/2fa/setup").into_response());
    }
    let (now, backend, source_ip) = (state.now_ms(), state.db.backend(), ip.as_string());
    let lang = session_lang(&state, s.clinic_id().as_ref(), &headers).await;
    let staff_id = st.staff_id();
    let email_hash = throttle::email_hash(&st.email);
    let page = |status: StatusCode, error: String| -> Result<Response, PageError> {
        let html = render(
            &state,
            "auth/two_factor.html",
            CodePage {
                lang,
                csrf_token: &s.csrf_token,
                error: Some(error),
            },
        )?;
        Ok((status, html).into_response())
    };

    // Code guesses are reserved before they are checked, like passwords.
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let clinics = clinic_ids_of(&mut conn, &staff_id).await?;
    let device = super::known_device(&mut conn, &headers, &staff_id, now).await?;
    drop(conn);
    let who = super::Anonymous {
        clinics: &clinics,
        staff_id: Some(&staff_id),
        source_ip: source_ip.as_deref(),
        now,
    };
    let sec = &state.settings.security;
    let keys = throttle::Keys::second_factor(&email_hash, source_ip.as_deref(), device.as_deref());
    let ticket = match throttle::reserve(&state.db, sec, &keys, now).await? {
        throttle::Reserved::Granted(t) => t,
        throttle::Reserved::Refused { minutes } => {
            let tx = who.audit(&state, "auth.sign_in_throttled").await?;
            tx.commit().await?;
            return page(
                StatusCode::TOO_MANY_REQUESTS,
                super::throttled_message(lang, minutes),
            );
        }
    };

    let Some(enc) = st.totp_secret_enc.as_deref() else {
        return Ok(to_login());
    };
    let secret = totp::decrypt_secret(&state.cipher, enc)?;
    let digits: String = f.code.chars().filter(|c| !c.is_whitespace()).collect();
    let mut tx = state.db.begin().await?;
    // Both checks end in a compare-and-set, so one code signs in one request only.
    let used_recovery = if digits.len() == 6 && digits.bytes().all(|b| b.is_ascii_digit()) {
        match totp::verify(&secret, &digits, now, st.totp_last_step)? {
            Some(step) if staff::advance_totp_step(tx.conn(), &staff_id, step).await? => {
                Some(false)
            }
            _ => None,
        }
    } else {
        match totp::use_recovery_code(&st.recovery_codes, &f.code) {
            Some(rest)
                if staff::replace_recovery_codes(
                    tx.conn(),
                    &staff_id,
                    &st.recovery_codes,
                    &rest,
                )
                .await? =>
            {
                Some(true)
            }
            _ => None,
        }
    };
    let Some(used_recovery) = used_recovery else {
        throttle::failed(tx.conn(), sec, ticket, now).await?;
        who.record(&mut tx, backend, "auth.sign_in_failed").await?;
        tx.commit().await?;
        return page(StatusCode::UNAUTHORIZED, text(lang, "auth.error.code"));
    };
    throttle::succeeded(tx.conn(), ticket).await?;
    // The elevated session gets a new id too; the half-signed-in one is ended.
    sessions::delete(tx.conn(), &s.id_hash).await?;
    let clinic = s.clinic_id();
    let ip = source_ip.as_deref();
    let cookies = finish_sign_in(&mut tx, &state, &headers, &st, clinic.as_ref(), ip, now).await?;
    if used_recovery {
        let actor = Actor::Staff(staff_id.to_string());
        let action = "auth.recovery_code_used";
        audit_account_event(
            tx.conn(),
            backend,
            &clinics,
            &actor,
            action,
            Some(&staff_id),
            source_ip.as_deref(),
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(super::redirect_with_cookies("/app", &cookies))
}

#[derive(Serialize)]
struct SetupPage<'a> {
    lang: &'a str,
    csrf_token: &'a str,
    enrolment: totp::Enrolment,
    error: Option<String>,
}

/// A session that may enrol: half signed in, or signed in without 2FA yet (from the account
/// page). The flag says whether it is still half signed in.
async fn enrolling(
    state: &AppState,
    headers: &HeaderMap,
) -> anyhow::Result<Option<(SessionRow, StaffRow, bool)>> {
    let Some(token) = session_token(headers) else {
        return Ok(None);
    };
    Ok(
        match sessions::resolve(&state.db, &token, state.now_ms(), idle_ms(state), false).await? {
            Resolved::PendingMfa(p) => Some((p.session, p.staff, true)),
            Resolved::Active(a) => Some((a.session, a.staff, false)),
            _ => None,
        },
    )
}

fn no_store(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// GET /login/2fa/setup: a fresh seed on every visit, so a QR code seen earlier is worthless.
pub async fn setup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some((s, st, pending)) = enrolling(&state, &headers).await? else {
        return Ok(to_login());
    };
    if st.totp_on() {
        return Ok(Redirect::to(if pending {
            "/login/2fa"
        } else {
            "/app/account"
        })
        .into_response());
    }
    let secret = totp::new_secret();
    let mut tx = state.db.begin().await?;
    staff::set_pending_totp(
        tx.conn(),
        &st.staff_id(),
        &totp::encrypt_secret(&state.cipher, &secret),
    )
    .await?;
    tx.commit().await?;
    let lang = session_lang(&state, s.clinic_id().as_ref(), &headers).await;
    let enrolment = totp::enrolment(&secret, &st.email)?;
    let page = SetupPage {
        lang,
        csrf_token: &s.csrf_token,
        enrolment,
        error: None,
    };
    Ok(no_store(
        render(&state, "auth/setup.html", page)?.into_response(),
    ))
}

#[derive(Serialize)]
struct RecoveryPage<'a> {
    lang: &'a str,
    codes: Vec<String>,
}

/// POST /login/2fa/setup: the first code from the app turns 2FA on and signs the person in;
/// the recovery codes are shown on this response only.
pub async fn setup_submit(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    CsrfForm(f): CsrfForm<CodeForm>,
) -> Result<Response, PageError> {
    let Some((s, st, pending)) = enrolling(&state, &headers).await? else {
        return Ok(to_login());
    };
    let (Some(enc), false) = (st.totp_secret_enc.clone(), st.totp_on()) else {
        return Ok(Redirect::to("/login/2fa/setup").into_response());
    };
    let (now, backend, source_ip) = (state.now_ms(), state.db.backend(), ip.as_string());
    let lang = session_lang(&state, s.clinic_id().as_ref(), &headers).await;
    let secret = totp::decrypt_secret(&state.cipher, &enc)?;
    let staff_id = st.staff_id();
    let step = totp::verify(&secret, &f.code, now, 0)?;
    let (codes, hashes) = totp::new_recovery_codes();
    let mut tx = state.db.begin().await?;
    let enabled = match step {
        Some(step) => staff::enable_totp(tx.conn(), &staff_id, &enc, step, &hashes).await?,
        None => false,
    };
    if !enabled {
        drop(tx);
        let page = SetupPage {
            lang,
            csrf_token: &s.csrf_token,
            enrolment: totp::enrolment(&secret, &st.email)?,
            error: Some(text(lang, "auth.error.code")),
        };
        let res = (
            StatusCode::UNPROCESSABLE_ENTITY,
            render(&state, "auth/setup.html", page)?,
        )
            .into_response();
        return Ok(no_store(res));
    }
    let clinics = clinic_ids_of(tx.conn(), &staff_id).await?;
    let actor = Actor::Staff(staff_id.to_string());
    audit_account_event(
        tx.conn(),
        backend,
        &clinics,
        &actor,
        "auth.2fa_enrolled",
        Some(&staff_id),
        source_ip.as_deref(),
        now,
    )
    .await?;
    let cookies = if pending {
        sessions::delete(tx.conn(), &s.id_hash).await?;
        let clinic = s.clinic_id();
        let ip = source_ip.as_deref();
        finish_sign_in(&mut tx, &state, &headers, &st, clinic.as_ref(), ip, now).await?
    } else {
        Vec::new()
    };
    tx.commit().await?;
    let mut res = render(
        &state,
        "auth/recovery_codes.html",
        RecoveryPage { lang, codes },
    )?
    .into_response();
    super::add_cookies(&mut res, &cookies);
    Ok(no_store(res))
}
