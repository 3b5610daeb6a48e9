//! `POST /app/messages/{id}/retry`: 再送 on a reply that failed or whose fate is unknown. The send
//! job is queued again (same LINE retry key) and the message shows 送信待ち until the worker is
//! done. An in-doubt message may already have reached the patient, so resending it needs a
//! second, confirmed submit (`confirm=1`).
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_core::{ConversationId, MessageId, Permission};
use tsunagu_inbox::LiveEvent;
use tsunagu_outbox::retry::{retry_message, RetryOutcome};
use tsunagu_store::conversations::{self, Conversation};

use super::conversation::{self, ConfirmRetry, ConvQuery, Notices};
use super::list::Tab;
use super::{audit_event, conn};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// How much of the message the confirmation quotes.
const EXCERPT_CHARS: usize = 40;

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Debug, Deserialize)]
pub struct RetryForm {
    /// `1` when the staff member confirmed resending an in-doubt message.
    #[serde(default)]
    pub confirm: Option<String>,
    /// The list tab to return to.
    #[serde(default)]
    pub view: Option<String>,
}

pub async fn retry(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RetryForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let clinic = staff.clinic.clinic_id();
    let message_id = MessageId::parse(&id).map_err(|_| PageError::not_found())?;
    let mut c = conn(&state).await?;
    let msg = conversations::message_by_id(&mut c, &clinic, &message_id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let conv_id = ConversationId::from_db(msg.conversation_id.clone());
    let conv = conversations::by_id(&mut c, &clinic, &conv_id)
        .await?
        .ok_or_else(PageError::not_found)?;
    drop(c);
    let view = Tab::parse(form.view.as_deref()).map(Tab::as_str);
    if msg.direction != "out" {
        return not_retryable(&state, &staff, &ip, conv, view).await;
    }
    if msg.status == "in_doubt" && form.confirm.as_deref() != Some("1") {
        let confirm = ConfirmRetry {
            action: format!("/app/messages/{}/retry", msg.id),
            excerpt: msg.body.as_deref().map(excerpt).filter(|e| !e.is_empty()),
        };
        let notices = Notices {
            confirm_retry: Some(confirm),
            ..Notices::default()
        };
        let q = query(view);
        let html = conversation::show(&state, &staff, &ip, conv, q, notices, false).await?;
        return Ok(html.into_response());
    }
    match retry_message(&state.db, &clinic, &message_id, state.now_ms()).await? {
        RetryOutcome::Requeued => {
            audit_event(
                &state,
                &staff,
                &ip,
                "message.retry",
                "message",
                &[msg.id.as_str(), conv.id.as_str()],
            )
            .await?;
            state.live.publish(LiveEvent {
                clinic_id: staff.clinic.id.clone(),
                conversation_id: conv.id.clone(),
                kind: "message.updated",
            });
            Ok(Redirect::to(&conversation::back_to(&conv.id, view)).into_response())
        }
        RetryOutcome::NotRetryable => not_retryable(&state, &staff, &ip, conv, view).await,
        RetryOutcome::NotFound => Err(PageError::not_found()),
    }
}

fn query(view: Option<&str>) -> ConvQuery {
    ConvQuery {
        view: view.map(str::to_string),
        before: None,
    }
}

/// Already sent, still being tried, or not ours to send: the page again, saying so.
async fn not_retryable(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    conv: Conversation,
    view: Option<&str>,
) -> Result<Response, PageError> {
    let notices = Notices {
        error: Some(i18n::text(staff.lang, "retry.not_retryable")),
        ..Notices::default()
    };
    let html = conversation::show(state, staff, ip, conv, query(view), notices, false).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

/// The start of the message on one line, for the confirmation to name it.
fn excerpt(body: &str) -> String {
    let flat = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() > EXCERPT_CHARS {
        let cut: String = flat.chars().take(EXCERPT_CHARS).collect();
        format!("{cut}…")
    } else {
        flat
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn the_excerpt_is_one_short_line() {
        assert_eq!(excerpt("駐車場は\n裏手です"), "駐車場は 裏手です");
        let long = "あ".repeat(50);
        assert_eq!(excerpt(&long), format!("{}…", "あ".repeat(40)));
    }
}
