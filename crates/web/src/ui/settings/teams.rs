//! `/app/settings/teams`: the clinic's teams (受付, 看護, 会計, …) with their members and how each
//! hands out conversations, every staff member's availability and capacity, and which team each
//! channel's new conversations join. Administrators only; each change commits with its audit
//! entry; an id that is not this clinic's is 404 and changes nothing.
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::{Permission, Role};
use tsunagu_inbox::routing::availability::{self, Presence};
use tsunagu_inbox::routing::teams::{self, AssignMode};
use tsunagu_store::channels;

use super::channels::kind_label;
use super::{audit_change, render};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/teams";
const MODES: [AssignMode; 3] = [
    AssignMode::Off,
    AssignMode::RoundRobin,
    AssignMode::LeastBusy,
];
const SAVED: [&str; 6] = [
    "created", "updated", "deleted", "members", "capacity", "channel",
];

/// Forms that carry nothing but their CSRF token.
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
pub struct PageQuery {
    saved: Option<String>,
}

#[derive(Deserialize)]
pub struct TeamForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    mode: String,
}

#[derive(Serialize)]
struct Person {
    staff_id: String,
    name: String,
    availability: &'static str,
    capacity: i64,
    open_assigned: i64,
}

#[derive(Serialize)]
struct TeamItem {
    id: String,
    name: String,
    mode: &'static str,
    members: Vec<Person>,
    /// Staff who may reply and are not members yet.
    addable: Vec<Person>,
}

#[derive(Serialize)]
struct ChannelItem {
    id: String,
    label: String,
    team_id: Option<String>,
}

fn person(p: &Presence) -> Person {
    Person {
        staff_id: p.staff_id.clone(),
        name: p.display_name.clone(),
        availability: p.availability().as_str(),
        capacity: p.capacity,
        open_assigned: p.open_assigned,
    }
}

async fn build(
    state: &AppState,
    staff: &Staff,
    notice: Option<String>,
    error: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut conn = crate::ui::conn(state).await?;
    let people: Vec<Presence> = availability::list(&mut conn, &clinic)
        .await?
        .into_iter()
        .filter(|p| {
            p.role
                .parse::<Role>()
                .is_ok_and(|r| r.can(Permission::Reply))
        })
        .collect();
    let members = teams::members(&mut conn, &clinic).await?;
    let teams: Vec<TeamItem> = teams::list(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|t| {
            let is_member = |p: &Presence| {
                members
                    .iter()
                    .any(|m| m.team_id == t.id && m.staff_id == p.staff_id)
            };
            TeamItem {
                mode: t.mode().as_str(),
                members: people.iter().filter(|p| is_member(p)).map(person).collect(),
                addable: people
                    .iter()
                    .filter(|p| !is_member(p))
                    .map(person)
                    .collect(),
                id: t.id,
                name: t.name,
            }
        })
        .collect();
    let team_of = teams::channel_teams(&mut conn, &clinic).await?;
    let channels: Vec<ChannelItem> = channels::list(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|c| ChannelItem {
            label: format!("{} {}", kind_label(lang, &c.kind), c.name),
            team_id: team_of
                .iter()
                .find(|(id, _)| *id == c.id)
                .and_then(|(_, t)| t.clone()),
            id: c.id,
        })
        .collect();
    drop(conn);
    let staff_rows: Vec<Person> = people.iter().map(person).collect();
    let modes: Vec<&str> = MODES.iter().map(|m| m.as_str()).collect();
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "teams.title"),
        csrf_token => &staff.csrf_token, teams, staff => staff_rows, channels, modes, notice, error,
    };
    render(state, "settings/teams.html", ctx)
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
        .map(|k| text(staff.lang, &format!("teams.saved.{k}")));
    build(&state, &staff, notice, None).await
}

pub(super) fn saved(what: &str) -> Response {
    Redirect::to(&format!("{PAGE}?saved={what}")).into_response()
}

pub(super) async fn refused(
    state: &AppState,
    staff: &Staff,
    key: &str,
) -> Result<Response, PageError> {
    let html = build(state, staff, None, Some(text(staff.lang, key))).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

/// A name and a mode as typed, or the refusal's words.
fn checked(form: &TeamForm) -> Result<(String, AssignMode), &'static str> {
    let name = form.name.trim();
    if name.is_empty() || name.chars().count() > 40 {
        return Err("teams.error.name");
    }
    let mode = AssignMode::parse(&form.mode).unwrap_or(AssignMode::Off);
    Ok((name.to_string(), mode))
}

pub async fn create(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<TeamForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let (name, mode) = match checked(&form) {
        Ok(v) => v,
        Err(key) => return refused(&state, &staff, key).await,
    };
    let mut tx = state.db.begin().await?;
    let clinic = staff.clinic.clinic_id();
    let Some(id) = teams::create(tx.conn(), &clinic, &name, mode, state.now_ms()).await? else {
        drop(tx);
        return refused(&state, &staff, "teams.error.taken").await;
    };
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "team.created",
        ("team", &[&id]),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("created"))
}

pub async fn update(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<TeamForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if teams::get(tx.conn(), &clinic, &id).await?.is_none() {
        return Err(PageError::not_found());
    }
    let (name, mode) = match checked(&form) {
        Ok(v) => v,
        Err(key) => {
            drop(tx);
            return refused(&state, &staff, key).await;
        }
    };
    if !teams::update(tx.conn(), &clinic, &id, &name, mode).await? {
        drop(tx);
        return refused(&state, &staff, "teams.error.taken").await;
    }
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "team.updated",
        ("team", &[&id]),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("updated"))
}

pub async fn delete(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !teams::delete(tx.conn(), &staff.clinic.clinic_id(), &id).await? {
        return Err(PageError::not_found());
    }
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "team.deleted",
        ("team", &[&id]),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("deleted"))
}
