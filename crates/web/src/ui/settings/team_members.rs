//! Team members, each staff member's capacity and each channel's team, on the teams page
//! (`/app/settings/teams`). Administrators only; an id that is not this clinic's is 404.
use axum::extract::{Path, State};
use axum::response::Response;
use serde::Deserialize;
use tsunagu_core::Permission;
use tsunagu_inbox::routing::availability;
use tsunagu_inbox::routing::teams;

use super::audit_change;
use super::teams::{refused, saved, NoFields};
use crate::client_ip::ClientIp;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Deserialize)]
pub struct MemberForm {
    #[serde(default)]
    staff_id: String,
}

#[derive(Deserialize)]
pub struct CapacityForm {
    #[serde(default)]
    capacity: String,
}

#[derive(Deserialize)]
pub struct ChannelTeamForm {
    #[serde(default)]
    team_id: String,
}

pub async fn add_member(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<MemberForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let who = form.staff_id.trim();
    if !teams::add_member(tx.conn(), &staff.clinic.clinic_id(), &id, who).await? {
        return Err(PageError::not_found());
    }
    let subject = ("team", &[id.as_str(), who][..]);
    audit_change(&mut tx, &state, &staff, &ip, "team.member_added", subject).await?;
    tx.commit().await?;
    Ok(saved("members"))
}

pub async fn remove_member(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    Path((id, who)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<NoFields>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !teams::remove_member(tx.conn(), &staff.clinic.clinic_id(), &id, &who).await? {
        return Err(PageError::not_found());
    }
    let subject = ("team", &[id.as_str(), who.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "team.member_removed", subject).await?;
    tx.commit().await?;
    Ok(saved("members"))
}

pub async fn set_capacity(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    Path(who): Path<String>,
    CsrfForm(form): CsrfForm<CapacityForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if teams::replying_staff(tx.conn(), &clinic, &who)
        .await?
        .is_none()
    {
        return Err(PageError::not_found());
    }
    let Ok(capacity) = form.capacity.trim().parse::<i64>() else {
        drop(tx);
        return refused(&state, &staff, "teams.error.capacity").await;
    };
    availability::set_capacity(tx.conn(), &clinic, &who, capacity, state.now_ms()).await?;
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "staff.capacity",
        ("staff", &[&who]),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("capacity"))
}

pub async fn set_channel_team(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    Path(channel): Path<String>,
    CsrfForm(form): CsrfForm<ChannelTeamForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let team = Some(form.team_id.trim()).filter(|t| !t.is_empty());
    let mut tx = state.db.begin().await?;
    if !teams::set_channel_team(tx.conn(), &staff.clinic.clinic_id(), &channel, team).await? {
        return Err(PageError::not_found());
    }
    let ids: Vec<&str> = std::iter::once(channel.as_str()).chain(team).collect();
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "channel.team",
        ("channel", &ids),
    )
    .await?;
    tx.commit().await?;
    Ok(saved("channel"))
}
