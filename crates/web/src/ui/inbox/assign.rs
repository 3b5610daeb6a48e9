//! Who looks after a conversation, so 自分の担当 (mine) means something. Anyone who may reply
//! takes a conversation (自分が担当), lets it go (担当を外す), or gives it to a colleague here who
//! may reply and/or to a team. `POST /app/conversations/{id}/assign` with `assignee` = a staff
//! id or empty (unassign), `team` = a team id or empty; a field left out is left as it is. The
//! change, its line in the conversation and its audit entry commit together
//! (`inbox::routing::assign`); an id that is not this clinic's is 404 and changes nothing.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_inbox::routing::assign::{By, Change, Target};
use tsunagu_inbox::routing::{self, availability, teams};
use tsunagu_inbox::LiveEvent;
use tsunagu_store::conversations::Conversation;

use super::conn;
use super::conversation;
use super::list::Tab;
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Debug, Deserialize)]
pub struct AssignForm {
    /// A staff id, or empty to unassign; absent leaves the assignee.
    #[serde(default)]
    pub assignee: Option<String>,
    /// A team id, or empty for no team; absent leaves the team.
    #[serde(default)]
    pub team: Option<String>,
    /// The list tab to return to.
    #[serde(default)]
    pub view: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub id: String,
    pub name: String,
    pub current: bool,
}

/// The assignment line in the conversation header.
#[derive(Clone, Debug, Serialize)]
pub struct AssignmentView {
    pub action: String,
    pub assigned: bool,
    pub assignee_name: Option<String>,
    pub team_name: Option<String>,
    /// Assigned to the staff member looking at it.
    pub mine: bool,
    /// The viewer's staff id, for 自分が担当.
    pub me: String,
    /// May take, release or give the conversation (the Reply permission).
    pub can_change: bool,
    /// Everyone the conversation may be given to, with their availability.
    pub choices: Vec<Choice>,
    pub teams: Vec<Choice>,
}

pub async fn view(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
) -> Result<AssignmentView, PageError> {
    let mut conn = conn(state).await?;
    let clinic = staff.clinic.clinic_id();
    let lang = staff.lang;
    let people = availability::list(&mut conn, &clinic).await?;
    let all_teams = teams::list(&mut conn, &clinic).await?;
    let assignee_name = conv.assignee_id.as_ref().map(|id| {
        people
            .iter()
            .find(|p| &p.staff_id == id)
            .map(|p| p.display_name.clone())
            .unwrap_or_else(|| i18n::text(lang, "msg.author.staff"))
    });
    let team_name = conv.team_id.as_ref().and_then(|id| {
        all_teams
            .iter()
            .find(|t| &t.id == id)
            .map(|t| t.name.clone())
    });
    let can_change = staff.can(Permission::Reply);
    let (choices, team_choices) = if can_change {
        let choices = people
            .iter()
            .filter(|p| {
                p.role
                    .parse::<tsunagu_core::Role>()
                    .is_ok_and(|r| r.can(Permission::Reply))
            })
            .map(|p| Choice {
                current: conv.assignee_id.as_deref() == Some(p.staff_id.as_str()),
                id: p.staff_id.clone(),
                name: format!(
                    "{}（{}）",
                    p.display_name,
                    i18n::text(lang, &format!("availability.{}", p.availability().as_str()))
                ),
            })
            .collect();
        let team_choices = all_teams
            .iter()
            .map(|t| Choice {
                current: conv.team_id.as_deref() == Some(t.id.as_str()),
                id: t.id.clone(),
                name: t.name.clone(),
            })
            .collect();
        (choices, team_choices)
    } else {
        (Vec::new(), Vec::new())
    };
    Ok(AssignmentView {
        action: format!("/app/conversations/{}/assign", conv.id),
        assigned: conv.assignee_id.is_some(),
        assignee_name,
        team_name,
        mine: conv.assignee_id.as_deref() == Some(staff.staff_id.as_str()),
        me: staff.staff_id.to_string(),
        can_change,
        choices,
        teams: team_choices,
    })
}

pub async fn assign(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let view = Tab::parse(form.view.as_deref()).map(Tab::as_str);
    let target = Target {
        staff: field(&form.assignee),
        team: field(&form.team),
    };
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let by = By {
        actor: &actor,
        source_ip: source_ip.as_deref(),
    };
    match routing::assign(&state.db, &clinic, &conv.id, target, by, state.now_ms()).await? {
        Change::NotFound => return Err(PageError::not_found()),
        Change::Unchanged => {}
        Change::Changed => state.live.publish(LiveEvent {
            clinic_id: staff.clinic.id.clone(),
            conversation_id: conv.id.clone(),
            kind: "conversation.updated",
        }),
    }
    Ok(Redirect::to(&conversation::back_to(&conv.id, view)).into_response())
}

/// Absent → leave; empty → clear; else the id.
fn field(v: &Option<String>) -> Option<Option<&str>> {
    v.as_deref()
        .map(str::trim)
        .map(|s| (!s.is_empty()).then_some(s))
}
