//! The page's forms (Merge; audited by the privacy functions) and the inbox's request button.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_core::{ConversationId, Permission};
use tsunagu_inbox::reply::{queue_text_for, Author, ReplyOutcome};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::audit::{self, AuditEntry};
use tsunagu_privacy::consent::{Purpose, SendBasis};
use tsunagu_privacy::verification::link::LinkActor;
use tsunagu_privacy::verification::proxies::{self, ProxyOf};
use tsunagu_privacy::verification::{self as v, session};
use tsunagu_store::conversations;

use super::page::{render_page, PageQuery};
use crate::client_ip::ClientIp;
use crate::i18n::text;
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

async fn refuse(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &str,
    key: &str,
) -> Result<Response, PageError> {
    let msg = text(staff.lang, &format!("verification.error.{key}"));
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
        Err(e) => refuse(&state, &staff, &ip, &id, e.code()).await,
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
        Err(e) => refuse(&state, &staff, &ip, &id, e.code()).await,
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
    let source_ip = ip.as_string();
    session::unlock(
        &state.db,
        &staff.clinic.clinic_id(),
        &f.identity_id,
        &staff.actor(),
        source_ip.as_deref(),
        state.now_ms(),
    )
    .await?;
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
    let proxy = match (f.proxy_identity_id.trim(), f.proxy_patient_id.trim()) {
        (i, "") if !i.is_empty() => ProxyOf::Identity(i.to_string()),
        ("", p) if !p.is_empty() => ProxyOf::Patient(p.to_string()),
        _ => return refuse(&state, &staff, &ip, &id, "invalid_proxy").await,
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
        Err(code) => refuse(&state, &staff, &ip, &id, code).await,
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
    let source_ip = ip.as_string();
    proxies::revoke(
        &state.db,
        &staff.clinic.clinic_id(),
        &f.proxy_id,
        &staff.actor(),
        source_ip.as_deref(),
        state.now_ms(),
    )
    .await?;
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
