//! "A running flow waiting for this answer" (issue 12 item 6): after the escape words and
//! verification, before keyword rules. The answer is claimed once (`automation_answered`, then
//! the run's own conditional UPDATE), so a redelivered webhook or a second worker never
//! advances a run twice; what the flow says goes back through `answer` (reply token when fresh).
use tsunagu_automation::conversation;
use tsunagu_automation::flows::runtime::{self, Effects};
use tsunagu_automation::flows::{store, Input};

use crate::{answer_outgoing, Inbound, Step};

/// What the patient sent, as the engine reads it; `None`: not an answer (an event, a
/// reaction), left to the other steps.
fn input(m: &Inbound) -> Option<Input<'_>> {
    match m.message.kind.as_str() {
        "text" | "postback" => Some(Input::Text(m.text.as_deref().unwrap_or_default())),
        "image" => Some(Input::Photo),
        // Something that cannot answer a question: asked again politely.
        "sticker" | "video" | "audio" | "file" | "location" => Some(Input::Text("")),
        _ => None,
    }
}

pub async fn step(m: &Inbound) -> anyhow::Result<Step> {
    if m.conversation.kind != "direct" || m.identity.is_none() {
        return Ok(Step::Pass);
    }
    let Some(input) = input(m) else {
        return Ok(Step::Pass);
    };
    let row = {
        let mut conn = m.db.pool().acquire().await?;
        store::running(&mut conn, &m.clinic, &m.conversation.id).await?
    };
    let Some(row) = row else {
        return Ok(Step::Pass);
    };
    let now = m.clock.now_ms();
    {
        let mut conn = m.db.pool().acquire().await?;
        if !conversation::claim_answer(&mut conn, &m.clinic, &m.message.id, "flow", now).await? {
            return Ok(Step::Handled);
        }
    }
    let Some(effects) = runtime::answer(
        &m.db,
        &m.clinic,
        &m.conversation,
        &row,
        input,
        &m.message.id,
        now,
    )
    .await?
    else {
        return Ok(Step::Handled);
    };
    say(m, &effects).await?;
    Ok(if effects.handed_over {
        Step::ToStaff
    } else {
        Step::Handled
    })
}

/// Sends what the flow says as the answer to this message.
pub async fn say(m: &Inbound, effects: &Effects) -> anyhow::Result<()> {
    let out: Vec<_> = effects.says.iter().map(runtime::outgoing).collect();
    if !out.is_empty() {
        for o in answer_outgoing(m, out).await? {
            if let tsunagu_inbox::reply::ReplyOutcome::Refused(why) = o {
                tracing::warn!(code = why.code.as_str(), conversation = %m.conversation.id, "a flow message was not sent");
            }
        }
    }
    Ok(())
}
