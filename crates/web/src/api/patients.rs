//! `/api/v1/patients`: patient records — read, list and search, create, change, CSV import —
//! and the clinic's custom fields. Reading needs `read_patients`; creating and changing records
//! needs `reply` (the staff who answer patients keep their records: owner, admin, clinician,
//! receptionist; token scopes `reply` or `admin`); import and field definitions need
//! `administer`. Every read of patient data and every change is audited.
pub mod fields;
pub mod import;
pub mod reach;
pub mod write;

use std::collections::{BTreeMap, HashMap};

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_contacts::patients::{self as records, ListQuery, PatientRecord};
use tsunagu_contacts::FieldError;
use tsunagu_core::{ClinicId, Code, PatientId, Permission};
use tsunagu_store::{channels, clinics, flag, patients};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_read, ApiAuth, Event};
use super::extract::{
    decode_cursor, encode_cursor, page_limit, rfc3339, ApiQuery, ErrorBody, IdPath,
};
use super::{read_conn, refusal};
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Serialize, ToSchema)]
pub struct IdentityOut {
    pub channel_id: String,
    /// The channel's kind (`line`, …).
    pub kind: String,
    /// The provider's user id (LINE `U…`).
    pub external_id: String,
    pub display_name: Option<String>,
    pub picture_url: Option<String>,
    /// `following`, `blocked` or `unknown`.
    pub follow_state: String,
    /// Linked to the record after proof (card number and birth date, or a code).
    pub verified: bool,
    /// Whether the patient can be reached here now.
    pub reachability: reach::ReachabilityOut,
}

#[derive(Serialize, ToSchema)]
pub struct PatientOut {
    pub id: String,
    /// The patient's name (`name` in requests).
    pub display_name: String,
    /// Reading in full-width katakana.
    pub kana: Option<String>,
    /// `YYYY-MM-DD`.
    pub birth_date: Option<String>,
    /// `female`, `male`, `other` or `unknown`.
    pub sex: String,
    /// E.164 (`+819012345678`).
    pub phone: Option<String>,
    pub email: Option<String>,
    /// 診察券番号, normalized (ASCII letters and digits).
    pub card_number: Option<String>,
    /// BCP 47 (`ja`, `en`).
    pub language: Option<String>,
    /// `line`, `sms`, `email`, `phone`, `whatsapp`, `messenger` or `webchat`.
    pub preferred_channel: Option<String>,
    pub note: Option<String>,
    pub picture_url: Option<String>,
    /// Created from a first message and not yet matched to a clinic record.
    pub provisional: bool,
    pub tags: Vec<String>,
    /// Custom field key → stored value (numbers as written, dates `YYYY-MM-DD`).
    pub custom_fields: BTreeMap<String, String>,
    pub identities: Vec<IdentityOut>,
    /// RFC 3339 UTC.
    pub created_at: String,
    pub updated_at: String,
}

/// A row of the patient list (no identities or custom fields: read the record for those).
#[derive(Serialize, ToSchema)]
pub struct PatientListItem {
    pub id: String,
    pub display_name: String,
    pub kana: Option<String>,
    pub birth_date: Option<String>,
    pub sex: String,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub card_number: Option<String>,
    pub provisional: bool,
    pub tags: Vec<String>,
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct PatientPage {
    pub items: Vec<PatientListItem>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListPatients {
    /// Search text: name, kana (katakana, hiragana or half-width all match), phone, card number
    /// or e-mail.
    pub q: Option<String>,
    /// Only patients with this tag.
    pub tag: Option<String>,
    /// 1–100, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// One refused field.
#[derive(Serialize, ToSchema)]
pub struct FieldErrorOut {
    /// `phone`, `birth_date`, a custom field key, …
    #[schema(example = "phone")]
    pub field: String,
    /// Stable key (`invalid_phone_number`, `duplicate_card_number`, …).
    #[schema(example = "invalid_phone_number")]
    pub code: String,
    pub message: String,
}

/// The error envelope of a refused record: the usual `code` and `message`, plus every field.
#[derive(Serialize, ToSchema)]
pub struct InvalidBody {
    pub error: InvalidDetail,
}

#[derive(Serialize, ToSchema)]
pub struct InvalidDetail {
    #[schema(example = "invalid_patient")]
    pub code: String,
    pub message: String,
    pub fields: Vec<FieldErrorOut>,
}

/// An API error, or a 422 that lists the refused fields (the envelope extended compatibly).
pub enum PatientApiError {
    Api(ApiError),
    Invalid(Code, Vec<FieldError>),
}

impl From<ApiError> for PatientApiError {
    fn from(e: ApiError) -> Self {
        PatientApiError::Api(e)
    }
}

impl From<anyhow::Error> for PatientApiError {
    fn from(e: anyhow::Error) -> Self {
        PatientApiError::Api(e.into())
    }
}

impl From<records::PatientError> for PatientApiError {
    fn from(e: records::PatientError) -> Self {
        match e {
            records::PatientError::Invalid(f) => PatientApiError::Invalid(Code::InvalidPatient, f),
            records::PatientError::NotFound => ApiError::not_found().into(),
            records::PatientError::Internal(e) => e.into(),
        }
    }
}

impl IntoResponse for PatientApiError {
    fn into_response(self) -> Response {
        match self {
            PatientApiError::Api(e) => e.into_response(),
            PatientApiError::Invalid(code, fields) => {
                let body = InvalidBody {
                    error: InvalidDetail {
                        code: code.to_string(),
                        message: "Some fields are not valid; see `fields`.".to_string(),
                        fields: fields
                            .into_iter()
                            .map(|f| FieldErrorOut {
                                field: f.field,
                                code: f.code.to_string(),
                                message: f.message,
                            })
                            .collect(),
                    },
                };
                (refusal::status(code), Json(body)).into_response()
            }
        }
    }
}

/// The clinic's calendar date now (birth dates after it are refused).
pub(crate) async fn clinic_today(
    state: &AppState,
    clinic: &ClinicId,
) -> Result<chrono::NaiveDate, ApiError> {
    let mut conn = read_conn(state).await?;
    let tz = clinics::by_id(&mut conn, clinic)
        .await?
        .and_then(|c| c.timezone.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::Asia::Tokyo);
    Ok(tsunagu_core::clock::from_ms(state.now_ms())
        .with_timezone(&tz)
        .date_naive())
}

/// The record as the API shows it, with the patient's identities on each channel.
pub(crate) async fn record_out(
    state: &AppState,
    clinic: &ClinicId,
    id: &PatientId,
) -> Result<Option<PatientOut>, ApiError> {
    let mut conn = read_conn(state).await?;
    let Some(PatientRecord {
        patient: p,
        tags,
        fields,
    }) = records::get(&mut conn, clinic, id).await?
    else {
        return Ok(None);
    };
    let identities = patients::identities_of(&mut conn, clinic, id).await?;
    let kinds: HashMap<String, String> = channels::list(&mut conn, clinic)
        .await?
        .into_iter()
        .map(|c| (c.id, c.kind))
        .collect();
    let now = state.now_ms();
    let identities = identities
        .into_iter()
        .map(|i| IdentityOut {
            kind: kinds.get(&i.channel_id).cloned().unwrap_or_default(),
            reachability: reach::reachability_out(
                kinds.get(&i.channel_id).map_or("", String::as_str),
                &i,
                now,
            ),
            channel_id: i.channel_id,
            external_id: i.external_id,
            display_name: i.display_name,
            picture_url: i.picture_url,
            follow_state: i.follow_state,
            verified: flag(i.verified),
        })
        .collect();
    Ok(Some(PatientOut {
        id: p.id,
        display_name: p.display_name,
        kana: p.kana,
        birth_date: p.birth_date,
        sex: p.sex,
        phone: p.phone,
        email: p.email,
        card_number: p.card_number,
        language: p.language,
        preferred_channel: p.preferred_channel,
        note: p.note,
        picture_url: p.picture_url,
        provisional: flag(p.provisional),
        tags,
        custom_fields: fields
            .into_iter()
            .filter_map(|f| Some((f.field.key, f.value?)))
            .collect(),
        identities,
        created_at: rfc3339(p.created_at),
        updated_at: rfc3339(p.updated_at),
    }))
}

/// Read a patient record.
///
/// Scope: `read_patients` (token scopes `read`, `reply`, `broadcast`, `admin`). Audited as
/// `api.patient.read`.
#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}",
    tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "The patient", body = PatientOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Json<PatientOut>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let patient_id = PatientId::parse(&id).map_err(|_| ApiError::not_found())?;
    let out = record_out(&state, &auth.clinic, &patient_id)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let event = Event {
        action: "api.patient.read",
        subject_type: "patient",
        subject_ids: &[out.id.as_str()],
    };
    audit_read(&state, &auth, &ip, event).await?;
    Ok(Json(out))
}

/// List and search the clinic's patients, newest first.
///
/// Scope: `read_patients`. `q` matches name, kana (in any script or width), phone (as typed,
/// e.g. `090-1234`), card number and e-mail. Audited as one `api.patient.list` event naming
/// every patient on the page.
#[utoipa::path(
    get,
    path = "/api/v1/patients",
    tag = "patients",
    params(ListPatients),
    responses(
        (status = 200, description = "A page of patients", body = PatientPage),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 422, description = "Bad limit or cursor", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiQuery(q): ApiQuery<ListPatients>,
) -> Result<Json<PatientPage>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let limit = page_limit(q.limit)?;
    let before_id: Option<String> = decode_cursor(q.cursor.as_deref())?;
    let query = ListQuery {
        q: q.q,
        tag: q.tag,
        before_id,
        limit: limit + 1,
    };
    let mut conn = read_conn(&state).await?;
    let mut rows = records::list(&mut conn, &auth.clinic, &query).await?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let ids: Vec<&str> = rows.iter().map(|p| p.id.as_str()).collect();
    let mut tags = records::tags_of(&mut conn, &auth.clinic, &ids).await?;
    drop(conn);
    let event = Event {
        action: "api.patient.list",
        subject_type: "patient",
        subject_ids: &ids,
    };
    audit_read(&state, &auth, &ip, event).await?;
    let next_cursor = more
        .then(|| rows.last().map(|p| encode_cursor(&p.id)))
        .flatten();
    let items = rows
        .into_iter()
        .map(|p| PatientListItem {
            tags: tags.remove(&p.id).unwrap_or_default(),
            id: p.id,
            display_name: p.display_name,
            kana: p.kana,
            birth_date: p.birth_date,
            sex: p.sex,
            phone: p.phone,
            email: p.email,
            card_number: p.card_number,
            provisional: flag(p.provisional),
            created_at: rfc3339(p.created_at),
        })
        .collect();
    Ok(Json(PatientPage { items, next_cursor }))
}
