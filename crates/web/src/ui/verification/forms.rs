//! The page's forms (Merge; audited by the privacy functions) and the inbox's request button.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_core::{Code, ConversationId, PatientId, Permission, Refusal};
use tsunagu_inbox::reply::{queue_text_for, Author, ReplyOutcome};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::audit::{self, AuditEntry};
use tsunagu_privacy::consent::{Purpose, SendBasis};
use tsunagu_privacy::verification::link::{self, LinkActor};
use tsunagu_privacy::verification::proxies::{self, ProxyOf};
use tsunagu_privacy::verification::{self as v, session};
use tsunagu_store::{conversations, patients};

use super::page::{render_page, PageQuery};
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct IdentityForm {
    pub identity_id: String,
    pub patient_id: String,
    pub reason: String,
    pub link_id: String,
    pub proxy_id: String,
    pub proxy_identity_id: String,
    pub proxy_patient_id: String,
    pub relationship: String,
}

fn back(id: &str, done: &str) -> Response {
    Redirect::to(&format!("/app/patients/{id}/identity?done={done}")).into_response()
}

/// The path's patient, in the session's clinic; 404 otherwise.
async fn own_patient(state: &AppState, staff: &Staff, id: &str) -> Result<PatientId, PageError> {
    let pid = PatientId::parse(id).map_err(|_| PageError::not_found())?;
    let mut conn = crate::ui::conn(state).await?;
    patients::by_id(&mut conn, &staff.clinic.clinic_id(), &pid)
        .await?
        .ok_or_else(PageError::not_found)?;
    Ok(pid)
}

/// 404 unless the identity is one of the path's patient's (the page lists only those).
async fn own_identity(
    state: &AppState,
    staff: &Staff,
    patient: &PatientId,
    identity_id: &str,
) -> Result<(), PageError> {
    let mut conn = crate::ui::conn(state).await?;
    patients::identity_by_id(&mut conn, &staff.clinic.clinic_id(), identity_id)
        .await?
        .filter(|i| i.patient_id == patient.as_str())
        .map(|_| ())
        .ok_or_else(PageError::not_found)
}

async fn refuse(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &str,
    why: Refusal,
) -> Result<Response, PageError> {
    let msg = i18n::refusal(staff.lang, &why);
    render_page(state, staff, ip, id, PageQuery::default(), Some(msg)).await
}

pub async fn link(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<IdentityForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Merge)?;
    let patient = own_patient(&state, &staff, &id).await?;
    own_identity(&state, &staff, &patient, &f.identity_id).await?;
    let clinic = staff.clinic.clinic_id();
    let actor = LinkActor::Staff(staff.staff_id.to_string());
    let source_ip = ip.as_string();
    let out = v::link_by_staff(
        &state.db,
        &clinic,
        &f.identity_id,
        &f.patient_id,
        &f.reason,
        actor,
        source_ip.as_deref(),
        state.now_ms(),
    )
    .await?;
    match out {
        Ok(_) => Ok(back(&f.patient_id, "linked")),
        Err(why) => refuse(&state, &staff, &ip, &id, why).await,
    }
}

pub async fn undo(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<IdentityForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Merge)?;
    let patient = own_patient(&state, &staff, &id).await?;
    // Only a link shown on this patient's page: into or out of this patient.
    let mut conn = crate::ui::conn(&state).await?;
    let ours = |p: &str| p == patient.as_str();
    link::by_id(&mut conn, &staff.clinic.clinic_id(), &f.link_id)
        .await?
        .filter(|l| ours(&l.from_patient_id) || ours(&l.to_patient_id))
        .ok_or_else(PageError::not_found)?;
    drop(conn);
    let source_ip = ip.as_string();
    match v::undo(
        &state.db,
        &staff.clinic.clinic_id(),
        &f.link_id,
        &staff.actor(),
        source_ip.as_deref(),
        state.now_ms(),
    )
    .await?
    {
        Ok(l) => Ok(back(&l.from_patient_id, "undone")),
        Err(why) => refuse(&state, &staff, &ip, &id, why).await,
    }
}

pub async fn unlock(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<IdentityForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Merge)?;
    let patient = own_patient(&state, &staff, &id).await?;
    own_identity(&state, &staff, &patient, &f.identity_id).await?;
    let source_ip = ip.as_string();
    let unlocked = session::unlock(
        &state.db,
        &staff.clinic.clinic_id(),
        patient.as_str(),
        &f.identity_id,
        &staff.actor(),
        source_ip.as_deref(),
        state.now_ms(),
    )
    .await?;
    if !unlocked {
        let why = Refusal::new(Code::NotLocked);
        return refuse(&state, &staff, &ip, &id, why).await;
    }
    Ok(back(&id, "unlocked"))
}

pub async fn add_proxy(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<IdentityForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Merge)?;
    own_patient(&state, &staff, &id).await?;
    let proxy = match (f.proxy_identity_id.trim(), f.proxy_patient_id.trim()) {
        (i, "") if !i.is_empty() => ProxyOf::Identity(i.to_string()),
        ("", p) if !p.is_empty() => ProxyOf::Patient(p.to_string()),
        _ => {
            let why = Refusal::new(Code::InvalidProxy);
            return refuse(&state, &staff, &ip, &id, why).await;
        }
    };
    let source_ip = ip.as_string();
    match proxies::add(
        &state.db,
        &staff.clinic.clinic_id(),
        &id,
        proxy,
        &f.relationship,
        &staff.actor(),
        source_ip.as_deref(),
        state.now_ms(),
    )
    .await?
    {
        Ok(_) => Ok(back(&id, "proxy_added")),
        Err(why) => refuse(&state, &staff, &ip, &id, why).await,
    }
}

pub async fn revoke_proxy(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(f): CsrfForm<IdentityForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Merge)?;
    let patient = own_patient(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let mut conn = crate::ui::conn(&state).await?;
    proxies::by_id(&mut conn, &clinic, &f.proxy_id)
        .await?
        .filter(|p| p.patient_id == patient.as_str())
        .ok_or_else(PageError::not_found)?;
    drop(conn);
    let source_ip = ip.as_string();
    let revoked = proxies::revoke(
        &state.db,
        &clinic,
        patient.as_str(),
        &f.proxy_id,
        &staff.actor(),
        source_ip.as_deref(),
        state.now_ms(),
    )
    .await?;
    if !revoked {
        let why = Refusal::new(Code::AlreadyRevoked);
        return refuse(&state, &staff, &ip, &id, why).await;
    }
    Ok(back(&id, "proxy_revoked"))
}

/// 「本人確認を依頼」: a staff-initiated message for `care` (through the consent check, as
/// `queue_for_purpose` does, but in this conversation) inviting the patient to send 本人確認.
pub async fn request_verification(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_f): CsrfForm<IdentityForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let clinic = staff.clinic.clinic_id();
    let conv_id = ConversationId::parse(&id).map_err(|_| PageError::not_found())?;
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let conv = conversations::by_id(&mut conn, &clinic, &conv_id)
        .await?
        .ok_or_else(PageError::not_found)?;
    drop(conn);
    let body = text("ja", "verification.request.message");
    let basis = SendBasis::Purpose(Purpose::Care);
    let now = state.now_ms();
    let outcome = queue_text_for(
        &state.db,
        &clinic,
        &conv,
        Author::Staff(staff.staff_id.as_str()),
        &body,
        basis,
        now,
    )
    .await?;
    let ReplyOutcome::Queued(message) = outcome else {
        return Ok(Redirect::to(&format!(
            "/app/conversations/{id}?notice=verification_refused"
        ))
        .into_response());
    };
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let entry = AuditEntry {
        clinic_id: Some(&clinic),
        actor: &actor,
        action: "identity.verification_requested",
        subject_type: Some("conversation"),
        subject_ids: &[id.as_str(), message.id.as_str()],
        source_ip: source_ip.as_deref(),
    };
    audit::record_now(&state.db, entry, now).await?;
    state.live.publish(LiveEvent {
        clinic_id: staff.clinic.id.clone(),
        conversation_id: id.clone(),
        kind: "message.created",
    });
    Ok(Redirect::to(&format!("/app/conversations/{id}")).into_response())
}
