//! `/api/v1/automation/keyword-rules`: keyword auto-replies (キーワード自動応答). Administrators
//! write them; anyone who may read messages lists them. A rule answers a patient's text that
//! matches one of its keywords (width, kana, case and surrounding punctuation ignored), on its
//! channel (or all), at its hours, unless a person is handling the conversation.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Deserializer, Serialize};
use tsunagu_automation::rules::{self, Draft, KeywordRule};
use tsunagu_core::Permission;
use utoipa::ToSchema;

use super::auth::{audit_one, ApiAuth};
use super::extract::{rfc3339, ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// What this API's changes are audited as.
const SUBJECT: &str = "keyword_rule";

#[derive(Deserialize, ToSchema)]
pub struct KeywordRuleIn {
    /// 1–50 characters; staff see it in the line the answer leaves (「自動応答『駐車場』が返信しました」).
    #[schema(example = "駐車場")]
    pub name: String,
    /// 1–20 spellings (patterns when `match_mode` is `pattern`), each up to 50 characters
    /// (patterns 200).
    #[schema(example = json!(["駐車場", "ちゅうしゃじょう"]))]
    pub keywords: Vec<String>,
    /// `exact` (the whole message), `contains`, or `pattern` (a regular expression run on the
    /// folded text, case-insensitive, size-limited).
    #[schema(example = "exact")]
    pub match_mode: String,
    /// 1–5000 characters (may be empty when `flow_id` is given), with the canned responses' variables (`{{patient.name}}`,
    /// `{{clinic.name}}`, `{{clinic.phone}}`).
    #[schema(example = "{{patient.name}}様、駐車場は建物の裏に5台分ございます。")]
    #[serde(default)]
    pub reply_text: String,
    /// Only on this channel; absent or null: every channel.
    pub channel_id: Option<String>,
    /// `always` (default), `open` (during opening hours) or `closed` (outside them), by the
    /// clinic calendar.
    pub active_hours: Option<String>,
    /// Hand the conversation to this team after answering.
    pub team_id: Option<String>,
    /// Start this flow after the reply (フローを開始); with a flow the reply may be empty.
    pub flow_id: Option<String>,
    /// Default true.
    pub enabled: Option<bool>,
}

/// Fields left out keep their value; `channel_id`/`team_id` null clears them.
#[derive(Deserialize, ToSchema)]
pub struct KeywordRulePatch {
    pub name: Option<String>,
    pub keywords: Option<Vec<String>>,
    pub match_mode: Option<String>,
    pub reply_text: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub channel_id: Option<Option<String>>,
    pub active_hours: Option<String>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub team_id: Option<Option<String>>,
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<String>)]
    pub flow_id: Option<Option<String>>,
    pub enabled: Option<bool>,
}

fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

#[derive(Serialize, ToSchema)]
pub struct KeywordRuleOut {
    pub id: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub match_mode: String,
    pub reply_text: String,
    pub channel_id: Option<String>,
    pub active_hours: String,
    pub team_id: Option<String>,
    pub flow_id: Option<String>,
    pub enabled: bool,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct KeywordRuleList {
    /// In the order they are tried (oldest first).
    pub items: Vec<KeywordRuleOut>,
}

fn out(r: KeywordRule) -> KeywordRuleOut {
    KeywordRuleOut {
        id: r.id,
        name: r.name,
        keywords: r.keywords,
        match_mode: r.match_mode.as_str().to_string(),
        reply_text: r.reply_text,
        channel_id: r.channel_id,
        active_hours: r.active_hours.as_str().to_string(),
        team_id: r.team_id,
        flow_id: r.flow_id,
        enabled: r.enabled,
        created_at: rfc3339(r.created_at),
        updated_at: rfc3339(r.updated_at),
    }
}

const INVALID: &str = "`invalid_keyword_rule_name`, `keyword_rule_keywords_required`, `invalid_keyword_pattern`, `invalid_automation_text`, `unknown_canned_variable`, `invalid_request`";

/// List the clinic's keyword rules.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/keyword-rules",
    tag = "automation",
    responses(
        (status = 200, description = "Every keyword rule of the clinic, in the order tried", body = KeywordRuleList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<KeywordRuleList>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    let rows = rules::list(&mut conn, &auth.clinic).await?;
    Ok(Json(KeywordRuleList {
        items: rows.into_iter().map(out).collect(),
    }))
}

/// Read one keyword rule.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/keyword-rules/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Keyword rule id")),
    responses(
        (status = 200, description = "The rule", body = KeywordRuleOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
        (status = 404, description = "No such keyword rule in this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
) -> Result<Json<KeywordRuleOut>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    let rule = rules::get(&mut conn, &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(out(rule)))
}

/// Add a keyword rule.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rule.create`.
#[utoipa::path(
    post,
    path = "/api/v1/automation/keyword-rules",
    tag = "automation",
    params(IdempotencyKey),
    request_body = KeywordRuleIn,
    responses(
        (status = 201, description = "Stored", body = KeywordRuleOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "The channel or team is not this clinic's", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<KeywordRuleIn>,
) -> Result<(StatusCode, Json<KeywordRuleOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let draft = Draft {
        name: body.name,
        keywords: body.keywords,
        match_mode: body.match_mode,
        reply_text: body.reply_text,
        channel_id: body.channel_id,
        active_hours: body.active_hours.unwrap_or_else(|| "always".into()),
        team_id: body.team_id,
        flow_id: body.flow_id,
        enabled: body.enabled.unwrap_or(true),
    };
    let mut tx = state.db.begin().await?;
    let row = rules::create(tx.conn(), &auth.clinic, &draft, state.now_ms()).await??;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.rule.create",
        (SUBJECT, &row.id),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(out(row))))
}

/// Change a keyword rule (turn it on or off with `enabled`).
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.rule.update`.
#[utoipa::path(
    patch,
    path = "/api/v1/automation/keyword-rules/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Keyword rule id")),
    request_body = KeywordRulePatch,
    responses(
        (status = 200, description = "As now saved", body = KeywordRuleOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such keyword rule, channel or team in this clinic", body = ErrorBody),
        (status = 422, description = INVALID, body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<KeywordRulePatch>,
) -> Result<Json<KeywordRuleOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    let now = rules::get(tx.conn(), &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let draft = Draft {
        name: body.name.unwrap_or(now.name),
        keywords: body.keywords.unwrap_or(now.keywords),
        match_mode: body
            .match_mode
            .unwrap_or_else(|| now.match_mode.as_str().into()),
        reply_text: body.reply_text.unwrap_or(now.reply_text),
        channel_id: body.channel_id.unwrap_or(now.channel_id),
        active_hours: body
            .active_hours
            .unwrap_or_else(|| now.active_hours.as_str().into()),
        team_id: body.team_id.unwrap_or(now.team_id),
        flow_id: body.flow_id.unwrap_or(now.flow_id),
        enabled: body.enabled.unwrap_or(now.enabled),
    };
    let row = rules::update(tx.conn(), &auth.clinic, &id, &draft, state.now_ms()).await??;
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.rule.update",
        (SUBJECT, &row.id),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(out(row)))
}

/// Remove a keyword rule.
///
/// Scope: `administer` (token scope `admin`). Answers already sent stay. Audited as
/// `api.automation.rule.delete`.
#[utoipa::path(
    delete,
    path = "/api/v1/automation/keyword-rules/{id}",
    tag = "automation",
    params(("id" = String, Path, description = "Keyword rule id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such keyword rule in this clinic", body = ErrorBody),
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
    if !rules::delete(tx.conn(), &auth.clinic, &id).await? {
        return Err(ApiError::not_found());
    }
    audit_one(
        &mut tx,
        &state,
        &auth,
        &ip,
        "api.automation.rule.delete",
        (SUBJECT, &id),
    )
    .await?;
    tx.commit().await?;
    Ok(StatusCode::NO_CONTENT)
}
