//! Routing over the API: the clinic's teams with their members' availability and load, every
//! staff member's availability, and giving a conversation to a staff member and/or a team.
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Deserializer, Serialize};
use tsunagu_core::Permission;
use tsunagu_inbox::routing::assign::{By, Change, Target};
use tsunagu_inbox::routing::availability::{self, Presence};
use tsunagu_inbox::routing::{self, teams};
use tsunagu_inbox::LiveEvent;
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::extract::{ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Serialize, ToSchema)]
pub struct StaffAvailability {
    pub staff_id: String,
    pub display_name: String,
    /// `online`, `away` or `offline`.
    pub availability: String,
    /// Open conversations that automatic assignment gives this person at most.
    pub capacity: i64,
    /// Open conversations assigned now.
    pub open_assigned: i64,
}

#[derive(Serialize, ToSchema)]
pub struct TeamOut {
    pub id: String,
    pub name: String,
    /// `off`, `round_robin` or `least_busy`.
    pub assign_mode: String,
    pub members: Vec<StaffAvailability>,
}

#[derive(Serialize, ToSchema)]
pub struct TeamList {
    pub items: Vec<TeamOut>,
}

#[derive(Serialize, ToSchema)]
pub struct AvailabilityList {
    pub items: Vec<StaffAvailability>,
}

/// Absent: leave as is; `null`: clear; an id: set.
#[derive(Deserialize, ToSchema)]
pub struct AssignmentRequest {
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub staff_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub team_id: Option<Option<String>>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
pub struct AssignmentOut {
    pub conversation_id: String,
    pub assignee_id: Option<String>,
    pub team_id: Option<String>,
    /// False when it was already so (nothing written).
    pub changed: bool,
}

fn presence_out(p: Presence) -> StaffAvailability {
    StaffAvailability {
        availability: p.availability().as_str().to_string(),
        staff_id: p.staff_id,
        display_name: p.display_name,
        capacity: p.capacity,
        open_assigned: p.open_assigned,
    }
}

/// List the clinic's teams with their members.
///
/// Scope: `read_patients` (token scopes `read`, `reply`, `broadcast`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/teams",
    tag = "conversations",
    responses(
        (status = 200, description = "The clinic's teams", body = TeamList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
    )
)]
pub async fn list_teams(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<TeamList>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let mut conn = read_conn(&state).await?;
    let all = teams::list(&mut conn, &auth.clinic).await?;
    let members = teams::members(&mut conn, &auth.clinic).await?;
    let staff = availability::list(&mut conn, &auth.clinic).await?;
    let items = all
        .into_iter()
        .map(|t| TeamOut {
            members: members
                .iter()
                .filter(|m| m.team_id == t.id)
                .filter_map(|m| staff.iter().find(|p| p.staff_id == m.staff_id))
                .cloned()
                .map(presence_out)
                .collect(),
            assign_mode: t.mode().as_str().to_string(),
            id: t.id,
            name: t.name,
        })
        .collect();
    Ok(Json(TeamList { items }))
}

/// Every staff member's availability, capacity and open load.
///
/// Scope: `read_patients` (token scopes `read`, `reply`, `broadcast`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/availability",
    tag = "conversations",
    responses(
        (status = 200, description = "The clinic's staff", body = AvailabilityList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
    )
)]
pub async fn list_availability(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<AvailabilityList>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let mut conn = read_conn(&state).await?;
    let items = availability::list(&mut conn, &auth.clinic)
        .await?
        .into_iter()
        .map(presence_out)
        .collect();
    Ok(Json(AvailabilityList { items }))
}

/// Give a conversation to a staff member and/or a team, or take it back.
///
/// Scope: `reply` (token scopes `reply`, `admin`). `staff_id`/`team_id` absent: unchanged;
/// `null`: cleared. The staff member must be able to reply in this clinic. Each change adds a
/// line to the conversation and is audited as `conversation.assign`.
#[utoipa::path(
    post,
    path = "/api/v1/conversations/{id}/assignment",
    tag = "conversations",
    params(("id" = String, Path, description = "Conversation id"), IdempotencyKey),
    request_body = AssignmentRequest,
    responses(
        (status = 200, description = "Assigned as asked", body = AssignmentOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such conversation, staff member or team in this clinic", body = ErrorBody),
    )
)]
pub async fn assign(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<AssignmentRequest>,
) -> Result<Json<AssignmentOut>, ApiError> {
    auth.require(Permission::Reply)?;
    let target = Target {
        staff: body.staff_id.as_ref().map(|s| s.as_deref()),
        team: body.team_id.as_ref().map(|t| t.as_deref()),
    };
    let source_ip = ip.as_string();
    let by = By {
        actor: &auth.actor,
        source_ip: source_ip.as_deref(),
    };
    let change = routing::assign(&state.db, &auth.clinic, &id, target, by, state.now_ms()).await?;
    if change == Change::NotFound {
        return Err(ApiError::not_found());
    }
    if change == Change::Changed {
        state.live.publish(LiveEvent {
            clinic_id: auth.clinic.to_string(),
            conversation_id: id.clone(),
            kind: "conversation.updated",
        });
    }
    let mut conn = read_conn(&state).await?;
    let now = routing::assign::current(&mut conn, &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(AssignmentOut {
        conversation_id: id,
        assignee_id: now.0,
        team_id: now.1,
        changed: change == Change::Changed,
    }))
}
