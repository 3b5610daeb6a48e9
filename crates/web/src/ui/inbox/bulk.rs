//! `POST /app/conversations/bulk`: the list's checked conversations (`ids`, repeated) and one
//! `action`: assign (`assignee` = a staff id, `none` to unassign), label (`label`), resolve, or
//! snooze (one hour). All or nothing (`inbox::bulk`): any id that is not this clinic's is 404 and
//! nothing changes. Back to the list tab it came from, with a live event per changed conversation.
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use tsunagu_core::{Code, ConversationId, ConversationStatus, Permission};
use tsunagu_inbox::bulk::{self, Action, By, Outcome};
use tsunagu_inbox::LiveEvent;
use tsunagu_store::inbox_views::Member;
use tsunagu_store::labels::Label;

use super::list::Tab;
use super::state_view::snooze_until;
use crate::client_ip::ClientIp;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// What the list's bar offers: colleagues who may reply, and the clinic's labels.
#[derive(Clone, Debug, Serialize)]
pub struct Bar {
    pub view: &'static str,
    pub staff: Vec<(String, String)>,
    pub labels: Vec<(String, String)>,
}

pub fn bar(view: &'static str, staff: &[Member], labels: &[Label]) -> Bar {
    Bar {
        view,
        staff: staff
            .iter()
            .map(|m| (m.staff_id.clone(), m.display_name.clone()))
            .collect(),
        labels: labels
            .iter()
            .map(|l| (l.id.clone(), l.name.clone()))
            .collect(),
    }
}

/// The fields as sent (`ids` repeats, which a struct cannot take); `csrf_token` is checked by
/// `CsrfForm` before this is parsed.
type Fields = Vec<(String, String)>;

fn one<'a>(fields: &'a Fields, name: &str) -> Option<&'a str> {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.trim())
}

pub async fn apply(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    CsrfForm(fields): CsrfForm<Fields>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let mut ids: Vec<ConversationId> = Vec::new();
    for (_, v) in fields.iter().filter(|(k, _)| k == "ids") {
        let id = ConversationId::parse(v.trim()).map_err(|_| PageError::not_found())?;
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    if ids.is_empty() || ids.len() > bulk::MAX {
        return Err(PageError::from(Code::BadRequest));
    }
    let action = match one(&fields, "action").unwrap_or("") {
        // Unassigning takes an explicit choice: the menu starts on "choose someone" (empty),
        // so pressing the button without choosing changes nothing.
        "assign" => match one(&fields, "assignee").unwrap_or("") {
            "" => return Err(PageError::from(Code::BadRequest)),
            "none" => Action::Assign(None),
            who => Action::Assign(Some(who)),
        },
        "label" => Action::Label(one(&fields, "label").ok_or(PageError::from(Code::BadRequest))?),
        "resolve" => Action::Status(ConversationStatus::Resolved, None),
        "snooze" => {
            let until = snooze_until(&state, &staff, "hour", None).await?;
            Action::Status(ConversationStatus::Snoozed, until)
        }
        _ => return Err(PageError::from(Code::BadRequest)),
    };
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let by = By {
        actor: &actor,
        staff_id: Some(staff.staff_id.as_str()),
        ip: source_ip.as_deref(),
    };
    let clinic = staff.clinic.clinic_id();
    let changed = match bulk::apply(&state.db, &clinic, &ids, action, by, state.now_ms()).await? {
        Outcome::NotFound => return Err(PageError::not_found()),
        Outcome::Done(changed) => changed,
    };
    for id in changed {
        state.live.publish(LiveEvent {
            clinic_id: staff.clinic.id.clone(),
            conversation_id: id,
            kind: "conversation.updated",
        });
    }
    let tab = Tab::parse(one(&fields, "view")).unwrap_or(Tab::Open);
    Ok(Redirect::to(&format!("/app/inbox?view={}", tab.as_str())).into_response())
}
