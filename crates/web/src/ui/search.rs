//! `GET /app/search?q=…`: the search page reached from the inbox's search box. Messages and
//! staff's private notes containing the text (one list, newest first, notes marked メモ with
//! their author, matches marked) and patients whose record contains it, narrowed by the
//! inbox's facets; a hit opens its conversation or record.
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde::Serialize;
use tsunagu_contacts::patients::{self as records, ListQuery};
use tsunagu_core::{Permission, Refusal};
use tsunagu_inbox::routing::teams;
use tsunagu_inbox::search::{self, pieces, Query as SearchQuery};
use tsunagu_store::{channels, inbox_views, labels};

use super::inbox::shell::shell;
use super::{audit_staff, conn, render};
use crate::client_ip::ClientIp;
use crate::i18n;
use crate::search_params::SearchParams;
use crate::ui::inbox::view::{self, Zone};
use crate::ui::session::Staff;
use crate::{AppState, PageError};

const PAGE: i64 = 30;
const PATIENTS: i64 = 10;

pub fn router() -> Router<AppState> {
    Router::new().route("/app/search", get(page))
}

#[derive(Serialize)]
struct Option_ {
    value: String,
    label: String,
    selected: bool,
}

/// A message or a note found (`note`: the note's author, shown with the メモ badge).
#[derive(Serialize)]
struct MessageRow {
    #[serde(skip)]
    seq: i64,
    note: Option<NoteBy>,
    href: String,
    name: String,
    channel_label: String,
    channel_kind: String,
    from_clinic: bool,
    time_label: String,
    time_iso: String,
    pieces: Vec<(String, bool)>,
}

#[derive(Serialize)]
struct NoteBy {
    author: String,
}

#[derive(Serialize)]
struct PatientRow {
    href: String,
    name: String,
    kana: String,
}

fn options(pairs: Vec<(String, String)>, chosen: Option<&str>) -> Vec<Option_> {
    pairs
        .into_iter()
        .map(|(value, label)| Option_ {
            selected: chosen == Some(value.as_str()),
            value,
            label,
        })
        .collect()
}

pub async fn page(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Query(p): Query<SearchParams>,
) -> Result<Response, PageError> {
    staff.require(Permission::ReadPatients)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let asked = !p.q.is_empty() || p.cursor.is_some();
    let checked: Result<_, Refusal> =
        SearchQuery::parse(&p.q).and_then(|q| Ok((q, p.facets(&staff.clinic.timezone)?)));
    let mut conn = conn(&state).await?;
    let (mut hits, mut notes, mut patients, mut error) = (Vec::new(), Vec::new(), Vec::new(), None);
    let mut next: Option<i64> = None;
    let before: Option<i64> = p.cursor.as_deref().and_then(|c| c.parse().ok());
    match &checked {
        Ok((q, facets)) => {
            if staff.can(Permission::ReadMessages) {
                (hits, notes, next) =
                    search::page(&mut conn, &clinic, q, facets, before, PAGE).await?;
            }
            if before.is_none() {
                let lq = ListQuery {
                    q: Some(p.q.clone()),
                    limit: PATIENTS,
                    ..ListQuery::default()
                };
                patients = records::list(&mut conn, &clinic, &lq).await?;
            }
        }
        Err(r) if asked => error = Some(i18n::refusal(lang, r)),
        Err(_) => {}
    }
    let channel_choices = channels::list(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|c| (c.id, c.name))
        .collect();
    let staff_choices = inbox_views::assignable_staff(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|m| (m.staff_id, m.display_name))
        .collect::<Vec<_>>();
    let team_choices = teams::list(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
    let label_choices = labels::list(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|l| (l.id, l.name))
        .collect();
    drop(conn);
    let ids: Vec<&str> = hits.iter().map(|h| h.row.message_id.as_str()).collect();
    if !ids.is_empty() {
        audit_staff(
            None,
            &state,
            &staff,
            &ip,
            ("search.messages", "message"),
            &ids,
        )
        .await?;
    }
    let nids: Vec<&str> = notes.iter().map(|n| n.row.note_id.as_str()).collect();
    if !nids.is_empty() {
        audit_staff(None, &state, &staff, &ip, ("search.notes", "note"), &nids).await?;
    }
    let pids: Vec<&str> = patients.iter().map(|p| p.id.as_str()).collect();
    if !pids.is_empty() {
        audit_staff(
            None,
            &state,
            &staff,
            &ip,
            ("search.patients", "patient"),
            &pids,
        )
        .await?;
    }

    let label = |k: &str| i18n::text(lang, k);
    let zone = Zone::of(&staff.clinic);
    let now = state.now_ms();
    let older = next.map(|seq| older_href(&p, seq));
    let mut messages: Vec<MessageRow> = hits
        .into_iter()
        .map(|h| MessageRow {
            seq: h.row.seq,
            note: None,
            href: format!("/app/conversations/{}", h.row.conversation_id),
            name: view::first_name(
                lang,
                &[h.row.patient_name.as_deref(), h.row.title.as_deref()],
                "inbox.unknown_patient",
            ),
            channel_label: view::channel_label(lang, &h.row.channel_kind),
            channel_kind: h.row.channel_kind,
            from_clinic: h.row.direction == "out",
            time_label: zone.label(h.row.created_at, now),
            time_iso: zone.iso(h.row.created_at),
            pieces: pieces(&h.snippet, &h.highlights),
        })
        .collect();
    messages.extend(notes.into_iter().map(|n| {
        MessageRow {
            seq: n.row.seq,
            note: Some(NoteBy {
                author: n
                    .row
                    .author_name
                    .filter(|a| !a.trim().is_empty())
                    .unwrap_or_else(|| label("search_notes.former_staff")),
            }),
            href: format!("/app/conversations/{}", n.row.conversation_id),
            name: view::first_name(
                lang,
                &[n.row.patient_name.as_deref(), n.row.title.as_deref()],
                "inbox.unknown_patient",
            ),
            channel_label: view::channel_label(lang, &n.row.channel_kind),
            channel_kind: n.row.channel_kind,
            from_clinic: false,
            time_label: zone.label(n.row.created_at, now),
            time_iso: zone.iso(n.row.created_at),
            pieces: pieces(&n.snippet, &n.highlights),
        }
    }));
    // One list, newest first: the index's order, which messages and notes share.
    messages.sort_by_key(|m| std::cmp::Reverse(m.seq));
    let patients: Vec<PatientRow> = patients
        .into_iter()
        .map(|r| PatientRow {
            href: format!("/app/patients/{}", r.id),
            name: view::first_name(lang, &[Some(r.display_name.as_str())], "patients.unnamed"),
            kana: r.kana.unwrap_or_default(),
        })
        .collect();
    let statuses = ["open", "pending", "snoozed", "resolved"]
        .iter()
        .map(|s| (s.to_string(), label(&format!("search.status.{s}"))))
        .collect();
    let priorities = ["3", "2", "1", "0"]
        .iter()
        .map(|s| (s.to_string(), label(&format!("search.priority.{s}"))))
        .collect();
    let mut assignees = vec![("none".to_string(), label("search.assignee.none"))];
    assignees.extend(staff_choices);
    let searched = checked.is_ok();
    let ctx = minijinja::context! {
        lang, shell => shell(&state, &staff, "inbox").await?, title => label("search.title"),
        q => p.q.clone(), error, searched, messages, patients, older,
        can_messages => staff.can(Permission::ReadMessages),
        statuses => options(statuses, p.status.as_deref()),
        channels => options(channel_choices, p.channel.as_deref()),
        assignees => options(assignees, p.assignee.as_deref()),
        teams => options(team_choices, p.team.as_deref()),
        labels => options(label_choices, p.label.as_deref()),
        priorities => options(priorities, p.priority.as_deref()),
        from => p.from.clone().unwrap_or_default(), to => p.to.clone().unwrap_or_default(),
    };
    let html = render(&state, "search/results.html", ctx)?;
    let status = if checked.is_err() && asked {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, html).into_response())
}

fn older_href(p: &SearchParams, seq: i64) -> String {
    let pairs: Vec<(&str, &str)> = [
        ("q", Some(p.q.as_str())),
        ("status", p.status.as_deref()),
        ("channel", p.channel.as_deref()),
        ("assignee", p.assignee.as_deref()),
        ("team", p.team.as_deref()),
        ("label", p.label.as_deref()),
        ("priority", p.priority.as_deref()),
        ("from", p.from.as_deref()),
        ("to", p.to.as_deref()),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.filter(|v| !v.is_empty()).map(|v| (k, v)))
    .collect();
    let seq = seq.to_string();
    let mut all = pairs;
    all.push(("cursor", seq.as_str()));
    format!(
        "/app/search?{}",
        serde_urlencoded::to_string(&all).unwrap_or_default()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_to_older_hits_keeps_every_chosen_facet() {
        let p = SearchParams {
            q: "予約".into(),
            status: Some("open".into()),
            channel: Some("ch1".into()),
            assignee: Some("none".into()),
            team: Some("t1".into()),
            label: Some("l1".into()),
            priority: Some("2".into()),
            from: Some("2026-11-01".into()),
            to: Some(String::new()),
            ..SearchParams::default()
        };
        let href = older_href(&p, 42);
        let query = href.strip_prefix("/app/search?").unwrap_or_default();
        let back: SearchParams = serde_urlencoded::from_str(query).unwrap_or_default();
        assert_eq!(back.q, "予約");
        assert_eq!(back.status.as_deref(), Some("open"));
        assert_eq!(back.channel.as_deref(), Some("ch1"));
        assert_eq!(back.assignee.as_deref(), Some("none"));
        assert_eq!(back.team.as_deref(), Some("t1"));
        assert_eq!(back.label.as_deref(), Some("l1"));
        assert_eq!(back.priority.as_deref(), Some("2"));
        assert_eq!(back.from.as_deref(), Some("2026-11-01"));
        assert_eq!(back.to, None, "an empty facet is left out");
        assert_eq!(back.cursor.as_deref(), Some("42"));
    }
}
