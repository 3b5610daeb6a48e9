//! The consent ledger over the API: messages the clinic starts for a purpose (refused with the
//! ledger's reason), and reading and recording a patient's consents.
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{ChannelId, ClinicId, Code, PatientId, Permission, Refusal};
use tsunagu_inbox::reply::{queue_content_for_purpose, queue_for_purpose, Author};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::consent::{
    self, ConsentActor, ConsentEvent, ConsentState, NewConsent, Purpose, Source,
};
use tsunagu_store::{channels, patients};
use utoipa::ToSchema;

use super::auth::{audit_queued, audit_read, ApiAuth, Event};
use super::extract::{rfc3339, ApiJson, ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::messages::{message_out, MessageOut};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Deserialize, ToSchema)]
pub struct PurposeMessage {
    /// 1–5000 characters after trimming (less on some channels). Either `text` or `template`.
    #[schema(example = "インフルエンザ予防接種の予約を受け付けています。")]
    pub text: Option<String>,
    /// An approved WhatsApp template (the message goes on the template's channel): how a
    /// WhatsApp patient is reached outside the 24-hour window.
    pub template: Option<super::reply::TemplateSend>,
    /// `care`, `reminders`, `health_information`, `marketing` or `photo_publication`.
    #[schema(example = "health_information")]
    pub purpose: String,
    /// A channel id; omitted: the patient's preferred channel, else the most recent one they follow.
    pub channel: Option<String>,
}

#[derive(Deserialize, ToSchema)]
pub struct NewConsentEntry {
    /// `care`, `reminders`, `health_information`, `marketing` or `photo_publication`.
    #[schema(example = "marketing")]
    pub purpose: String,
    /// A channel id; omitted: every channel.
    pub channel: Option<String>,
    pub granted: bool,
    /// `web_form`, `staff` (requires `reason`) or `import`.
    #[schema(example = "web_form")]
    pub source: String,
    /// The exact words the patient saw and agreed to (or withdrew).
    #[schema(example = "お知らせ・キャンペーン情報をLINEで受け取る")]
    pub wording: String,
    pub reason: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentEventOut {
    pub id: String,
    pub purpose: String,
    /// Null: every channel.
    pub channel_id: Option<String>,
    pub granted: bool,
    /// `chat`, `web_form`, `staff`, `import` or `api`.
    pub source: String,
    pub wording: String,
    pub reason: Option<String>,
    /// `patient`, `staff`, `token` or `system`.
    pub actor_kind: String,
    pub actor_id: Option<String>,
    /// RFC 3339 UTC.
    pub at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentStateOut {
    pub purpose: String,
    /// Null: the all-channels entry.
    pub channel_id: Option<String>,
    /// `granted`, `withdrawn`, `implicit` (care, after the patient wrote) or `unset`.
    pub status: String,
    /// Decided by the all-channels entry, not the channel's own.
    pub inherited: bool,
    /// The entry that decides it.
    pub event_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ConsentsOut {
    pub current: Vec<ConsentStateOut>,
    /// Every entry, oldest first.
    pub history: Vec<ConsentEventOut>,
}

pub fn event_out(e: ConsentEvent) -> ConsentEventOut {
    ConsentEventOut {
        id: e.id,
        purpose: e.purpose,
        channel_id: e.channel_id,
        granted: e.granted != 0,
        source: e.source,
        wording: e.wording,
        reason: e.reason,
        actor_kind: e.actor_kind,
        actor_id: e.actor_id,
        at: rfc3339(e.at),
    }
}

fn state_out(s: ConsentState) -> ConsentStateOut {
    let status = serde_json::to_value(s.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    ConsentStateOut {
        purpose: s.purpose.code().to_string(),
        channel_id: s.channel_id,
        status,
        inherited: s.inherited,
        event_id: s.decided_by.map(|e| e.id),
    }
}

fn purpose(code: &str) -> Result<Purpose, ApiError> {
    Purpose::parse(code).ok_or_else(|| {
        Refusal::new(Code::InvalidPurpose)
            .detail("purpose must be care, reminders, health_information, marketing or photo_publication.")
            .into()
    })
}

/// The patient (404 otherwise) and the named channel of this clinic (422 `unknown_channel`).
async fn patient_and_channel(
    state: &AppState,
    clinic: &ClinicId,
    id: &str,
    channel: Option<&str>,
) -> Result<(PatientId, Option<ChannelId>), ApiError> {
    let patient = PatientId::parse(id).map_err(|_| ApiError::not_found())?;
    let mut conn = read_conn(state).await?;
    patients::by_id(&mut conn, clinic, &patient)
        .await?
        .ok_or_else(ApiError::not_found)?;
    let Some(ch) = channel else {
        return Ok((patient, None));
    };
    let unknown = || -> ApiError {
        let why = "No such channel in this clinic.";
        Refusal::new(Code::UnknownChannel).detail(why).into()
    };
    let ch = ChannelId::parse(ch).map_err(|_| unknown())?;
    channels::by_id(&mut conn, clinic, &ch)
        .await?
        .ok_or_else(unknown)?;
    Ok((patient, Some(ch)))
}

/// Send a message the clinic starts, for a purpose.
///
/// Scope: by purpose. `care` needs `reply` (token scopes `reply`, `admin`); `health_information`,
/// `marketing` and `photo_publication` need `broadcast` (`broadcast`, `admin`); `reminders` either.
/// Then the consent check: refused with 422 and the reason (`consent_required`,
/// `consent_withdrawn`) unless the patient's current consent for the purpose on the channel
/// allows it (`care` is implied once the patient has written on the channel). Replies to a
/// patient's message go through `POST /api/v1/conversations/{id}/messages` instead. Audited as
/// `api.message.send`.
#[utoipa::path(
    post,
    path = "/api/v1/patients/{id}/messages",
    tag = "messages",
    params(("id" = String, Path, description = "Patient id"), IdempotencyKey),
    request_body = PurposeMessage,
    responses(
        (status = 201, description = "Queued", body = MessageOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "`forbidden`: the token lacks `reply` and `broadcast`; `scope_forbids_purpose`: its scopes may not send this purpose", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
        (status = 422, description = "`consent_required`, `consent_withdrawn`, `no_reachable_channel`, `recipient_blocked`, `channel_disabled`, `empty_message`, `message_too_long`, `invalid_purpose`, `unknown_channel`, `template_invalid`, `outside_service_window` (WhatsApp: use a template), `recipient_opted_out`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn send(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<PurposeMessage>,
) -> Result<(StatusCode, Json<MessageOut>), ApiError> {
    if !(auth.can(Permission::Reply) || auth.can(Permission::Broadcast)) {
        return Err(ApiError::forbidden());
    }
    let purpose = purpose(&body.purpose)?;
    if !purpose.sent_with().iter().any(|p| auth.can(*p)) {
        let why = format!(
            "This token may not send `{}` messages: care needs the reply scope; health information, marketing and photo publication need broadcast; reminders either.",
            purpose.code()
        );
        return Err(Refusal::new(Code::ScopeForbidsPurpose).detail(why).into());
    }
    let (patient, channel) =
        patient_and_channel(&state, &auth.clinic, &id, body.channel.as_deref()).await?;
    let now = state.now_ms();
    let outcome = match (body.text.as_deref(), body.template) {
        (Some(text), None) => {
            let ch = channel.as_ref();
            queue_for_purpose(
                &state.db,
                &auth.clinic,
                &patient,
                ch,
                purpose,
                text,
                Author::Api,
                now,
            )
            .await?
        }
        (None, Some(t)) => {
            let mut conn = read_conn(&state).await?;
            let found = tsunagu_store::templates::by_id(&mut conn, &auth.clinic, &t.id).await?;
            drop(conn);
            let Some(template) = found else {
                let why = "no such template in this clinic";
                return Err(Refusal::new(Code::TemplateInvalid).detail(why).into());
            };
            let content = super::templates::outgoing(&template, &template.channel_id, t.params)?;
            let ch = ChannelId::from_db(template.channel_id.clone());
            queue_content_for_purpose(
                &state.db,
                &auth.clinic,
                &patient,
                Some(&ch),
                purpose,
                content,
                Author::Api,
                now,
            )
            .await?
        }
        _ => {
            return Err(ApiError::invalid(
                "text",
                "Send either text or template, not both and not neither.",
            ))
        }
    };
    let message = *outcome.queued()?;
    let ids = [message.id.as_str(), patient.as_str()];
    let event = Event {
        action: "api.message.send",
        subject_type: "message",
        subject_ids: &ids,
    };
    audit_queued(&state, &auth, &ip, event).await;
    state.live.publish(LiveEvent {
        clinic_id: auth.clinic.to_string(),
        conversation_id: message.conversation_id.clone(),
        kind: "message.created",
    });
    Ok((StatusCode::CREATED, Json(message_out(message, Vec::new()))))
}

/// Read a patient's consents: the current state and the full history.
///
/// Scope: `read_patients` (token scopes `read`, `reply`, `broadcast`, `admin`). `current` has the
/// all-channels entries (`channel_id` null) and one entry per purpose for every channel the patient
/// is on; a channel's own entry beats the all-channels one. Audited as `api.consent.read`.
#[utoipa::path(
    get,
    path = "/api/v1/patients/{id}/consents",
    tag = "patients",
    params(("id" = String, Path, description = "Patient id")),
    responses(
        (status = 200, description = "Current consents and history", body = ConsentsOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<Json<ConsentsOut>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let (patient, _) = patient_and_channel(&state, &auth.clinic, &id, None).await?;
    let mut conn = read_conn(&state).await?;
    let current = consent::current(&mut conn, &auth.clinic, &patient).await?;
    let history = consent::history(&mut conn, &auth.clinic, &patient).await?;
    drop(conn);
    let event = Event {
        action: "api.consent.read",
        subject_type: "patient",
        subject_ids: &[patient.as_str()],
    };
    audit_read(&state, &auth, &ip, event).await?;
    Ok(Json(ConsentsOut {
        current: current.into_iter().map(state_out).collect(),
        history: history.into_iter().map(event_out).collect(),
    }))
}

/// Record a grant or withdrawal.
///
/// Scope: `reply` (token scopes `reply`, `admin`). Appends to the ledger (entries are never
/// changed); `source` is `web_form` (a form the patient filled in), `staff` (needs `reason`) or
/// `import`; `wording` is what the patient saw. Audited as `consent.grant` / `consent.withdraw`.
#[utoipa::path(
    post,
    path = "/api/v1/patients/{id}/consents",
    tag = "patients",
    params(("id" = String, Path, description = "Patient id"), IdempotencyKey),
    request_body = NewConsentEntry,
    responses(
        (status = 201, description = "Recorded", body = ConsentEventOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `reply`", body = ErrorBody),
        (status = 404, description = "No such patient in this clinic", body = ErrorBody),
        (status = 422, description = "`invalid_purpose`, `invalid_source`, `wording_required`, `reason_required`, `unknown_channel`", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
    ApiJson(body): ApiJson<NewConsentEntry>,
) -> Result<(StatusCode, Json<ConsentEventOut>), ApiError> {
    auth.require(Permission::Reply)?;
    let purpose = purpose(&body.purpose)?;
    let source = Source::parse(&body.source)
        .filter(|s| matches!(s, Source::WebForm | Source::Staff | Source::Import))
        .ok_or_else(|| {
            let why = "source must be web_form, staff or import.";
            ApiError::from(Refusal::new(Code::InvalidSource).detail(why))
        })?;
    let (patient, channel) =
        patient_and_channel(&state, &auth.clinic, &id, body.channel.as_deref()).await?;
    let source_ip = ip.as_string();
    let entry = NewConsent {
        clinic: &auth.clinic,
        patient: &patient,
        purpose,
        channel: channel.as_ref(),
        granted: body.granted,
        source,
        wording: &body.wording,
        reason: body.reason.as_deref(),
        actor: ConsentActor::Token(auth.token_id.to_string()),
        source_ip: source_ip.as_deref(),
    };
    let mut tx = state.db.begin().await?;
    let row = consent::record(tx.conn(), state.db.backend(), entry, state.now_ms()).await??;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(event_out(row))))
}
