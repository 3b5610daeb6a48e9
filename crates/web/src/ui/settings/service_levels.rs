//! `/app/settings/service-levels` (サービスレベル): the clinic's first-response and resolution
//! targets and the warning before a breach, counted in the calendar's opening hours. Saving is
//! audited (`service_levels.update`); a refused form changes nothing and is shown again as typed.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_inbox::sla::{targets, Targets};

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/service-levels";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

/// The form as typed: first response and warning in minutes, resolution in hours.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct TargetsForm {
    #[serde(default)]
    pub first_response: String,
    #[serde(default)]
    pub resolution_hours: String,
    #[serde(default)]
    pub warning: String,
}

impl TargetsForm {
    fn of(t: &Targets) -> Self {
        let text = |v: Option<u32>| v.map(|v| v.to_string()).unwrap_or_default();
        Self {
            first_response: text(t.first_response_minutes),
            // Saved from this form, always whole hours.
            resolution_hours: text(t.resolution_minutes.map(|m| m.div_ceil(60))),
            warning: text(t.warning_minutes),
        }
    }
}

async fn build(
    state: &AppState,
    staff: &Staff,
    form: Option<TargetsForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let form = match form {
        Some(f) => f,
        None => {
            let mut c = conn(state).await?;
            TargetsForm::of(&targets::load(&mut c, &staff.clinic.clinic_id()).await?)
        }
    };
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "sla.title"),
        csrf_token => &staff.csrf_token, form, error, notice,
    };
    render(state, "settings/service_levels.html", ctx)
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = q
        .saved
        .filter(|k| k == "1")
        .map(|_| text(staff.lang, "sla.saved"));
    build(&state, &staff, None, None, notice).await
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<TargetsForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let parsed = Targets::parse(&form.first_response, &form.resolution_hours, &form.warning);
    let t = match parsed {
        Ok(t) => t,
        Err(why) => {
            let error = text(staff.lang, &format!("sla.error.{}", why.key()));
            let html = build(&state, &staff, Some(form), Some(error), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    targets::save(tx.conn(), &clinic, &t, state.now_ms()).await?;
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "service_levels.update",
        ("clinic", &[clinic.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=1")).into_response())
}
