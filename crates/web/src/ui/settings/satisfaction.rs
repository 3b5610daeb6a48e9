//! `/app/settings/satisfaction` (満足度アンケート): whether a survey follows a resolved
//! conversation, after how long, its words, how often a patient may be asked and on which
//! channels. Saving is audited (`satisfaction.settings.update`); a refused form changes nothing
//! and is shown again as typed. The results are at `/app/satisfaction`.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_automation::satisfaction::settings::{self, Settings, KINDS};
use tsunagu_automation::satisfaction::ANSWERS;
use tsunagu_core::Permission;

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/satisfaction";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

/// The form as typed; a checkbox is present only when ticked.
#[derive(Debug, Default, Deserialize, Serialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub enabled: Option<String>,
    #[serde(default)]
    pub delay_minutes: String,
    #[serde(default)]
    pub question: String,
    #[serde(default)]
    pub thanks: String,
    #[serde(default)]
    pub comment_prompt: String,
    #[serde(default)]
    pub min_days: String,
    #[serde(default)]
    pub ch_line: Option<String>,
    #[serde(default)]
    pub ch_whatsapp: Option<String>,
    #[serde(default)]
    pub ch_messenger: Option<String>,
    #[serde(default)]
    pub ch_sms: Option<String>,
}

fn on(b: bool) -> Option<String> {
    b.then(|| "on".to_string())
}

impl SettingsForm {
    fn of(s: &Settings) -> Self {
        SettingsForm {
            enabled: on(s.enabled),
            delay_minutes: s.delay_minutes.to_string(),
            question: s.question.clone(),
            thanks: s.thanks.clone(),
            comment_prompt: s.comment_prompt.clone(),
            min_days: s.min_days.to_string(),
            ch_line: on(s.asks_on("line")),
            ch_whatsapp: on(s.asks_on("whatsapp")),
            ch_messenger: on(s.asks_on("messenger")),
            ch_sms: on(s.asks_on("sms")),
        }
    }

    /// The settings it means, or the key of the first field wrong.
    fn parse(&self) -> Result<Settings, &'static str> {
        let number = |s: &str, key| s.trim().parse::<i64>().map_err(|_| key);
        let ticked = [
            &self.ch_line,
            &self.ch_whatsapp,
            &self.ch_messenger,
            &self.ch_sms,
        ];
        let channel_kinds = KINDS
            .iter()
            .zip(ticked)
            .filter(|(_, t)| t.is_some())
            .map(|(k, _)| k.to_string())
            .collect();
        Settings {
            enabled: self.enabled.is_some(),
            delay_minutes: number(&self.delay_minutes, "delay")?,
            question: self.question.clone(),
            thanks: self.thanks.clone(),
            comment_prompt: self.comment_prompt.clone(),
            min_days: number(&self.min_days, "min_days")?,
            channel_kinds,
        }
        .check()
        .map_err(|e| e.key())
    }
}

async fn build(
    state: &AppState,
    staff: &Staff,
    form: Option<SettingsForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let form = match form {
        Some(f) => f,
        None => {
            let mut c = conn(state).await?;
            SettingsForm::of(&settings::load(&mut c, &staff.clinic.clinic_id()).await?)
        }
    };
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?,
        title => text(lang, "satisfaction.settings.title"),
        csrf_token => &staff.csrf_token, form, error, notice, answers => ANSWERS,
    };
    render(state, "settings/satisfaction.html", ctx)
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
        .map(|_| text(staff.lang, "satisfaction.settings.saved"));
    build(&state, &staff, None, None, notice).await
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let s = match form.parse() {
        Ok(s) => s,
        Err(key) => {
            let error = text(staff.lang, &format!("satisfaction.error.{key}"));
            let html = build(&state, &staff, Some(form), Some(error), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    settings::save(tx.conn(), &clinic, &s, state.now_ms()).await?;
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "satisfaction.settings.update",
        ("clinic", &[clinic.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=1")).into_response())
}
