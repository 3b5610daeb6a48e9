//! `GET /app/patients/{id}`: the record, its channel identities with follow state and
//! verification, its conversations, links to consent and identity verification, and (for
//! staff who may reply) the edit form. `POST` saves the form.
use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_channels::ChannelKind;
use tsunagu_contacts::fields;
use tsunagu_contacts::patients::{self as records, PatientError, PatientRecord};
use tsunagu_contacts::{BirthDate, PhoneE164};
use tsunagu_core::{PatientId, Permission};
use tsunagu_inbox::reachability;
use tsunagu_store::{channels, flag, patients};

use super::form::{input_of, FormView};
use super::{audit_change, audit_read, conn, local_time, render, today};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Deserialize)]
pub struct ShowQuery {
    /// `created` or `saved`: what the form before the redirect did.
    done: Option<String>,
}

#[derive(Serialize)]
struct Fact {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct IdentityView {
    channel: String,
    /// "LINE", "WhatsApp", "SMS (Twilio)", …
    kind_label: String,
    name: String,
    follow_state: String,
    verified: bool,
    /// following | blocked | opted_out | bounced | unknown
    reach: &'static str,
    reach_label: String,
    opted_out_at: Option<String>,
    opt_out_source: Option<String>,
    bounce_reason: Option<String>,
    /// WhatsApp and Messenger: whether the 24-hour window is open, and until when.
    window_open: Option<bool>,
    window_until: Option<String>,
}

#[derive(Serialize)]
struct ConversationView {
    href: String,
    channel: String,
    status: String,
    last_at: String,
}

/// A state in the provider's own words where the catalog has them
/// (`patients.reach.<kind>.<state>`: LINE says 友だち for a follower), else the same on every
/// channel.
fn reach_label(lang: &str, kind: Option<&str>, state: &str) -> String {
    if let Some(kind) = kind {
        let key = format!("patients.reach.{kind}.{state}");
        let words = text(lang, &key);
        if words != key {
            return words;
        }
    }
    text(lang, &format!("patients.reach.{state}"))
}

fn facts(lang: &str, r: &PatientRecord) -> Vec<Fact> {
    let p = &r.patient;
    let birth = p
        .birth_date
        .as_deref()
        .and_then(|d| BirthDate::parse(d).ok())
        .map(|d| {
            if lang == "ja" {
                format!("{}（{}）", d.iso(), d.wareki())
            } else {
                d.iso()
            }
        });
    let channel = p
        .preferred_channel
        .as_ref()
        .map(|c| text(lang, &format!("patients.channel.{c}")));
    let rows = [
        ("kana", p.kana.clone()),
        ("birth_date", birth),
        ("sex", Some(text(lang, &format!("patients.sex.{}", p.sex)))),
        (
            "phone",
            p.phone.clone().map(|ph| PhoneE164::from_db(ph).display()),
        ),
        ("email", p.email.clone()),
        ("card_number", p.card_number.clone()),
        (
            "language",
            p.language
                .as_deref()
                .map(|c| super::form::language_name(lang, c)),
        ),
        ("preferred_channel", channel),
        ("note", p.note.clone()),
    ];
    let mut out: Vec<Fact> = rows
        .into_iter()
        .map(|(k, v)| Fact {
            label: text(lang, &format!("patients.field.{k}")),
            value: v.unwrap_or_default(),
        })
        .collect();
    for f in &r.fields {
        out.push(Fact {
            label: f.field.label(lang).to_string(),
            value: f.value.clone().unwrap_or_default(),
        });
    }
    out
}

async fn show(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &PatientId,
    form: Option<FormView>,
    done: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut conn = conn(state).await?;
    let record = records::get(&mut conn, &clinic, id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let idents = patients::identities_of(&mut conn, &clinic, id).await?;
    let convs = records::conversations_of(&mut conn, &clinic, id).await?;
    let chans: HashMap<String, (String, String)> = channels::list(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|c| (c.id, (c.kind, c.name)))
        .collect();
    let defs = fields::list(&mut conn, &clinic).await?;
    drop(conn);
    audit_read(state, staff, ip, "patient.read", &[id.as_str()]).await?;

    let channel_label = |cid: &str| {
        chans
            .get(cid)
            .map(|(_, name)| name.clone())
            .unwrap_or_default()
    };
    let now = state.now_ms();
    let identities: Vec<IdentityView> = idents
        .iter()
        .map(|i| {
            let kind = chans.get(&i.channel_id).map(|(k, _)| k.as_str());
            let r = kind
                .and_then(ChannelKind::parse)
                .map(|k| reachability::describe(k, i, now));
            IdentityView {
                channel: channel_label(&i.channel_id),
                kind_label: kind
                    .map(|k| text(lang, &format!("inbox.channel.{k}")))
                    .unwrap_or_default(),
                name: i
                    .display_name
                    .as_deref()
                    .map(tsunagu_contacts::phone::display_name)
                    .unwrap_or_default(),
                follow_state: i.follow_state.clone(),
                verified: flag(i.verified),
                reach: r.as_ref().map_or("unknown", |r| r.state),
                reach_label: reach_label(lang, kind, r.as_ref().map_or("unknown", |r| r.state)),
                opted_out_at: i.opted_out_at.map(|t| local_time(staff, t)),
                opt_out_source: i.opt_out_source.clone(),
                bounce_reason: i.bounce_reason.clone(),
                window_open: r.as_ref().and_then(|r| r.window_open),
                window_until: r
                    .as_ref()
                    .and_then(|r| r.window_open.filter(|o| *o).and(r.window_closes_at))
                    .map(|t| local_time(staff, t)),
            }
        })
        .collect();
    let conversations: Vec<ConversationView> = convs
        .iter()
        .map(|c| ConversationView {
            href: format!("/app/conversations/{}", c.id),
            channel: channel_label(&c.channel_id),
            status: text(lang, &format!("patients.conv_status.{}", c.status)),
            last_at: local_time(staff, c.last_message_at),
        })
        .collect();
    let can_edit = staff.can(Permission::Reply);
    let form = can_edit.then(|| {
        form.unwrap_or_else(|| {
            let mut f = FormView::new(lang, format!("/app/patients/{id}"), &defs);
            f.fill(&record);
            f
        })
    });
    let unverified = flag(record.patient.provisional) || identities.iter().any(|i| !i.verified);
    let shown_name = tsunagu_contacts::phone::display_name(&record.patient.display_name);
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "patients").await?, title => &shown_name,
        id => id.as_str(), name => &shown_name, tags => &record.tags,
        provisional => flag(record.patient.provisional), unverified, facts => facts(lang, &record),
        identities, conversations, form, done, csrf_token => &staff.csrf_token,
        updated_at => local_time(staff, record.patient.updated_at),
    };
    render(state, "patients/show.html", ctx)
}

fn parse_id(id: &str) -> Result<PatientId, PageError> {
    PatientId::parse(id).map_err(|_| PageError::not_found())
}

pub async fn page(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    Query(q): Query<ShowQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadPatients)?;
    let id = parse_id(&id)?;
    let done = q.done.filter(|d| d == "created" || d == "saved");
    show(&state, &staff, &ip, &id, None, done).await
}

/// `POST /app/patients/{id}`: saves the edit form; refused fields show on the form again.
pub async fn update(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let id = parse_id(&id)?;
    let clinic = staff.clinic.clinic_id();
    let input = input_of(&pairs);
    let mut tx = state.db.begin().await?;
    match records::update(
        tx.conn(),
        &clinic,
        &id,
        &input,
        today(&state, &staff),
        state.now_ms(),
    )
    .await
    {
        Ok(()) => {
            audit_change(
                &mut tx,
                &state,
                &staff,
                &ip,
                ("patient.update", "patient"),
                &[id.as_str()],
            )
            .await?;
            tx.commit().await?;
            Ok(Redirect::to(&format!("/app/patients/{id}?done=saved")).into_response())
        }
        Err(PatientError::Invalid(errs)) => {
            drop(tx);
            let mut conn = conn(&state).await?;
            let defs = fields::list(&mut conn, &clinic).await?;
            drop(conn);
            let mut view = FormView::new(staff.lang, format!("/app/patients/{id}"), &defs);
            view.refuse(staff.lang, &pairs, &errs);
            let html = show(&state, &staff, &ip, &id, Some(view), None).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(PatientError::NotFound) => Err(PageError::not_found()),
        Err(PatientError::Internal(e)) => Err(e.into()),
    }
}
