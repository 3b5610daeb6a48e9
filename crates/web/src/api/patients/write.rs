//! `POST /api/v1/patients` and `PATCH /api/v1/patients/{id}`.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Deserializer};
use tsunagu_contacts::patients as records;
use tsunagu_contacts::PatientInput;
use tsunagu_core::{PatientId, Permission};
use utoipa::ToSchema;

use super::{clinic_today, record_out, InvalidBody, PatientApiError, PatientOut};
use crate::api::auth::{audit_change, ApiAuth, Event};
use crate::api::extract::{ApiJson, ErrorBody, IdPath};
use crate::api::idempotent::IdempotencyKey;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// A record's fields. On create, `name` is required. On update, a field left out stays as it
/// is, and `null` or `""` clears it. Values are read as people write them: `090-1234-5678`,
/// full-width digits, hiragana readings, era birth dates (`S50.4.1`).
#[derive(Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientBody {
    #[serde(default, alias = "display_name", deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "山田 太郎")]
    pub name: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "やまだ たろう")]
    pub kana: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "1975-04-01")]
    pub birth_date: Option<Option<String>>,
    /// `female`, `male`, `other`, `unknown` (also 女性, 男性, F, M, 1, 2).
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub sex: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "090-1234-5678")]
    pub phone: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "00123")]
    pub card_number: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "ja")]
    pub language: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>, example = "line")]
    pub preferred_channel: Option<Option<String>>,
    #[serde(default, deserialize_with = "nullable")]
    #[schema(value_type = Option<String>)]
    pub note: Option<Option<String>>,
    /// Replaces the tags.
    pub tags: Option<Vec<String>>,
    /// Custom field key → value (string or number); `null` or `""` clears.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub custom_fields: BTreeMap<String, serde_json::Value>,
}

/// Present-and-null becomes `Some(None)`, so a patch can tell "clear" from "leave".
fn nullable<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<String>>, D::Error> {
    Option::<String>::deserialize(d).map(Some)
}

impl PatientBody {
    fn into_input(self) -> PatientInput {
        let f = |v: Option<Option<String>>| v.map(Option::unwrap_or_default);
        PatientInput {
            name: f(self.name),
            kana: f(self.kana),
            birth_date: f(self.birth_date),
            sex: f(self.sex),
            phone: f(self.phone),
            email: f(self.email),
            card_number: f(self.card_number),
            language: f(self.language),
            preferred_channel: f(self.preferred_channel),
            note: f(self.note),
            tags: self.tags,
            fields: self
                .custom_fields
                .into_iter()
                .map(|(k, v)| {
                    let text = match v {
                        serde_json::Value::Null => String::new(),
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (k, text)
                })
                .collect(),
        }
    }
}

/// Create a patient record.
///
/// Scope: `reply` (token scopes `reply` or `admin`; staff who may reply). The record is not
/// provisional. Refused fields come back together as 422 `invalid_patient` with `fields`.
/// Audited as `api.patient.create`.
#[utoipa::path(
    post,
    path = "/api/v1/patients",
    tag = "patients",
    params(IdempotencyKey),
    request_body = PatientBody,
    responses(
        (status = 201, description = "The new record", body = PatientOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 422, description = "Refused fields (`invalid_patient`)", body = InvalidBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<PatientBody>,
) -> Result<(StatusCode, Json<PatientOut>), PatientApiError> {
    auth.require(Permission::Reply)?;
    let today = clinic_today(&state, &auth.clinic).await?;
    let input = body.into_input();
    let mut tx = state.db.begin().await?;
    let id = records::create(tx.conn(), &auth.clinic, &input, today, state.now_ms()).await?;
    let e = Event {
        action: "api.patient.create",
        subject_type: "patient",
        subject_ids: &[id.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, e).await?;
    tx.commit().await?;
    let out = record_out(&state, &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok((StatusCode::CREATED, Json(out)))
}

/// Change a patient record.
///
/// Scope: `reply`. Only the fields sent change; `null` or `""` clears one. Audited as
/// `api.patient.update`.
#[utoipa::path(
    patch,
    path = "/api/v1/patients/{id}",
    tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    request_body = PatientBody,
    responses(
        (status = 200, description = "The record as changed", body = PatientOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
        (status = 422, description = "Refused fields (`invalid_patient`)", body = InvalidBody),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<PatientBody>,
) -> Result<Json<PatientOut>, PatientApiError> {
    auth.require(Permission::Reply)?;
    let id = PatientId::parse(&id).map_err(|_| ApiError::not_found())?;
    let today = clinic_today(&state, &auth.clinic).await?;
    let input = body.into_input();
    let mut tx = state.db.begin().await?;
    records::update(tx.conn(), &auth.clinic, &id, &input, today, state.now_ms()).await?;
    let e = Event {
        action: "api.patient.update",
        subject_type: "patient",
        subject_ids: &[id.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, e).await?;
    tx.commit().await?;
    let out = record_out(&state, &auth.clinic, &id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(out))
}
