//! `/app/settings/automation` (自動応答): keyword rules (list, add, change, turn on/off, delete),
//! the away message, the words that reach a person, the quiet window, and the greeting per
//! channel. Owners and admins only; every change commits with its audit entry; a refused form
//! is shown again with the error and what was typed.
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_automation::{greetings, rules, settings};
use tsunagu_core::{Permission, Refusal};
use tsunagu_inbox::routing::teams;
use tsunagu_store::channels;

use super::{audit_change, render};
use crate::api::refusal::status;
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/automation";
const SAVED: [&str; 7] = [
    "created", "updated", "enabled", "disabled", "deleted", "settings", "greeting",
];

#[derive(Deserialize)]
pub struct PageQuery {
    saved: Option<String>,
}

/// A keyword rule as typed.
#[derive(Clone, Default, Deserialize, Serialize)]
pub struct RuleForm {
    #[serde(default)]
    name: String,
    /// One per line.
    #[serde(default)]
    keywords: String,
    #[serde(default)]
    match_mode: String,
    #[serde(default)]
    reply_text: String,
    #[serde(default)]
    channel_id: String,
    #[serde(default)]
    active_hours: String,
    #[serde(default)]
    team_id: String,
    /// フローを開始: the flow the rule starts (empty: none).
    #[serde(default)]
    flow_id: String,
    /// A checkbox: present when ticked.
    enabled: Option<String>,
}

impl RuleForm {
    fn draft(&self) -> rules::Draft {
        let mode = self.match_mode.trim();
        rules::Draft {
            name: self.name.clone(),
            keywords: rules::Draft::keywords_from_text(&self.keywords, mode),
            match_mode: mode.to_string(),
            reply_text: self.reply_text.clone(),
            channel_id: Some(self.channel_id.clone()),
            active_hours: self.active_hours.clone(),
            team_id: Some(self.team_id.clone()),
            flow_id: Some(self.flow_id.clone()),
            enabled: self.enabled.is_some(),
        }
    }

    fn of(r: &rules::KeywordRule) -> RuleForm {
        RuleForm {
            name: r.name.clone(),
            keywords: r.keywords.join("\n"),
            match_mode: r.match_mode.as_str().into(),
            reply_text: r.reply_text.clone(),
            channel_id: r.channel_id.clone().unwrap_or_default(),
            active_hours: r.active_hours.as_str().into(),
            team_id: r.team_id.clone().unwrap_or_default(),
            flow_id: r.flow_id.clone().unwrap_or_default(),
            enabled: r.enabled.then(|| "on".into()),
        }
    }
}

#[derive(Clone, Default, Deserialize, Serialize)]
pub struct SettingsForm {
    away_enabled: Option<String>,
    #[serde(default)]
    away_text: String,
    #[serde(default)]
    away_every_hours: String,
    #[serde(default)]
    escape_words: String,
    #[serde(default)]
    quiet_minutes: String,
}

#[derive(Clone, Default, Deserialize, Serialize)]
pub struct GreetingForm {
    enabled: Option<String>,
    #[serde(default)]
    greeting_text: String,
    ask_consent: Option<String>,
    offer_verification: Option<String>,
}

#[derive(Deserialize)]
pub struct EnabledForm {
    #[serde(default)]
    enabled: String,
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

#[derive(Serialize)]
struct RuleItem {
    id: String,
    form: RuleForm,
    keywords: Vec<String>,
    mode_label: String,
    hours_label: String,
    channel_label: String,
    team_label: Option<String>,
    flow_label: Option<String>,
    enabled: bool,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct GreetingItem {
    channel_id: String,
    channel_name: String,
    form: GreetingForm,
    configured: bool,
}

/// Which form a refusal belongs to, with what was typed.
enum Refused {
    Rule {
        form: RuleForm,
        editing: Option<String>,
    },
    Settings(SettingsForm),
    Greeting {
        channel: String,
        form: GreetingForm,
    },
}

async fn build(
    state: &AppState,
    staff: &Staff,
    refused: Option<(Refusal, Refused)>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut conn = crate::ui::conn(state).await?;
    let rule_rows = rules::list(&mut conn, &clinic).await?;
    let current = settings::load(&mut conn, &clinic).await?;
    let channel_rows = channels::list(&mut conn, &clinic).await?;
    let team_rows = teams::list(&mut conn, &clinic).await?;
    let greeting_rows = greetings::list(&mut conn, &clinic).await?;
    let flow_rows = tsunagu_automation::flows::store::list(&mut conn, &clinic).await?;
    drop(conn);

    let channel_name = |id: &str| {
        channel_rows
            .iter()
            .find(|c| c.id == id)
            .map(|c| c.name.clone())
    };
    let rules: Vec<RuleItem> = rule_rows
        .iter()
        .map(|r| RuleItem {
            id: r.id.clone(),
            form: RuleForm::of(r),
            keywords: r.keywords.clone(),
            mode_label: text(lang, &format!("automation.mode.{}", r.match_mode.as_str())),
            hours_label: text(
                lang,
                &format!("automation.hours.{}", r.active_hours.as_str()),
            ),
            channel_label: match &r.channel_id {
                Some(c) => channel_name(c).unwrap_or_else(|| text(lang, "automation.channel_gone")),
                None => text(lang, "automation.all_channels"),
            },
            team_label: r.team_id.as_ref().map(|t| {
                team_rows
                    .iter()
                    .find(|x| &x.id == t)
                    .map(|x| x.name.clone())
                    .unwrap_or_else(|| text(lang, "automation.team_gone"))
            }),
            flow_label: r.flow_id.as_ref().map(|f| {
                flow_rows
                    .iter()
                    .find(|x| &x.id == f)
                    .map(|x| x.name.clone())
                    .unwrap_or_default()
            }),
            enabled: r.enabled,
        })
        .collect();
    let flow_choices: Vec<Choice> = flow_rows
        .iter()
        .map(|f| Choice {
            value: f.id.clone(),
            label: f.name.clone(),
        })
        .collect();
    let modes: Vec<Choice> = ["exact", "contains", "pattern"]
        .iter()
        .map(|m| Choice {
            value: m.to_string(),
            label: text(lang, &format!("automation.mode.{m}")),
        })
        .collect();
    let hours: Vec<Choice> = ["always", "open", "closed"]
        .iter()
        .map(|h| Choice {
            value: h.to_string(),
            label: text(lang, &format!("automation.hours.{h}")),
        })
        .collect();
    let channel_choices: Vec<Choice> = channel_rows
        .iter()
        .map(|c| Choice {
            value: c.id.clone(),
            label: c.name.clone(),
        })
        .collect();
    let team_choices: Vec<Choice> = team_rows
        .iter()
        .map(|t| Choice {
            value: t.id.clone(),
            label: t.name.clone(),
        })
        .collect();
    let mut settings_form = SettingsForm {
        away_enabled: current.away_enabled.then(|| "on".into()),
        away_text: current.away_text.clone(),
        away_every_hours: current.away_every_hours.to_string(),
        escape_words: current.escape_words.join("\n"),
        quiet_minutes: current.quiet_minutes.to_string(),
    };
    let mut greeting_items: Vec<GreetingItem> = channel_rows
        .iter()
        .map(|c| {
            let g = greeting_rows.iter().find(|g| g.channel_id == c.id);
            GreetingItem {
                channel_id: c.id.clone(),
                channel_name: c.name.clone(),
                configured: g.is_some(),
                form: match g {
                    Some(g) => GreetingForm {
                        enabled: g.enabled.then(|| "on".into()),
                        greeting_text: g.greeting_text.clone(),
                        ask_consent: g.ask_consent.then(|| "on".into()),
                        offer_verification: g.offer_verification.then(|| "on".into()),
                    },
                    None => GreetingForm {
                        enabled: None,
                        greeting_text: greetings::DEFAULT_GREETING.into(),
                        ask_consent: Some("on".into()),
                        offer_verification: Some("on".into()),
                    },
                },
            }
        })
        .collect();
    let (mut error, mut rule_error, mut draft, mut editing) =
        (None, None, RuleForm::default(), None);
    let (mut settings_error, mut greeting_error) = (None, None);
    draft.enabled = Some("on".into());
    draft.match_mode = "exact".into();
    draft.active_hours = "always".into();
    if let Some((why, what)) = refused {
        let words = i18n::refusal(lang, &why);
        match what {
            Refused::Rule { form, editing: e } => {
                rule_error = Some(words.clone());
                draft = form;
                editing = e;
            }
            Refused::Settings(form) => {
                settings_error = Some(words.clone());
                settings_form = form;
            }
            Refused::Greeting { channel, form } => {
                greeting_error = Some((channel.clone(), words.clone()));
                if let Some(g) = greeting_items.iter_mut().find(|g| g.channel_id == channel) {
                    g.form = form;
                }
            }
        }
        error = Some(words);
    }
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "automation.title"),
        action => PAGE, csrf_token => &staff.csrf_token, rules, modes, hours, channel_choices,
        team_choices, flow_choices, settings_form, greetings => greeting_items, draft, editing, error, rule_error,
        settings_error, greeting_error, notice,
    };
    render(state, "settings/automation.html", ctx)
}

async fn refused_page(
    state: &AppState,
    staff: &Staff,
    why: Refusal,
    what: Refused,
) -> Result<Response, PageError> {
    let status = status(why.code);
    let html = build(state, staff, Some((why, what)), None).await?;
    Ok((status, html).into_response())
}

fn done(what: &str) -> Response {
    Redirect::to(&format!("{PAGE}?saved={what}")).into_response()
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = q
        .saved
        .filter(|k| SAVED.contains(&k.as_str()))
        .map(|k| text(staff.lang, &format!("automation.saved.{k}")));
    build(&state, &staff, None, notice).await
}

pub async fn create_rule(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let row = match rules::create(tx.conn(), &clinic, &form.draft(), state.now_ms()).await? {
        Ok(row) => row,
        Err(why) => {
            drop(tx);
            let what = Refused::Rule {
                form,
                editing: None,
            };
            return refused_page(&state, &staff, why, what).await;
        }
    };
    let subject = ("keyword_rule", &[row.id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "ui.automation.rule.create",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(done("created"))
}

pub async fn update_rule(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if rules::get(tx.conn(), &clinic, &id).await?.is_none() {
        return Err(PageError::not_found());
    }
    if let Err(why) = rules::update(tx.conn(), &clinic, &id, &form.draft(), state.now_ms()).await? {
        drop(tx);
        let what = Refused::Rule {
            form,
            editing: Some(id),
        };
        return refused_page(&state, &staff, why, what).await;
    }
    let subject = ("keyword_rule", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "ui.automation.rule.update",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(done("updated"))
}

pub async fn enable_rule(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(form): CsrfForm<EnabledForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let on = form.enabled == "1";
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !rules::set_enabled(tx.conn(), &clinic, &id, on, state.now_ms()).await? {
        return Err(PageError::not_found());
    }
    let action = if on {
        "ui.automation.rule.enable"
    } else {
        "ui.automation.rule.disable"
    };
    let subject = ("keyword_rule", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, action, subject).await?;
    tx.commit().await?;
    Ok(done(if on { "enabled" } else { "disabled" }))
}

pub async fn delete_rule(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !rules::delete(tx.conn(), &staff.clinic.clinic_id(), &id).await? {
        return Err(PageError::not_found());
    }
    let subject = ("keyword_rule", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "ui.automation.rule.delete",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(done("deleted"))
}

pub async fn save_settings(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let draft = settings::Draft {
        away_enabled: form.away_enabled.is_some(),
        away_text: form.away_text.clone(),
        away_every_hours: form.away_every_hours.clone(),
        escape_words: form.escape_words.clone(),
        quiet_minutes: form.quiet_minutes.clone(),
    };
    let checked = match draft.check() {
        Ok(s) => s,
        Err(why) => return refused_page(&state, &staff, why, Refused::Settings(form)).await,
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    settings::save(tx.conn(), &clinic, &checked, state.now_ms()).await?;
    let subject = ("clinic", &[staff.clinic.id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "ui.automation.settings.update",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(done("settings"))
}

pub async fn save_greeting(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(channel): Path<String>,
    staff: Staff,
    CsrfForm(form): CsrfForm<GreetingForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let draft = greetings::Draft {
        enabled: form.enabled.is_some(),
        greeting_text: form.greeting_text.clone(),
        ask_consent: form.ask_consent.is_some(),
        offer_verification: form.offer_verification.is_some(),
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    match greetings::save(tx.conn(), &clinic, &channel, &draft, state.now_ms()).await? {
        Ok(()) => {}
        Err(why) if why.code == tsunagu_core::Code::NotFound => return Err(PageError::not_found()),
        Err(why) => {
            drop(tx);
            let what = Refused::Greeting { channel, form };
            return refused_page(&state, &staff, why, what).await;
        }
    }
    let subject = ("channel", &[channel.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "ui.automation.greeting.update",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(done("greeting"))
}
