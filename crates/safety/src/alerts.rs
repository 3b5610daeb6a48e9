//! An urgent message's on-call alert and its escalation: who is on call at the alert (kept on
//! the alert, so escalation walks the rota as it was), whether a staff member has opened the
//! conversation since (set by the conversation page, the signal escalation waits for), and
//! who was told at which step (the header's on-call badge reads it).
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::ids::new_id;
use tsunagu_core::ClinicId;

#[derive(Clone, Debug, FromRow)]
pub struct Alert {
    pub id: String,
    pub clinic_id: String,
    pub conversation_id: String,
    pub message_id: String,
    on_call: String,
    pub created_at: i64,
    pub opened_at: Option<i64>,
}

impl Alert {
    /// The rota's staff at the alert, in calling order.
    pub fn on_call(&self) -> Vec<String> {
        serde_json::from_str(&self.on_call).unwrap_or_default()
    }

    /// Who step `step` tells: the step-th person on call, then (the step after the last)
    /// everyone on the rota; nobody after that. A rota of one is told once.
    pub fn recipients(&self, step: i64) -> Vec<String> {
        let on_call = self.on_call();
        let n = on_call.len() as i64;
        match step {
            s if s < 0 => Vec::new(),
            s if s < n => vec![on_call[s as usize].clone()],
            s if s == n && n > 1 => on_call,
            _ => Vec::new(),
        }
    }

    /// Whether a later step may still tell someone.
    pub fn has_step(&self, step: i64) -> bool {
        !self.recipients(step).is_empty()
    }
}

/// Creates the alert for `message_id`; `None` when it has one already (a retried job).
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    message_id: &str,
    on_call: &[String],
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let id = new_id();
    let done = sqlx::query(
        "INSERT INTO triage_alerts (id, clinic_id, conversation_id, message_id, on_call, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(conversation_id)
    .bind(message_id)
    .bind(serde_json::to_string(on_call)?)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating an on-call alert")?;
    Ok((done.rows_affected() == 1).then_some(id))
}

pub async fn load(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Alert>> {
    sqlx::query_as(
        "SELECT id, clinic_id, conversation_id, message_id, on_call, created_at, opened_at
         FROM triage_alerts WHERE id = $1 AND clinic_id = $2",
    )
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("loading an on-call alert")
}

/// A staff member opened the conversation: its unopened alerts are answered, so they escalate
/// no further. Returns how many were.
pub async fn opened(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    staff_id: &str,
    now_ms: i64,
) -> anyhow::Result<u64> {
    let done = sqlx::query(
        "UPDATE triage_alerts SET opened_at = $1, opened_by = $2
         WHERE clinic_id = $3 AND conversation_id = $4 AND opened_at IS NULL",
    )
    .bind(now_ms)
    .bind(staff_id)
    .bind(clinic.as_str())
    .bind(conversation_id)
    .execute(conn)
    .await
    .context("marking on-call alerts opened")?;
    Ok(done.rows_affected())
}

/// Records that `staff_id` was told at `step`; `false` if that was recorded before.
pub async fn notified(
    conn: &mut AnyConnection,
    alert: &Alert,
    step: i64,
    staff_id: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO triage_notified (alert_id, step, staff_id, clinic_id, conversation_id, at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (alert_id, step, staff_id) DO NOTHING",
    )
    .bind(&alert.id)
    .bind(step)
    .bind(staff_id)
    .bind(&alert.clinic_id)
    .bind(&alert.conversation_id)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording an on-call notification")?;
    Ok(done.rows_affected() == 1)
}

/// The conversations `staff_id` was called to and nobody has opened since, newest first: the
/// header's badge and its browser notification (ids only, no words).
pub async fn pending_for(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff_id: &str,
) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT a.conversation_id, MAX(n.at) FROM triage_notified n
         JOIN triage_alerts a ON a.id = n.alert_id AND a.clinic_id = n.clinic_id
         WHERE n.clinic_id = $1 AND n.staff_id = $2 AND a.opened_at IS NULL
         GROUP BY a.conversation_id ORDER BY MAX(n.at) DESC LIMIT 20",
    )
    .bind(clinic.as_str())
    .bind(staff_id)
    .fetch_all(conn)
    .await
    .context("listing my on-call alerts")?;
    Ok(rows.into_iter().map(|(c, _)| c).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alert(on_call: &[&str]) -> Alert {
        Alert {
            id: "a".into(),
            clinic_id: "c".into(),
            conversation_id: "cv".into(),
            message_id: "m".into(),
            on_call: serde_json::to_string(on_call).unwrap_or_default(),
            created_at: 0,
            opened_at: None,
        }
    }

    #[test]
    fn the_rota_is_called_one_by_one_then_everyone_once() {
        let a = alert(&["nurse", "owner"]);
        assert_eq!(a.recipients(0), vec!["nurse"]);
        assert_eq!(a.recipients(1), vec!["owner"]);
        assert_eq!(a.recipients(2), vec!["nurse", "owner"]);
        assert!(a.recipients(3).is_empty() && !a.has_step(3));
    }

    #[test]
    fn a_rota_of_one_is_called_once_and_an_empty_one_never() {
        let one = alert(&["nurse"]);
        assert_eq!(one.recipients(0), vec!["nurse"]);
        assert!(!one.has_step(1));
        assert!(!alert(&[]).has_step(0));
    }
}
