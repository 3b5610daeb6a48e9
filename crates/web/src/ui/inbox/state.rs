//! The state bar of a conversation: 解決済みにする, 保留, スヌーズ (1 hour, tomorrow 9:00, the
//! clinic's next opening, or a chosen clinic-local time), 再開, the priority and the labels.
//! Each form posts here, goes through `inbox::state` (system line, audit) and is published live.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::{Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use tsunagu_core::{ConversationId, ConversationStatus, Permission, Priority};
use tsunagu_inbox::state::{self, By, Change};
use tsunagu_inbox::LiveEvent;
use tsunagu_store::conversations::Conversation;
use tsunagu_store::labels::{self, Label};

use super::conn;
use super::conversation;
use super::list::Tab;
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Clone, Debug, Serialize)]
pub struct Option_ {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// What the conversation page shows of the state.
#[derive(Clone, Debug, Serialize)]
pub struct StateView {
    pub status: &'static str,
    pub status_label: String,
    /// While snoozed: until when, clinic-local.
    pub snoozed_until: Option<String>,
    pub priority: &'static str,
    pub priorities: Vec<Option_>,
    pub labels: Vec<Label>,
    /// The clinic's labels not on the conversation yet.
    pub addable: Vec<Label>,
    pub status_action: String,
    pub priority_action: String,
    pub labels_action: String,
    /// The earliest time the chosen-time picker accepts (clinic-local, `datetime-local`).
    pub min_at: String,
    /// When each quick snooze would end, clinic-local (`None`: not possible, e.g. no opening).
    pub snooze_hour: Option<String>,
    pub snooze_tomorrow: Option<String>,
    pub snooze_opening: Option<String>,
}

pub async fn view(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
) -> Result<StateView, PageError> {
    let lang = staff.lang;
    let now = state.now_ms();
    let tz = zone(staff);
    let status = ConversationStatus::effective(&conv.status, conv.snoozed_until, now);
    let priority = Priority::from_i64(conv.priority);
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let on = labels::of_conversations(&mut c, &clinic, &[conv.id.as_str()])
        .await?
        .remove(&conv.id)
        .unwrap_or_default();
    let addable = labels::list(&mut c, &clinic)
        .await?
        .into_iter()
        .filter(|l| !on.iter().any(|o| o.id == l.id))
        .collect();
    let local = |ms: i64| {
        tz.timestamp_millis_opt(ms)
            .single()
            .map(|t| t.naive_local())
    };
    drop(c);
    let ends = |ms: Option<i64>| {
        ms.and_then(local)
            .map(|t| t.format("%m/%d %H:%M").to_string())
    };
    let snooze_hour = ends(snooze_until(state, staff, "hour", None).await?);
    let snooze_tomorrow = ends(snooze_until(state, staff, "tomorrow", None).await?);
    let snooze_opening = ends(snooze_until(state, staff, "opening", None).await?);
    Ok(StateView {
        snooze_hour,
        snooze_tomorrow,
        snooze_opening,
        status: status.as_str(),
        status_label: i18n::text(lang, &format!("state.{}", status.as_str())),
        snoozed_until: (status == ConversationStatus::Snoozed)
            .then_some(conv.snoozed_until)
            .flatten()
            .and_then(local)
            .map(|t| t.format("%m/%d %H:%M").to_string()),
        priority: priority.as_str(),
        priorities: Priority::ALL
            .iter()
            .map(|p| Option_ {
                value: p.as_str().into(),
                label: i18n::text(lang, &format!("priority.{}", p.as_str())),
                selected: *p == priority,
            })
            .collect(),
        labels: on,
        addable,
        status_action: format!("/app/conversations/{}/status", conv.id),
        priority_action: format!("/app/conversations/{}/priority", conv.id),
        labels_action: format!("/app/conversations/{}/labels", conv.id),
        min_at: local(now)
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
    })
}

fn zone(staff: &Staff) -> Tz {
    staff
        .clinic
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo)
}

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

/// When a snooze picked as `how` ends, or `None` if it cannot (a time in the past, a clinic
/// with no opening ahead).
async fn snooze_until(
    state: &AppState,
    staff: &Staff,
    how: &str,
    at: Option<&str>,
) -> Result<Option<i64>, PageError> {
    let now = state.now_ms();
    let tz = zone(staff);
    let now_local = Utc
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.with_timezone(&tz));
    let Some(now_local) = now_local else {
        return Ok(None);
    };
    let local_ms = |t: NaiveDateTime| {
        tz.from_local_datetime(&t)
            .earliest()
            .map(|t| t.timestamp_millis())
    };
    let until = match how {
        "hour" => Some(now + 3_600_000),
        "tomorrow" => (now_local.date_naive() + Duration::days(1))
            .and_hms_opt(9, 0, 0)
            .and_then(local_ms),
        "opening" => {
            let mut c = conn(state).await?;
            let cal = tsunagu_calendar::store::load(&mut c, &staff.clinic.clinic_id()).await?;
            // Open now: the opening after this one, so the snooze means something.
            cal.and_then(|cal| {
                let s = &cal.schedule;
                let from = Utc.timestamp_millis_opt(now).single()?;
                let from = s.current_interval_end(from).unwrap_or(from);
                s.next_opening(from).map(|t| t.timestamp_millis())
            })
        }
        "at" => at
            .and_then(|a| NaiveDateTime::parse_from_str(a, "%Y-%m-%dT%H:%M").ok())
            .and_then(local_ms),
        _ => None,
    };
    Ok(until.filter(|u| *u > now))
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
