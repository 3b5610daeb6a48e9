//! `/app/settings/sources/{id}/edit`: change a source's name, tag and welcome (its code, channel
//! and printed posters stay), or remove it with its counts. The same checks as the API
//! (`automation::source_edits`); audited.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use tsunagu_automation::{source_edits, sources};
use tsunagu_core::Permission;

use super::audit_change;
use super::sources::{channels, published_flows, SourceForm, PAGE};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

/// The form as shown: the stored source, or what was typed when it was refused.
async fn build(
    state: &AppState,
    staff: &Staff,
    s: &sources::Source,
    form: Option<&SourceForm>,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let channel = channels(state, staff)
        .await?
        .into_iter()
        .find(|c| c.id == s.channel_id)
        .map(|c| c.name)
        .unwrap_or_else(|| text(lang, "sources.channel_gone"));
    let mut c = conn(state).await?;
    let flows = published_flows(&mut c, &clinic).await?;
    drop(c);
    let shown = match form {
        Some(f) => minijinja::context! {
            name => &f.name, tag => &f.tag, welcome_text => &f.welcome_text,
            welcome_flow_id => &f.welcome_flow_id, welcome_every => f.welcome_every == "1",
        },
        None => minijinja::context! {
            name => &s.name, tag => &s.tag, welcome_text => &s.welcome_text,
            welcome_flow_id => s.welcome_flow_id.clone().unwrap_or_default(),
            welcome_every => s.welcome_every != 0,
        },
    };
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?,
        title => text(lang, "sources.edit.title"), csrf_token => &staff.csrf_token,
        id => &s.id, code => &s.code, channel, form => shown, flows, error,
    };
    render(state, "settings/source_edit.html", ctx)
}

async fn source(state: &AppState, staff: &Staff, id: &str) -> Result<sources::Source, PageError> {
    let mut c = conn(state).await?;
    let s = sources::get(&mut c, &staff.clinic.clinic_id(), id).await?;
    s.ok_or_else(PageError::not_found)
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let s = source(&state, &staff, &id).await?;
    build(&state, &staff, &s, None, None).await
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SourceForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let s = source(&state, &staff, &id).await?;
    let lang = staff.lang;
    let refused = |key: &str| text(lang, key);
    let Ok(checked) = source_edits::check(&form.name, &form.tag) else {
        let html = build(
            &state,
            &staff,
            &s,
            Some(&form),
            Some(refused("sources.invalid_name")),
        )
        .await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let (text_in, flow) = (&form.welcome_text, Some(form.welcome_flow_id.as_str()));
    let every = form.welcome_every == "1";
    let welcome = source_edits::check_welcome(tx.conn(), &clinic, text_in, flow, every).await?;
    let Ok(welcome) = welcome else {
        drop(tx);
        let err = Some(refused("sources.invalid_welcome"));
        let html = build(&state, &staff, &s, Some(&form), err).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    if !source_edits::update(tx.conn(), &clinic, &id, &checked).await?
        || !source_edits::set_welcome(tx.conn(), &clinic, &id, &welcome).await?
    {
        return Err(PageError::not_found()); // removed meanwhile
    }
    let subject = ("inflow_source", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "inflow_source.update",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=updated")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !source_edits::delete(tx.conn(), &clinic, &id).await? {
        return Err(PageError::not_found());
    }
    let subject = ("inflow_source", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "inflow_source.delete",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=deleted")).into_response())
}
