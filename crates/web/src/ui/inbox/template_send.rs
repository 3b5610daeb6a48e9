//! The service window and the template picker of a conversation, from the provider's rules
//! (`Rules`): some allow free-form messages only for a while after the patient's last message
//! (WhatsApp and Messenger, 24 hours), after which one takes only approved templates and another
//! a staff reply for longer. `POST /app/conversations/{id}/template` queues a template like a
//! reply (consent, reachability, then the message and its send job in one transaction).
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Serialize;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, Code, Permission, Refusal};
use tsunagu_inbox::reachability;
use tsunagu_inbox::reply::{queue_outgoing, Author, ReplyOutcome};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::consent::SendBasis;
use tsunagu_store::conversations::Conversation;
use tsunagu_store::{channels, patients, templates};

use super::conversation::{self, ConvQuery, Notices};
use super::list::Tab;
use super::{audit_event, conn};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

const HOUR_MS: i64 = 3_600_000;

/// The service-window line under the conversation header.
#[derive(Clone, Debug, Serialize)]
pub struct WindowView {
    pub open: bool,
    pub text: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct PickTemplate {
    pub id: String,
    pub name: String,
    pub language: String,
    pub body: String,
    /// 1..=n, one input each.
    pub variables: Vec<usize>,
}

/// Approved templates of the conversation's channel (one whose provider has templates), each
/// its own small form.
#[derive(Clone, Debug, Serialize)]
pub struct TemplatePicker {
    pub action: String,
    pub templates: Vec<PickTemplate>,
}

/// The window line (direct chats on a channel with a service window) and, for staff who may
/// reply on a channel with templates, the template picker.
pub async fn panel(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
) -> Result<(Option<WindowView>, Option<TemplatePicker>), PageError> {
    if conv.kind != "direct" {
        return Ok((None, None));
    }
    let clinic = staff.clinic.clinic_id();
    let channel_id = ChannelId::from_db(conv.channel_id.clone());
    let mut conn = conn(state).await?;
    let Some(channel) = channels::by_id(&mut conn, &clinic, &channel_id).await? else {
        return Ok((None, None));
    };
    let Some(kind) =
        ChannelKind::parse(&channel.kind).filter(|k| k.rules().service_window_ms.is_some())
    else {
        return Ok((None, None));
    };
    let ident = patients::identity(&mut conn, &channel_id, &conv.thread_key)
        .await?
        .filter(|i| i.clinic_id == staff.clinic.id);
    let now = state.now_ms();
    let window = ident.map(|mut i| {
        // The same fallback the send check uses: the conversation's time when the identity has none.
        i.last_inbound_at = i.last_inbound_at.or(conv.last_inbound_at);
        let r = reachability::describe(kind, &i, now);
        let open = r.window_open.unwrap_or(false);
        let staff_window = kind.rules().human_agent_window_ms.is_some();
        let text = match (open, r.window_closes_at) {
            (true, Some(closes)) => {
                let hours = ((closes - now) + HOUR_MS - 1) / HOUR_MS;
                i18n::text(staff.lang, "conv.window.open").replace("{hours}", &hours.to_string())
            }
            // A person may still answer for a while (Messenger's HUMAN_AGENT).
            _ if staff_window => i18n::text(staff.lang, "conv.window.closed_staff_reply"),
            _ => i18n::text(staff.lang, "conv.window.closed"),
        };
        WindowView { open, text }
    });
    if !kind.rules().templates || !staff.can(Permission::Reply) {
        return Ok((window, None));
    }
    let rows = templates::list_by_channel(&mut conn, &clinic, &channel_id).await?;
    let approved = rows
        .into_iter()
        .filter(|t| t.status == "approved")
        .map(|t| PickTemplate {
            variables: (1..=usize::try_from(t.variables).unwrap_or(0)).collect(),
            id: t.id,
            name: t.name,
            language: t.language,
            body: t.body,
        })
        .collect();
    let picker = TemplatePicker {
        action: format!("/app/conversations/{}/template", conv.id),
        templates: approved,
    };
    Ok((window, Some(picker)))
}

/// `POST /app/conversations/{id}/template`: `template_id`, then `param` once per variable in
/// order, and `view` (the list tab to return to).
pub async fn send(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let view = Tab::parse(field("view")).map(Tab::as_str);
    let params: Vec<String> = form
        .iter()
        .filter(|(n, _)| n == "param")
        .map(|(_, v)| v.clone())
        .collect();
    let template_id = field("template_id").unwrap_or("");
    let mut c = conn(&state).await?;
    let found = templates::by_id(&mut c, &staff.clinic.clinic_id(), template_id).await?;
    drop(c);
    let content = match found {
        Some(t) => crate::api::templates::outgoing(&t, &conv.channel_id, params),
        None => Err(Refusal::new(Code::TemplateInvalid).detail("no such template")),
    };
    let outcome = match content {
        Ok(content) => {
            let author = Author::Staff(staff.staff_id.as_str());
            let (clinic, basis) = (staff.clinic.clinic_id(), SendBasis::ReplyToPatient);
            queue_outgoing(
                &state.db,
                &clinic,
                &conv,
                author,
                content,
                basis,
                state.now_ms(),
            )
            .await?
        }
        Err(why) => ReplyOutcome::Refused(why),
    };
    match outcome {
        ReplyOutcome::Queued(msg) => {
            let ids = [msg.id.as_str(), conv.id.as_str(), template_id];
            audit_event(&state, &staff, &ip, "message.template", "message", &ids).await?;
            state.live.publish(LiveEvent {
                clinic_id: staff.clinic.id.clone(),
                conversation_id: conv.id.clone(),
                kind: "message.created",
            });
            Ok(Redirect::to(&conversation::back_to(&conv.id, view)).into_response())
        }
        ReplyOutcome::Refused(why) => {
            let notices = Notices {
                error: Some(i18n::refusal(staff.lang, &why)),
                ..Notices::default()
            };
            let q = ConvQuery {
                view: view.map(str::to_string),
                before: None,
            };
            let html = conversation::show(&state, &staff, &ip, conv, q, notices, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}
