//! `/app/settings/retention`: how long raw provider events and conversations are kept.
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::{Code, Permission, Refusal};
use tsunagu_privacy::retention::{self, RetentionSettings};

use super::render;
use crate::i18n::text;
use crate::ui::inbox::shell::{shell, Shell};
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RetentionForm {
    pub raw_webhook_body_days: String,
    pub conversation_years: String,
    /// Set on the page after a successful save (query `?saved=1`).
    pub saved: Option<String>,
}

#[derive(Serialize)]
struct Ctx {
    lang: &'static str,
    shell: Shell,
    title: String,
    csrf_token: String,
    form: RetentionForm,
    error: Option<String>,
    saved: bool,
}

async fn page(
    state: &AppState,
    staff: &Staff,
    form: RetentionForm,
    error: Option<String>,
    saved: bool,
) -> Result<Html<String>, PageError> {
    let ctx = Ctx {
        lang: staff.lang,
        shell: shell(state, staff, "settings").await?,
        title: text(staff.lang, "privacy.retention.title"),
        csrf_token: staff.csrf_token.clone(),
        form,
        error,
        saved,
    };
    render(state, "privacy/retention.html", ctx)
}

pub async fn show(
    staff: Staff,
    State(state): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<RetentionForm>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let s = retention::settings(&mut conn, &staff.clinic.clinic_id()).await?;
    drop(conn);
    let form = RetentionForm {
        raw_webhook_body_days: s.raw_webhook_body_days.to_string(),
        conversation_years: s.conversation_years.to_string(),
        saved: None,
    };
    page(&state, &staff, form, None, q.saved.is_some()).await
}

pub async fn save(
    staff: Staff,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<RetentionForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let parsed = match (
        form.raw_webhook_body_days.trim().parse(),
        form.conversation_years.trim().parse(),
    ) {
        (Ok(raw_webhook_body_days), Ok(conversation_years)) => {
            let s = RetentionSettings {
                raw_webhook_body_days,
                conversation_years,
            };
            s.check().map(|()| s)
        }
        (Err(_), _) => Err(Refusal::new(Code::InvalidRawWebhookBodyDays)),
        (_, Err(_)) => Err(Refusal::new(Code::InvalidConversationYears)),
    };
    match parsed {
        Ok(s) => {
            retention::save_settings(
                &state.db,
                &staff.clinic.clinic_id(),
                &s,
                &staff.actor(),
                state.now_ms(),
            )
            .await?;
            Ok(Redirect::to("/app/settings/retention?saved=1").into_response())
        }
        Err(why) => {
            let error = Some(crate::i18n::refusal(staff.lang, &why));
            let html = page(&state, &staff, form, error, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}
