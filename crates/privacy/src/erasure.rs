//! Erasing a patient on request (個人情報保護法 の削除・利用停止): everything about them goes in
//! one transaction; the audit trail keeps its id-only rows and gains `patient.erased`, and the
//! `erasures` ledger keeps ids and counts.
//!
//! Consent events are deleted with the patient. They prove the right to send; once the
//! identities are gone nothing can be sent to this person, and a kept row would only tie the
//! wording they saw to someone erased. The one keep duty we know of (特定電子メール法: a record
//! of e-mail consent until a month after the last send) concerns e-mail channels, which tsunagu
//! does not have yet; the ledger row records how many consent events (and withdrawals) existed.
//!
//! Raw provider events keep their row (id, provider event id, time) with body and sender
//! blanked, so a late redelivery still dedupes and cannot recreate the patient; retention
//! deletes those rows after `DEDUPE_KEEP_MS`.
use std::collections::{BTreeMap, HashSet};

use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ChannelId, ClinicId, PatientId};
use tsunagu_store::{patients, search, webhooks, Db};

use crate::audit::{self, Actor, AuditEntry};

pub mod schema;

/// How long an erased event's dedupe row outlives its body: LINE redelivers for a few days;
/// eight covers that with margin.
pub const DEDUPE_KEEP_MS: i64 = 8 * 24 * 3_600_000;

/// Tables erasure never deletes from: they hold ids only and are the proof of what happened.
pub const KEPT_TABLES: &[&str] = &["audit_events", "erasures"];

#[derive(Debug, Clone, serde::Serialize)]
pub struct ErasureReport {
    pub erasure_id: String,
    /// table → rows deleted (webhook_events: bodies blanked).
    pub counts: BTreeMap<String, i64>,
}

/// The ids that name the patient anywhere in the schema.
#[derive(Default)]
pub struct Subject {
    pub patient: Vec<String>,
    pub identity: Vec<String>,
    pub conversation: Vec<String>,
    pub message: Vec<String>,
}

/// Erases `patient` of `clinic`. `None` when there is no such patient in the clinic.
pub async fn erase_patient(
    db: &Db,
    clinic: &ClinicId,
    patient: &PatientId,
    actor: &Actor,
    reason: &str,
    now_ms: i64,
) -> anyhow::Result<Option<ErasureReport>> {
    let mut tx = db.begin().await?;
    let conn = tx.conn();
    let Some(p) = patients::by_id(conn, clinic, patient).await? else {
        return Ok(None);
    };
    let identities = patients::identities_of(conn, clinic, patient).await?;
    let mut s = Subject {
        patient: vec![p.id.clone()],
        ..Subject::default()
    };
    s.identity = identities.iter().map(|i| i.id.clone()).collect();
    s.conversation = ids_in(
        conn,
        "SELECT id FROM conversations WHERE clinic_id = $1 AND patient_id = $2",
        clinic,
        &p.id,
    )
    .await?;
    for ident in &s.identity {
        let more = ids_in(
            conn,
            "SELECT id FROM conversations WHERE clinic_id = $1 AND channel_identity_id = $2",
            clinic,
            ident,
        )
        .await?;
        push_new(&mut s.conversation, more);
    }
    for c in &s.conversation.clone() {
        let more = ids_in(
            conn,
            "SELECT id FROM messages WHERE clinic_id = $1 AND conversation_id = $2",
            clinic,
            c,
        )
        .await?;
        push_new(&mut s.message, more);
    }
    // In group chats only this sender's messages go; the others' stay with the group.
    let mut groups = Vec::new();
    for ident in &s.identity {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT id, conversation_id FROM messages WHERE clinic_id = $1 AND sender_identity_id = $2",
        )
        .bind(clinic.as_str())
        .bind(ident)
        .fetch_all(&mut *conn)
        .await
        .context("finding the patient's messages in group chats")?;
        for (m, c) in rows {
            if !s.conversation.contains(&c) && !groups.contains(&c) {
                groups.push(c);
            }
            push_new(&mut s.message, vec![m]);
        }
    }
    let mut counts = BTreeMap::new();
    let consent_withdrawals = count_withdrawals(conn, &p.id).await?;

    let mut needles: HashSet<String> = HashSet::new();
    needles.extend(
        s.patient
            .iter()
            .chain(&s.identity)
            .chain(&s.conversation)
            .chain(&s.message)
            .cloned(),
    );
    needles.extend(identities.iter().map(|i| i.external_id.clone()));
    counts.insert(
        "outbox_jobs".into(),
        delete_jobs(conn, clinic, &needles).await?,
    );
    counts.insert(
        "idempotency_keys".into(),
        delete_cached_responses(conn, clinic, &needles).await?,
    );

    let mut blanked = 0;
    for i in &identities {
        blanked += blank_events(
            conn,
            &ChannelId::from_db(i.channel_id.clone()),
            &i.external_id,
        )
        .await?;
    }
    counts.insert("webhook_events".into(), blanked);

    // The search index names messages and notes by id only: their words go with them.
    search::forget(conn, search::MESSAGE, &s.message).await?;
    search::forget(conn, search::PATIENT, &s.patient).await?;
    search::forget_notes_of(conn, &s.conversation).await?;
    schema::delete_referencing(conn, &s, &mut counts).await?;
    for g in &groups {
        refresh_preview(conn, g).await?;
    }
    let n = sqlx::query("DELETE FROM patients WHERE id = $1 AND clinic_id = $2")
        .bind(&p.id)
        .bind(clinic.as_str())
        .execute(&mut *conn)
        .await
        .context("deleting the patient row (another table may still refer to it)")?
        .rows_affected();
    counts.insert("patients".into(), n as i64);
    counts.insert("consent_withdrawals".into(), consent_withdrawals);

    let erasure_id = new_id();
    let reason = redact(reason, &p);
    sqlx::query(
        "INSERT INTO erasures (id, clinic_id, patient_id, requested_by, reason, counts, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&erasure_id)
    .bind(clinic.as_str())
    .bind(&p.id)
    .bind(actor_ref(actor))
    .bind(&reason)
    .bind(serde_json::to_string(&counts).context("encoding the erasure counts")?)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("recording the erasure")?;
    let subject = [p.id.as_str(), erasure_id.as_str()];
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor,
        action: "patient.erased",
        subject_type: Some("patient"),
        subject_ids: &subject,
        source_ip: None,
    };
    audit::record(conn, db.backend(), entry, now_ms).await?;
    tx.commit().await.context("committing the erasure")?;
    Ok(Some(ErasureReport { erasure_id, counts }))
}

/// `staff:<id>` | `token:<id>` | `system`.
pub fn actor_ref(actor: &Actor) -> String {
    match actor {
        Actor::Staff(id) => format!("staff:{id}"),
        Actor::Token(id) => format!("token:{id}"),
        Actor::System => "system".into(),
        Actor::Anonymous => "anonymous".into(),
    }
}

/// Staff write reasons like "山田様ご本人の申出": the ledger must not keep the name.
fn redact(reason: &str, p: &patients::Patient) -> String {
    let mut out = reason.trim().to_string();
    let names = [
        Some(p.display_name.as_str()),
        p.kana.as_deref(),
        p.phone.as_deref(),
        p.email.as_deref(),
    ];
    for n in names
        .into_iter()
        .flatten()
        .filter(|n| n.chars().count() >= 2)
    {
        out = out.replace(n, "〔削除済み〕");
        for part in n.split_whitespace().filter(|w| w.chars().count() >= 2) {
            out = out.replace(part, "〔削除済み〕");
        }
    }
    out
}

async fn ids_in(
    conn: &mut AnyConnection,
    sql: &str,
    clinic: &ClinicId,
    key: &str,
) -> anyhow::Result<Vec<String>> {
    sqlx::query_scalar(sql)
        .bind(clinic.as_str())
        .bind(key)
        .fetch_all(conn)
        .await
        .context("collecting the patient's rows for erasure")
}

fn push_new(into: &mut Vec<String>, more: Vec<String>) {
    for m in more {
        if !into.contains(&m) {
            into.push(m);
        }
    }
}

async fn count_withdrawals(conn: &mut AnyConnection, patient: &str) -> anyhow::Result<i64> {
    if !schema::table_exists(conn, "consent_events").await? {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT COUNT(*) FROM consent_events WHERE patient_id = $1 AND granted = 0")
        .bind(patient)
        .fetch_one(conn)
        .await
        .context("counting the patient's consent withdrawals")
}

/// Every job naming one of the patient's ids (sends, profile and media fetches, dispatch): a
/// pending send must not go out after erasure, and a finished job's payload still names them.
pub(crate) async fn delete_jobs(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    needles: &HashSet<String>,
) -> anyhow::Result<i64> {
    let jobs: Vec<(String, String)> = sqlx::query_as(
        "SELECT id, payload FROM outbox_jobs WHERE clinic_id = $1 OR clinic_id IS NULL",
    )
    .bind(clinic.as_str())
    .fetch_all(&mut *conn)
    .await
    .context("reading the clinic's jobs")?;
    let mut n = 0;
    for (id, payload) in jobs {
        let hit = match serde_json::from_str::<serde_json::Value>(&payload) {
            Ok(v) => names_any(&v, needles),
            Err(_) => needles.iter().any(|x| payload.contains(x.as_str())),
        };
        if hit {
            sqlx::query("DELETE FROM outbox_jobs WHERE id = $1")
                .bind(&id)
                .execute(&mut *conn)
                .await
                .context("deleting a job of the erased patient")?;
            n += 1;
        }
    }
    Ok(n)
}

fn names_any(v: &serde_json::Value, needles: &HashSet<String>) -> bool {
    match v {
        serde_json::Value::String(s) => needles.contains(s),
        serde_json::Value::Array(a) => a.iter().any(|x| names_any(x, needles)),
        serde_json::Value::Object(o) => o.values().any(|x| names_any(x, needles)),
        _ => false,
    }
}

/// API responses kept for `Idempotency-Key` repeats (24 hours) may quote the patient.
async fn delete_cached_responses(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    needles: &HashSet<String>,
) -> anyhow::Result<i64> {
    let rows: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT actor_id, key, response_body FROM idempotency_keys WHERE clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_all(&mut *conn)
    .await
    .context("reading cached API responses")?;
    let mut n = 0;
    for (actor, key, body) in rows {
        if needles.iter().any(|x| body.contains(x.as_str())) {
            sqlx::query(
                "DELETE FROM idempotency_keys WHERE clinic_id = $1 AND actor_id = $2 AND key = $3",
            )
            .bind(clinic.as_str())
            .bind(&actor)
            .bind(&key)
            .execute(&mut *conn)
            .await
            .context("deleting a cached API response about the erased patient")?;
            n += 1;
        }
    }
    Ok(n)
}

/// Blanks the raw events this user sent (by `sender_ref`) or that name them (older rows from
/// before `sender_ref`, group events mentioning them). The row stays as the dedupe key.
async fn blank_events(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    user_id: &str,
) -> anyhow::Result<i64> {
    let escaped = user_id
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let r = sqlx::query(
        "UPDATE webhook_events SET body = NULL, sender_ref = NULL, state = 'erased'
         WHERE channel_id = $1 AND (sender_ref = $2 OR body LIKE $3 ESCAPE '\\')",
    )
    .bind(channel.as_str())
    .bind(webhooks::sender_ref(channel, user_id))
    .bind(format!("%{escaped}%"))
    .execute(conn)
    .await
    .context("blanking the patient's raw webhook events")?;
    Ok(r.rows_affected() as i64)
}

/// A group's inbox preview may quote the erased member: show the latest remaining message.
async fn refresh_preview(conn: &mut AnyConnection, conversation: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE conversations SET last_message_preview = (SELECT SUBSTR(m.body, 1, 80) FROM messages m
             WHERE m.conversation_id = conversations.id ORDER BY m.created_at DESC, m.id DESC LIMIT 1)
         WHERE id = $1",
    )
    .bind(conversation)
    .execute(conn)
    .await
    .context("refreshing a group chat's preview after erasure")?;
    Ok(())
}
