//! Who answers an incoming message (DESIGN §4), in this order: carrier keywords (STOP/HELP, with
//! SMS) → consent commands (配信停止, 配信設定) → identity verification in chat → (later: a running
//! flow, a pending reminder question, keyword rules, the away message) → staff. Each step looks
//! at the message and either answers it or passes. Standby-mode messages are never answered.
//! A message left for staff is then routed: a conversation nobody has joins its channel's team
//! and may be given to an available member (`inbox::routing::auto`).
mod answer;
mod consent_commands;
mod context;
mod verification;

pub use answer::answer;
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
        if dispatch(&inbound, self.codes.as_ref()).await? == Step::Pass && !inbound.standby {
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
    if consent_commands::step(m).await? == Step::Handled {
        return Ok(Step::Handled);
    }
    if verification::step(m, codes).await? == Step::Handled {
        return Ok(Step::Handled);
    }
    // Steps are added here in the DESIGN §4 order as they are built.
    Ok(Step::Pass)
}
