//! Answering the patient's own message: with LINE's reply token while it is fresh (free of
//! quota, single-use), otherwise by push. Either way it is a reply to the patient's action, so it
//! needs no separate consent. A token another step already used (a greeting before a keyword
//! answer) is not an error: the answer goes by push, through the consent and reachability checks.
use tsunagu_core::Code;
use tsunagu_inbox::reply::{self, Author, Outgoing, ReplyOutcome};
use tsunagu_privacy::consent::SendBasis;

use crate::Inbound;

/// LINE accepts 1–5 message objects per reply.
const MAX_REPLY_MESSAGES: usize = 5;

pub(crate) fn fresh_token(m: &Inbound, now: i64) -> Option<(&str, i64)> {
    reply::fresh_token(m.reply_token.as_ref(), now)
}

fn token_used(o: &ReplyOutcome) -> bool {
    matches!(o, ReplyOutcome::Refused(r) if r.code == Code::ReplyTokenUsed)
}

pub async fn answer(m: &Inbound, text: &str) -> anyhow::Result<ReplyOutcome> {
    Ok(answer_all(m, &[text.to_string()])
        .await?
        .pop()
        .unwrap_or_else(|| ReplyOutcome::Refused(tsunagu_core::Refusal::new(Code::EmptyMessage))))
}

/// Several texts in order: one reply with all of them while the token is fresh, else one push
/// each. The outcome of each send (one for a reply).
pub async fn answer_all(m: &Inbound, texts: &[String]) -> anyhow::Result<Vec<ReplyOutcome>> {
    let now = m.clock.now_ms();
    if let Some((token, at)) = fresh_token(m, now).filter(|_| texts.len() <= MAX_REPLY_MESSAGES) {
        let messages = texts
            .iter()
            .map(|t| serde_json::json!({"type": "text", "text": t}))
            .collect();
        let outcome = reply::queue_auto_reply(
            &m.db,
            &m.clinic,
            &m.conversation,
            Some(token),
            at,
            messages,
            now,
        )
        .await?;
        if !token_used(&outcome) {
            return Ok(vec![outcome]);
        }
    }
    let mut out = Vec::with_capacity(texts.len());
    for t in texts {
        out.push(reply::queue_automation_push(&m.db, &m.clinic, &m.conversation, t, now).await?);
    }
    Ok(out)
}

/// Message objects in order (a flow's texts and choices): one reply with all of them while the
/// token is fresh, else one push each, through consent, reachability and the outbox.
pub async fn answer_outgoing(m: &Inbound, out: Vec<Outgoing>) -> anyhow::Result<Vec<ReplyOutcome>> {
    let now = m.clock.now_ms();
    if let Some((token, at)) = fresh_token(m, now).filter(|_| out.len() <= MAX_REPLY_MESSAGES) {
        let messages = out.iter().map(|o| o.payload.clone()).collect();
        let outcome = reply::queue_auto_reply(
            &m.db,
            &m.clinic,
            &m.conversation,
            Some(token),
            at,
            messages,
            now,
        )
        .await?;
        if !token_used(&outcome) {
            return Ok(vec![outcome]);
        }
    }
    let mut sent = Vec::with_capacity(out.len());
    for o in out {
        let basis = SendBasis::ReplyToPatient;
        let outcome = reply::queue_outgoing(
            &m.db,
            &m.clinic,
            &m.conversation,
            Author::Automation,
            o,
            basis,
            now,
        )
        .await?;
        let refused = matches!(outcome, ReplyOutcome::Refused(_));
        sent.push(outcome);
        if refused {
            break; // the rest would not make sense alone
        }
    }
    Ok(sent)
}
