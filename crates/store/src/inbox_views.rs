//! The few reads the staff inbox pages need beyond the other modules here: joins that decorate a page of
//! rows in one query each (names, badges, attachments), never one query per row. Every query is
//! scoped by clinic. Portable SQL only (`$n` binds, CAST to BIGINT so PostgreSQL sums decode).
use std::collections::HashMap;

use crate::conversations::Message;
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{ClinicId, ConversationId, Permission, Role};

/// `$start, $start+1, …` for an `IN (…)` list of `n` binds.
fn placeholders(start: usize, n: usize) -> String {
    (start..start + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// What a list row shows beyond the conversation itself.
#[derive(Clone, Debug, Default, FromRow)]
pub struct ListDeco {
    pub conversation_id: String,
    pub channel_kind: String,
    pub patient_name: Option<String>,
    pub identity_name: Option<String>,
    pub provisional: Option<i64>,
    pub assignee_name: Option<String>,
}

/// Names, channel kinds and verification state for a page of conversations.
pub async fn list_decorations(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    ids: &[&str],
) -> anyhow::Result<HashMap<String, ListDeco>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    // A direct chat's thread key is the patient's provider id, so the identity is found even
    // when the conversation row does not name it. The page's ids drive the query: SQLite,
    // without statistics, would rather walk the clinic's index past every conversation (`+`
    // keeps it off that index; PostgreSQL plans by its statistics).
    let clinic_col = if conn.backend_name() == "SQLite" {
        "+c.clinic_id"
    } else {
        "c.clinic_id"
    };
    let sql = format!(
        "SELECT c.id AS conversation_id, ch.kind AS channel_kind, p.display_name AS patient_name,
                ci.display_name AS identity_name, p.provisional AS provisional,
                s.display_name AS assignee_name
         FROM conversations c
         JOIN channels ch ON ch.id = c.channel_id
         LEFT JOIN staff s ON s.id = c.assignee_id
         LEFT JOIN channel_identities ci
           ON c.kind = 'direct' AND ci.channel_id = c.channel_id AND ci.external_id = c.thread_key
         LEFT JOIN patients p ON p.id = COALESCE(c.patient_id, ci.patient_id) AND p.clinic_id = c.clinic_id
         WHERE {clinic_col} = $1 AND c.id IN ({})",
        placeholders(2, ids.len())
    );
    let mut q = sqlx::query_as::<_, ListDeco>(&sql).bind(clinic.as_str());
    for id in ids {
        q = q.bind(*id);
    }
    let rows = q
        .fetch_all(conn)
        .await
        .context("reading names for the conversation list")?;
    Ok(rows
        .into_iter()
        .map(|d| (d.conversation_id.clone(), d))
        .collect())
}

/// A staff member a conversation may be given to.
#[derive(Clone, Debug, FromRow)]
pub struct Member {
    pub staff_id: String,
    pub display_name: String,
    pub role: String,
}

/// The clinic's staff who can take a conversation: active accounts with a membership here whose
/// role may reply (a conversation given to someone who cannot read it would sit unanswered).
/// By name, so the select reads like a staff list.
pub async fn assignable_staff(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<Member>> {
    let rows: Vec<Member> = sqlx::query_as(
        "SELECT s.id AS staff_id, s.display_name AS display_name, m.role AS role
         FROM memberships m JOIN staff s ON s.id = m.staff_id
         WHERE m.clinic_id = $1 AND s.disabled = 0
         ORDER BY s.display_name, s.id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's staff")?;
    Ok(rows
        .into_iter()
        .filter(|m| {
            m.role
                .parse::<Role>()
                .is_ok_and(|r| r.can(Permission::Reply))
        })
        .collect())
}

/// The clinic's unread messages, for the page title and the tab badge.
pub async fn unread_total(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(unread_count), 0) AS BIGINT) FROM conversations
         WHERE clinic_id = $1 AND unread_count > 0",
    )
    .bind(clinic.as_str())
    .fetch_one(conn)
    .await
    .context("counting unread messages")
}

const MSG_COLS: &str = "id, clinic_id, conversation_id, channel_id, direction, kind, body, payload, sender_identity_id, author_kind, author_staff_id, provider_message_id, status, failure_code, failure_reason, unsent_at, created_at, sent_at";

/// The newest `limit` messages before the cursor `(created_at, id)`, returned oldest first.
pub async fn latest_messages(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
    before: Option<(i64, &str)>,
    limit: i64,
) -> anyhow::Result<Vec<Message>> {
    let (at, id) = before.unwrap_or((i64::MAX, ""));
    let mut rows: Vec<Message> = sqlx::query_as(&format!(
        "SELECT {MSG_COLS} FROM messages WHERE conversation_id = $1 AND clinic_id = $2
           AND ($3 = 0 OR created_at < $4 OR (created_at = $4 AND id < $5))
         ORDER BY created_at DESC, id DESC LIMIT $6"
    ))
    .bind(conversation.as_str())
    .bind(clinic.as_str())
    .bind(before.is_some() as i64)
    .bind(at)
    .bind(id)
    .bind(limit)
    .fetch_all(conn)
    .await
    .context("reading the conversation's latest messages")?;
    rows.reverse();
    Ok(rows)
}

#[derive(Clone, Debug, FromRow)]
pub struct AttachmentRef {
    pub id: String,
    pub message_id: String,
    pub content_type: String,
    pub size_bytes: i64,
}

/// Attachments (without bytes) of the shown messages.
pub async fn attachments_of(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    message_ids: &[&str],
) -> anyhow::Result<Vec<AttachmentRef>> {
    if message_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, message_id, content_type, size_bytes FROM attachments
         WHERE clinic_id = $1 AND message_id IN ({}) ORDER BY id",
        placeholders(2, message_ids.len())
    );
    let mut q = sqlx::query_as::<_, AttachmentRef>(&sql).bind(clinic.as_str());
    for id in message_ids {
        q = q.bind(*id);
    }
    q.fetch_all(conn)
        .await
        .context("listing the messages' attachments")
}

#[derive(Clone, Debug, FromRow)]
struct NameRow {
    id: String,
    name: Option<String>,
    fallback: Option<String>,
}

fn names(rows: Vec<NameRow>) -> HashMap<String, String> {
    rows.into_iter()
        .filter_map(|r| {
            let name = [r.name, r.fallback]
                .into_iter()
                .flatten()
                .find(|n| !n.trim().is_empty())?;
            Some((r.id, name))
        })
        .collect()
}

/// Display names of message senders in a group chat (their profile name, else the patient's).
pub async fn sender_names(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    identity_ids: &[&str],
) -> anyhow::Result<HashMap<String, String>> {
    if identity_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT ci.id AS id, ci.display_name AS name, p.display_name AS fallback
         FROM channel_identities ci LEFT JOIN patients p ON p.id = ci.patient_id
         WHERE ci.clinic_id = $1 AND ci.id IN ({})",
        placeholders(2, identity_ids.len())
    );
    let mut q = sqlx::query_as::<_, NameRow>(&sql).bind(clinic.as_str());
    for id in identity_ids {
        q = q.bind(*id);
    }
    Ok(names(
        q.fetch_all(conn)
            .await
            .context("reading the senders' names")?,
    ))
}

/// Someone who wrote in a group chat: their profile name (else the patient's) and patient.
#[derive(Clone, Debug, FromRow)]
pub struct GroupMember {
    pub name: Option<String>,
    pub fallback: Option<String>,
    pub patient_id: Option<String>,
}

/// Everyone who has written in the group conversation (at most 100), as the chat knows no
/// member list of its own.
pub async fn group_members(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation: &ConversationId,
) -> anyhow::Result<Vec<GroupMember>> {
    sqlx::query_as(
        "SELECT ci.display_name AS name, p.display_name AS fallback, ci.patient_id AS patient_id
         FROM channel_identities ci LEFT JOIN patients p ON p.id = ci.patient_id AND p.clinic_id = ci.clinic_id
         WHERE ci.clinic_id = $1 AND ci.id IN (
             SELECT m.sender_identity_id FROM messages m
             WHERE m.clinic_id = $1 AND m.conversation_id = $2 AND m.direction = 'in')
         ORDER BY ci.created_at, ci.id LIMIT 100",
    )
    .bind(clinic.as_str())
    .bind(conversation.as_str())
    .fetch_all(conn)
    .await
    .context("listing the group's members")
}

/// Whether the same actor recorded the same action on the same subjects since `since_ms`.
/// Only the clinic's latest rows are looked at, so the check stays cheap on a long trail (a
/// clinic writing more than that within the window simply gets another row).
pub async fn recently_audited(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    actor_id: &str,
    action: &str,
    subject_ids_json: &str,
    since_ms: i64,
) -> anyhow::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM (
             SELECT actor_id, action, subject_ids, at FROM audit_events
             WHERE clinic_id = $1 ORDER BY seq DESC LIMIT 500
         ) recent
         WHERE actor_id = $2 AND action = $3 AND subject_ids = $4 AND at > $5",
    )
    .bind(clinic.as_str())
    .bind(actor_id)
    .bind(action)
    .bind(subject_ids_json)
    .bind(since_ms)
    .fetch_one(conn)
    .await
    .context("looking for a recent identical audit entry")?;
    Ok(n > 0)
}
