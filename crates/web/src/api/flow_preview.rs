//! `POST /api/v1/automation/flows/{id}/preview`: a flow's draft played with the caller's
//! answers by `flows::preview::play`, the replay the builder's preview uses; nothing is stored
//! or sent. Each action comes back as data (the page words them for staff instead).
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_automation::flows::{preview as replay, store, Action, Say};
use tsunagu_core::Permission;
use utoipa::ToSchema;

use super::auth::ApiAuth;
use super::extract::{ApiJson, ErrorBody, IdPath};
use super::flows::{problems, FlowProblem};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
pub struct PreviewIn {
    /// The patient's answers so far, in order (at most 100 are played).
    #[serde(default)]
    #[schema(example = json!(["発熱", "3日前から"]))]
    pub answers: Vec<String>,
}

/// What the flow did in one turn. `type`: `say` (text, options), `tag`, `set_field` (field,
/// value), `set_priority`, `assign_team`, `webhook` (completed), `hand_over`.
#[derive(Serialize, ToSchema)]
pub struct PreviewAction {
    #[serde(rename = "type")]
    pub kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completed: Option<bool>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewTurn {
    /// The answer this turn replied to (null: the start).
    pub answer: Option<String>,
    pub actions: Vec<PreviewAction>,
}

#[derive(Serialize, ToSchema)]
pub struct PreviewOut {
    pub turns: Vec<PreviewTurn>,
    /// `running`, `completed`, `handed_over` (null when the draft has problems).
    pub state: Option<&'static str>,
    /// The draft's problems; with any, nothing is played.
    pub problems: Vec<FlowProblem>,
}

fn action(a: &Action) -> PreviewAction {
    let mut p = PreviewAction {
        kind: "",
        text: None,
        options: Vec::new(),
        field: None,
        value: None,
        completed: None,
    };
    match a {
        Action::Say(Say::Text { text }) => (p.kind, p.text) = ("say", Some(text.clone())),
        Action::Say(Say::Choice { text, options }) => {
            (p.kind, p.text, p.options) = ("say", Some(text.clone()), options.clone())
        }
        Action::Tag(t) => (p.kind, p.value) = ("tag", Some(t.clone())),
        Action::SetField { field, value } => {
            (p.kind, p.field, p.value) = ("set_field", Some(field.clone()), Some(value.clone()))
        }
        Action::SetPriority(v) => (p.kind, p.value) = ("set_priority", Some(v.clone())),
        Action::AssignTeam(t) => (p.kind, p.value) = ("assign_team", Some(t.clone())),
        // The address is not echoed: only that the flow would post.
        Action::Webhook { completed, .. } => (p.kind, p.completed) = ("webhook", Some(*completed)),
        Action::HandOver => p.kind = "hand_over",
    }
    p
}

/// Play the draft with the given answers, as the builder's preview does: nothing is stored or
/// sent.
///
/// Scope: `reply` (token scopes `reply`, `admin`).
#[utoipa::path(
    post,
    path = "/api/v1/automation/flows/{id}/preview",
    tag = "automation",
    params(("id" = String, Path, description = "Flow id"), IdempotencyKey),
    request_body = PreviewIn,
    responses(
        (status = 200, description = "What the patient would see, turn by turn", body = PreviewOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such flow in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_request`", body = ErrorBody),
    )
)]
pub async fn preview(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<PreviewIn>,
) -> Result<Json<PreviewOut>, ApiError> {
    auth.require(Permission::Reply)?;
    let mut conn = read_conn(&state).await?;
    let flow = store::get(&mut conn, &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let tz = super::clinic_zone(&mut conn, &auth.clinic).await?;
    drop(conn);
    let def = flow.draft();
    let found = def.check();
    if !found.is_empty() {
        return Ok(Json(PreviewOut {
            turns: Vec::new(),
            state: None,
            problems: problems(&found),
        }));
    }
    let today = tsunagu_core::clock::from_ms(state.now_ms())
        .with_timezone(&tz)
        .date_naive();
    let played = replay::play(&def, &body.answers, today);
    Ok(Json(PreviewOut {
        turns: played
            .turns
            .iter()
            .map(|t| PreviewTurn {
                answer: t.answer.clone(),
                actions: t.actions.iter().map(action).collect(),
            })
            .collect(),
        state: Some(played.state.as_str()),
        problems: Vec::new(),
    }))
}
