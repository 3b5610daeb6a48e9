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

mod registry;
pub use crate::outcome::Outcome;
pub use registry::{JobHandler, Registry};

/// Called after a job changed something staff may be looking at: (clinic id, conversation id).
pub type OnChange = Arc<dyn Fn(&str, &str) + Send + Sync>;

#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Attempts before a job is dead-lettered.
    pub max_attempts: i64,
    /// How long a claimed job is ours before another worker may assume we died.
    pub lease_ms: i64,
    pub poll: Duration,
    pub batch: i64,
}

impl Default for WorkerConfig {
    fn default() -> Self {
        Self {
            max_attempts: 12,
            lease_ms: 120_000,
            poll: Duration::from_secs(1),
            batch: 16,
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
    /// Reclaims abandoned jobs, then runs one batch of due jobs. Returns how many ran.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        self.reclaim_expired().await?;
        let now = self.clock.now_ms();
        let batch = jobs::claim_due(&self.db, now, self.config.lease_ms, self.config.batch).await?;
        let n = batch.len();
        for job in batch {
            let run = async {
                let outcome = self.handle(&job).await;
                crate::job_trace::outcome(&outcome);
                if let Err(e) = self.finish(&job, outcome).await {
                    tracing::error!(error = %format!("{e:#}"), "recording a job outcome");
                }
            };
            run.instrument(crate::job_trace::span(&job)).await;
        }
        Ok(n)
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

    /// The background loop; stops when `shutdown` resolves.
    pub async fn run(self, mut shutdown: tokio::sync::watch::Receiver<bool>) {
        let mut scheduled_day = None;
        loop {
            self.schedule_daily(&mut scheduled_day).await;
            let ran = match self.run_once().await {
                Ok(n) => n,
                Err(e) => {
                    tracing::error!(error = %format!("{e:#}"), "outbox worker pass failed");
                    0
                }
            };
            if ran > 0 {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(self.config.poll) => {}
                _ = shutdown.changed() => return,
            }
            if *shutdown.borrow() {
                return;
            }
        }
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
        handler.run(self, job).await.unwrap_or_else(|e| {
            tracing::error!(job = %job.id, kind = %job.kind, error = %format!("{e:#}"), "job failed");
            if handler.repeatable(job) {
                Outcome::Retry { after: None, error: "internal error".into() }
            } else {
                // The error may have come after the provider executed the request.
                Outcome::InDoubt { error: "internal error while sending; it may have been delivered".into() }
            }
        })
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

    /// Jobs whose worker died mid-run. Those their handler calls repeatable (a LINE push with
    /// its retry key, a read) go back to the queue; the others (a LINE reply, a send to a
    /// provider without an idempotency key) may have been executed: in doubt, never repeated.
    async fn reclaim_expired(&self) -> anyhow::Result<()> {
        let now = self.clock.now_ms();
        let mut tx = self.db.begin().await?;
        let mut in_doubt = Vec::new();
        for job in jobs::expired_leases(tx.conn(), now).await? {
            tracing::warn!(job = %job.id, kind = %job.kind, "reclaiming a job whose worker vanished");
            let repeatable = self
                .handlers
                .get(&job.kind)
                .is_none_or(|h| h.repeatable(&job));
            if repeatable {
                jobs::retry_at(tx.conn(), &job.job_id(), now, "worker stopped mid-run", now)
                    .await?;
            } else {
                in_doubt.push(job);
            }
        }
        tx.commit().await?;
        for job in in_doubt {
            let error = "the worker stopped while sending; it may have been delivered".to_string();
            self.finish(&job, Outcome::InDoubt { error }).await?;
        }
        Ok(())
    }
}
