//! Staff change a conversation's state (解決済み, 保留, スヌーズ, 再開) or priority. One
//! transaction: the change, a system line in the conversation naming who did it (words chosen
//! when shown, from its payload), and the audit entry. A snooze also queues its wake job.
//! The caller publishes the live event once it returns `true`.
use sqlx::AnyConnection;
use tsunagu_core::jobs::{EventRuleFire, RuleEventKind, SatisfactionAsk, WakeSnoozed};
use tsunagu_core::{ClinicId, ConversationId, ConversationStatus, Priority};
use tsunagu_privacy::audit::{self, Actor, AuditEntry};
use tsunagu_store::conversations::state;
use tsunagu_store::jobs::{self, Enqueue};
use tsunagu_store::{Backend, Db};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Status(ConversationStatus, Option<i64>),
    Priority(Priority),
}

/// Who changes it: the audit actor, and the staff id the system line names (`None`: a token).
pub struct By<'a> {
    pub actor: &'a Actor,
    pub staff_id: Option<&'a str>,
    pub ip: Option<&'a str>,
}

/// Applies `change` to the clinic's conversation `id`. `false`: not the clinic's (nothing
/// written). A snooze time must be after `now_ms` (the caller refuses it otherwise).
pub async fn change(
    db: &Db,
    clinic: &ClinicId,
    id: &ConversationId,
    change: Change,
    by: By<'_>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let r = change_in(tx.conn(), db.backend(), clinic, id, change, by, now_ms).await?;
    if r {
        tx.commit().await?;
    }
    Ok(r)
}

/// [`change`] within the caller's transaction (bulk changes commit all or nothing).
pub async fn change_in(
    conn: &mut AnyConnection,
    backend: Backend,
    clinic: &ClinicId,
    id: &ConversationId,
    change: Change,
    by: By<'_>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    change_explained_in(conn, backend, clinic, id, change, by, None, now_ms).await
}

/// [`change_in`] with the system line's payload given by the caller when the change has a
/// reason of its own to show (triage raising a conversation names the phrase it found).
#[allow(clippy::too_many_arguments)]
pub async fn change_explained_in(
    conn: &mut AnyConnection,
    backend: Backend,
    clinic: &ClinicId,
    id: &ConversationId,
    change: Change,
    by: By<'_>,
    line: Option<serde_json::Value>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let (changed, action, event) = match change {
        Change::Status(status, until) => {
            let before = tsunagu_store::conversations::by_id(&mut *conn, clinic, id).await?;
            if let Some(kind) = rule_event(before.map(|c| c.status), status) {
                queue_rule_event(&mut *conn, clinic, id, kind, now_ms).await?;
            }
            let ok = state::set_status(&mut *conn, clinic, id, status, until, now_ms).await?;
            let event = serde_json::json!({
                "event": "conversation.status", "status": status.as_str(), "snoozed_until": until,
            });
            (ok, "conversation.status", event)
        }
        Change::Priority(p) => {
            let ok = state::set_priority(&mut *conn, clinic, id, p).await?;
            let event =
                serde_json::json!({"event": "conversation.priority", "priority": p.as_str()});
            (ok, "conversation.priority", event)
        }
    };
    if !changed {
        return Ok(false);
    }
    let event = line.unwrap_or(event);
    state::insert_line(
        &mut *conn,
        clinic,
        id,
        by.staff_id,
        &event.to_string(),
        now_ms,
    )
    .await?;
    if let Change::Status(ConversationStatus::Snoozed, Some(until)) = change {
        jobs::enqueue(
            &mut *conn,
            &WakeSnoozed {},
            Enqueue {
                clinic_id: Some(clinic),
                idempotency_key: &format!("wake:{}:{until}", id.as_str()),
                run_at: until,
            },
            now_ms,
        )
        .await?;
    }
    if let Change::Status(ConversationStatus::Resolved, _) = change {
        // The satisfaction survey decides after its delay (`automation::satisfaction`).
        let ask = SatisfactionAsk {
            clinic_id: clinic.clone(),
            conversation_id: id.as_str().to_string(),
            resolved_at: now_ms,
        };
        jobs::enqueue(
            &mut *conn,
            &ask,
            Enqueue {
                clinic_id: Some(clinic),
                idempotency_key: &format!("satisfaction:{}:{now_ms}", id.as_str()),
                run_at: now_ms,
            },
            now_ms,
        )
        .await?;
    }
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor: by.actor,
        action,
        subject_type: Some("conversation"),
        subject_ids: &[id.as_str()],
        source_ip: by.ip,
    };
    audit::record(&mut *conn, backend, entry, now_ms).await?;
    Ok(true)
}

/// The event rules' event a status change is, if any: resolved, or opened again.
fn rule_event(before: Option<String>, after: ConversationStatus) -> Option<RuleEventKind> {
    let before = before?;
    match after {
        ConversationStatus::Resolved if before != "resolved" => {
            Some(RuleEventKind::ConversationResolved)
        }
        ConversationStatus::Open if before == "resolved" => Some(RuleEventKind::ConversationOpened),
        _ => None,
    }
}

/// Queued with the change (`event_rule.fire`): the rules run after the commit, once.
async fn queue_rule_event(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ConversationId,
    kind: RuleEventKind,
    now_ms: i64,
) -> anyhow::Result<()> {
    let event_key = format!("{}:{}", kind.as_str(), tsunagu_core::new_id());
    let key = format!("event_rule:{event_key}");
    let job = EventRuleFire {
        clinic_id: clinic.clone(),
        kind,
        event_key,
        message_id: None,
        patient_id: None,
        conversation_id: Some(id.as_str().to_owned()),
        tags: vec![],
        purpose: None,
        granted: None,
        depth: 0,
    };
    let at = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    jobs::enqueue(conn, &job, at, now_ms).await?;
    Ok(())
}

/// Puts a label on the conversation (`add`) or takes it off, audited. `false`: the label or the
/// conversation is not the clinic's, or nothing changed.
pub async fn label(
    db: &Db,
    clinic: &ClinicId,
    id: &ConversationId,
    label_id: &str,
    add: bool,
    by: By<'_>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let r = label_in(
        tx.conn(),
        db.backend(),
        clinic,
        id,
        (label_id, add),
        by,
        now_ms,
    )
    .await?;
    if r {
        tx.commit().await?;
    }
    Ok(r)
}

/// [`label`] within the caller's transaction (bulk changes commit all or nothing); the label
/// and whether to add it go as a pair.
pub async fn label_in(
    conn: &mut AnyConnection,
    backend: Backend,
    clinic: &ClinicId,
    id: &ConversationId,
    (label_id, add): (&str, bool),
    by: By<'_>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let changed = if add {
        tsunagu_store::labels::add(&mut *conn, clinic, id, label_id, now_ms).await?
    } else {
        tsunagu_store::labels::remove(&mut *conn, clinic, id, label_id).await?
    };
    if !changed {
        return Ok(false);
    }
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor: by.actor,
        action: if add {
            "conversation.label_add"
        } else {
            "conversation.label_remove"
        },
        subject_type: Some("conversation"),
        subject_ids: &[id.as_str(), label_id],
        source_ip: by.ip,
    };
    audit::record(&mut *conn, backend, entry, now_ms).await?;
    Ok(true)
}
