//! 予約送信 on a conversation: staff write a reply, or a message for a consent purpose, to leave
//! at a clinic-local date and time; it is listed until it leaves, editable and cancellable, and
//! a refusal at its time stays listed with the reason (`tsunagu_inbox::scheduled`).
//! `POST /app/conversations/{id}/scheduled` (new), `…/scheduled/{sid}` (change),
//! `…/scheduled/{sid}/cancel`.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::{Code, ConversationId, Permission, Refusal};
use tsunagu_inbox::scheduled::{self, Draft, Scheduled};
use tsunagu_inbox::LiveEvent;
use tsunagu_privacy::consent::Purpose;
use tsunagu_store::conversations::Conversation;

use super::conversation::{self, ConvQuery, Notices};
use super::list::Tab;
use super::view::Zone;
use super::{audit_event, conn};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// How many are listed on the conversation (those still to leave first).
const SHOWN: i64 = 20;

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Clone, Debug, Default, Deserialize, Serialize)]
pub struct ScheduleForm {
    #[serde(default)]
    pub text: String,
    /// `YYYY-MM-DD` and `HH:MM`, clinic-local.
    #[serde(default)]
    pub date: String,
    #[serde(default)]
    pub time: String,
    /// A consent purpose's code; empty: a reply.
    #[serde(default)]
    pub purpose: String,
    #[serde(default)]
    pub view: Option<String>,
}

/// A refused form, shown again where it was typed (`target`: the message being changed).
#[derive(Clone, Debug, Serialize)]
pub struct Refused {
    pub target: Option<String>,
    pub form: ScheduleForm,
    pub error: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Item {
    pub id: String,
    pub text: String,
    pub when: String,
    /// scheduled | sending | sent | refused | cancelled
    pub state: String,
    pub state_label: String,
    pub reason: Option<String>,
    pub purpose_label: String,
    pub editable: bool,
    pub edit_action: String,
    pub cancel_action: String,
    /// The form's values: the message as it is, or as typed when a change was refused.
    pub form: ScheduleForm,
    pub error: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Panel {
    pub action: String,
    pub items: Vec<Item>,
    pub pending: usize,
    pub purposes: Vec<(String, String)>,
    pub form: ScheduleForm,
    pub error: Option<String>,
    /// The earliest date the picker offers (today, clinic-local).
    pub today: String,
}

fn purposes(lang: &str, staff: &Staff) -> Vec<(String, String)> {
    Purpose::ALL
        .iter()
        .filter(|p| p.sent_with().iter().any(|perm| staff.can(*perm)))
        .map(|p| (p.code().to_owned(), p.label(lang).to_owned()))
        .collect()
}

fn item(lang: &str, zone: Zone, conv: &str, s: Scheduled, refused: Option<&Refused>) -> Item {
    let mine = refused.filter(|r| r.target.as_deref() == Some(s.id.as_str()));
    let (date, time) = zone.date_time(s.send_at);
    let purpose = s.purpose.as_deref().and_then(Purpose::parse);
    let form = mine.map(|r| r.form.clone()).unwrap_or(ScheduleForm {
        text: s.body.clone(),
        date,
        time,
        purpose: s.purpose.clone().unwrap_or_default(),
        view: None,
    });
    let reason = s
        .refusal_code
        .as_deref()
        .and_then(Code::parse)
        .map(|c| i18n::refusal(lang, &Refusal::new(c)));
    let base = format!("/app/conversations/{conv}/scheduled/{}", s.id);
    Item {
        when: zone.long_label(lang, s.send_at),
        state_label: i18n::text(lang, &format!("scheduled.state.{}", s.state)),
        purpose_label: match purpose {
            Some(p) => p.label(lang).to_owned(),
            None => i18n::text(lang, "scheduled.as_reply"),
        },
        editable: s.state == "scheduled",
        cancel_action: format!("{base}/cancel"),
        edit_action: base,
        error: mine.map(|r| r.error.clone()),
        form,
        reason,
        text: s.body,
        state: s.state,
        id: s.id,
    }
}

/// The panel beside the reply box; `None` for staff who may not reply.
pub async fn panel(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
    zone: Zone,
    refused: Option<Refused>,
) -> Result<Option<Panel>, PageError> {
    if !staff.can(Permission::Reply) {
        return Ok(None);
    }
    let lang = staff.lang;
    let mut c = conn(state).await?;
    let id = ConversationId::from_db(conv.id.clone());
    let rows = scheduled::list(&mut c, &staff.clinic.clinic_id(), &id, SHOWN).await?;
    let items: Vec<Item> = rows
        .into_iter()
        .map(|s| item(lang, zone, &conv.id, s, refused.as_ref()))
        .collect();
    let new = refused.filter(|r| r.target.is_none());
    Ok(Some(Panel {
        action: format!("/app/conversations/{}/scheduled", conv.id),
        pending: items.iter().filter(|i| i.editable).count(),
        items,
        purposes: purposes(lang, staff),
        form: new.as_ref().map(|r| r.form.clone()).unwrap_or_default(),
        error: new.map(|r| r.error),
        today: zone.date_time(state.now_ms()).0,
    }))
}

/// The form read into a draft, or why not.
fn draft<'a>(staff: &Staff, zone: Zone, f: &'a ScheduleForm) -> Result<Draft<'a>, Refusal> {
    let purpose = match f.purpose.trim() {
        "" => None,
        code => {
            let p = Purpose::parse(code).ok_or_else(|| Refusal::new(Code::InvalidRequest))?;
            // As for a message sent now: a broadcaster never sends care messages.
            if !p.sent_with().iter().any(|perm| staff.can(*perm)) {
                return Err(Refusal::new(Code::PurposeNotAllowed));
            }
            Some(p)
        }
    };
    let send_at = zone
        .parse_local(f.date.trim(), f.time.trim())
        .ok_or_else(|| Refusal::new(Code::InvalidScheduleTime))?;
    Ok(Draft {
        body: &f.text,
        purpose,
        send_at,
    })
}

async fn refuse(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    conv: Conversation,
    refused: Refused,
) -> Result<Response, PageError> {
    let q = ConvQuery {
        view: refused.form.view.clone(),
        before: None,
    };
    let notices = Notices {
        scheduled: Some(refused),
        ..Notices::default()
    };
    let html = conversation::show(state, staff, ip, conv, q, notices, false).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

async fn done(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    conv: &Conversation,
    action: &str,
    id: &str,
    view: Option<&str>,
) -> Result<Response, PageError> {
    audit_event(
        state,
        staff,
        ip,
        action,
        "conversation",
        &[conv.id.as_str(), id],
    )
    .await?;
    state.live.publish(LiveEvent {
        clinic_id: staff.clinic.id.clone(),
        conversation_id: conv.id.clone(),
        kind: "conversation.updated",
    });
    let view = Tab::parse(view).map(Tab::as_str);
    Ok(Redirect::to(&conversation::back_to(&conv.id, view)).into_response())
}

pub async fn create(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let zone = Zone::of(&staff.clinic);
    let clinic = staff.clinic.clinic_id();
    let conv_id = ConversationId::from_db(conv.id.clone());
    let outcome = match draft(&staff, zone, &form) {
        Ok(d) => {
            let who = Some(staff.staff_id.as_str());
            scheduled::schedule(&state.db, &clinic, &conv_id, who, d, state.now_ms()).await?
        }
        Err(r) => Err(r),
    };
    match outcome {
        Ok(sid) => {
            let view = form.view.as_deref();
            done(&state, &staff, &ip, &conv, "message.schedule", &sid, view).await
        }
        Err(why) => {
            let error = i18n::refusal(staff.lang, &why);
            let refused = Refused {
                target: None,
                form,
                error,
            };
            refuse(&state, &staff, &ip, conv, refused).await
        }
    }
}

pub async fn edit(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<ScheduleForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let zone = Zone::of(&staff.clinic);
    let clinic = staff.clinic.clinic_id();
    let conv_id = ConversationId::from_db(conv.id.clone());
    let outcome = match draft(&staff, zone, &form) {
        Ok(d) => scheduled::edit(&state.db, &clinic, &conv_id, &sid, d, state.now_ms()).await?,
        Err(r) => {
            // Still 404 for a message that is not this conversation's.
            let mut c = conn(&state).await?;
            let found = scheduled::find(&mut c, &clinic, &conv_id, &sid).await?;
            found.map(|_| Err(r))
        }
    };
    match outcome.ok_or_else(PageError::not_found)? {
        Ok(()) => {
            let view = form.view.as_deref();
            done(
                &state,
                &staff,
                &ip,
                &conv,
                "message.schedule_change",
                &sid,
                view,
            )
            .await
        }
        Err(why) => {
            let error = i18n::refusal(staff.lang, &why);
            let refused = Refused {
                target: Some(sid),
                form,
                error,
            };
            refuse(&state, &staff, &ip, conv, refused).await
        }
    }
}

#[derive(Debug, Deserialize)]
pub struct CancelForm {
    #[serde(default)]
    pub view: Option<String>,
}

pub async fn cancel(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path((id, sid)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<CancelForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let conv_id = ConversationId::from_db(conv.id.clone());
    let outcome = scheduled::cancel(&state.db, &clinic, &conv_id, &sid, state.now_ms()).await?;
    match outcome.ok_or_else(PageError::not_found)? {
        Ok(()) => {
            let view = form.view.as_deref();
            done(
                &state,
                &staff,
                &ip,
                &conv,
                "message.schedule_cancel",
                &sid,
                view,
            )
            .await
        }
        Err(why) => {
            let notices = Notices {
                error: Some(i18n::refusal(staff.lang, &why)),
                ..Notices::default()
            };
            let q = ConvQuery {
                view: form.view,
                before: None,
            };
            let html = conversation::show(&state, &staff, &ip, conv, q, notices, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}
