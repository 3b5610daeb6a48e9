//! `conversation.wake`: opens the snoozed conversations whose time has come and tells open
//! pages. Each snooze queues one, due at its time; any run wakes every due conversation, so a
//! late or repeated run is harmless.
use tsunagu_core::jobs::WakeSnoozed;
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Worker};
use tsunagu_store::conversations::state;
use tsunagu_store::jobs::Job;

pub(crate) struct WakeJob;

#[async_trait::async_trait]
impl JobHandler for WakeJob {
    type Job = WakeSnoozed;

    async fn run(&self, worker: &Worker, _: &Job, _: WakeSnoozed) -> anyhow::Result<Outcome> {
        let mut tx = worker.db.begin().await?;
        let woken = state::wake_due(tx.conn(), worker.clock.now_ms()).await?;
        tx.commit().await?;
        for w in &woken {
            (worker.on_change)(&w.clinic_id, &w.id);
        }
        tracing::debug!(woken = woken.len(), "snoozed conversations woken");
        Ok(Outcome::Done)
    }
}
