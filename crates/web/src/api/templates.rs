//! `/api/v1/channels/{id}/templates`: a WhatsApp channel's message templates. Administrators
//! write them and record Meta's review state; anyone who may reply reads them (to send one).
//! Also the one place a template becomes outgoing content, shared by the API and the inbox.
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, ClinicId, Code, Permission, Refusal};
use tsunagu_inbox::reply::Outgoing;
use tsunagu_store::channels::{self, Channel};
use tsunagu_store::templates::{self, Invalid, NewTemplate, StatusUpdate, Template};
use utoipa::ToSchema;

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{rfc3339, ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
pub struct CreateTemplate {
    /// Lowercase letters, digits and underscores, up to 512 characters.
    #[schema(example = "appointment_reminder")]
    pub name: String,
    /// Meta's language code.
    #[schema(example = "ja")]
    pub language: String,
    /// `MARKETING`, `UTILITY` or `AUTHENTICATION`.
    #[schema(example = "UTILITY")]
    pub category: String,
    /// Up to 1024 characters; variables are `{{1}}` … `{{n}}` without gaps.
    #[schema(example = "{{1}}様、{{2}}にご予約があります。")]
    pub body: String,
}

#[derive(Deserialize, ToSchema)]
pub struct PatchTemplate {
    /// `draft`, `pending`, `approved`, `rejected`, `paused` or `disabled`.
    #[schema(example = "approved")]
    pub status: String,
    /// Why Meta rejected, paused or disabled it; cleared when absent.
    pub reason: Option<String>,
    /// Meta's template id, once submitted; kept when absent.
    pub provider_template_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateOut {
    pub id: String,
    pub channel_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
    /// How many values a send needs (`params`).
    pub variables: i64,
    /// Only `approved` templates can be sent.
    pub status: String,
    pub provider_template_id: Option<String>,
    pub status_reason: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct TemplateList {
    pub items: Vec<TemplateOut>,
}

fn out(t: Template) -> TemplateOut {
    TemplateOut {
        id: t.id,
        channel_id: t.channel_id,
        name: t.name,
        language: t.language,
        category: t.category,
        body: t.body,
        variables: t.variables,
        status: t.status,
        provider_template_id: t.provider_template_id,
        status_reason: t.status_reason,
        created_at: rfc3339(t.created_at),
        updated_at: rfc3339(t.updated_at),
    }
}

/// A refused template or set of values as the one refusal type (`template_exists` is 409 by its
/// code). Every variant is named, so a new one cannot go unmapped.
pub(crate) fn refusal(e: &Invalid) -> Refusal {
    let code = match e {
        Invalid::Name => Code::InvalidTemplateName,
        Invalid::Language => Code::InvalidTemplateLanguage,
        Invalid::Category => Code::InvalidTemplateCategory,
        Invalid::Body => Code::InvalidTemplateBody,
        Invalid::Placeholders => Code::InvalidTemplatePlaceholders,
        Invalid::Exists => Code::TemplateExists,
        Invalid::Status => Code::InvalidTemplateStatus,
        Invalid::NotApproved => Code::TemplateNotApproved,
        Invalid::ParamCount { .. } => Code::TemplateParamCount,
        Invalid::Param => Code::InvalidTemplateParam,
    };
    Refusal::new(code).detail(e.to_string())
}

fn refused(e: &Invalid) -> ApiError {
    refusal(e).into()
}

/// 422 `templates_unsupported`: a channel other than WhatsApp.
pub(super) fn templates_unsupported() -> ApiError {
    Refusal::new(Code::TemplatesUnsupported)
        .detail("Message templates exist only on WhatsApp channels.")
        .into()
}

/// The clinic's channel named in the path, or 404.
pub(super) async fn channel(
    state: &AppState,
    clinic: &ClinicId,
    id: &str,
) -> Result<Channel, ApiError> {
    let id = ChannelId::parse(id).map_err(|_| ApiError::not_found())?;
    let mut conn = read_conn(state).await?;
    channels::by_id(&mut conn, clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// A template ready to queue: approved, on the conversation's channel, one value per variable.
/// Shared by the API and the inbox, so both refuse with `template_invalid` the same way.
pub(crate) fn outgoing(
    t: &Template,
    channel_id: &str,
    params: Vec<String>,
) -> Result<Outgoing, Refusal> {
    let invalid = |why: String| Refusal::new(Code::TemplateInvalid).detail(why);
    if t.channel_id != channel_id {
        return Err(invalid("the template belongs to another channel".into()));
    }
    let params: Vec<String> = params.into_iter().map(|p| p.trim().to_string()).collect();
    templates::check_send(t, &params).map_err(|e| invalid(e.to_string()))?;
    Ok(Outgoing {
        kind: "template".into(),
        body: Some(templates::render(&t.body, &params)),
        payload: json!({"type": "template", "name": t.name, "language": t.language, "params": params}),
    })
}

/// List a channel's message templates.
///
/// Scope: `reply` (token scopes `reply`, `admin`): integrations that send templates read their
/// ids here. Channels other than WhatsApp have none.
#[utoipa::path(
    get,
    path = "/api/v1/channels/{id}/templates",
    tag = "channels",
    params(("id" = String, Path, description = "Channel id")),
    responses(
        (status = 200, description = "The channel's templates by name and language", body = TemplateList),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such channel in this clinic", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    IdPath(id): IdPath,
) -> Result<Json<TemplateList>, ApiError> {
    auth.require(Permission::Reply)?;
    let ch = channel(&state, &auth.clinic, &id).await?;
    let mut conn = read_conn(&state).await?;
    let rows = templates::list_by_channel(&mut conn, &auth.clinic, &ch.channel_id()).await?;
    Ok(Json(TemplateList {
        items: rows.into_iter().map(out).collect(),
    }))
}

/// Add a message template to a WhatsApp channel.
///
/// Scope: `administer` (token scope `admin`). Stored as `draft`; submit it to Meta and record
/// the review state with `PATCH`. Audited as `api.template.create`.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{id}/templates",
    tag = "channels",
    params(("id" = String, Path, description = "Channel id"), IdempotencyKey),
    request_body = CreateTemplate,
    responses(
        (status = 201, description = "Stored as a draft", body = TemplateOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such channel in this clinic", body = ErrorBody),
        (status = 409, description = "`template_exists`: same name and language on this channel", body = ErrorBody),
        (status = 422, description = "`templates_unsupported` (not a WhatsApp channel), `invalid_template_name`, `invalid_template_language`, `invalid_template_category`, `invalid_template_body`, `invalid_template_placeholders`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<CreateTemplate>,
) -> Result<(StatusCode, Json<TemplateOut>), ApiError> {
    auth.require(Permission::Administer)?;
    let ch = channel(&state, &auth.clinic, &id).await?;
    if !ChannelKind::parse(&ch.kind).is_some_and(|k| k.rules().templates) {
        return Err(templates_unsupported());
    }
    let channel_id = ch.channel_id();
    let new = NewTemplate {
        clinic_id: &auth.clinic,
        channel_id: &channel_id,
        name: body.name.trim(),
        language: body.language.trim(),
        category: body.category.trim(),
        body: &body.body,
    };
    let mut tx = state.db.begin().await?;
    let row = templates::create(tx.conn(), new, state.now_ms())
        .await?
        .map_err(|e| refused(&e))?;
    let event = Event {
        action: "api.template.create",
        subject_type: "message_template",
        subject_ids: &[row.id.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, event).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(out(row))))
}

/// Record a template's review state at Meta.
///
/// Scope: `administer` (token scope `admin`). For an administrator or an integration that
/// follows Meta's `message_template_status_update` webhooks. Audited as `api.template.update`.
#[utoipa::path(
    patch,
    path = "/api/v1/channels/{id}/templates/{template_id}",
    tag = "channels",
    params(
        ("id" = String, Path, description = "Channel id"),
        ("template_id" = String, Path, description = "Template id"),
    ),
    request_body = PatchTemplate,
    responses(
        (status = 200, description = "The template as now recorded", body = TemplateOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such channel or template in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_template_status`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    path: Result<Path<(String, String)>, PathRejection>,
    ApiJson(body): ApiJson<PatchTemplate>,
) -> Result<Json<TemplateOut>, ApiError> {
    auth.require(Permission::Administer)?;
    let Path((id, template_id)) = path.map_err(|_| ApiError::not_found())?;
    let ch = channel(&state, &auth.clinic, &id).await?;
    let mut tx = state.db.begin().await?;
    let existing = templates::by_id(tx.conn(), &auth.clinic, &template_id).await?;
    if existing.is_none_or(|t| t.channel_id != ch.id) {
        return Err(ApiError::not_found());
    }
    let update = StatusUpdate {
        status: body.status.trim(),
        provider_template_id: body.provider_template_id.as_deref().map(str::trim),
        reason: body.reason.as_deref(),
    };
    let row = templates::set_status(
        tx.conn(),
        &auth.clinic,
        &template_id,
        update,
        state.now_ms(),
    )
    .await?
    .map_err(|e| refused(&e))?
    .ok_or_else(ApiError::not_found)?;
    let event = Event {
        action: "api.template.update",
        subject_type: "message_template",
        subject_ids: &[row.id.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, event).await?;
    tx.commit().await?;
    Ok(Json(out(row)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_template_refusal_keeps_the_store_s_code() {
        let all = [
            Invalid::Name,
            Invalid::Language,
            Invalid::Category,
            Invalid::Body,
            Invalid::Placeholders,
            Invalid::Exists,
            Invalid::Status,
            Invalid::NotApproved,
            Invalid::ParamCount {
                expected: 2,
                given: 1,
            },
            Invalid::Param,
        ];
        for e in all {
            assert_eq!(refusal(&e).code.as_str(), e.code(), "{e:?}");
        }
        assert_eq!(refused(&Invalid::Exists).status, StatusCode::CONFLICT);
    }
}
