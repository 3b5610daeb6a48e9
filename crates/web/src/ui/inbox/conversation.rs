//! `GET /app/conversations/{id}`: the list on the left, the conversation on the right — who the
//! patient is, their messages as chat bubbles, the reply box. Opening it marks it read.
use std::collections::HashSet;

use axum::extract::{Path, Query, State};
use axum::response::Html;
use serde::{Deserialize, Serialize};
use tsunagu_accounts::staff as accounts;
use tsunagu_core::{ChannelId, ConversationId, PatientId, Permission};
use tsunagu_inbox::{read_marks, LiveEvent};
use tsunagu_store::conversations::{self, Conversation};
use tsunagu_store::{channels, patients};

use super::list::{self, ListQuery, Tab};
use super::messages::{message_view, Decorations, MessageView};
use super::view::{self, Zone};
use super::{
    assign, audit_event, audit_throttled, conn, cursor_param, parse_cursor, queries, render, shell,
};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

const PAGE: i64 = 100;

#[derive(Debug, Default, Deserialize)]
pub struct ConvQuery {
    /// The list tab shown beside the conversation.
    pub view: Option<String>,
    /// Older messages: `<created_at>.<id>` of the first one shown.
    pub before: Option<String>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Header {
    pub name: String,
    pub initial: String,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    /// following | blocked | unknown (direct chats only)
    pub follow_state: Option<String>,
    pub unverified: bool,
    pub group: bool,
    pub channel_kind: String,
    pub channel_label: String,
    pub channel_name: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct Thread {
    pub conversation_id: String,
    pub messages: Vec<MessageView>,
    pub older_href: Option<String>,
    pub newest_href: Option<String>,
    pub fragment_href: String,
}

/// The reply box as last submitted: what was typed and why it was refused.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ReplyBox {
    pub action: String,
    pub text: String,
    pub error: Option<String>,
    /// Set when no reply can go now (opted out, blocked, bounced, outside the window).
    pub closed: Option<super::reply_gate::Closed>,
}

/// An in-doubt message whose resend waits for the staff member to confirm it.
#[derive(Clone, Debug, Serialize)]
pub struct ConfirmRetry {
    pub action: String,
    pub excerpt: Option<String>,
}

/// What a re-render after a refused or unconfirmed action adds to the page.
#[derive(Clone, Debug, Default)]
pub struct Notices {
    /// The reply box as submitted.
    pub reply: Option<ReplyBox>,
    /// Why a retry or an assignment was refused, shown above the reply box.
    pub error: Option<String>,
    pub confirm_retry: Option<ConfirmRetry>,
    /// A refused 予約送信 form, shown again where it was typed.
    pub scheduled: Option<super::scheduled::Refused>,
    /// A refused note, shown again with what was typed.
    pub note: Option<super::notes::NoteBox>,
}

/// Where an action on the conversation goes back to: the conversation, beside the list tab the
/// staff member came from.
pub fn back_to(conversation_id: &str, view: Option<&str>) -> String {
    match Tab::parse(view) {
        Some(v) => format!("/app/conversations/{conversation_id}?view={}", v.as_str()),
        None => format!("/app/conversations/{conversation_id}"),
    }
}

/// A conversation of the staff member's clinic, or 404 (also for malformed ids).
pub async fn find(state: &AppState, staff: &Staff, id: &str) -> Result<Conversation, PageError> {
    let id = ConversationId::parse(id).map_err(|_| PageError::not_found())?;
    let mut conn = conn(state).await?;
    conversations::by_id(&mut conn, &staff.clinic.clinic_id(), &id)
        .await?
        .ok_or_else(PageError::not_found)
}

async fn header(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
) -> Result<(Header, Option<String>), PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut conn = conn(state).await?;
    let channel_id = ChannelId::from_db(conv.channel_id.clone());
    let channel = channels::by_id(&mut conn, &clinic, &channel_id).await?;
    let group = conv.kind != "direct";
    let identity = if group {
        None
    } else {
        patients::identity(&mut conn, &channel_id, &conv.thread_key).await?
    };
    let identity = identity.filter(|i| i.clinic_id == staff.clinic.id);
    let patient_id = conv
        .patient_id
        .clone()
        .or_else(|| identity.as_ref().map(|i| i.patient_id.clone()));
    let patient = match &patient_id {
        Some(p) => patients::by_id(&mut conn, &clinic, &PatientId::from_db(p.clone())).await?,
        None => None,
    };
    let name = if group {
        view::first_name(lang, &[conv.title.as_deref()], "inbox.group_untitled")
    } else {
        let candidates = [
            patient.as_ref().map(|p| p.display_name.as_str()),
            identity.as_ref().and_then(|i| i.display_name.as_deref()),
        ];
        view::first_name(lang, &candidates, "inbox.unknown_patient")
    };
    let picture = identity
        .as_ref()
        .and_then(|i| i.picture_url.as_deref())
        .or_else(|| patient.as_ref().and_then(|p| p.picture_url.as_deref()));
    let kind = channel.as_ref().map(|c| c.kind.clone()).unwrap_or_default();
    let h = Header {
        initial: name.chars().next().map(String::from).unwrap_or_default(),
        picture_url: view::safe_picture(picture),
        status_message: identity
            .as_ref()
            .and_then(|i| i.status_message.clone())
            .filter(|s| !s.trim().is_empty()),
        follow_state: identity.as_ref().map(|i| i.follow_state.clone()),
        unverified: !group && patient.as_ref().is_none_or(|p| p.provisional != 0),
        group,
        channel_label: view::channel_label(lang, &kind),
        channel_kind: kind,
        channel_name: channel.map(|c| c.name).unwrap_or_default(),
        name,
    };
    Ok((h, patient_id))
}

async fn thread(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
    before: Option<&str>,
) -> Result<Thread, PageError> {
    let clinic = staff.clinic.clinic_id();
    let conv_id = ConversationId::from_db(conv.id.clone());
    let cursor = parse_cursor(before);
    let mut conn = conn(state).await?;
    let mut rows = queries::latest_messages(
        &mut conn,
        &clinic,
        &conv_id,
        cursor.as_ref().map(|(at, id)| (*at, id.as_str())),
        PAGE + 1,
    )
    .await?;
    let more = rows.len() as i64 > PAGE;
    if more {
        rows.remove(0);
    }
    let ids: Vec<&str> = rows.iter().map(|m| m.id.as_str()).collect();
    let attachments = queries::attachments_of(&mut conn, &clinic, &ids).await?;
    let group = conv.kind != "direct";
    let sender_ids: HashSet<&str> = rows
        .iter()
        .filter_map(|m| m.sender_identity_id.as_deref())
        .collect();
    let senders = if group {
        queries::sender_names(
            &mut conn,
            &clinic,
            &sender_ids.into_iter().collect::<Vec<_>>(),
        )
        .await?
    } else {
        Default::default()
    };
    let staff_ids: HashSet<String> = rows
        .iter()
        .filter_map(|m| m.author_staff_id.clone())
        .collect();
    let staff_names =
        accounts::display_names(&mut conn, &staff_ids.into_iter().collect::<Vec<_>>()).await?;
    let d = Decorations {
        lang: staff.lang,
        zone: Zone::of(&staff.clinic),
        now_ms: state.now_ms(),
        group,
        attachments: &attachments,
        senders: &senders,
        staff: &staff_names,
    };
    let triage = tsunagu_safety::hits::of_messages(&mut conn, &clinic, &ids).await?;
    let mut entries: Vec<(i64, MessageView)> = rows
        .iter()
        .map(|m| {
            let mut v = view::refine(message_view(m, &d), m);
            v.triage = triage
                .get(&m.id)
                .and_then(|t| super::triage_view::mark(staff.lang, t, m.body.as_deref()));
            (m.created_at, v)
        })
        .collect();
    // Notes written over the span this page shows sit among its messages.
    let from = if more {
        rows.first().map_or(i64::MIN, |m| m.created_at)
    } else {
        i64::MIN
    };
    let to = cursor.as_ref().map_or(i64::MAX, |(at, _)| *at);
    entries.extend(super::notes::views(state, staff, conv, from, to).await?);
    entries.sort_by_key(|(at, _)| *at);
    let messages = entries.into_iter().map(|(_, v)| v).collect();
    let base = format!("/app/conversations/{}", conv.id);
    let older_href = more
        .then(|| {
            rows.first()
                .map(|m| format!("{base}?before={}", cursor_param(m.created_at, &m.id)))
        })
        .flatten();
    let mut fragment_href = format!("{base}/fragment");
    if let Some((at, id)) = &cursor {
        fragment_href.push_str(&format!("?before={}", cursor_param(*at, id)));
    }
    Ok(Thread {
        conversation_id: conv.id.clone(),
        messages,
        older_href,
        newest_href: cursor.is_some().then_some(base),
        fragment_href,
    })
}

/// Marks the conversation read; when it had unread messages, other open pages are told so their
/// badges drop (reading an already-read conversation announces nothing, so refreshes settle),
/// and the patient sees 既読 where the channel is set to show it (`read_marks`).
async fn mark_read(state: &AppState, staff: &Staff, conv: &Conversation) -> Result<(), PageError> {
    if conv.unread_count == 0 {
        return Ok(());
    }
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    conversations::mark_read(
        tx.conn(),
        &clinic,
        &ConversationId::from_db(conv.id.clone()),
    )
    .await?;
    read_marks::opened(tx.conn(), &clinic, conv, state.now_ms()).await?;
    tx.commit().await?;
    state.live.publish(LiveEvent {
        clinic_id: staff.clinic.id.clone(),
        conversation_id: conv.id.clone(),
        kind: "conversation.updated",
    });
    Ok(())
}

fn read_subjects<'a>(conv: &'a Conversation, patient_id: &'a Option<String>) -> Vec<&'a str> {
    std::iter::once(conv.id.as_str())
        .chain(patient_id.as_deref())
        .collect()
}

/// Renders the whole page. `first_view` is a deliberate open (always audited); a re-render
/// after a refused action is audited like a refresh.
pub async fn show(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    conv: Conversation,
    q: ConvQuery,
    notices: Notices,
    first_view: bool,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadMessages)?;
    let (header, patient_id) = header(state, staff, &conv).await?;
    let thread = thread(state, staff, &conv, q.before.as_deref()).await?;
    mark_read(state, staff, &conv).await?;
    super::notes::seen(state, staff, &conv).await?;
    crate::ui::oncall::opened(state, staff, &conv).await?;
    let subjects = read_subjects(&conv, &patient_id);
    if first_view {
        audit_event(
            state,
            staff,
            ip,
            "conversation.read",
            "conversation",
            &subjects,
        )
        .await?;
    } else {
        audit_throttled(
            state,
            staff,
            ip,
            "conversation.read",
            "conversation",
            &subjects,
        )
        .await?;
    }
    let lq = ListQuery {
        view: q.view.clone(),
        before: None,
        current: Some(conv.id.clone()),
        facets: Default::default(),
    };
    let list = list::load(state, staff, &lq).await?;
    let shown: Vec<&str> = list.items.iter().map(|i| i.id.as_str()).collect();
    audit_throttled(state, staff, ip, "inbox.list", "conversation", &shown).await?;
    let Notices {
        reply,
        error: notice,
        confirm_retry,
        scheduled,
        note,
    } = notices;
    let reply = match staff.can(Permission::Reply) {
        true => {
            let mut r = reply.unwrap_or_default();
            r.action = format!("/app/conversations/{}/reply", conv.id);
            r.closed = super::reply_gate::closed(state, staff, &conv).await?;
            Some(r)
        }
        false => None,
    };
    let assignment = assign::view(state, staff, &conv).await?;
    let side_panel =
        super::side_panel::panel(state, staff, ip, &conv, patient_id.as_deref(), first_view)
            .await?;
    let zone = Zone::of(&staff.clinic);
    let scheduled = super::scheduled::panel(state, staff, &conv, zone, scheduled).await?;
    let note = super::notes::note_box(state, staff, &conv, note).await?;
    let conv_state = super::state::view(state, staff, &conv).await?;
    let (window, template_picker) = super::template_send::panel(state, staff, &conv).await?;
    let shell = shell::shell(state, staff, "inbox").await?;
    let title = format!(
        "{} | {}",
        header.name,
        i18n::text(staff.lang, "inbox.title")
    );
    render(
        state,
        "inbox/conversation.html",
        minijinja::context! {
            lang => staff.lang, shell, list, header, thread, reply, title, assignment, notice,
            confirm_retry, csrf_token => &staff.csrf_token, can_reply => staff.can(Permission::Reply),
            window, template_picker, scheduled, note, conv_state, side_panel,
            clinic_id => &staff.clinic.id,
        },
    )
}

pub async fn page(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    Query(q): Query<ConvQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadMessages)?;
    let conv = find(&state, &staff, &id).await?;
    show(&state, &staff, &ip, conv, q, Notices::default(), true).await
}

/// The messages alone, for a live refresh of the open conversation.
pub async fn fragment(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    Query(q): Query<ConvQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadMessages)?;
    let conv = find(&state, &staff, &id).await?;
    let patient_id = match &conv.patient_id {
        Some(p) => Some(p.clone()),
        None => header(&state, &staff, &conv).await?.1,
    };
    let thread = thread(&state, &staff, &conv, q.before.as_deref()).await?;
    mark_read(&state, &staff, &conv).await?;
    super::notes::seen(&state, &staff, &conv).await?;
    crate::ui::oncall::opened(&state, &staff, &conv).await?;
    audit_throttled(
        &state,
        &staff,
        &ip,
        "conversation.read",
        "conversation",
        &read_subjects(&conv, &patient_id),
    )
    .await?;
    let ctx = minijinja::context! {
        lang => staff.lang, thread, csrf_token => &staff.csrf_token, can_reply => staff.can(Permission::Reply),
    };
    render(&state, "inbox/_messages.html", ctx)
}
