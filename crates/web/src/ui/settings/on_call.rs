//! `/app/settings/on-call` (オンコール当番): who is called when triage finds a red flag, and
//! when (clinic-local start and end). Entries covering a moment are called in the order they
//! were added; an unopened alert goes to the next one after the minutes set on 緊急対応. Adding
//! and removing are audited.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_safety::rota::{self, Refused};
use tsunagu_store::inbox_views;

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::inbox::view::Zone;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/on-call";

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct EntryForm {
    #[serde(default)]
    pub staff_id: String,
    #[serde(default)]
    pub start_date: String,
    #[serde(default)]
    pub start_time: String,
    #[serde(default)]
    pub end_date: String,
    #[serde(default)]
    pub end_time: String,
}

#[derive(Serialize)]
struct Row {
    id: String,
    order: usize,
    name: String,
    starts: String,
    ends: String,
    now: bool,
    past: bool,
}

#[derive(Serialize)]
struct Member {
    id: String,
    name: String,
}

async fn build(
    state: &AppState,
    staff: &Staff,
    typed: Option<EntryForm>,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let zone = Zone::of(&staff.clinic);
    let now = state.now_ms();
    let mut c = conn(state).await?;
    let entries = rota::list(&mut c, &clinic).await?;
    let members: Vec<Member> = inbox_views::assignable_staff(&mut c, &clinic)
        .await?
        .into_iter()
        .map(|m| Member {
            id: m.staff_id,
            name: m.display_name,
        })
        .collect();
    drop(c);
    let rows: Vec<Row> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| Row {
            order: i + 1,
            now: e.starts_at <= now && now < e.ends_at,
            past: e.ends_at <= now,
            starts: zone.long_label(lang, e.starts_at),
            ends: zone.long_label(lang, e.ends_at),
            name: e.display_name,
            id: e.id,
        })
        .collect();
    let form = typed.unwrap_or_else(|| {
        // Tonight by default: 18:00 today until 09:00 tomorrow.
        let (today, _) = zone.date_time(now);
        let (tomorrow, _) = zone.date_time(now + 86_400_000);
        EntryForm {
            staff_id: String::new(),
            start_date: today,
            start_time: "18:00".into(),
            end_date: tomorrow,
            end_time: "09:00".into(),
        }
    });
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "oncall.title"),
        csrf_token => &staff.csrf_token, rows, members, form, error, notice,
    };
    render(state, "settings/on_call.html", ctx)
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = q
        .saved
        .filter(|k| ["added", "removed"].contains(&k.as_str()))
        .map(|k| text(staff.lang, &format!("oncall.saved.{k}")));
    build(&state, &staff, None, None, notice).await
}

pub async fn add(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<EntryForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let lang = staff.lang;
    let zone = Zone::of(&staff.clinic);
    let clinic = staff.clinic.clinic_id();
    let start = zone.parse_local(form.start_date.trim(), form.start_time.trim());
    let end = zone.parse_local(form.end_date.trim(), form.end_time.trim());
    let refused = |key: &str| Some(text(lang, key));
    let mut tx = state.db.begin().await?;
    let error = match (start, end) {
        (Some(s), Some(e)) => {
            match rota::add(tx.conn(), &clinic, &form.staff_id, (s, e), state.now_ms()).await? {
                Ok(id) => {
                    let subject: (&str, &[&str]) = ("on_call", &[id.as_str(), &form.staff_id]);
                    audit_change(&mut tx, &state, &staff, &ip, "ui.oncall.add", subject).await?;
                    None
                }
                Err(Refused::NotAMember) => refused("oncall.error.member"),
                Err(Refused::Backwards) => refused("oncall.error.backwards"),
            }
        }
        _ => refused("oncall.error.time"),
    };
    if let Some(why) = error {
        drop(tx);
        let html = build(&state, &staff, Some(form), Some(why), None).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
    }
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=added")).into_response())
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn remove(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !rota::remove(tx.conn(), &clinic, &id).await? {
        return Err(PageError::not_found());
    }
    let subject: (&str, &[&str]) = ("on_call", &[id.as_str()]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.oncall.remove", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=removed")).into_response())
}
