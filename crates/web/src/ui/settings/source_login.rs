//! The sources page's LINE Login form (`/app/settings/sources`, 「LINEログインで友だち追加」):
//! linking a LINE Login channel to one of the clinic's LINE channels, so its sources' QR codes
//! open LINE Login with the add-friend option (`automation::line_login`), and unlinking it.
//! Changes are audited; another clinic's channel is 404.
use std::collections::HashMap;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_automation::line_login;
use tsunagu_core::Permission;

use super::audit_change;
use super::sources::{build, channels, PAGE};
use crate::client_ip::ClientIp;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    pub login_channel_id: String,
    #[serde(default)]
    pub login_channel_secret: String,
}

/// Links a LINE Login channel to one of the clinic's LINE channels (its sources' QR codes then
/// open LINE Login with the add-friend option). Both fields each time: the secret is never
/// shown back.
pub async fn set_login(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(channel): Path<String>,
    CsrfForm(form): CsrfForm<LoginForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let chs = channels(&state, &staff).await?;
    if !chs.iter().any(|c| c.id == channel && c.kind == "line") {
        return Err(PageError::not_found());
    }
    let (id, secret) =
        match line_login::link::check(&form.login_channel_id, &form.login_channel_secret) {
            Ok(v) => v,
            Err(r) => {
                let err = crate::i18n::refusal(staff.lang, &r);
                let html = build(&state, &staff, Some(err), None).await?;
                return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
            }
        };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let pair = (id.as_str(), secret.as_str());
    line_login::link::set(
        tx.conn(),
        &state.cipher,
        &clinic,
        &channel,
        pair,
        state.now_ms(),
    )
    .await?;
    let subject = ("channel", &[channel.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "inflow_source.line_login",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=login")).into_response())
}

/// Unlinks the channel's LINE Login channel: its sources' QR codes go back to the prefilled
/// message (posters already printed keep working: `/s/{source}` then opens the message).
pub async fn remove_login(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(channel): Path<String>,
    CsrfForm(_): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let chs = channels(&state, &staff).await?;
    if !chs.iter().any(|c| c.id == channel && c.kind == "line") {
        return Err(PageError::not_found());
    }
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if line_login::link::remove(tx.conn(), &clinic, &channel).await? {
        let subject = ("channel", &[channel.as_str()][..]);
        audit_change(
            &mut tx,
            &state,
            &staff,
            &ip,
            "inflow_source.line_login_remove",
            subject,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=login_removed")).into_response())
}
