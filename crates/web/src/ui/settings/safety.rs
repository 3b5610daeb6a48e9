//! `/app/settings/safety` (緊急対応): what the patient is told when triage finds a red flag (the
//! guidance, the crisis lines), minutes before an unopened alert goes to the next person on
//! call, the built-in rules with a switch each, and the clinic's own phrases. Every change is
//! audited; a refused form is shown again as typed with the reason in the staff's words.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_inbox::canned::render::unknown_variable;
use tsunagu_safety::settings::{self as safety, category_name, Settings};
use tsunagu_safety::triage::{builtin_rules, Category, ExtraPhrase};

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::i18n::{text, text_with};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/safety";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub guidance_text: String,
    #[serde(default)]
    pub crisis_text: String,
    #[serde(default)]
    pub escalate_minutes: String,
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct PhraseForm {
    #[serde(default)]
    pub phrase: String,
    #[serde(default)]
    pub category: String,
}

#[derive(Debug, Deserialize)]
pub struct RuleForm {
    #[serde(default)]
    pub enabled: String,
}

#[derive(Serialize)]
struct RuleRow {
    id: String,
    category: String,
    description: String,
    enabled: bool,
}

#[derive(Serialize)]
struct PhraseRow {
    id: String,
    phrase: String,
    category: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

fn categories() -> Vec<Category> {
    Category::ALL.to_vec()
}

fn category_words(lang: &str, name: &str) -> String {
    text(lang, &format!("safety.category.{name}"))
}

struct Typed {
    settings: Option<SettingsForm>,
    phrase: Option<PhraseForm>,
}

async fn build(
    state: &AppState,
    staff: &Staff,
    typed: Typed,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let s = safety::load(&mut c, &clinic).await?;
    let phrases = safety::phrases(&mut c, &clinic).await?;
    drop(c);
    let form = typed.settings.unwrap_or_else(|| SettingsForm {
        guidance_text: s.guidance_text.clone(),
        crisis_text: s.crisis_text.clone(),
        escalate_minutes: s.escalate_minutes.to_string(),
    });
    let rules: Vec<RuleRow> = builtin_rules()
        .iter()
        .map(|r| RuleRow {
            id: r.id.clone(),
            category: category_words(lang, &category_name(&r.category)),
            description: match lang {
                "ja" => r.description_ja.clone(),
                _ => r.description_en.clone(),
            },
            enabled: !s.disabled_rules.contains(&r.id),
        })
        .collect();
    let phrases: Vec<PhraseRow> = phrases
        .into_iter()
        .map(|p| PhraseRow {
            category: category_words(lang, &p.category),
            id: p.id,
            phrase: p.phrase,
        })
        .collect();
    let choices: Vec<Choice> = categories()
        .iter()
        .map(|c| {
            let value = category_name(c);
            Choice {
                label: category_words(lang, &value),
                value,
            }
        })
        .collect();
    let phrase = typed.phrase.unwrap_or_default();
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "safety.title"),
        csrf_token => &staff.csrf_token, form, rules, phrases, choices, phrase, error, notice,
        max_text => safety::MAX_TEXT, max_phrase => safety::MAX_PHRASE,
    };
    render(state, "settings/safety.html", ctx)
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = q
        .saved
        .filter(|k| ["settings", "rule", "phrase_added", "phrase_removed"].contains(&k.as_str()))
        .map(|k| text(staff.lang, &format!("safety.saved.{k}")));
    let typed = Typed {
        settings: None,
        phrase: None,
    };
    build(&state, &staff, typed, None, notice).await
}

/// The form read, or the reason it was refused (in the staff's words).
fn parse(lang: &str, f: &SettingsForm, disabled: Vec<String>) -> Result<Settings, String> {
    let (guidance, crisis) = (f.guidance_text.trim(), f.crisis_text.trim());
    for t in [guidance, crisis] {
        if t.is_empty() || t.chars().count() > safety::MAX_TEXT {
            let max = safety::MAX_TEXT.to_string();
            return Err(text_with(lang, "safety.error.text", &[("max", &max)]));
        }
        if let Some(bad) = unknown_variable(t) {
            return Err(text_with(lang, "safety.error.variable", &[("var", &bad)]));
        }
    }
    let (min, max) = safety::ESCALATE_MINUTES;
    let minutes = tsunagu_core::text::fold_width(f.escalate_minutes.trim())
        .parse::<i64>()
        .ok()
        .filter(|m| (min..=max).contains(m))
        .ok_or_else(|| {
            let (min, max) = (min.to_string(), max.to_string());
            text_with(
                lang,
                "safety.error.minutes",
                &[("min", &min), ("max", &max)],
            )
        })?;
    Ok(Settings {
        guidance_text: guidance.to_string(),
        crisis_text: crisis.to_string(),
        escalate_minutes: minutes,
        disabled_rules: disabled,
    })
}

pub async fn save(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let current = safety::load(tx.conn(), &clinic).await?;
    let s = match parse(staff.lang, &form, current.disabled_rules) {
        Ok(s) => s,
        Err(why) => {
            drop(tx);
            let typed = Typed {
                settings: Some(form),
                phrase: None,
            };
            let html = build(&state, &staff, typed, Some(why), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    safety::save(tx.conn(), &clinic, &s, state.now_ms()).await?;
    let subject: (&str, &[&str]) = ("clinic", &[clinic.as_str()]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "ui.safety.settings.update",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=settings")).into_response())
}

/// Switches a built-in rule on (`enabled=1`) or off.
pub async fn set_rule(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RuleForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    if !builtin_rules().iter().any(|r| r.id == id) {
        return Err(PageError::not_found());
    }
    let on = form.enabled == "1";
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let mut s = safety::load(tx.conn(), &clinic).await?;
    s.disabled_rules.retain(|d| *d != id);
    if !on {
        s.disabled_rules.push(id.clone());
    }
    safety::save(tx.conn(), &clinic, &s, state.now_ms()).await?;
    let action = if on {
        "ui.safety.rule.enable"
    } else {
        "ui.safety.rule.disable"
    };
    let subject: (&str, &[&str]) = ("triage_rule", &[id.as_str()]);
    audit_change(&mut tx, &state, &staff, &ip, action, subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=rule#rules")).into_response())
}

pub async fn add_phrase(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<PhraseForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let lang = staff.lang;
    let phrase = form.phrase.trim().to_string();
    let category = safety::category_of(&form.category);
    let refuse = |key: &str| {
        let max = safety::MAX_PHRASE.to_string();
        text_with(lang, key, &[("max", &max)])
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let count = safety::phrases(tx.conn(), &clinic).await?.len();
    let error = match &category {
        _ if phrase.is_empty() || phrase.chars().count() > safety::MAX_PHRASE => {
            Some(refuse("safety.error.phrase"))
        }
        None => Some(refuse("safety.error.category")),
        Some(c) if !usable(&phrase, *c) => Some(refuse("safety.error.unusable")),
        Some(_) if count >= safety::MAX_PHRASES => Some(refuse("safety.error.too_many")),
        Some(c) => {
            match safety::add_phrase(tx.conn(), &clinic, &phrase, c, state.now_ms()).await? {
                None => Some(refuse("safety.error.exists")),
                Some(id) => {
                    let subject: (&str, &[&str]) = ("triage_phrase", &[id.as_str()]);
                    audit_change(
                        &mut tx,
                        &state,
                        &staff,
                        &ip,
                        "ui.safety.phrase.add",
                        subject,
                    )
                    .await?;
                    None
                }
            }
        }
    };
    if let Some(why) = error {
        drop(tx);
        let typed = Typed {
            settings: None,
            phrase: Some(form),
        };
        let html = build(&state, &staff, typed, Some(why), None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=phrase_added#phrases")).into_response())
}

/// Whether the detector can use the phrase (it skips one it cannot, so it is refused here).
fn usable(phrase: &str, category: Category) -> bool {
    let extra = ExtraPhrase {
        phrase: phrase.to_string(),
        category,
    };
    extra.check().is_ok()
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn remove_phrase(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !safety::remove_phrase(tx.conn(), &clinic, &id).await? {
        return Err(PageError::not_found());
    }
    let subject: (&str, &[&str]) = ("triage_phrase", &[id.as_str()]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "ui.safety.phrase.remove",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=phrase_removed#phrases")).into_response())
}
