//! `GET /api/v1/search`: the clinic's messages, private notes and patients containing the
//! typed text.
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use tsunagu_contacts::patients::{self as records, ListQuery};
use tsunagu_core::Permission;
use tsunagu_inbox::search::{self, Query};
use tsunagu_store::clinics;
use utoipa::ToSchema;

use super::auth::{audit_read, ApiAuth, Event};
use super::extract::{decode_cursor, encode_cursor, page_limit, rfc3339, ApiQuery, ErrorBody};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::search_params::SearchParams;
use crate::{ApiError, AppState};

/// Patients listed with the first page of messages.
const PATIENTS: i64 = 20;

#[derive(Serialize, ToSchema)]
pub struct MessageHitOut {
    pub message_id: String,
    pub conversation_id: String,
    pub channel_id: String,
    /// `line`, `whatsapp`, `messenger`, `sms`…
    pub channel_kind: String,
    /// `in` (from the patient), `out` (from the clinic) or `system`.
    pub direction: String,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The message's text, cut around the first match when long.
    pub snippet: String,
    /// The matches in `snippet` as `[start, end)` ranges of characters (Unicode scalar values).
    pub highlights: Vec<[usize; 2]>,
}

/// A private note staff left on a conversation (never sent to the patient).
#[derive(Serialize, ToSchema)]
pub struct NoteHitOut {
    pub id: String,
    pub conversation_id: String,
    /// The channel of the note's conversation: `line`, `whatsapp`, `messenger`, `sms`…
    pub channel_kind: String,
    pub author_staff_id: String,
    /// The author's display name; null when their account is gone.
    pub author_name: Option<String>,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    /// RFC 3339 UTC.
    pub created_at: String,
    /// The note's text, cut around the first match when long.
    pub snippet: String,
    /// The matches in `snippet` as `[start, end)` ranges of characters (Unicode scalar values).
    pub highlights: Vec<[usize; 2]>,
}

#[derive(Serialize, ToSchema)]
pub struct PatientHitOut {
    pub id: String,
    pub display_name: String,
    pub kana: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchPage {
    /// Newest first. Empty without `read_messages`.
    pub messages: Vec<MessageHitOut>,
    /// Staff's private notes, newest first; one page with `messages` (`limit` counts both).
    /// Empty without `read_messages`.
    pub notes: Vec<NoteHitOut>,
    /// Patients whose name, kana, phone, e-mail or card number contains `q` (first page only).
    pub patients: Vec<PatientHitOut>,
    /// Pass as `cursor` for the next page of messages and notes; null on the last page.
    pub next_cursor: Option<String>,
}

/// Search messages, private notes and patients.
///
/// Substring search: every message and note whose text contains `q` is found (1- and
/// 2-character Japanese terms too); full-/half-width, hiragana/katakana, case and spaces are
/// ignored. Scope: `read_patients` (tokens `read`, `reply`, `broadcast`, `admin`); messages and
/// notes only with `read_messages` as well. Facets as in the inbox (for a note: its
/// conversation, and the day it was written). Each answer is audited (`search.messages`,
/// `search.notes`, `search.patients`) naming what it returned.
#[utoipa::path(
    get,
    path = "/api/v1/search",
    tag = "conversations",
    params(SearchParams),
    responses(
        (status = 200, description = "Messages and patients found", body = SearchPage),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_patients`", body = ErrorBody),
        (status = 422, description = "`search_query_empty`, `search_query_too_long`, `invalid_search_filter`, `invalid_limit`, `invalid_cursor`", body = ErrorBody),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiQuery(p): ApiQuery<SearchParams>,
) -> Result<Json<SearchPage>, ApiError> {
    auth.require(Permission::ReadPatients)?;
    let query = Query::parse(&p.q)?;
    let limit = page_limit(p.limit)?;
    let before: Option<i64> = decode_cursor(p.cursor.as_deref())?;
    let mut conn = read_conn(&state).await?;
    let tz = clinics::by_id(&mut conn, &auth.clinic)
        .await?
        .map(|c| c.timezone)
        .unwrap_or_else(|| "Asia/Tokyo".into());
    let facets = p.facets(&tz)?;
    let (hits, notes, next) = if auth.can(Permission::ReadMessages) {
        search::page(&mut conn, &auth.clinic, &query, &facets, before, limit).await?
    } else {
        (Vec::new(), Vec::new(), None)
    };
    let next_cursor = next.map(|seq| encode_cursor(&seq));
    let patients = if before.is_none() {
        let q = ListQuery {
            q: Some(p.q.clone()),
            limit: PATIENTS,
            ..ListQuery::default()
        };
        records::list(&mut conn, &auth.clinic, &q).await?
    } else {
        Vec::new()
    };
    drop(conn);
    let ids: Vec<&str> = hits.iter().map(|h| h.row.message_id.as_str()).collect();
    if !ids.is_empty() {
        let event = Event {
            action: "search.messages",
            subject_type: "message",
            subject_ids: &ids,
        };
        audit_read(&state, &auth, &ip, event).await?;
    }
    let nids: Vec<&str> = notes.iter().map(|n| n.row.note_id.as_str()).collect();
    if !nids.is_empty() {
        let event = Event {
            action: "search.notes",
            subject_type: "note",
            subject_ids: &nids,
        };
        audit_read(&state, &auth, &ip, event).await?;
    }
    let pids: Vec<&str> = patients.iter().map(|p| p.id.as_str()).collect();
    if !pids.is_empty() {
        let event = Event {
            action: "search.patients",
            subject_type: "patient",
            subject_ids: &pids,
        };
        audit_read(&state, &auth, &ip, event).await?;
    }
    let messages = hits
        .into_iter()
        .map(|h| MessageHitOut {
            message_id: h.row.message_id,
            conversation_id: h.row.conversation_id,
            channel_id: h.row.channel_id,
            channel_kind: h.row.channel_kind,
            direction: h.row.direction,
            patient_id: h.row.patient_id,
            patient_name: h.row.patient_name,
            created_at: rfc3339(h.row.created_at),
            snippet: h.snippet,
            highlights: h.highlights.into_iter().map(|(s, e)| [s, e]).collect(),
        })
        .collect();
    let notes = notes
        .into_iter()
        .map(|n| NoteHitOut {
            id: n.row.note_id,
            conversation_id: n.row.conversation_id,
            channel_kind: n.row.channel_kind,
            author_staff_id: n.row.author_staff_id,
            author_name: n.row.author_name,
            patient_id: n.row.patient_id,
            patient_name: n.row.patient_name,
            created_at: rfc3339(n.row.created_at),
            snippet: n.snippet,
            highlights: n.highlights.into_iter().map(|(s, e)| [s, e]).collect(),
        })
        .collect();
    let patients = patients
        .into_iter()
        .map(|p| PatientHitOut {
            id: p.id,
            display_name: p.display_name,
            kana: p.kana,
        })
        .collect();
    Ok(Json(SearchPage {
        messages,
        notes,
        patients,
        next_cursor,
    }))
}
