//! `/app/settings/flows` (フロー): the clinic's dialogue flows — the list (with the sample
//! 「初診問診」 a click away), and each flow's own actions: its settings, publishing a version
//! (running dialogues keep theirs), switching it on or off, deleting it. The step cards are
//! `flow_steps`, the preview `flow_preview`. Owners and admins change flows; anyone who may
//! reply (receptionists) reads them. Every change is audited.
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_automation::flows::definition::{Definition, Problem};
use tsunagu_automation::flows::store::name_ok;
use tsunagu_automation::flows::{sample, store};
use tsunagu_core::{Code, Permission};

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

pub(super) const PAGE: &str = "/app/settings/flows";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
    pub error: Option<String>,
}

/// The notice and error a redirect named, read only from known keys and codes.
pub(super) fn messages(lang: &str, q: &PageQuery) -> (Option<String>, Option<String>) {
    const SAVED: [&str; 9] = [
        "created",
        "settings",
        "step",
        "step_added",
        "step_deleted",
        "published",
        "enabled",
        "disabled",
        "deleted",
    ];
    let notice = q
        .saved
        .as_deref()
        .filter(|k| SAVED.contains(k))
        .map(|k| text(lang, &format!("flows.saved.{k}")));
    let error = q.error.as_deref().and_then(|e| match e {
        "problems" => Some(text(lang, "flows.error.problems")),
        "name" => Some(text(lang, "flows.error.name")),
        other => Code::parse(other).map(|c| i18n::code(lang, c)),
    });
    (notice, error)
}

/// A problem of a draft in the staff's words, with its step number.
pub(super) fn problem_text(lang: &str, p: &Problem) -> String {
    let what = text(lang, &format!("flows.problem.{}", p.what));
    if p.step == 0 {
        what
    } else {
        i18n::text_with(
            lang,
            "flows.problem.at_step",
            &[("n", &p.step.to_string()), ("what", &what)],
        )
    }
}

#[derive(Serialize)]
struct Row {
    id: String,
    name: String,
    enabled: bool,
    version: Option<i64>,
    steps: usize,
    keyword_rules: Vec<String>,
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Reply)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let flows = store::list(&mut c, &clinic).await?;
    let rules = tsunagu_automation::rules::list(&mut c, &clinic).await?;
    drop(c);
    let rows: Vec<Row> = flows
        .iter()
        .map(|f| Row {
            id: f.id.clone(),
            name: f.name.clone(),
            enabled: f.is_enabled(),
            version: f.published_version,
            steps: f.draft().steps.len(),
            keyword_rules: rules
                .iter()
                .filter(|r| r.flow_id.as_deref() == Some(f.id.as_str()))
                .flat_map(|r| r.keywords.iter().cloned())
                .collect(),
        })
        .collect();
    let (notice, error) = messages(lang, &q);
    let ctx = minijinja::context! {
        lang, shell => shell(&state, &staff, "settings").await?, title => text(lang, "flows.title"),
        action => PAGE, csrf_token => &staff.csrf_token, flows => rows, notice, error,
        can_edit => staff.can(Permission::Administer), sample_name => sample::NAME,
    };
    render(&state, "settings/flows.html", ctx)
}

#[derive(Debug, Default, Deserialize)]
pub struct NewFlow {
    #[serde(default)]
    pub name: String,
}

async fn create_with(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    name: &str,
    def: &Definition,
) -> Result<Response, PageError> {
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let now = state.now_ms();
    let id = store::create(tx.conn(), &clinic, name, def, &state.cipher, now).await?;
    let subject = ("flow", &[id.as_str()][..]);
    audit_change(&mut tx, state, staff, ip, "flow.create", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}/{id}?saved=created")).into_response())
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<NewFlow>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    if !name_ok(&form.name) {
        return Ok(Redirect::to(&format!("{PAGE}?error=name")).into_response());
    }
    create_with(&state, &staff, &ip, &form.name, &Definition::empty()).await
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

/// The sample 「初診問診」 as a draft, fever routed to a team named 看護 when there is one.
pub async fn create_sample(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let nursing = tsunagu_inbox::routing::teams::list(&mut c, &clinic)
        .await?
        .into_iter()
        .find(|t| t.name == "看護")
        .map(|t| t.id);
    drop(c);
    let def = sample::intake(nursing.as_deref());
    create_with(&state, &staff, &ip, sample::NAME, &def).await
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub timeout_minutes: String,
    #[serde(default)]
    pub max_tries: String,
    #[serde(default)]
    pub timeout_text: String,
    #[serde(default)]
    pub completed_webhook: String,
}

pub async fn save_settings(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let flow = store::get(tx.conn(), &clinic, &id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let to = format!("{PAGE}/{id}");
    if !name_ok(&form.name) {
        return Ok(Redirect::to(&format!("{to}?error=name")).into_response());
    }
    let mut def = flow.draft();
    // Out-of-range numbers are kept and shown as the draft's problems, never silently changed.
    def.timeout_minutes = form.timeout_minutes.trim().parse().unwrap_or(0);
    def.max_tries = form.max_tries.trim().parse().unwrap_or(0);
    def.timeout_text = form.timeout_text.trim().to_string();
    let hook = form.completed_webhook.trim();
    def.completed_webhook = (!hook.is_empty()).then(|| hook.to_string());
    if let Some(url) = &def.completed_webhook {
        if let Err(r) = check_url(&state, url).await {
            return Ok(Redirect::to(&format!("{to}?error={}", r.as_str())).into_response());
        }
    }
    store::save_draft(tx.conn(), &clinic, &id, &form.name, &def, state.now_ms()).await?;
    let subject = ("flow", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "flow.update", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{to}?saved=settings")).into_response())
}

/// A webhook address an administrator typed: refused before it is stored when it is not a
/// public https address (unless `[outbound] allow_private_addresses`).
pub(crate) async fn check_url(state: &AppState, url: &str) -> Result<(), Code> {
    tsunagu_channels::outbound::Outbound::from_settings(&state.settings.outbound)
        .check_url(url)
        .await
        .map(drop)
        .map_err(|_| Code::OutboundAddressRefused)
}

pub async fn publish(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let by = format!("staff:{}", staff.staff_id);
    let to = format!("{PAGE}/{id}");
    match store::publish(tx.conn(), &clinic, &id, Some(&by), state.now_ms()).await? {
        Ok(Some(_)) => {}
        Ok(None) => return Err(PageError::not_found()),
        Err(_) => return Ok(Redirect::to(&format!("{to}?error=problems")).into_response()),
    }
    let subject = ("flow", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "flow.publish", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{to}?saved=published")).into_response())
}

#[derive(Debug, Default, Deserialize)]
pub struct EnabledForm {
    #[serde(default)]
    pub on: String,
}

pub async fn set_enabled(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EnabledForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let on = form.on == "1";
    let mut tx = state.db.begin().await?;
    if !store::set_enabled(tx.conn(), &clinic, &id, on, state.now_ms()).await? {
        return Err(PageError::not_found());
    }
    let subject = ("flow", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "flow.enable", subject).await?;
    tx.commit().await?;
    let key = if on { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("{PAGE}/{id}?saved={key}")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !store::delete(tx.conn(), &clinic, &id).await? {
        return Err(PageError::not_found());
    }
    let subject = ("flow", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "flow.delete", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=deleted")).into_response())
}
