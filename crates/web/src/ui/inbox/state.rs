//! The state bar of a conversation: 解決済みにする, 保留, スヌーズ (1 hour, tomorrow 9:00, the
//! clinic's next opening, or a chosen clinic-local time), 再開, the priority and the labels.
//! Each form posts here, goes through `inbox::state` (system line, audit) and is published live.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_core::{ConversationId, ConversationStatus, Permission, Priority};
use tsunagu_inbox::state::{self, By, Change};
use tsunagu_inbox::LiveEvent;
use tsunagu_store::conversations::Conversation;
use tsunagu_store::labels;

use super::conn;
use super::conversation;
use super::list::Tab;
use super::state_view::snooze_until;
pub use super::state_view::view;
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Debug, Deserialize)]
pub struct StatusForm {
    /// open | pending | snoozed | resolved
    pub status: String,
    /// For snoozed: hour | tomorrow | opening | at.
    #[serde(default)]
    pub snooze: Option<String>,
    /// For `at`: a clinic-local `YYYY-MM-DDTHH:MM`.
    #[serde(default)]
    pub at: Option<String>,
    #[serde(default)]
    pub view: Option<String>,
}

pub async fn set_status(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<StatusForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let status = ConversationStatus::parse(&form.status)
        .ok_or(PageError::from(tsunagu_core::Code::BadRequest))?;
    let until = match status {
        ConversationStatus::Snoozed => {
            let how = form.snooze.as_deref().unwrap_or("");
            match snooze_until(&state, &staff, how, form.at.as_deref()).await? {
                Some(u) => Some(u),
                None => {
                    return refused(
                        &state,
                        &staff,
                        &ip,
                        conv,
                        form.view.as_deref(),
                        "state.snooze_refused",
                    )
                    .await
                }
            }
        }
        _ => None,
    };
    apply(&state, &staff, &ip, &conv, Change::Status(status, until)).await?;
    Ok(back(&conv, form.view.as_deref()))
}

#[derive(Debug, Deserialize)]
pub struct PriorityForm {
    pub priority: String,
    #[serde(default)]
    pub view: Option<String>,
}

pub async fn set_priority(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PriorityForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let p =
        Priority::parse(&form.priority).ok_or(PageError::from(tsunagu_core::Code::BadRequest))?;
    apply(&state, &staff, &ip, &conv, Change::Priority(p)).await?;
    Ok(back(&conv, form.view.as_deref()))
}

#[derive(Debug, Deserialize)]
pub struct LabelForm {
    pub label: String,
    /// add | remove
    pub op: String,
    #[serde(default)]
    pub view: Option<String>,
}

pub async fn set_label(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<LabelForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let add = match form.op.as_str() {
        "add" => true,
        "remove" => false,
        _ => return Err(PageError::from(tsunagu_core::Code::BadRequest)),
    };
    let mut c = conn(&state).await?;
    if labels::get(&mut c, &clinic, &form.label).await?.is_none() {
        return Err(PageError::not_found());
    }
    drop(c);
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let by = By {
        actor: &actor,
        staff_id: Some(staff.staff_id.as_str()),
        ip: source_ip.as_deref(),
    };
    let id = ConversationId::from_db(conv.id.clone());
    if state::label(
        &state.db,
        &clinic,
        &id,
        &form.label,
        add,
        by,
        state.now_ms(),
    )
    .await?
    {
        publish(&state, &staff, &conv);
    }
    Ok(back(&conv, form.view.as_deref()))
}

async fn apply(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    conv: &Conversation,
    change: Change,
) -> Result<(), PageError> {
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let by = By {
        actor: &actor,
        staff_id: Some(staff.staff_id.as_str()),
        ip: source_ip.as_deref(),
    };
    let id = ConversationId::from_db(conv.id.clone());
    if !state::change(
        &state.db,
        &staff.clinic.clinic_id(),
        &id,
        change,
        by,
        state.now_ms(),
    )
    .await?
    {
        return Err(PageError::not_found());
    }
    publish(state, staff, conv);
    Ok(())
}

fn publish(state: &AppState, staff: &Staff, conv: &Conversation) {
    state.live.publish(LiveEvent {
        clinic_id: staff.clinic.id.clone(),
        conversation_id: conv.id.clone(),
        kind: "conversation.updated",
    });
}

fn back(conv: &Conversation, view: Option<&str>) -> Response {
    let view = Tab::parse(view).map(Tab::as_str);
    Redirect::to(&conversation::back_to(&conv.id, view)).into_response()
}

/// A snooze time that cannot be: the page again, saying so, nothing changed.
async fn refused(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    conv: Conversation,
    view: Option<&str>,
    key: &str,
) -> Result<Response, PageError> {
    let q = conversation::ConvQuery {
        view: Tab::parse(view).map(|t| t.as_str().to_string()),
        before: None,
    };
    let notices = conversation::Notices {
        error: Some(i18n::text(staff.lang, key)),
        ..Default::default()
    };
    let html = conversation::show(state, staff, ip, conv, q, notices, false).await?;
    Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}
