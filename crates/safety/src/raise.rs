//! A red flag found: in one transaction the assessment is recorded on the message, the
//! conversation becomes urgent through the inbox's state path (a system line naming the phrase,
//! the audit entry by the system), and its on-call alert is created with the job that tells the
//! first person on call. A retried job finds the message recorded and changes nothing.
use sqlx::AnyConnection;
use tsunagu_core::jobs::TriageEscalate;
use tsunagu_core::{ClinicId, ConversationId, Priority};
use tsunagu_inbox::state::{self, By, Change};
use tsunagu_privacy::audit::Actor;
use tsunagu_store::jobs::{self, Enqueue};
use tsunagu_store::Backend;
use tsunagu_triage::{Assessment, Sentiment};

use crate::{alerts, hits, rota};

/// What [`record`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Raised {
    /// The assessment was recorded now (false: a retry found it).
    pub recorded: bool,
    /// The conversation's priority became urgent.
    pub priority: bool,
    /// The alert created for the on-call rota.
    pub alert: Option<String>,
}

/// The message being assessed.
pub struct Assessed<'a> {
    pub clinic: &'a ClinicId,
    pub conversation_id: &'a str,
    pub conversation_priority: i64,
    pub message_id: &'a str,
    /// The text assessed (the hits' spans are in it).
    pub text: &'a str,
    pub assessment: &'a Assessment,
    pub sentiment: (&'a Sentiment, &'a [String]),
}

/// Records `m`'s assessment and, for an urgent one, raises the conversation and alerts the
/// rota; within the caller's transaction.
pub async fn record(
    conn: &mut AnyConnection,
    backend: Backend,
    m: &Assessed<'_>,
    now_ms: i64,
) -> anyhow::Result<Raised> {
    let recorded = hits::record(
        &mut *conn,
        m.clinic,
        m.conversation_id,
        m.message_id,
        (m.text, m.assessment),
        m.sentiment,
        now_ms,
    )
    .await?;
    let mut out = Raised {
        recorded,
        ..Raised::default()
    };
    if recorded {
        hits::set_dissatisfaction(&mut *conn, m.clinic, m.conversation_id, m.sentiment.0).await?;
    }
    if !recorded || !m.assessment.urgent {
        return Ok(out);
    }
    let conv = ConversationId::from_db(m.conversation_id.to_string());
    if m.conversation_priority < Priority::Urgent.as_i64() {
        let first = hits::stored_hits(m.text, m.assessment).into_iter().next();
        let line = serde_json::json!({
            "event": "triage",
            "crisis": m.assessment.crisis,
            "category": first.as_ref().map(|h| h.category.clone()),
            "phrase": first.as_ref().map(|h| h.phrase.clone()),
        });
        let by = By {
            actor: &Actor::System,
            staff_id: None,
            ip: None,
        };
        let change = Change::Priority(Priority::Urgent);
        out.priority = state::change_explained_in(
            &mut *conn,
            backend,
            m.clinic,
            &conv,
            change,
            by,
            Some(line),
            now_ms,
        )
        .await?;
    }
    let on_call = rota::on_call_at(&mut *conn, m.clinic, now_ms).await?;
    let alert = alerts::create(
        &mut *conn,
        m.clinic,
        m.conversation_id,
        m.message_id,
        &on_call,
        now_ms,
    )
    .await?;
    if let Some(id) = &alert {
        jobs::enqueue(
            &mut *conn,
            &TriageEscalate {
                alert_id: id.clone(),
                step: 0,
            },
            Enqueue {
                clinic_id: Some(m.clinic),
                idempotency_key: &format!("triage.escalate:{id}:0"),
                run_at: now_ms,
            },
            now_ms,
        )
        .await?;
    }
    out.alert = alert;
    Ok(out)
}
