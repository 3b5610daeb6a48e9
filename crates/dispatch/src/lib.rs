//! Who answers an incoming message (DESIGN §4, issue 12 item 6), in this order: carrier keywords
//! (STOP/HELP, with SMS, at ingest) → consent commands (配信停止, 配信設定) and the human escape
//! words (スタッフ, 人と話したい: to staff; they also stop a running flow; an inflow source's
//! code is recorded before them and keeps the keyword rules and the away message off that
//! message) → identity verification in chat → a running flow waiting for this answer
//! (`flows`) → a pending question: the satisfaction survey's score or comment (`satisfaction`;
//! anything else closes it and goes on), a choice from the FAQ menu while it waits
//! (`faq::choice`; a typed number counts only then) (later also a reminder's question) → the
//! greeting on first contact (with the FAQ menu when offered there) → event rules on "message
//! received" (自動ルール; a rule's reply answers the message) → the FAQ menu asked for
//! (メニュー, a rich menu postback: `faq::open`) → keyword rules → the away message → staff. Each step looks at the message and either answers
//! it, hands it to staff, or passes. Standby-mode messages are never answered, and automation
//! (`automation`: escape words, greeting, keywords, away) keeps quiet while a person handles the
//! conversation; consent commands and a verification the patient started still answer.
//! A message left for staff is then routed: a conversation nobody has joins its channel's team
//! and may be given to an available member (`inbox::routing::auto`).
//! Before all of them, red-flag triage (`safety`) looks at every patient text, standby and
//! quiet automation included; a red flag is answered with the clinic's emergency guidance and
//! goes to staff (the automation steps do not answer it).
mod answer;
mod automation;
mod consent_commands;
mod context;
mod faq;
mod flows;
mod safety;
mod satisfaction;
mod verification;

pub use answer::{answer, answer_all, answer_outgoing};
pub use context::Inbound;

use std::sync::Arc;

use tsunagu_core::jobs::InboundDispatch;
use tsunagu_inbox::routing::{route_inbound, Routed};
use tsunagu_outbox::worker::{JobHandler, Outcome, Worker};
use tsunagu_privacy::verification::code::{CodeSender, NoCodeChannel};
use tsunagu_store::jobs::Job;

/// What a step did with the message.
#[derive(Debug, PartialEq, Eq)]
pub enum Step {
    /// Answered (or acted on); later steps and staff routing are skipped.
    Handled,
    /// Left to a person now (an escape word, a keyword rule's hand-off): later steps are
    /// skipped and the conversation is routed to staff.
    ToStaff,
    /// Not this step's business.
    Pass,
}

/// The `inbound.dispatch` job handler, registered with the outbox worker by the binary, with
/// whatever can send verification codes (e-mail when `[smtp]` is set).
pub struct InboundDispatcher {
    pub codes: Arc<dyn CodeSender>,
}

impl Default for InboundDispatcher {
    fn default() -> Self {
        Self {
            codes: Arc::new(NoCodeChannel),
        }
    }
}

#[async_trait::async_trait]
impl JobHandler for InboundDispatcher {
    type Job = InboundDispatch;

    async fn run(&self, w: &Worker, _: &Job, p: InboundDispatch) -> anyhow::Result<Outcome> {
        let Some(inbound) = Inbound::load(w, &p).await? else {
            return Ok(Outcome::Done);
        };
        let triaged = safety::step(&inbound).await?;
        if triaged.changed {
            (w.on_change)(inbound.clinic.as_str(), &inbound.conversation.id);
        }
        let step = match triaged.urgent {
            true => Step::ToStaff,
            false => dispatch(&inbound, self.codes.as_ref()).await?,
        };
        if step != Step::Handled && !inbound.standby {
            let routed = route_inbound(
                &inbound.db,
                &inbound.clinic,
                &inbound.conversation.id,
                inbound.clock.now_ms(),
            )
            .await?;
            if routed != Routed::Untouched {
                (w.on_change)(inbound.clinic.as_str(), &inbound.conversation.id);
            }
        }
        Ok(Outcome::Done)
    }
}

/// Runs the steps in order until one handles the message.
pub async fn dispatch(m: &Inbound, codes: &dyn CodeSender) -> anyhow::Result<Step> {
    if m.standby {
        // Another bot answers in standby mode: we record, never reply.
        return Ok(Step::Pass);
    }
    if m.message.direction == "out" || m.identity.is_none() {
        // Only what a patient did is answered: never our own messages (no loops).
        return Ok(Step::Pass);
    }
    automation::friend_added(m).await?;
    if consent_commands::step(m).await? == Step::Handled {
        return Ok(Step::Handled);
    }
    let sourced = automation::source_code(m).await?;
    let auto = automation::Auto::load(m).await?;
    if auto.quiet.is_none() {
        let step = automation::escape(m, &auto).await?;
        if step != Step::Pass {
            return Ok(step);
        }
    }
    if verification::step(m, codes).await? == Step::Handled {
        return Ok(Step::Handled);
    }
    if auto.quiet.is_some() {
        return Ok(Step::Pass);
    }
    // A source's prefilled words answer no pending question (a running flow, the survey, the
    // FAQ menu): they go to the source's welcome or the greeting only.
    if !sourced.carried() {
        if let Some(step) = pending_answer(m).await? {
            return Ok(step);
        }
    }
    // Later, in this place: a pending reminder question.
    // A source's welcome stands in for the channel's greeting (why: `source_welcome`).
    // So does the welcome of a source the patient came through by LINE Login, owed to this
    // follow (why: `automation::login_welcome`).
    if !automation::source_welcome(m, &sourced).await? && !automation::login_welcome(m).await? {
        automation::greeting(m).await?;
    }
    if sourced.carried() {
        return Ok(Step::Handled);
    }
    // The clinic's event rules (自動ルール) on "message received" (why here: `automation`).
    let step = automation::event_rules(m).await?;
    if step != Step::Pass {
        return Ok(step);
    }
    let step = faq::open(m).await?;
    if step != Step::Pass {
        return Ok(step);
    }
    let step = automation::keywords(m, &auto).await?;
    if step != Step::Pass {
        return Ok(step);
    }
    // The away message answers for now; the message still waits for staff.
    automation::away_message(m, &auto).await?;
    Ok(Step::Pass)
}

/// A pending question this message answers: a running flow (quiet too while a person handles
/// it), the satisfaction survey (later also a reminder's question), the FAQ menu.
async fn pending_answer(m: &Inbound) -> anyhow::Result<Option<Step>> {
    let step = flows::step(m).await?;
    if step != Step::Pass {
        return Ok(Some(step));
    }
    let step = satisfaction::step(m).await?;
    if step != Step::Pass {
        return Ok(Some(step));
    }
    let step = faq::choice(m).await?;
    Ok((step != Step::Pass).then_some(step))
}
