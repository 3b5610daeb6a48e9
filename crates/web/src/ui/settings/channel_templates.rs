//! `/app/settings/channels/{id}/templates`: a WhatsApp channel's message templates with Meta's
//! review state, a form to add one (stored as a draft) and a form per template to record its
//! state. Submitting to Meta and syncing states is the WhatsApp client's job; it records through
//! the same `templates::set_status`.
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_channels::ChannelKind;
use tsunagu_core::{Permission, Refusal};
use tsunagu_store::channels::Channel;
use tsunagu_store::templates::{self, NewTemplate, StatusUpdate, Template, CATEGORIES, STATUSES};

use super::channels::{find, kind_label};
use super::{audit_change, render};
use crate::api::refusal::status;
use crate::api::templates::refusal as template_refusal;
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Deserialize)]
pub struct PageQuery {
    /// created | status | deleted
    saved: Option<String>,
}

#[derive(Clone, Default, Deserialize, Serialize)]
pub struct TemplateForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    category: String,
    #[serde(default)]
    body: String,
}

#[derive(Deserialize)]
pub struct StatusForm {
    #[serde(default)]
    status: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    provider_template_id: String,
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

#[derive(Serialize)]
struct Choice {
    value: &'static str,
    label: String,
}

#[derive(Serialize)]
struct TemplateItem {
    id: String,
    name: String,
    language: String,
    category: String,
    body: String,
    variables: i64,
    status: String,
    status_label: String,
    reason: Option<String>,
    provider_template_id: Option<String>,
}

fn status_label(lang: &str, status: &str) -> String {
    text(lang, &format!("templates.status.{status}"))
}

fn item(lang: &str, t: Template) -> TemplateItem {
    TemplateItem {
        status_label: status_label(lang, &t.status),
        id: t.id,
        name: t.name,
        language: t.language,
        category: t.category,
        body: t.body,
        variables: t.variables,
        status: t.status,
        reason: t.status_reason,
        provider_template_id: t.provider_template_id,
    }
}

/// The channel, when its provider has message templates (WhatsApp); others have none.
async fn whatsapp(state: &AppState, staff: &Staff, id: &str) -> Result<Channel, PageError> {
    let ch = find(state, staff, id).await?;
    if !ChannelKind::parse(&ch.kind).is_some_and(|k| k.rules().templates) {
        return Err(PageError::not_found());
    }
    Ok(ch)
}

fn page_of(ch: &Channel) -> String {
    format!("/app/settings/channels/{}/templates", ch.id)
}

async fn build(
    state: &AppState,
    staff: &Staff,
    ch: &Channel,
    refused: Option<(Refusal, TemplateForm)>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let mut conn = crate::ui::conn(state).await?;
    let rows =
        templates::list_by_channel(&mut conn, &staff.clinic.clinic_id(), &ch.channel_id()).await?;
    drop(conn);
    let items: Vec<TemplateItem> = rows.into_iter().map(|t| item(lang, t)).collect();
    let statuses: Vec<Choice> = STATUSES
        .into_iter()
        .map(|s| Choice {
            value: s,
            label: status_label(lang, s),
        })
        .collect();
    let categories: Vec<Choice> = CATEGORIES
        .into_iter()
        .map(|c| Choice {
            value: c,
            label: text(lang, &format!("templates.category.{c}")),
        })
        .collect();
    let (error, draft) = match refused {
        Some((why, form)) => (Some(i18n::refusal(lang, &why)), form),
        None => (None, TemplateForm::default()),
    };
    let title = format!("{} | {}", text(lang, "templates.title"), ch.name);
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title,
        channel_name => &ch.name, channel_label => kind_label(lang, &ch.kind), action => page_of(ch),
        csrf_token => &staff.csrf_token, templates => items, statuses, categories, draft, error, notice,
    };
    render(state, "settings/channel_templates.html", ctx)
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let ch = whatsapp(&state, &staff, &id).await?;
    let notice = q
        .saved
        .filter(|k| ["created", "status", "deleted"].contains(&k.as_str()))
        .map(|k| text(staff.lang, &format!("templates.saved.{k}")));
    build(&state, &staff, &ch, None, notice).await
}

pub async fn create(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(form): CsrfForm<TemplateForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let ch = whatsapp(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let channel_id = ch.channel_id();
    let new = NewTemplate {
        clinic_id: &clinic,
        channel_id: &channel_id,
        name: form.name.trim(),
        language: form.language.trim(),
        category: form.category.trim(),
        body: &form.body,
    };
    let mut tx = state.db.begin().await?;
    let row = match templates::create(tx.conn(), new, state.now_ms()).await? {
        Ok(row) => row,
        Err(e) => {
            drop(tx);
            let why = template_refusal(&e);
            let status = status(why.code);
            let html = build(&state, &staff, &ch, Some((why, form)), None).await?;
            return Ok((status, html).into_response());
        }
    };
    let subject = ("message_template", &[row.id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.template.create", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?saved=created", page_of(&ch))).into_response())
}

/// The template of this channel named in the path, or 404.
async fn template_of(
    state: &AppState,
    staff: &Staff,
    ch: &Channel,
    id: &str,
) -> Result<Template, PageError> {
    let mut conn = crate::ui::conn(state).await?;
    templates::by_id(&mut conn, &staff.clinic.clinic_id(), id)
        .await?
        .filter(|t| t.channel_id == ch.id)
        .ok_or_else(PageError::not_found)
}

pub async fn set_status(
    State(state): State<AppState>,
    ip: ClientIp,
    Path((id, template_id)): Path<(String, String)>,
    staff: Staff,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let ch = whatsapp(&state, &staff, &id).await?;
    let t = template_of(&state, &staff, &ch, &template_id).await?;
    let provider_id = Some(form.provider_template_id.trim()).filter(|p| !p.is_empty());
    let update = StatusUpdate {
        status: form.status.trim(),
        provider_template_id: provider_id,
        reason: Some(form.reason.as_str()),
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    match templates::set_status(tx.conn(), &clinic, &t.id, update, state.now_ms()).await? {
        Ok(Some(_)) => {}
        Ok(None) => return Err(PageError::not_found()),
        Err(e) => {
            drop(tx);
            let why = template_refusal(&e);
            let status = status(why.code);
            let html = build(&state, &staff, &ch, Some((why, Default::default())), None).await?;
            return Ok((status, html).into_response());
        }
    }
    let subject = ("message_template", &[t.id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.template.status", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?saved=status", page_of(&ch))).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    ip: ClientIp,
    Path((id, template_id)): Path<(String, String)>,
    staff: Staff,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let ch = whatsapp(&state, &staff, &id).await?;
    let t = template_of(&state, &staff, &ch, &template_id).await?;
    let mut tx = state.db.begin().await?;
    if !templates::delete(tx.conn(), &staff.clinic.clinic_id(), &t.id).await? {
        return Err(PageError::not_found());
    }
    let subject = ("message_template", &[t.id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.template.delete", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?saved=deleted", page_of(&ch))).into_response())
}

/// `POST …/templates/sync`: submit drafts to Meta and record review states, in the background.
pub async fn sync(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let ch = whatsapp(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    templates::enqueue_sync(tx.conn(), &clinic, &ch.channel_id(), state.now_ms()).await?;
    let subject = ("channel", &[ch.id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.template.sync", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{}?saved=sync", page_of(&ch))).into_response())
}
