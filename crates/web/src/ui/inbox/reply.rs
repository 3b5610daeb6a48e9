//! `POST /app/conversations/{id}/reply`: queue a staff reply (message and send job commit
//! together), tell open pages, and go back to the conversation. A refused reply shows the
//! conversation again with the reason and the typed text kept.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_core::Permission;
use tsunagu_inbox::reply::{queue_staff_reply, ReplyOutcome};
use tsunagu_inbox::LiveEvent;

use super::audit_event;
use super::conversation::{self, ConvQuery, Notices, ReplyBox};
use super::list::Tab;
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Debug, Deserialize)]
pub struct ReplyForm {
    #[serde(default)]
    pub text: String,
    /// The list tab to return to.
    #[serde(default)]
    pub view: Option<String>,
}

pub async fn send(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ReplyForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let view = Tab::parse(form.view.as_deref()).map(Tab::as_str);
    let outcome = queue_staff_reply(
        &state.db,
        &clinic,
        &conv,
        Some(staff.staff_id.as_str()),
        &form.text,
        state.now_ms(),
    )
    .await?;
    match outcome {
        ReplyOutcome::Queued(msg) => {
            audit_event(
                &state,
                &staff,
                &ip,
                "message.reply",
                "message",
                &[msg.id.as_str(), conv.id.as_str()],
            )
            .await?;
            state.live.publish(LiveEvent {
                clinic_id: staff.clinic.id.clone(),
                conversation_id: conv.id.clone(),
                kind: "message.created",
            });
            Ok(Redirect::to(&conversation::back_to(&conv.id, view)).into_response())
        }
        ReplyOutcome::Refused(why) => {
            let reply = ReplyBox {
                action: String::new(),
                text: form.text,
                error: Some(i18n::refusal(staff.lang, &why)),
                closed: None,
            };
            let q = ConvQuery {
                view: view.map(str::to_string),
                before: None,
            };
            let notices = Notices {
                reply: Some(reply),
                ..Notices::default()
            };
            let html = conversation::show(&state, &staff, &ip, conv, q, notices, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}
