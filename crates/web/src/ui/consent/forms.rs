//! The page's two forms: a staff entry in the ledger, and a message sent for a purpose through
//! `queue_for_purpose` (refused with the ledger's reason, shown in the clinic's language).
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::{ChannelId, Code, PatientId, Permission, Refusal};
use tsunagu_inbox::reply::{queue_for_purpose, Author, ReplyOutcome};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::audit::{self, AuditEntry};
use tsunagu_privacy::consent::{self, ConsentActor, NewConsent, Purpose, Source};

use super::page::{refused, Notices};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct EntryForm {
    pub purpose: String,
    /// Empty: every channel.
    pub channel: String,
    /// grant | withdraw
    pub decision: String,
    /// staff | web_form
    pub source: String,
    pub wording: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SendForm {
    pub purpose: String,
    /// Empty: chosen by `queue_for_purpose`.
    pub channel: String,
    pub text: String,
}

fn channel_of(s: &str) -> Result<Option<ChannelId>, ()> {
    if s.is_empty() {
        return Ok(None);
    }
    ChannelId::parse(s).map(Some).map_err(|_| ())
}

pub async fn record(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EntryForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let patient = PatientId::parse(&id).map_err(|_| PageError::not_found())?;
    let lang = staff.lang;
    let fail = |why: Refusal, form: EntryForm| Notices {
        entry_error: Some(i18n::refusal(lang, &why)),
        entry: form,
        ..Notices::default()
    };
    let purpose = Purpose::parse(&form.purpose);
    let source =
        Source::parse(&form.source).filter(|s| matches!(s, Source::Staff | Source::WebForm));
    let granted = match form.decision.as_str() {
        "grant" => Some(true),
        "withdraw" => Some(false),
        _ => None,
    };
    let (Some(purpose), Some(source), Some(granted), Ok(channel)) =
        (purpose, source, granted, channel_of(&form.channel))
    else {
        let why = Refusal::new(Code::InvalidRequest);
        return refused(&state, &staff, &ip, &id, fail(why, form)).await;
    };
    // The page asks every staff entry for its reason, a form's too.
    if form.reason.trim().is_empty() {
        let why = Refusal::new(Code::ReasonRequired);
        return refused(&state, &staff, &ip, &id, fail(why, form)).await;
    }
    let source_ip = ip.as_string();
    let clinic = staff.clinic.clinic_id();
    let entry = NewConsent {
        clinic: &clinic,
        patient: &patient,
        purpose,
        channel: channel.as_ref(),
        granted,
        source,
        wording: &form.wording,
        reason: Some(&form.reason),
        actor: ConsentActor::Staff(staff.staff_id.to_string()),
        source_ip: source_ip.as_deref(),
    };
    let mut tx = state.db.begin().await?;
    match consent::record(tx.conn(), state.db.backend(), entry, state.now_ms()).await? {
        Ok(_) => tx.commit().await?,
        // The patient in the path.
        Err(why) if why.code == Code::UnknownPatient => return Err(PageError::not_found()),
        Err(why) => {
            drop(tx);
            return refused(&state, &staff, &ip, &id, fail(why, form)).await;
        }
    }
    Ok(Redirect::to(&format!("/app/patients/{patient}/consent?done=recorded")).into_response())
}

pub async fn send(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<SendForm>,
) -> Result<Response, PageError> {
    if !(staff.can(Permission::Reply) || staff.can(Permission::Broadcast)) {
        return Err(PageError::forbidden());
    }
    let patient = PatientId::parse(&id).map_err(|_| PageError::not_found())?;
    let lang = staff.lang;
    let fail = |message: String, form: SendForm| Notices {
        send_error: Some(message),
        send: form,
        ..Notices::default()
    };
    let (Some(purpose), Ok(channel)) = (Purpose::parse(&form.purpose), channel_of(&form.channel))
    else {
        return refused(
            &state,
            &staff,
            &ip,
            &id,
            fail(i18n::code(lang, Code::InvalidRequest), form),
        )
        .await;
    };
    // The same rule as API tokens: a broadcaster sends campaigns, never care messages.
    if !purpose.sent_with().iter().any(|p| staff.can(*p)) {
        let message = i18n::code(lang, Code::PurposeNotAllowed);
        return refused(&state, &staff, &ip, &id, fail(message, form)).await;
    }
    let clinic = staff.clinic.clinic_id();
    let author = Author::Staff(staff.staff_id.as_str());
    let outcome = queue_for_purpose(
        &state.db,
        &clinic,
        &patient,
        channel.as_ref(),
        purpose,
        &form.text,
        author,
        state.now_ms(),
    )
    .await?;
    let message = match outcome {
        ReplyOutcome::Queued(m) => m,
        ReplyOutcome::Refused(r) => {
            let why = i18n::refusal(lang, &r);
            return refused(&state, &staff, &ip, &id, fail(why, form)).await;
        }
    };
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let entry = AuditEntry {
        clinic_id: Some(&clinic),
        actor: &actor,
        action: "message.send",
        subject_type: Some("message"),
        subject_ids: &[message.id.as_str(), patient.as_str()],
        source_ip: source_ip.as_deref(),
    };
    audit::record_now(&state.db, entry, state.now_ms()).await?;
    state.live.publish(LiveEvent {
        clinic_id: staff.clinic.id.clone(),
        conversation_id: message.conversation_id.clone(),
        kind: "message.created",
    });
    Ok(Redirect::to(&format!("/app/patients/{patient}/consent?done=sent")).into_response())
}
