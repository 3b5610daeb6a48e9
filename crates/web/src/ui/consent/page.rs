//! `GET /app/patients/{id}/consent`: the current consent as a purpose × channel table of badges,
//! the ledger history in the clinic's time zone, and the two forms.
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tsunagu_accounts::staff as accounts;
use tsunagu_core::{PatientId, Permission};
use tsunagu_privacy::audit::{self, AuditEntry};
use tsunagu_privacy::consent::{self, ConsentEvent, Purpose, Status};
use tsunagu_store::{channels, patients};

use super::forms::{EntryForm, SendForm};
use super::render;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

#[derive(Deserialize)]
pub struct PageQuery {
    /// `recorded` or `sent`: what the form before the redirect did.
    done: Option<String>,
}

/// What a form re-render adds: the error and the values as submitted.
#[derive(Default, Serialize)]
pub struct Notices {
    pub done: Option<String>,
    pub entry_error: Option<String>,
    pub send_error: Option<String>,
    pub entry: EntryForm,
    pub send: SendForm,
}

#[derive(Serialize)]
struct Column {
    id: String,
    name: String,
}

#[derive(Serialize)]
struct Cell {
    status: &'static str,
    label: String,
    inherited: bool,
}

#[derive(Serialize)]
struct Row {
    purpose: String,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct Line {
    at: String,
    purpose: String,
    channel: String,
    granted: bool,
    source: String,
    wording: String,
    reason: Option<String>,
    actor: String,
}

#[derive(Serialize)]
struct Choice {
    code: &'static str,
    label: String,
}

pub async fn show(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    let done = q.done.filter(|d| d == "recorded" || d == "sent");
    let notices = Notices {
        done,
        ..Notices::default()
    };
    render_page(&state, &staff, &ip, &id, notices).await
}

/// The page with the forms as submitted and why they were refused (422).
pub async fn refused(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &str,
    n: Notices,
) -> Result<Response, PageError> {
    let html = render_page(state, staff, ip, id, n).await?;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
}

fn status_code(s: Status) -> &'static str {
    match s {
        Status::Granted => "granted",
        Status::Withdrawn => "withdrawn",
        Status::Implicit => "implicit",
        Status::Unset => "unset",
    }
}

pub async fn render_page(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &str,
    n: Notices,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadPatients)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let patient_id = PatientId::parse(id).map_err(|_| PageError::not_found())?;
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let patient = patients::by_id(&mut conn, &clinic, &patient_id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let current = consent::current(&mut conn, &clinic, &patient_id).await?;
    let history = consent::history(&mut conn, &clinic, &patient_id).await?;
    let names: HashMap<String, String> = channels::list(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let staff_ids: Vec<String> = history
        .iter()
        .filter(|e| e.actor_kind == "staff")
        .filter_map(|e| e.actor_id.clone())
        .collect();
    let staff_names = accounts::display_names(&mut conn, &staff_ids).await?;
    drop(conn);

    let mut columns = vec![Column {
        id: String::new(),
        name: text(lang, "consent.all_channels"),
    }];
    for s in &current {
        if let Some(ch) = &s.channel_id {
            if !columns.iter().any(|c| &c.id == ch) {
                columns.push(Column {
                    id: ch.clone(),
                    name: names.get(ch).cloned().unwrap_or_else(|| ch.clone()),
                });
            }
        }
    }
    let rows = Purpose::ALL
        .iter()
        .map(|p| Row {
            purpose: text(lang, &format!("consent.purpose.{}", p.code())),
            cells: columns
                .iter()
                .filter_map(|col| {
                    let ch = (!col.id.is_empty()).then_some(col.id.as_str());
                    current
                        .iter()
                        .find(|s| s.purpose == *p && s.channel_id.as_deref() == ch)
                })
                .map(|s| Cell {
                    status: status_code(s.status),
                    label: text(lang, &format!("consent.status.{}", status_code(s.status))),
                    inherited: s.inherited,
                })
                .collect(),
        })
        .collect::<Vec<_>>();
    let tz: chrono_tz::Tz = staff.clinic.timezone.parse().unwrap_or(chrono_tz::UTC);
    let lines: Vec<Line> = history
        .iter()
        .rev()
        .map(|e| line(e, lang, &tz, &names, &staff_names))
        .collect();
    let purposes: Vec<Choice> = Purpose::ALL
        .iter()
        .map(|p| Choice {
            code: p.code(),
            label: text(lang, &format!("consent.purpose.{}", p.code())),
        })
        .collect();
    // The send form offers only what this person may send (a broadcaster: no care messages).
    let may_send = |p: &Purpose| p.sent_with().iter().any(|perm| staff.can(*perm));
    let send_purposes: Vec<&Choice> = Purpose::ALL
        .iter()
        .zip(&purposes)
        .filter(|(p, _)| may_send(p))
        .map(|(_, c)| c)
        .collect();
    let channel_choices: Vec<&Column> = columns.iter().skip(1).collect();

    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let entry = AuditEntry {
        clinic_id: Some(&clinic),
        actor: &actor,
        action: "consent.read",
        subject_type: Some("patient"),
        subject_ids: &[patient_id.as_str()],
        source_ip: source_ip.as_deref(),
    };
    audit::record_now(&state.db, entry, state.now_ms()).await?;

    let title = format!("{} | {}", patient.display_name, text(lang, "consent.title"));
    render(
        state,
        "consent/page.html",
        minijinja::context! {
            lang, title, shell => shell(state, staff, "patients").await?,
            patient_id => patient.id, patient_name => tsunagu_contacts::phone::display_name(&patient.display_name),
            columns, rows, lines, purposes, send_purposes, channels => channel_choices, timezone => &staff.clinic.timezone,
            csrf_token => &staff.csrf_token,
            can_record => staff.can(Permission::Reply),
            can_send => !send_purposes.is_empty(),
            n,
        },
    )
}

fn line(
    e: &ConsentEvent,
    lang: &str,
    tz: &chrono_tz::Tz,
    channels: &HashMap<String, String>,
    staff: &HashMap<String, String>,
) -> Line {
    let at = tsunagu_core::clock::from_ms(e.at)
        .with_timezone(tz)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let id = e.actor_id.clone().unwrap_or_default();
    let actor = match e.actor_kind.as_str() {
        "staff" => staff.get(&id).cloned().unwrap_or(id),
        "token" => format!("{} {id}", text(lang, "consent.actor.token")),
        "patient" => text(lang, "consent.actor.patient"),
        _ => text(lang, "consent.actor.system"),
    };
    let channel = match &e.channel_id {
        Some(ch) => channels.get(ch).cloned().unwrap_or_else(|| ch.clone()),
        None => text(lang, "consent.all_channels"),
    };
    Line {
        at,
        purpose: text(lang, &format!("consent.purpose.{}", e.purpose)),
        channel,
        granted: e.granted != 0,
        source: text(lang, &format!("consent.source.{}", e.source)),
        wording: e.wording.clone(),
        reason: e.reason.clone(),
        actor,
    }
}
