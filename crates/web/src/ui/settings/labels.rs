//! `/app/settings/labels`: the clinic's conversation labels (予約関連, 請求, 要折り返し), each a
//! name and a color from the stylesheet's palette. Creating and deleting one is audited.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_store::labels::{self, COLORS};

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/labels";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LabelForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub color: String,
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

#[derive(Serialize)]
struct ColorChoice {
    value: &'static str,
    label: String,
}

async fn build(
    state: &AppState,
    staff: &Staff,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let mut c = conn(state).await?;
    let all = labels::list(&mut c, &staff.clinic.clinic_id()).await?;
    drop(c);
    let colors: Vec<ColorChoice> = COLORS
        .iter()
        .map(|v| ColorChoice {
            value: v,
            label: text(lang, &format!("labels.color.{v}")),
        })
        .collect();
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "labels.title"),
        csrf_token => &staff.csrf_token, labels => all, colors, error, notice,
    };
    render(state, "settings/labels.html", ctx)
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = q
        .saved
        .filter(|k| ["created", "deleted"].contains(&k.as_str()))
        .map(|k| text(staff.lang, &format!("labels.saved.{k}")));
    build(&state, &staff, None, notice).await
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<LabelForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let name = form.name.trim();
    let refuse = |key: &str| text(staff.lang, key);
    if name.is_empty() || name.chars().count() > 30 || !COLORS.contains(&form.color.as_str()) {
        let html = build(&state, &staff, Some(refuse("labels.invalid")), None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let Some(l) = labels::create(tx.conn(), &clinic, name, &form.color, state.now_ms()).await?
    else {
        drop(tx);
        let html = build(&state, &staff, Some(refuse("labels.exists")), None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    };
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "label.create",
        ("label", &[l.id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=created")).into_response())
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
    if !labels::delete(tx.conn(), &clinic, &id).await? {
        return Err(PageError::not_found());
    }
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "label.delete",
        ("label", &[id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=deleted")).into_response())
}
