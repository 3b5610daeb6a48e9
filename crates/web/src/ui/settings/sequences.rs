//! `/app/settings/sequences`: step sequences (ステップ配信). The list with each sequence's
//! counts (配信中, 完了, 停止), a page per sequence with its form and its enrollments (state and
//! reason in Japanese; staff may stop one), create, change, turn on or off. Every change is
//! audited in its transaction.
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_automation::sequences::{enrollments, store, StopReason, Trigger};
use tsunagu_core::Permission;

use super::audit_change;
use super::sequence_form::{Fields, PURPOSES};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::ui::{conn, render};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/sequences";
/// Enrollments shown on a sequence's page, newest first.
const ENROLLMENTS_SHOWN: i64 = 200;

#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub saved: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct EnabledForm {
    #[serde(default)]
    pub enabled: String,
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct Item {
    id: String,
    name: String,
    purpose: String,
    trigger: String,
    steps: usize,
    enabled: bool,
    active: i64,
    completed: i64,
    stopped: i64,
}

#[derive(Serialize)]
struct EnrollmentItem {
    id: String,
    patient_id: String,
    patient: String,
    state: String,
    active: bool,
    reason: Option<String>,
    step: String,
    enrolled: String,
    due: Option<String>,
}

/// An instant on the clinic's clocks.
fn local(staff: &Staff, ms: i64) -> String {
    let tz: chrono_tz::Tz = staff
        .clinic
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo);
    tsunagu_core::clock::from_ms(ms)
        .with_timezone(&tz)
        .format("%Y/%m/%d %H:%M")
        .to_string()
}

fn notice(lang: &str, saved: Option<String>) -> Option<String> {
    const KEYS: [&str; 5] = ["created", "updated", "enabled", "disabled", "stopped"];
    saved
        .filter(|k| KEYS.contains(&k.as_str()))
        .map(|k| text(lang, &format!("drips.saved.{k}")))
}

pub async fn list(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let rows = store::list(&mut c, &clinic).await?;
    let channels = tsunagu_store::channels::list(&mut c, &clinic).await?;
    drop(c);
    let trigger = |s: &store::Sequence| match &s.trigger {
        Trigger::FriendAdded { channel_id } => {
            let ch = channel_id
                .as_ref()
                .and_then(|id| channels.iter().find(|c| &c.id == id))
                .map(|c| c.name.clone())
                .unwrap_or_else(|| text(lang, "drips.any_channel"));
            format!("{}（{ch}）", text(lang, "drips.trigger.friend_added"))
        }
        Trigger::TagAdded { tag } => {
            format!("{}「{tag}」", text(lang, "drips.trigger.tag_added"))
        }
        Trigger::FieldSet { value, .. } => {
            format!("{}「{value}」", text(lang, "drips.trigger.field_set"))
        }
    };
    let items: Vec<Item> = rows
        .iter()
        .map(|l| Item {
            id: l.sequence.id.clone(),
            name: l.sequence.name.clone(),
            purpose: l.sequence.purpose.label(lang).to_string(),
            trigger: trigger(&l.sequence),
            steps: l.sequence.steps.len(),
            enabled: l.sequence.enabled,
            active: l.active,
            completed: l.completed,
            stopped: l.stopped,
        })
        .collect();
    let ctx = minijinja::context! {
        lang, shell => shell(&state, &staff, "settings").await?, title => text(lang, "drips.title"),
        csrf_token => &staff.csrf_token, sequences => items, notice => notice(lang, q.saved),
    };
    render(&state, "settings/sequences.html", ctx)
}

/// The form page: a new sequence (`id` None) or one with its enrollments.
async fn edit_page(
    state: &AppState,
    staff: &Staff,
    id: Option<&str>,
    fields: Fields,
    error: Option<String>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let channels: Vec<Choice> = tsunagu_store::channels::list(&mut c, &clinic)
        .await?
        .into_iter()
        .map(|ch| Choice {
            value: ch.id,
            label: ch.name,
        })
        .collect();
    let fields_list: Vec<Choice> = tsunagu_contacts::fields::list(&mut c, &clinic)
        .await?
        .into_iter()
        .map(|f| Choice {
            value: f.id,
            label: if lang == "ja" { f.label_ja } else { f.label_en },
        })
        .collect();
    let rows = match id {
        Some(id) => enrollments::list(&mut c, &clinic, id, ENROLLMENTS_SHOWN).await?,
        None => Vec::new(),
    };
    drop(c);
    let total_steps = fields.steps.iter().filter(|s| !s.body.is_empty()).count();
    let items: Vec<EnrollmentItem> = rows
        .into_iter()
        .map(|l| {
            let e = l.enrollment;
            let reason = e
                .stop_reason
                .as_deref()
                .and_then(StopReason::parse)
                .map(|r| text(lang, &format!("drips.reason.{}", r.code())));
            EnrollmentItem {
                patient: l
                    .patient_name
                    .unwrap_or_else(|| text(lang, "drips.patient_gone")),
                patient_id: e.patient_id,
                state: text(lang, &format!("drips.state.{}", e.state)),
                active: e.state == "active",
                reason,
                step: format!("{} / {total_steps}", e.next_step),
                enrolled: local(staff, e.enrolled_at),
                due: e
                    .due_at
                    .filter(|_| e.state == "active")
                    .map(|d| local(staff, d)),
                id: e.id,
            }
        })
        .collect();
    let purposes: Vec<Choice> = PURPOSES
        .iter()
        .map(|p| Choice {
            value: p.code().into(),
            label: p.label(lang).into(),
        })
        .collect();
    let title = match id {
        Some(_) => fields.name.clone(),
        None => text(lang, "drips.new"),
    };
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title,
        csrf_token => &staff.csrf_token, id, form => fields, channels, fields_list => fields_list,
        purposes, enrollments => items, error, notice,
    };
    render(state, "settings/sequence_edit.html", ctx)
}

pub async fn new_page(
    State(state): State<AppState>,
    staff: Staff,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    edit_page(&state, &staff, None, Fields::blank(), None, None).await
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let mut c = conn(&state).await?;
    let seq = store::get(&mut c, &staff.clinic.clinic_id(), &id).await?;
    drop(c);
    let seq = seq.ok_or_else(PageError::not_found)?;
    let n = notice(staff.lang, q.saved);
    edit_page(&state, &staff, Some(&id), Fields::of(&seq), None, n).await
}

fn refused(lang: &str, key: &str) -> String {
    text(lang, &format!("drips.invalid.{key}"))
}

/// The form as a draft, its channel and custom field checked to be the clinic's own.
async fn checked(
    state: &AppState,
    staff: &Staff,
    fields: &Fields,
) -> Result<Result<store::Draft, String>, PageError> {
    let draft = match fields.draft() {
        Ok(d) => d,
        Err(e) => return Ok(Err(refused(staff.lang, e.key()))),
    };
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let ours = store::trigger_is_ours(&mut c, &clinic, &draft.trigger).await?;
    Ok(if ours {
        Ok(draft)
    } else {
        Err(refused(staff.lang, "trigger"))
    })
}

pub async fn create(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let fields = Fields::read(&form);
    let draft = match checked(&state, &staff, &fields).await? {
        Ok(d) => d,
        Err(err) => {
            let fields = fields.with_spare_rows();
            let html = edit_page(&state, &staff, None, fields, Some(err), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let id = store::create(tx.conn(), &clinic, &draft, state.now_ms()).await?;
    let subject = ("sequence", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "sequence.create", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}/{id}?saved=created")).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<HashMap<String, String>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let found = store::get(&mut c, &clinic, &id).await?;
    drop(c);
    found.ok_or_else(PageError::not_found)?;
    let fields = Fields::read(&form);
    let draft = match checked(&state, &staff, &fields).await? {
        Ok(d) => d,
        Err(err) => {
            let fields = fields.with_spare_rows();
            let html = edit_page(&state, &staff, Some(&id), fields, Some(err), None).await?;
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response());
        }
    };
    let mut tx = state.db.begin().await?;
    if !store::update(tx.conn(), &clinic, &id, &draft, state.now_ms()).await? {
        return Err(PageError::not_found());
    }
    let subject = ("sequence", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "sequence.update", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}/{id}?saved=updated")).into_response())
}

pub async fn set_enabled(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<EnabledForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let on = form.enabled == "1";
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !store::set_enabled(tx.conn(), &clinic, &id, on, state.now_ms()).await? {
        return Err(PageError::not_found());
    }
    let action = if on {
        "sequence.enable"
    } else {
        "sequence.disable"
    };
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        action,
        ("sequence", &[id.as_str()]),
    )
    .await?;
    tx.commit().await?;
    let saved = if on { "enabled" } else { "disabled" };
    Ok(Redirect::to(&format!("{PAGE}?saved={saved}")).into_response())
}

/// Staff stop one patient's enrollment (`staff`); its pending step then sends nothing.
pub async fn stop(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path((id, enrollment)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let found = enrollments::get(tx.conn(), &clinic, &enrollment).await?;
    if found.is_none_or(|e| e.sequence_id != id) {
        return Err(PageError::not_found());
    }
    let now = state.now_ms();
    if !enrollments::stop(tx.conn(), &clinic, &enrollment, StopReason::Staff, now).await? {
        // Already finished or stopped: nothing to do, nothing to audit.
        return Ok(Redirect::to(&format!("{PAGE}/{id}")).into_response());
    }
    let subject = ("sequence_enrollment", &[enrollment.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "sequence.enrollment_stop",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}/{id}?saved=stopped")).into_response())
}
