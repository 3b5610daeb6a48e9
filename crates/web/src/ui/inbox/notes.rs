//! Private notes on a conversation and the mentions they carry: `POST
//! /app/conversations/{id}/notes` (a note; `@名前` notifies a colleague), `GET /app/mentions`
//! (mine, unseen first) and `GET /app/mentions/count` (for the page's live badge and browser
//! notification, which never carry the note's words). Notes show among the messages, marked as
//! internal; opening a conversation marks its mentions of me seen.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Json, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_accounts::staff as accounts;
use tsunagu_core::{ClinicId, ConversationId, Permission};
use tsunagu_inbox::notes::{self, Member, Note};
use tsunagu_inbox::LiveEvent;
use tsunagu_store::conversations::Conversation;

use super::conversation::{self, ConvQuery, Notices};
use super::list::Tab;
use super::messages::MessageView;
use super::view::Zone;
use super::{audit_event, conn, queries, render, shell};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Debug, Deserialize)]
pub struct NoteForm {
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub view: Option<String>,
}

/// The note box as last submitted, with why it was refused.
#[derive(Clone, Debug, Default, Serialize)]
pub struct NoteBox {
    pub action: String,
    pub text: String,
    pub error: Option<String>,
    /// Colleagues to mention: (name) — the buttons insert `@name`.
    pub members: Vec<String>,
}

/// The note box for staff who may reply; `refused` keeps what was typed.
pub async fn note_box(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
    refused: Option<NoteBox>,
) -> Result<Option<NoteBox>, PageError> {
    if !staff.can(Permission::Reply) {
        return Ok(None);
    }
    let mut c = conn(state).await?;
    let members = queries::assignable_staff(&mut c, &staff.clinic.clinic_id()).await?;
    let mut b = refused.unwrap_or_default();
    b.action = format!("/app/conversations/{}/notes", conv.id);
    b.members = members
        .into_iter()
        .filter(|m| m.staff_id != staff.staff_id.as_str())
        .map(|m| m.display_name)
        .collect();
    Ok(Some(b))
}

/// The conversation's notes written in `[from, to)` as entries of the message list.
pub async fn views(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
    from_ms: i64,
    to_ms: i64,
) -> Result<Vec<(i64, MessageView)>, PageError> {
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let id = ConversationId::from_db(conv.id.clone());
    let rows = notes::between(&mut c, &clinic, &id, from_ms, to_ms).await?;
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let authors: Vec<String> = rows.iter().map(|n| n.author_staff_id.clone()).collect();
    let names = accounts::display_names(&mut c, &authors).await?;
    let zone = Zone::of(&staff.clinic);
    let now = state.now_ms();
    Ok(rows
        .into_iter()
        .map(|n| {
            let author = names.get(&n.author_staff_id).cloned();
            (n.created_at, view(n, author, zone, now))
        })
        .collect())
}

fn view(n: Note, author: Option<String>, zone: Zone, now: i64) -> MessageView {
    MessageView {
        id: n.id,
        direction: "note".into(),
        kind: "note",
        text: Some(n.body),
        time_label: zone.label(n.created_at, now),
        time_iso: zone.iso(n.created_at),
        author,
        status: None,
        failure_reason: None,
        retryable: false,
        attachments: Vec::new(),
        file_name: None,
        sticker: None,
        location: None,
        postback_data: None,
        triage: None,
    }
}

/// Opening the conversation: its mentions of me are seen (and my other pages told).
pub async fn seen(state: &AppState, staff: &Staff, conv: &Conversation) -> Result<(), PageError> {
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let id = ConversationId::from_db(conv.id.clone());
    let who = staff.staff_id.as_str();
    if notes::mark_seen(&mut c, &clinic, who, &id, state.now_ms()).await? {
        publish(state, staff, &conv.id, "note.mention");
    }
    Ok(())
}

fn publish(state: &AppState, staff: &Staff, conversation: &str, kind: &'static str) {
    state.live.publish(LiveEvent {
        clinic_id: staff.clinic.id.clone(),
        conversation_id: conversation.to_owned(),
        kind,
    });
}

pub async fn add(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<NoteForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let members = {
        let mut c = conn(&state).await?;
        queries::assignable_staff(&mut c, &clinic).await?
    };
    let team: Vec<Member<'_>> = members
        .iter()
        .map(|m| Member {
            staff_id: &m.staff_id,
            name: &m.display_name,
        })
        .collect();
    let conv_id = ConversationId::from_db(conv.id.clone());
    let who = staff.staff_id.as_str();
    let now = state.now_ms();
    match notes::add(&state.db, &clinic, &conv_id, who, &form.text, &team, now).await? {
        Ok((note, mentioned)) => {
            audit_event(
                &state,
                &staff,
                &ip,
                "note.add",
                "conversation",
                &[conv.id.as_str(), note.id.as_str()],
            )
            .await?;
            publish(&state, &staff, &conv.id, "message.created");
            if !mentioned.is_empty() {
                publish(&state, &staff, &conv.id, "note.mention");
            }
            let view = Tab::parse(form.view.as_deref()).map(Tab::as_str);
            Ok(Redirect::to(&conversation::back_to(&conv.id, view)).into_response())
        }
        Err(why) => {
            let note = NoteBox {
                text: form.text,
                error: Some(i18n::refusal(staff.lang, &why)),
                ..NoteBox::default()
            };
            let q = ConvQuery {
                view: form.view,
                before: None,
            };
            let notices = Notices {
                note: Some(note),
                ..Notices::default()
            };
            let html = conversation::show(&state, &staff, &ip, conv, q, notices, false).await?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}

#[derive(Serialize)]
struct MentionItem {
    href: String,
    author: String,
    excerpt: String,
    time_label: String,
    time_iso: String,
    unseen: bool,
}

/// `GET /app/mentions`: the notes that mention me, unseen first.
pub async fn page(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadMessages)?;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let rows = notes::mentions_for(&mut c, &clinic, staff.staff_id.as_str(), 100).await?;
    let authors: Vec<String> = rows.iter().map(|m| m.author_staff_id.clone()).collect();
    let names = accounts::display_names(&mut c, &authors).await?;
    drop(c);
    let zone = Zone::of(&staff.clinic);
    let now = state.now_ms();
    let conversations: Vec<&str> = rows.iter().map(|m| m.conversation_id.as_str()).collect();
    audit_event(
        &state,
        &staff,
        &ip,
        "note.mentions",
        "conversation",
        &conversations,
    )
    .await?;
    let items: Vec<MentionItem> = rows
        .iter()
        .map(|m| MentionItem {
            href: format!("/app/conversations/{}", m.conversation_id),
            author: names.get(&m.author_staff_id).cloned().unwrap_or_default(),
            excerpt: m.body.chars().take(120).collect(),
            time_label: zone.label(m.created_at, now),
            time_iso: zone.iso(m.created_at),
            unseen: m.seen_at.is_none(),
        })
        .collect();
    let shell = shell::shell(&state, &staff, "mentions").await?;
    let title = i18n::text(staff.lang, "notes.mentions.title");
    render(
        &state,
        "inbox/mentions.html",
        minijinja::context! { lang => staff.lang, shell, title, items },
    )
}

/// `GET /app/mentions/count`: `{"unseen": n}` — no names, no words.
pub async fn count(
    staff: Staff,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, PageError> {
    staff.require(Permission::ReadMessages)?;
    let n = unseen(&state, &staff.clinic.clinic_id(), staff.staff_id.as_str()).await?;
    Ok(Json(serde_json::json!({ "unseen": n })))
}

pub async fn unseen(state: &AppState, clinic: &ClinicId, staff: &str) -> Result<i64, PageError> {
    let mut c = conn(state).await?;
    Ok(notes::unseen_count(&mut c, clinic, staff).await?)
}
