//! The worker loop. Web handlers and workers share nothing but the database, so `serve` can run
//! both or either, and several instances can share one PostgreSQL.
use std::sync::Arc;
use std::time::Duration;

use tracing::Instrument;
use tsunagu_core::SharedClock;
use tsunagu_privacy::Cipher;
use tsunagu_store::jobs::{self, Job};
use tsunagu_store::Db;

use crate::backoff;

mod lease;
mod registry;
pub use crate::outcome::Outcome;
pub use registry::{JobHandler, Registry};

/// Called after a job changed something staff may be looking at: (clinic id, conversation id).
pub type OnChange = Arc<dyn Fn(&str, &str) + Send + Sync>;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Attempts before a job is dead-lettered.
    pub max_attempts: i64,
    /// How long a claimed job is ours before another worker may assume we died
    /// (`[outbox] lease_secs`).
    pub lease_ms: i64,
    pub poll: Duration,
    /// On shutdown, how long the job in hand may take to finish before it is given back
    /// (`[outbox] shutdown_grace_secs`).
    pub shutdown_grace: Duration,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            lease_ms: 120_000,
            poll: Duration::from_secs(1),
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

#[derive(Clone)]
pub struct Worker {
    pub db: Db,
    pub clock: SharedClock,
    pub cipher: Cipher,
    /// Every provider call goes through this client: build it with
    /// `tsunagu_channels::outbound::Outbound::client` (non-public addresses refused).
    pub http: reqwest::Client,
    pub config: WorkerConfig,
    pub on_change: OnChange,
    /// `TSUNAGU_PUBLIC_URL` (no trailing slash): Twilio status callbacks point back here.
    pub public_base: String,
    /// Every job kind's handler: the outbox's own (`crate::handlers::registry`) and those the
    /// binary adds (dispatch, retention).
    pub handlers: Arc<Registry>,
}

impl Worker {
    /// Reclaims abandoned jobs, then claims and runs one due job. Returns how many ran.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        let Some(job) = self.claim_one().await? else {
            return Ok(0);
        };
        self.run_job(&job).await;
        Ok(1)
    }

    /// Runs until no job is due now (tests drive the queue with this instead of sleeping).
    pub async fn run_until_idle(&self) -> anyhow::Result<usize> {
        let mut total = 0;
        loop {
            let n = self.run_once().await?;
            if n == 0 {
                return Ok(total);
            }
            total += n;
        }
    }

    /// The background loop. When `shutdown` turns true it stops claiming, lets the job in hand
    /// finish within `shutdown_grace` and gives it back if it does not (`lease::abandon`), then
    /// returns.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut scheduled_day = None;
        while !*shutdown.borrow() {
            self.schedule_daily(&mut scheduled_day).await;
            let job = match self.claim_one().await {
                Ok(job) => job,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "outbox worker pass failed");
                    None
                }
            };
            match job {
                Some(job) if *shutdown.borrow() => self.release(&job).await,
                Some(job) => self.run_within_grace(&job, &mut shutdown).await,
                None => tokio::select! {
                    _ = tokio::time::sleep(self.config.poll) => {}
                    changed = shutdown.changed() => if changed.is_err() { return },
                },
            }
        }
    }

    /// Runs `job` to its end, unless shutdown comes and the grace runs out first: then the
    /// run is dropped and the job given back.
    async fn run_within_grace(&self, job: &Job, shutdown: &mut tokio::sync::watch::Receiver<bool>) {
        let grace = self.config.shutdown_grace;
        let cut_off = async {
            if shutdown.wait_for(|stop| *stop).await.is_err() {
                // No one can ask us to stop any more: run to the end.
                std::future::pending::<()>().await;
            }
            tokio::time::sleep(grace).await;
        };
        tokio::select! {
            _ = self.run_job(job) => {}
            _ = cut_off => self.abandon(job).await,
        }
    }

    async fn claim_one(&self) -> anyhow::Result<Option<Job>> {
        self.reclaim_expired().await?;
        let now = self.clock.now_ms();
        // One at a time: a job claimed now and reached later would look abandoned.
        let claimed = jobs::claim_due(&self.db, now, self.config.lease_ms, 1).await?;
        Ok(claimed.into_iter().next())
    }

    async fn run_job(&self, job: &Job) {
        let run = async {
            let outcome = self.handle(job).await;
            crate::job_trace::outcome(&outcome);
            if let Err(e) = self.finish(job, outcome).await {
                tracing::error!(error = %format!("{e:#}"), "recording a job outcome");
            }
        };
        run.instrument(crate::job_trace::span(job)).await;
    }

    /// Enqueues the daily jobs once per UTC day and process; their idempotency keys make every
    /// other worker's enqueue of the same day a no-op.
    async fn schedule_daily(&self, scheduled_day: &mut Option<i64>) {
        let now = self.clock.now_ms();
        let day = now.div_euclid(86_400_000);
        if *scheduled_day == Some(day) {
            return;
        }
        let result = async {
            let mut tx = self.db.begin().await?;
            for handler in self.handlers.all() {
                handler.schedule_daily(tx.conn(), now).await?;
            }
            tx.commit().await
        };
        match result.await {
            Ok(()) => *scheduled_day = Some(day),
            Err(e) => tracing::error!(error = %format!("{e:#}"), "scheduling the daily jobs"),
        }
    }

    async fn handle(&self, job: &Job) -> Outcome {
        let Some(handler) = self.handlers.get(&job.kind) else {
            return Outcome::Dead {
                code: "unknown_job",
                error: format!("unknown job kind {}: no handler is registered", job.kind),
            };
        };
        match handler.run(self, job).await {
            Ok(outcome) => outcome,
            Err(e) => {
                tracing::error!(job = %job.id, kind = %job.kind, error = %format!("{e:#}"), "job failed");
                if handler.repeatable(job) || !self.attempt_was_started(job).await {
                    Outcome::Retry {
                        after: None,
                        error: "internal error".into(),
                    }
                } else {
                    // The error may have come after the provider executed the request.
                    Outcome::InDoubt {
                        error: "internal error while sending; it may have been delivered".into(),
                    }
                }
            }
        }
    }

    async fn finish(&self, job: &Job, outcome: Outcome) -> anyhow::Result<()> {
        let now = self.clock.now_ms();
        let id = job.job_id();
        let outcome = match outcome {
            Outcome::Retry { error, .. } if job.attempts >= self.config.max_attempts => {
                Outcome::Dead {
                    code: "retries_exhausted",
                    error: format!("gave up after {} attempts: {error}", job.attempts),
                }
            }
            o => o,
        };
        let mut tx = self.db.begin().await?;
        match &outcome {
            // Handlers usually complete the job with their effects; this covers the rest.
            Outcome::Done => jobs::complete(tx.conn(), &id, now).await?,
            Outcome::Retry { after, error } => {
                let at = now + backoff::delay(job.attempts, *after).as_millis() as i64;
                jobs::retry_at(tx.conn(), &id, at, error, now).await?;
            }
            Outcome::Dead { error, .. } => jobs::dead(tx.conn(), &id, error, now).await?,
            Outcome::InDoubt { error } => jobs::in_doubt(tx.conn(), &id, error, now).await?,
            Outcome::Defer { until_ms } => jobs::defer(tx.conn(), &id, *until_ms, now).await?,
        }
        // What the outcome means beyond the job (e.g. a message's delivery state), atomically.
        let touched = match self.handlers.get(&job.kind) {
            Some(handler) => handler.settled(&mut tx, job, &outcome).await?,
            None => None,
        };
        tx.commit().await?;
        if let (Some(conv), Some(clinic)) = (touched, job.clinic_id.as_deref()) {
            (self.on_change)(clinic, &conv);
        }
        Ok(())
    }
}
