//! Who looks after a conversation, so 自分の担当 (mine) means something. Anyone who may reply
//! takes a conversation (自分が担当) or lets it go (担当を外す); staff who administer the clinic
//! give it to any colleague here who may reply. `POST /app/conversations/{id}/assign` with
//! `assignee` = a staff id, or empty to unassign. The change and its audit entry commit together.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_accounts::staff as accounts;
use tsunagu_core::{ConversationId, Permission};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::audit::{self, AuditEntry};
use tsunagu_store::conversations::{self, Conversation};

use super::conversation::{self, ConvQuery, Notices};
use super::list::Tab;
use super::{conn, queries};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Debug, Deserialize)]
pub struct AssignForm {
    /// A staff id, or empty to unassign.
    #[serde(default)]
    pub assignee: String,
    /// The list tab to return to.
    #[serde(default)]
    pub view: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub id: String,
    pub name: String,
    pub current: bool,
}

/// The assignment line in the conversation header.
#[derive(Clone, Debug, Serialize)]
pub struct AssignmentView {
    pub action: String,
    pub assigned: bool,
    pub assignee_name: Option<String>,
    /// Assigned to the staff member looking at it.
    pub mine: bool,
    /// The viewer's staff id, for 自分が担当.
    pub me: String,
    /// May take, release or give the conversation (the Reply permission).
    pub can_change: bool,
    /// For staff who administer the clinic: everyone the conversation may be given to.
    pub choices: Vec<Choice>,
}

pub async fn view(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
) -> Result<AssignmentView, PageError> {
    let mut conn = conn(state).await?;
    let assignee_name = match &conv.assignee_id {
        Some(id) => Some(
            accounts::display_names(&mut conn, std::slice::from_ref(id))
                .await?
                .remove(id)
                .unwrap_or_else(|| i18n::text(staff.lang, "msg.author.staff")),
        ),
        None => None,
    };
    let can_change = staff.can(Permission::Reply);
    let choices = if can_change && staff.can(Permission::Administer) {
        queries::assignable_staff(&mut conn, &staff.clinic.clinic_id())
            .await?
            .into_iter()
            .map(|m| Choice {
                current: conv.assignee_id.as_deref() == Some(m.staff_id.as_str()),
                id: m.staff_id,
                name: m.display_name,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(AssignmentView {
        action: format!("/app/conversations/{}/assign", conv.id),
        assigned: conv.assignee_id.is_some(),
        assignee_name,
        mine: conv.assignee_id.as_deref() == Some(staff.staff_id.as_str()),
        me: staff.staff_id.to_string(),
        can_change,
        choices,
    })
}

pub async fn assign(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AssignForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let view = Tab::parse(form.view.as_deref()).map(Tab::as_str);
    let wanted = form.assignee.trim();
    let assignee = if wanted.is_empty() {
        None
    } else {
        let mut conn = conn(&state).await?;
        let members = queries::assignable_staff(&mut conn, &clinic).await?;
        drop(conn);
        match members.into_iter().find(|m| m.staff_id == wanted) {
            Some(m) => Some(m.staff_id),
            None => return refuse(&state, &staff, &ip, conv, view).await,
        }
    };
    // Taking a conversation or letting it go is everyone's; giving it to a colleague is not.
    if assignee
        .as_deref()
        .is_some_and(|a| a != staff.staff_id.as_str())
    {
        staff.require(Permission::Administer)?;
    }
    let conv_id = ConversationId::from_db(conv.id.clone());
    let subjects: Vec<&str> = std::iter::once(conv.id.as_str())
        .chain(assignee.as_deref())
        .collect();
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let mut tx = state.db.begin().await?;
    conversations::assign(tx.conn(), &clinic, &conv_id, assignee.as_deref()).await?;
    let entry = AuditEntry {
        clinic_id: Some(&clinic),
        actor: &actor,
        action: "conversation.assign",
        subject_type: Some("conversation"),
        subject_ids: &subjects,
        source_ip: source_ip.as_deref(),
    };
    audit::record(tx.conn(), state.db.backend(), entry, state.now_ms()).await?;
    tx.commit().await?;
    state.live.publish(LiveEvent {
        clinic_id: staff.clinic.id.clone(),
        conversation_id: conv.id.clone(),
        kind: "conversation.updated",
    });
    Ok(Redirect::to(&conversation::back_to(&conv.id, view)).into_response())
}

/// Not someone this conversation can go to: the page again, saying so, and nothing changed.
async fn refuse(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    conv: Conversation,
    view: Option<&str>,
) -> Result<Response, PageError> {
    let q = ConvQuery {
        view: view.map(str::to_string),
        before: None,
    };
    let notices = Notices {
        error: Some(i18n::text(staff.lang, "assign.refused")),
        ..Notices::default()
    };
    let html = conversation::show(state, staff, ip, conv, q, notices, false).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}
