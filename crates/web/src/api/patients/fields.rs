//! `GET/POST /api/v1/custom-fields`: the fields a clinic adds to its patient records.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_contacts::fields::{self, CustomField, NewField};
use tsunagu_core::{Code, Permission};
use utoipa::ToSchema;

use super::{InvalidBody, PatientApiError};
use crate::api::auth::{audit_change, ApiAuth, Event};
use crate::api::extract::{ApiJson, ErrorBody};
use crate::api::idempotent::IdempotencyKey;
use crate::api::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Serialize, ToSchema)]
pub struct CustomFieldOut {
    pub id: String,
    /// `blood_type`: the key in `custom_fields` of a record and a CSV header.
    pub key: String,
    pub label_ja: String,
    pub label_en: String,
    /// `text`, `number`, `date` or `choice`.
    pub kind: String,
    pub choices: Vec<String>,
    pub required: bool,
    pub position: i64,
}

#[derive(Serialize, ToSchema)]
pub struct CustomFieldPage {
    pub items: Vec<CustomFieldOut>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCustomField {
    /// a–z, 0–9 and `_`, starting with a letter; not a record field name.
    #[schema(example = "blood_type")]
    pub key: String,
    #[schema(example = "血液型")]
    pub label_ja: String,
    /// Defaults to `label_ja`.
    pub label_en: Option<String>,
    /// `text`, `number`, `date` or `choice`.
    #[schema(example = "choice")]
    pub kind: String,
    /// The answers of a `choice` field.
    #[serde(default)]
    pub choices: Vec<String>,
    #[serde(default)]
    pub required: bool,
    /// Order on the record page; after the last when omitted.
    pub position: Option<i64>,
}

fn field_out(f: CustomField) -> CustomFieldOut {
    CustomFieldOut {
        choices: f.choice_list(),
        required: f.is_required(),
        id: f.id,
        key: f.key,
        label_ja: f.label_ja,
        label_en: f.label_en,
        kind: f.kind,
        position: f.position,
    }
}

/// List the clinic's custom fields.
///
/// Scope: `read_patients`.
#[utoipa::path(
    get,
    path = "/api/v1/custom-fields",
    tag = "patients",
    responses(
        (status = 200, description = "The fields in display order", body = CustomFieldPage),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
    )
)]
pub async fn list_fields(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<CustomFieldPage>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let mut conn = read_conn(&state).await?;
    let items = fields::list(&mut conn, &auth.clinic)
        .await?
        .into_iter()
        .map(field_out)
        .collect();
    Ok(Json(CustomFieldPage { items }))
}

/// Define a custom field.
///
/// Scope: `administer`. Refused definitions come back as 422 `invalid_custom_field` with
/// `fields`. Audited as `api.custom_field.create`.
#[utoipa::path(
    post,
    path = "/api/v1/custom-fields",
    tag = "patients",
    params(IdempotencyKey),
    request_body = NewCustomField,
    responses(
        (status = 201, description = "The new field", body = CustomFieldOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 422, description = "Refused definition (`invalid_custom_field`)", body = InvalidBody),
    )
)]
pub async fn create_field(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<NewCustomField>,
) -> Result<(StatusCode, Json<CustomFieldOut>), PatientApiError> {
    auth.require(Permission::Administer)?;
    let new = NewField {
        key: body.key,
        label_ja: body.label_ja,
        label_en: body.label_en,
        kind: body.kind,
        choices: body.choices,
        required: body.required,
        position: body.position,
    };
    let mut tx = state.db.begin().await?;
    let field = match fields::create(tx.conn(), &auth.clinic, &new, state.now_ms()).await? {
        Ok(f) => f,
        Err(errs) => return Err(PatientApiError::Invalid(Code::InvalidCustomField, errs)),
    };
    let e = Event {
        action: "api.custom_field.create",
        subject_type: "custom_field",
        subject_ids: &[field.id.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, e).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(field_out(field))))
}
