//! `/api/v1/satisfaction`: the satisfaction survey (満足度アンケート). Its results (per month,
//! staff member and team: answered, response rate, average, distribution) for anyone who may
//! read figures; its settings read and replaced by administrators.
use axum::extract::{Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_automation::satisfaction::results::{self, Figures, Filter, Group};
use tsunagu_automation::satisfaction::settings::{self, Settings};
use tsunagu_core::{Code, Permission, Refusal};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{ApiJson, ErrorBody};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ResultsQuery {
    /// Only this clinic-local month of the resolve, `YYYY-MM`.
    pub month: Option<String>,
    /// Only conversations this team had when resolved.
    pub team_id: Option<String>,
    /// Only conversations this staff member had when resolved.
    pub staff_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct FiguresOut {
    /// Surveys sent.
    pub asked: i64,
    /// Surveys answered with a score.
    pub answered: i64,
    /// answered / asked (0–1); null when none was asked.
    pub response_rate: Option<f64>,
    /// Mean score 1–5; null when none answered.
    pub average: Option<f64>,
    /// How many answered 1, 2, 3, 4 and 5.
    #[schema(example = json!([0, 1, 2, 5, 9]))]
    pub distribution: Vec<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct GroupOut {
    /// The month (`YYYY-MM`), staff id or team id; null: nobody assigned / no team.
    pub key: Option<String>,
    /// The staff member's display name or the team's name.
    pub name: Option<String>,
    pub figures: FiguresOut,
}

#[derive(Serialize, ToSchema)]
pub struct SatisfactionResults {
    pub total: FiguresOut,
    /// Newest month first.
    pub by_month: Vec<GroupOut>,
    pub by_staff: Vec<GroupOut>,
    pub by_team: Vec<GroupOut>,
    /// Surveys not sent, by reason: `asked_recently` or the refusal's code
    /// (`consent_required`, `recipient_blocked`, `outside_reply_window`, …).
    #[schema(value_type = Object, example = json!({"consent_required": 2}))]
    pub skipped: std::collections::BTreeMap<String, i64>,
}

fn figures(f: Figures) -> FiguresOut {
    FiguresOut {
        asked: f.asked,
        answered: f.answered,
        response_rate: f.response_rate,
        average: f.average,
        distribution: f.distribution.to_vec(),
    }
}

fn groups(g: Vec<Group>) -> Vec<GroupOut> {
    g.into_iter()
        .map(|g| GroupOut {
            key: g.key,
            name: g.name,
            figures: figures(g.figures),
        })
        .collect()
}

/// A month filter that is not `YYYY-MM` is refused rather than read as "every month".
fn month(m: Option<String>) -> Result<Option<String>, ApiError> {
    let Some(m) = m.filter(|m| !m.is_empty()) else {
        return Ok(None);
    };
    match chrono::NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d") {
        Ok(_) if m.len() == 7 => Ok(Some(m)),
        _ => Err(Refusal::new(Code::InvalidRequest)
            .detail("month must be YYYY-MM")
            .into()),
    }
}

/// Satisfaction results.
///
/// Scope: `read_figures` (token scopes `read`, `admin`). Comments are not included: they are
/// what patients wrote and are read in the conversations.
#[utoipa::path(
    get,
    path = "/api/v1/satisfaction",
    tag = "satisfaction",
    params(ResultsQuery),
    responses(
        (status = 200, description = "The clinic's survey results", body = SatisfactionResults),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_figures`", body = ErrorBody),
        (status = 422, description = "`invalid_request`: month is not YYYY-MM", body = ErrorBody),
    )
)]
pub async fn results(
    State(state): State<AppState>,
    auth: ApiAuth,
    Query(q): Query<ResultsQuery>,
) -> Result<Json<SatisfactionResults>, ApiError> {
    auth.require(Permission::ReadFigures)?;
    let filter = Filter {
        month: month(q.month)?,
        team_id: q.team_id.filter(|t| !t.is_empty()),
        staff_id: q.staff_id.filter(|s| !s.is_empty()),
    };
    let mut conn = read_conn(&state).await?;
    let r = results::read(&mut conn, &auth.clinic, &filter).await?;
    Ok(Json(SatisfactionResults {
        total: figures(r.total),
        by_month: groups(r.by_month),
        by_staff: groups(r.by_staff),
        by_team: groups(r.by_team),
        skipped: r.skipped,
    }))
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct SatisfactionSettings {
    pub enabled: bool,
    /// Minutes after the resolve before the survey goes (0–10080).
    #[schema(example = 30)]
    pub delay_minutes: i64,
    /// 1–500 characters; the answers 不満 … 満足 (1–5) are shown as the channel's buttons.
    pub question: String,
    /// 1–500 characters, sent after the answer (after the comment when one is asked).
    pub thanks: String,
    /// Up to 500 characters; empty: no comment is asked.
    pub comment_prompt: String,
    /// A patient is asked at most once in this many days (0–365; 0: after every resolve).
    #[schema(example = 30)]
    pub min_days: i64,
    /// Channel kinds asked on: `line`, `whatsapp`, `messenger`, `sms`.
    #[schema(example = json!(["line", "whatsapp"]))]
    pub channels: Vec<String>,
}

fn settings_out(s: Settings) -> SatisfactionSettings {
    SatisfactionSettings {
        enabled: s.enabled,
        delay_minutes: s.delay_minutes,
        question: s.question,
        thanks: s.thanks,
        comment_prompt: s.comment_prompt,
        min_days: s.min_days,
        channels: s.channel_kinds,
    }
}

/// Read the satisfaction survey settings.
///
/// Scope: `administer` (token scope `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/satisfaction/settings",
    tag = "satisfaction",
    responses(
        (status = 200, description = "The settings (off until saved)", body = SatisfactionSettings),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
    )
)]
pub async fn get_settings(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<SatisfactionSettings>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut conn = read_conn(&state).await?;
    Ok(Json(settings_out(
        settings::load(&mut conn, &auth.clinic).await?,
    )))
}

/// Replace the satisfaction survey settings.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.satisfaction.settings.update`.
#[utoipa::path(
    put,
    path = "/api/v1/satisfaction/settings",
    tag = "satisfaction",
    request_body = SatisfactionSettings,
    responses(
        (status = 200, description = "As now saved", body = SatisfactionSettings),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 422, description = "`invalid_request`: the detail names the field", body = ErrorBody),
    )
)]
pub async fn put_settings(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<SatisfactionSettings>,
) -> Result<Json<SatisfactionSettings>, ApiError> {
    auth.require(Permission::Administer)?;
    let draft = Settings {
        enabled: body.enabled,
        delay_minutes: body.delay_minutes,
        question: body.question,
        thanks: body.thanks,
        comment_prompt: body.comment_prompt,
        min_days: body.min_days,
        channel_kinds: body.channels,
    };
    let s = draft.check().map_err(|why| {
        Refusal::new(Code::InvalidRequest)
            .detail(format!("invalid {}", why.key()))
            .arg("field", why.key())
    })?;
    let mut tx = state.db.begin().await?;
    settings::save(tx.conn(), &auth.clinic, &s, state.now_ms()).await?;
    let event = Event {
        action: "api.satisfaction.settings.update",
        subject_type: "clinic",
        subject_ids: &[auth.clinic.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, event).await?;
    tx.commit().await?;
    Ok(Json(settings_out(s)))
}
