//! "Who am I": the account page, and switching the clinic this session acts in.
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_accounts::{sessions, staff, totp};
use tsunagu_core::{ClinicId, Code};
use tsunagu_privacy::audit::{self, AuditEntry};

use super::csrf::CsrfForm;
use super::render;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::{shell, Shell};
use crate::ui::session::{session_token, Staff};
use crate::{AppState, PageError};

#[derive(Serialize)]
struct ClinicChoice {
    clinic_id: String,
    clinic_name: String,
    role_key: String,
    current: bool,
}

#[derive(Serialize)]
struct AccountPage<'a> {
    lang: &'a str,
    shell: Shell,
    title: String,
    csrf_token: &'a str,
    display_name: &'a str,
    email: &'a str,
    clinic_name: &'a str,
    role_key: String,
    clinics: Vec<ClinicChoice>,
    totp_on: bool,
    recovery_left: usize,
}

/// GET /app/account
pub async fn page(State(state): State<AppState>, staff: Staff) -> Result<Html<String>, PageError> {
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let row = staff::by_id(&mut conn, &staff.staff_id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let clinics = staff::memberships(&mut conn, &staff.staff_id)
        .await?
        .into_iter()
        .map(|m| ClinicChoice {
            current: m.clinic_id == staff.clinic.id,
            role_key: format!("auth.role.{}", m.role),
            clinic_id: m.clinic_id,
            clinic_name: m.clinic_name,
        })
        .collect();
    drop(conn);
    let page = AccountPage {
        lang: staff.lang,
        shell: shell(&state, &staff, "account").await?,
        title: text(staff.lang, "auth.account.title"),
        csrf_token: &staff.csrf_token,
        display_name: &staff.display_name,
        email: &staff.email,
        clinic_name: &staff.clinic.name,
        role_key: format!("auth.role.{}", staff.role.as_str()),
        clinics,
        totp_on: row.totp_on(),
        recovery_left: totp::recovery_codes_left(&row.recovery_codes),
    };
    render(&state, "auth/account.html", page)
}

#[derive(Deserialize)]
pub struct SwitchForm {
    clinic_id: String,
}

/// POST /app/clinic: act in another of the account's clinics (the role there applies).
pub async fn switch_clinic(
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    staff: Staff,
    CsrfForm(f): CsrfForm<SwitchForm>,
) -> Result<Response, PageError> {
    let target = ClinicId::parse(&f.clinic_id).map_err(|_| PageError::from(Code::BadRequest))?;
    let Some(token) = session_token(&headers) else {
        return Ok(Redirect::to("/login").into_response());
    };
    let mut tx = state.db.begin().await?;
    if staff::role_in(tx.conn(), &staff.staff_id, &target)
        .await?
        .is_none()
    {
        return Err(PageError::forbidden());
    }
    sessions::set_clinic(tx.conn(), &sessions::token_hash(&token), &target).await?;
    let from = staff.clinic.clinic_id();
    let (actor, source_ip, now) = (staff.actor(), ip.as_string(), state.now_ms());
    // Both clinics' trails show the move: one sees the person leave, the other arrive.
    let mut trails = vec![&from];
    if target != from {
        trails.push(&target);
    }
    for clinic in trails {
        let e = AuditEntry {
            clinic_id: Some(clinic),
            actor: &actor,
            action: "auth.clinic_switch",
            subject_type: Some("clinic"),
            subject_ids: &[from.as_str(), target.as_str()],
            source_ip: source_ip.as_deref(),
        };
        audit::record(tx.conn(), state.db.backend(), e, now).await?;
    }
    tx.commit().await?;
    Ok(Redirect::to("/app").into_response())
}
