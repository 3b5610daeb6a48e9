//! `/api/v1/automation/sequences`: step sequences (ステップ配信) — messages for one consent
//! purpose sent after a trigger, step by step — and the patients enrolled in them. Checked and
//! stored by `tsunagu_automation::sequences` as the settings page does; every step still goes
//! through the consent check and the outbox when it is due.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_automation::sequences::enrollments::{self, Listed as ListedEnrollment};
use tsunagu_automation::sequences::store::{self, Draft, Listed};
use tsunagu_automation::sequences::timing::Timing;
use tsunagu_automation::sequences::{SequenceStep, StopReason, Trigger};
use tsunagu_core::{Code, Permission, Refusal};
use tsunagu_privacy::consent::Purpose;
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_one, ApiAuth};
use super::extract::{page_limit, rfc3339, ApiJson, ApiQuery, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// What enrolls a patient.
#[derive(Serialize, Deserialize, ToSchema)]
pub struct TriggerIo {
    /// `friend_added` (LINE follow or unblock), `tag_added` or `field_set`.
    #[schema(example = "tag_added")]
    pub kind: String,
    /// `friend_added`: only on this channel (absent: any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<String>,
    /// `tag_added`: the tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// `field_set`: the custom field's id and the value that enrolls.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct StepIo {
    /// Minutes to wait (0 to a year) after enrolling, or after the previous step.
    #[schema(example = 1440)]
    pub delay_minutes: i64,
    #[serde(default)]
    pub after_previous: bool,
    /// Then send at this clinic-local minute of the day (0–1439, e.g. 600 = 10:00).
    #[serde(default)]
    pub send_at_minute: Option<i64>,
    /// Move to the next opening when it falls outside opening hours.
    #[serde(default)]
    pub open_hours_only: bool,
    /// 1–2000 characters.
    #[schema(example = "{{patient.name}}様、昨日はご来院ありがとうございました。")]
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
pub struct SequenceIn {
    /// 1–50 characters.
    #[schema(example = "初診後のフォロー")]
    pub name: String,
    /// The consent purpose its messages are sent under: `care`, `reminders`,
    /// `health_information`, `marketing`, `photo_publication`.
    #[schema(example = "care")]
    pub purpose: String,
    pub trigger: TriggerIo,
    /// Stop a patient's enrollment once they have this tag.
    pub goal_tag: Option<String>,
    /// Enroll a patient again after an earlier enrollment ended. Default false.
    #[serde(default)]
    pub reenroll: bool,
    /// Default true. Saving it off stops its active enrollments.
    pub enabled: Option<bool>,
    /// 1–20 steps, in order.
    pub steps: Vec<StepIo>,
}

#[derive(Deserialize, ToSchema)]
pub struct EnabledIn {
    /// Turning it off stops its active enrollments (`sequence_disabled`).
    pub enabled: bool,
}

#[derive(Serialize, ToSchema)]
pub struct SequenceOut {
    pub id: String,
    pub name: String,
    pub purpose: String,
    pub trigger: TriggerIo,
    pub goal_tag: Option<String>,
    pub reenroll: bool,
    pub enabled: bool,
    pub steps: Vec<StepIo>,
    /// Patients in it now, through all its steps, and stopped.
    pub active: i64,
    pub completed: i64,
    pub stopped: i64,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct SequenceList {
    /// Oldest first.
    pub items: Vec<SequenceOut>,
}

#[derive(Serialize, ToSchema)]
pub struct EnrollmentOut {
    pub id: String,
    pub patient_id: String,
    pub patient_name: Option<String>,
    pub channel_id: Option<String>,
    /// `active`, `completed` or `stopped`.
    pub state: String,
    /// `blocked`, `unreachable`, `consent_withdrawn`, `consent_required`, `goal`, `staff`,
    /// `sequence_disabled`.
    pub stop_reason: Option<String>,
    /// The step sent next (from 0).
    pub next_step: i64,
    pub due_at: Option<String>,
    pub enrolled_at: String,
    pub last_sent_at: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct EnrollmentList {
    /// Newest first.
    pub items: Vec<EnrollmentOut>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EnrollmentParams {
    /// 1–100, default 50.
    pub limit: Option<i64>,
}

fn out(l: Listed) -> SequenceOut {
    let s = l.sequence;
    let trigger = match s.trigger {
        Trigger::FriendAdded { channel_id } => TriggerIo {
            kind: "friend_added".into(),
            channel_id,
            tag: None,
            field_id: None,
            value: None,
        },
        Trigger::TagAdded { tag } => TriggerIo {
            kind: "tag_added".into(),
            channel_id: None,
            tag: Some(tag),
            field_id: None,
            value: None,
        },
        Trigger::FieldSet { field_id, value } => TriggerIo {
            kind: "field_set".into(),
            channel_id: None,
            tag: None,
            field_id: Some(field_id),
            value: Some(value),
        },
    };
    SequenceOut {
        id: s.id,
        name: s.name,
        purpose: s.purpose.code().into(),
        trigger,
        goal_tag: s.goal_tag,
        reenroll: s.reenroll,
        enabled: s.enabled,
        steps: s
            .steps
            .into_iter()
            .map(|st| StepIo {
                delay_minutes: st.timing.delay_minutes,
                after_previous: st.timing.after_previous,
                send_at_minute: st.timing.send_at_minute,
                open_hours_only: st.timing.open_hours_only,
                body: st.body,
            })
            .collect(),
        active: l.active,
        completed: l.completed,
        stopped: l.stopped,
        updated_at: rfc3339(s.updated_at),
    }
}

fn invalid(key: &str) -> Refusal {
    // No detail: the message is the catalogue's English with the page's words for `key`.
    Refusal::new(Code::InvalidSequence).arg_key("what", format!("drips.invalid.{key}"))
}

/// The body as a checked draft, its channel or field the clinic's own (else not found).
async fn draft(
    conn: &mut sqlx::AnyConnection,
    auth: &ApiAuth,
    b: SequenceIn,
) -> Result<Draft, ApiError> {
    let purpose = Purpose::parse(&b.purpose).ok_or_else(|| invalid("trigger"))?;
    let t = b.trigger;
    let trigger = match t.kind.as_str() {
        "friend_added" => Trigger::FriendAdded {
            channel_id: t.channel_id,
        },
        "tag_added" => Trigger::TagAdded {
            tag: t.tag.unwrap_or_default(),
        },
        "field_set" => Trigger::FieldSet {
            field_id: t.field_id.unwrap_or_default(),
            value: t.value.unwrap_or_default(),
        },
        _ => return Err(invalid("trigger").into()),
    };
    let steps = b
        .steps
        .into_iter()
        .map(|s| SequenceStep {
            timing: Timing {
                delay_minutes: s.delay_minutes,
                after_previous: s.after_previous,
                send_at_minute: s.send_at_minute,
                open_hours_only: s.open_hours_only,
            },
            body: s.body,
        })
        .collect();
    let d = Draft {
        name: b.name,
        purpose,
        trigger,
        goal_tag: b.goal_tag,
        reenroll: b.reenroll,
        enabled: b.enabled.unwrap_or(true),
        steps,
    }
    .check()
    .map_err(|e| invalid(e.key()))?;
    if !store::trigger_is_ours(conn, &auth.clinic, &d.trigger).await? {
        return Err(ApiError::not_found());
    }
    Ok(d)
}

async fn one(
    conn: &mut sqlx::AnyConnection,
    auth: &ApiAuth,
    id: &str,
) -> Result<SequenceOut, ApiError> {
    store::list(conn, &auth.clinic)
        .await?
        .into_iter()
        .find(|l| l.sequence.id == id)
        .map(out)
        .ok_or_else(ApiError::not_found)
}

const INVALID: &str = "`invalid_sequence` (the message says which part), `invalid_request`";

/// List the clinic's step sequences with how many patients are in each state.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sequences",
    tag = "automation",
    responses(
        (status = 200, description = "Every sequence of the clinic", body = SequenceList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<SequenceList>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    let items = store::list(&mut conn, &auth.clinic).await?;
    Ok(Json(SequenceList {
        items: items.into_iter().map(out).collect(),
    }))
}

/// Read one step sequence with its steps.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sequences/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Sequence id")),
    responses(
        (status = 200, description = "The sequence", body = SequenceOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
        (status = 404, description = "No such sequence in this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
) -> Result<Json<SequenceOut>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    Ok(Json(one(&mut conn, &auth, &id).await?))
}

/// Add a step sequence.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.sequence.create`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/sequences",
    tag = "automation",
    params(IdempotencyKey),
    request_body = SequenceIn,
    responses(
        (status = 201, description = "Stored", body = SequenceOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "The trigger's channel or field is not this clinic's", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<SequenceIn>,
) -> Result<(StatusCode, Json<SequenceOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let d = draft(tx.conn(), &auth, body).await?;
    let id = store::create(tx.conn(), &auth.clinic, &d, state.now_ms()).await?;
    let what = ("api.automation.sequence.create", "sequence");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    let seq = one(tx.conn(), &auth, &id).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(seq)))
}

/// Replace a step sequence (its steps too). Patients in it go on from where they are.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.sequence.update`.
#[utoipa::path(
    put,
    path = "/api/v1/automation/sequences/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Sequence id")),
    request_body = SequenceIn,
    responses(
        (status = 200, description = "As now saved", body = SequenceOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such sequence (or trigger channel or field) in this clinic", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<SequenceIn>,
) -> Result<Json<SequenceOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if store::get(tx.conn(), &auth.clinic, &id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    let d = draft(tx.conn(), &auth, body).await?;
    if !store::update(tx.conn(), &auth.clinic, &id, &d, state.now_ms()).await? {
        return Err(ApiError::not_found());
    }
    let what = ("api.automation.sequence.update", "sequence");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    let seq = one(tx.conn(), &auth, &id).await?;
    tx.commit().await?;
    Ok(Json(seq))
}

/// Turn a step sequence on or off.
///
/// Scope: `administer` (token scope `admin`). Audited as `sequence.enable` or
/// `sequence.disable` (as on the settings page).
#[utoipa::path(
    patch,
    path = "/api/v1/automation/sequences/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Sequence id")),
    request_body = EnabledIn,
    responses(
        (status = 200, description = "As now saved", body = SequenceOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such sequence in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_request`", body = ErrorBody),
    )
)]
pub async fn set_enabled(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<EnabledIn>,
) -> Result<Json<SequenceOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let on = body.enabled;
    if !store::set_enabled(tx.conn(), &auth.clinic, &id, on, state.now_ms()).await? {
        return Err(ApiError::not_found());
    }
    let action = if on {
        "sequence.enable"
    } else {
        "sequence.disable"
    };
    audit_one(&mut tx, &state, &auth, &ip, action, ("sequence", &id)).await?;
    let seq = one(tx.conn(), &auth, &id).await?;
    tx.commit().await?;
    Ok(Json(seq))
}

/// Remove a step sequence with its steps and enrollments; steps not yet sent are not sent.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.sequence.delete`.
#[utoipa::path(
    delete,
    path = "/api/v1/automation/sequences/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Sequence id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such sequence in this clinic", body = ErrorBody),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<StatusCode, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !store::delete(tx.conn(), &auth.clinic, &id).await? {
        return Err(ApiError::not_found());
    }
    let what = ("api.automation.sequence.delete", "sequence");
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &id)).await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}

fn enrollment(l: ListedEnrollment) -> EnrollmentOut {
    let e = l.enrollment;
    EnrollmentOut {
        id: e.id,
        patient_id: e.patient_id,
        patient_name: l.patient_name,
        channel_id: e.channel_id,
        state: e.state,
        stop_reason: e.stop_reason,
        next_step: e.next_step,
        due_at: e.due_at.map(rfc3339),
        enrolled_at: rfc3339(e.enrolled_at),
        last_sent_at: e.last_sent_at.map(rfc3339),
    }
}

/// List the patients enrolled in a sequence, newest first.
///
/// Scope: `read_patients` (token scopes `read`, `reply`, `broadcast`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/sequences/{id}/enrollments",
    tag = "automation",
    params(("id" = String, Path, description = "Sequence id"), EnrollmentParams),
    responses(
        (status = 200, description = "The sequence's enrollments", body = EnrollmentList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 404, description = "No such sequence in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_request` (limit)", body = ErrorBody),
    )
)]
pub async fn enrollments(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
    ApiQuery(q): ApiQuery<EnrollmentParams>,
) -> Result<Json<EnrollmentList>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let limit = page_limit(q.limit)?;
    let mut conn = read_conn(&state).await?;
    if store::get(&mut conn, &auth.clinic, &id).await?.is_none() {
        return Err(ApiError::not_found());
    }
    let rows = enrollments::list(&mut conn, &auth.clinic, &id, limit).await?;
    Ok(Json(EnrollmentList {
        items: rows.into_iter().map(enrollment).collect(),
    }))
}

/// Stop one patient's enrollment (`staff`): the step waiting for them is not sent.
///
/// Scope: `administer` (token scope `admin`). Audited as
/// `api.automation.sequence.enrollment_stop`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/sequences/{id}/enrollments/{enrollment_id}/stop",
    tag = "automation",
    params(
        ("id" = String, Path, description = "Sequence id"),
        ("enrollment_id" = String, Path, description = "Enrollment id"),
        IdempotencyKey,
    ),
    responses(
        (status = 200, description = "Stopped", body = EnrollmentOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such enrollment of this sequence in this clinic", body = ErrorBody),
        (status = 409, description = "`enrollment_not_active`: it already completed or stopped", body = ErrorBody),
    )
)]
pub async fn stop(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    Path((id, eid)): Path<(String, String)>,
) -> Result<Json<EnrollmentOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let found = enrollments::get(tx.conn(), &auth.clinic, &eid).await?;
    if found.is_none_or(|e| e.sequence_id != id) {
        return Err(ApiError::not_found());
    }
    let now = state.now_ms();
    if !enrollments::stop(tx.conn(), &auth.clinic, &eid, StopReason::Staff, now).await? {
        return Err(Refusal::new(Code::EnrollmentNotActive).into());
    }
    let what = (
        "api.automation.sequence.enrollment_stop",
        "sequence_enrollment",
    );
    audit_one(&mut tx, &state, &auth, &ip, what.0, (what.1, &eid)).await?;
    let row = enrollments::list(tx.conn(), &auth.clinic, &id, i64::MAX)
        .await?
        .into_iter()
        .find(|l| l.enrollment.id == eid)
        .ok_or_else(ApiError::not_found)?;
    tx.commit().await?;
    Ok(Json(enrollment(row)))
}
