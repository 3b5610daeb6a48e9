//! Everything the clinic holds about one patient (個人情報保護法 の開示請求): the record, tags
//! and custom fields, channel identities, every conversation on every channel with every
//! message and attachment (bytes included: they are the patient's data), consent events and
//! verification links. Tables owned by other features are read generically, row by row, so a
//! column they add later is exported without a change here, and a table not yet migrated is
//! skipped. In group chats only the patient's own messages are exported: the other members'
//! words are theirs.
use anyhow::Context;
use base64::Engine;
use serde::Serialize;
use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Column, Row};
use tsunagu_core::{ClinicId, PatientId};
use tsunagu_store::conversations::{Conversation, Message, CONV_COLS};
use tsunagu_store::{clinics, patients};

use crate::erasure::schema::table_exists;

pub const FORMAT: &str = "tsunagu.patient_export.v1";

#[derive(Debug, Clone, Serialize)]
pub struct PatientExport {
    pub format: &'static str,
    pub generated_at: i64,
    pub generated_at_local: String,
    pub clinic: ClinicInfo,
    pub patient: patients::Patient,
    pub tags: Vec<String>,
    /// Each value with its field's key and labels.
    pub custom_fields: Vec<Value>,
    pub identities: Vec<patients::Identity>,
    pub conversations: Vec<ConversationExport>,
    pub consent_events: Vec<Value>,
    pub verification_links: Vec<Value>,
    pub proxies: Vec<Value>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ClinicInfo {
    pub id: String,
    pub name: String,
    pub timezone: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ConversationExport {
    pub channel_kind: String,
    pub channel_name: String,
    pub conversation: Conversation,
    pub messages: Vec<MessageExport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MessageExport {
    #[serde(flatten)]
    pub message: Message,
    pub created_at_local: String,
    pub attachments: Vec<AttachmentExport>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AttachmentExport {
    pub id: String,
    pub content_type: String,
    pub size_bytes: i64,
    pub sha256: String,
    pub created_at: i64,
    pub data_base64: String,
}

impl PatientExport {
    pub fn message_count(&self) -> usize {
        self.conversations.iter().map(|c| c.messages.len()).sum()
    }
}

const MSG_COLS: &str = "id, clinic_id, conversation_id, channel_id, direction, kind, body, payload, sender_identity_id, author_kind, author_staff_id, provider_message_id, status, failure_code, failure_reason, unsent_at, created_at, sent_at";

/// The patient's file. `None` when the clinic has no such patient.
pub async fn export_patient(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &PatientId,
    now_ms: i64,
) -> anyhow::Result<Option<PatientExport>> {
    let Some(p) = patients::by_id(conn, clinic, patient).await? else {
        return Ok(None);
    };
    let c = clinics::by_id(conn, clinic)
        .await?
        .context("reading the patient's clinic")?;
    let tz: chrono_tz::Tz = c.timezone.parse().unwrap_or(chrono_tz::Asia::Tokyo);
    let identities = patients::identities_of(conn, clinic, patient).await?;

    let mut conversations = Vec::new();
    let owned: Vec<Conversation> = sqlx::query_as(&format!(
        "SELECT {CONV_COLS} FROM conversations WHERE clinic_id = $1 AND (patient_id = $2
           OR channel_identity_id IN (SELECT id FROM channel_identities WHERE patient_id = $2))
         ORDER BY created_at, id"
    ))
    .bind(clinic.as_str())
    .bind(&p.id)
    .fetch_all(&mut *conn)
    .await
    .context("listing the patient's conversations")?;
    for conv in owned {
        let msgs: Vec<Message> = sqlx::query_as(&format!(
            "SELECT {MSG_COLS} FROM messages WHERE conversation_id = $1 ORDER BY created_at, id"
        ))
        .bind(&conv.id)
        .fetch_all(&mut *conn)
        .await
        .context("reading a conversation's messages")?;
        conversations.push(with_messages(conn, conv, msgs, &tz).await?);
    }
    // Group chats the patient wrote in: their own messages only.
    let groups: Vec<Conversation> = sqlx::query_as(&format!(
        "SELECT {CONV_COLS} FROM conversations WHERE clinic_id = $1 AND id IN (SELECT m.conversation_id
           FROM messages m JOIN channel_identities i ON i.id = m.sender_identity_id WHERE i.patient_id = $2)
           AND (patient_id IS NULL OR patient_id <> $2) ORDER BY created_at, id"
    ))
    .bind(clinic.as_str())
    .bind(&p.id)
    .fetch_all(&mut *conn)
    .await
    .context("listing the group chats the patient wrote in")?;
    for conv in groups {
        if conversations
            .iter()
            .any(|c: &ConversationExport| c.conversation.id == conv.id)
        {
            continue;
        }
        let msgs: Vec<Message> = sqlx::query_as(&format!(
            "SELECT {MSG_COLS} FROM messages WHERE conversation_id = $1
               AND sender_identity_id IN (SELECT id FROM channel_identities WHERE patient_id = $2)
             ORDER BY created_at, id"
        ))
        .bind(&conv.id)
        .bind(&p.id)
        .fetch_all(&mut *conn)
        .await
        .context("reading the patient's group messages")?;
        conversations.push(with_messages(conn, conv, msgs, &tz).await?);
    }

    let tags = if table_exists(conn, "patient_tags").await? {
        sqlx::query_scalar("SELECT tag FROM patient_tags WHERE patient_id = $1 ORDER BY tag")
            .bind(&p.id)
            .fetch_all(&mut *conn)
            .await
            .context("reading the patient's tags")?
    } else {
        Vec::new()
    };
    let custom_fields = rows_if(
        conn,
        "patient_field_values",
        "SELECT f.key, f.label_ja, f.label_en, f.kind, v.value, v.updated_at FROM patient_field_values v
         JOIN custom_fields f ON f.id = v.field_id WHERE v.patient_id = $1 ORDER BY f.position, f.key",
        &p.id,
    )
    .await?;
    let consent_events = rows_if(
        conn,
        "consent_events",
        "SELECT * FROM consent_events WHERE patient_id = $1 ORDER BY at, seq",
        &p.id,
    )
    .await?;
    let verification_links = rows_if(
        conn,
        "identity_links",
        "SELECT id, identity_id, from_patient_id, to_patient_id, how, reason, actor_kind, actor_id, at, undone_at, undone_by
         FROM identity_links WHERE to_patient_id = $1 OR identity_id IN
           (SELECT id FROM channel_identities WHERE patient_id = $1) ORDER BY at, id",
        &p.id,
    )
    .await?;
    let proxies = rows_if(
        conn,
        "patient_proxies",
        "SELECT * FROM patient_proxies WHERE patient_id = $1 OR proxy_patient_id = $1 ORDER BY created_at, id",
        &p.id,
    )
    .await?;
    Ok(Some(PatientExport {
        format: FORMAT,
        generated_at: now_ms,
        generated_at_local: local_time(now_ms, &tz),
        clinic: ClinicInfo {
            id: c.id.clone(),
            name: c.name.clone(),
            timezone: c.timezone.clone(),
        },
        patient: p,
        tags,
        custom_fields,
        identities,
        conversations,
        consent_events,
        verification_links,
        proxies,
    }))
}

async fn with_messages(
    conn: &mut AnyConnection,
    conv: Conversation,
    msgs: Vec<Message>,
    tz: &chrono_tz::Tz,
) -> anyhow::Result<ConversationExport> {
    let (channel_kind, channel_name): (String, String) =
        sqlx::query_as("SELECT kind, name FROM channels WHERE id = $1")
            .bind(&conv.channel_id)
            .fetch_one(&mut *conn)
            .await
            .context("reading the conversation's channel")?;
    let mut messages = Vec::with_capacity(msgs.len());
    for m in msgs {
        let rows: Vec<(String, String, i64, String, i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, content_type, size_bytes, sha256, created_at, data FROM attachments
             WHERE message_id = $1 ORDER BY created_at, id",
        )
        .bind(&m.id)
        .fetch_all(&mut *conn)
        .await
        .context("reading a message's attachments")?;
        let attachments = rows
            .into_iter()
            .map(
                |(id, content_type, size_bytes, sha256, created_at, data)| AttachmentExport {
                    id,
                    content_type,
                    size_bytes,
                    sha256,
                    created_at,
                    data_base64: base64::engine::general_purpose::STANDARD.encode(data),
                },
            )
            .collect();
        messages.push(MessageExport {
            created_at_local: local_time(m.created_at, tz),
            message: m,
            attachments,
        });
    }
    Ok(ConversationExport {
        channel_kind,
        channel_name,
        conversation: conv,
        messages,
    })
}

/// `YYYY-MM-DD HH:MM` on the clinic's clocks.
pub fn local_time(ms: i64, tz: &chrono_tz::Tz) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

async fn rows_if(
    conn: &mut AnyConnection,
    table: &str,
    sql: &str,
    patient: &str,
) -> anyhow::Result<Vec<Value>> {
    if !table_exists(conn, table).await? {
        return Ok(Vec::new());
    }
    let rows = sqlx::query(sql)
        .bind(patient)
        .fetch_all(&mut *conn)
        .await
        .with_context(|| format!("reading the patient's {table}"))?;
    Ok(rows.iter().map(row_json).collect())
}

/// A row as a JSON object, whatever its columns: integers, reals, text, or NULL.
fn row_json(row: &AnyRow) -> Value {
    let mut out = Map::new();
    for (i, col) in row.columns().iter().enumerate() {
        let v = if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
            v.map(Value::from).unwrap_or(Value::Null)
        } else if let Ok(v) = row.try_get::<Option<String>, _>(i) {
            v.map(Value::from).unwrap_or(Value::Null)
        } else if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
            v.map(Value::from).unwrap_or(Value::Null)
        } else {
            Value::Null
        };
        out.insert(col.name().to_string(), v);
    }
    Value::Object(out)
}
