//! `conversation.scheduled_send`: a scheduled message whose time has come leaves (or is
//! refused, which stays on the conversation) and open pages are told.
use tsunagu_core::jobs::ScheduledSend;
use tsunagu_core::ClinicId;
use tsunagu_inbox::scheduled::{self, Sent};
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Worker};
use tsunagu_store::jobs::Job;

pub(crate) struct ScheduledJob;

#[async_trait::async_trait]
impl JobHandler for ScheduledJob {
    type Job = ScheduledSend;

    async fn run(&self, worker: &Worker, _: &Job, p: ScheduledSend) -> anyhow::Result<Outcome> {
        let now = worker.clock.now_ms();
        // Queued early by a clock that ran ahead elsewhere: not yet.
        if now < p.send_at {
            return Ok(Outcome::Defer {
                until_ms: p.send_at,
            });
        }
        let clinic = ClinicId::from_db(p.clinic_id.as_str().to_owned());
        let sent =
            scheduled::send_due(&worker.db, &clinic, &p.scheduled_id, p.send_at, now).await?;
        let conversation = match &sent {
            Sent::Queued { conversation_id } => conversation_id,
            Sent::Refused {
                conversation_id,
                why,
            } => {
                tracing::info!(
                    code = why.code.as_str(),
                    "a scheduled message was refused at its time"
                );
                conversation_id
            }
            Sent::Nothing => return Ok(Outcome::Done),
        };
        (worker.on_change)(clinic.as_str(), conversation);
        Ok(Outcome::Done)
    }
}
