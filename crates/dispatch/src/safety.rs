//! Red-flag triage of every patient text (issue 13), before "who answers" and whatever it
//! decides: also while automation is quiet and in LINE standby mode. The clinic's detector
//! (`tsunagu_safety::settings::detector`) assesses the text; the assessment is stored on the
//! message, and an urgent one raises the conversation and alerts the on-call rota
//! (`tsunagu_safety::raise`, one transaction). Then the patient gets the clinic's guidance (the
//! crisis lines for a crisis hit) at most once per conversation per hour, never in standby mode
//! (another system answers there: staff are alerted only). The claim and the send are one
//! transaction, so a retried job never sends twice and two messages at once send one.
use tsunagu_inbox::canned;
use tsunagu_inbox::reply::{queue_auto_reply_in, queue_in, Author, Outgoing, ReplyOutcome};
use tsunagu_privacy::consent::SendBasis;
use tsunagu_safety::raise::{self, Assessed};
use tsunagu_safety::{guidance, settings};

use crate::answer::fresh_token;
use crate::Inbound;

/// What triage made of the message.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Triaged {
    /// A red flag: the message goes to staff, automation does not answer it.
    pub urgent: bool,
    /// Something staff may be looking at changed (publish a live event).
    pub changed: bool,
}

/// Assesses a patient's text, records it, raises and alerts on a red flag, sends the guidance.
pub async fn step(m: &Inbound) -> anyhow::Result<Triaged> {
    if m.message.direction != "in" || m.identity.is_none() || m.message.kind != "text" {
        return Ok(Triaged::default());
    }
    let Some(text) = m.text.as_deref() else {
        return Ok(Triaged::default());
    };
    let now = m.clock.now_ms();
    let (detector, settings) = {
        let mut conn = m.db.pool().acquire().await?;
        settings::detector(&mut conn, &m.clinic).await?
    };
    let assessment = detector.assess(text);
    let (sentiment, cues) = tsunagu_safety::triage::sentiment(text);
    let raised = {
        let mut tx = m.db.begin().await?;
        let assessed = Assessed {
            clinic: &m.clinic,
            conversation_id: &m.conversation.id,
            conversation_priority: m.conversation.priority,
            message_id: &m.message.id,
            text,
            assessment: &assessment,
            sentiment: (&sentiment, &cues),
        };
        let r = raise::record(tx.conn(), m.db.backend(), &assessed, now).await?;
        tx.commit().await?;
        r
    };
    if !assessment.urgent {
        return Ok(Triaged {
            urgent: false,
            changed: raised.recorded,
        });
    }
    tracing::info!(conversation = %m.conversation.id, crisis = assessment.crisis, "triage found a red flag");
    if !m.standby && m.conversation.kind == "direct" {
        let text = guidance::text(&settings, assessment.crisis).to_string();
        send_guidance(m, &text).await?;
    }
    Ok(Triaged {
        urgent: true,
        changed: true,
    })
}

/// Claims the hour's guidance and queues it in one transaction: by reply token while fresh,
/// else by push (a LINE push carries its retry key on every attempt).
async fn send_guidance(m: &Inbound, template: &str) -> anyhow::Result<()> {
    let now = m.clock.now_ms();
    let vars = {
        let mut conn = m.db.pool().acquire().await?;
        canned::vars::for_conversation(&mut conn, &m.clinic, &m.conversation, "").await?
    };
    let text = canned::render::render(template, &vars);
    let mut tx = m.db.begin().await?;
    let (conv, msg) = (&m.conversation.id, &m.message.id);
    if !guidance::claim(tx.conn(), &m.clinic, conv, msg, now).await? {
        return Ok(()); // sent within the hour (or by this job before a retry)
    }
    let mut outcome = None;
    if let Some((token, at)) = fresh_token(m, now) {
        let messages = vec![serde_json::json!({"type": "text", "text": text})];
        let o = queue_auto_reply_in(
            &mut tx,
            &m.clinic,
            &m.conversation,
            Some(token),
            at,
            messages,
            now,
        )
        .await?;
        if matches!(o, ReplyOutcome::Queued(_)) {
            outcome = Some(o);
        }
    }
    let outcome = match outcome {
        Some(o) => o,
        None => {
            let content = Outgoing::text(&text);
            let basis = SendBasis::ReplyToPatient;
            queue_in(
                &mut tx,
                &m.clinic,
                &m.conversation,
                Author::Automation,
                content,
                basis,
                now,
            )
            .await?
        }
    };
    match outcome {
        ReplyOutcome::Queued(_) => tx.commit().await?,
        ReplyOutcome::Refused(why) => {
            // Blocked, channel off…: staff still have the alert; the claim rolls back.
            tracing::warn!(code = why.code.as_str(), conversation = %m.conversation.id, "the emergency guidance was not sent");
        }
    }
    Ok(())
}
