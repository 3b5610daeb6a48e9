//! The worker loop. Web handlers and workers share nothing but the database, so `serve` can run
//! both or either, and several instances can share one PostgreSQL.
use std::sync::Arc;
use std::time::Duration;

use tsunagu_core::{job_kinds, MessageId, SharedClock};
use tsunagu_privacy::Cipher;
use tsunagu_store::conversations::{self, Delivery};
use tsunagu_store::jobs::{self, Job};
use tsunagu_store::Db;

use crate::send::{self, repeatable};
use crate::{backoff, line_jobs, line_reply, messenger_jobs, whatsapp_templates};

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

/// What a job handler decided.
#[derive(Debug)]
pub enum Outcome {
    /// Finished; the handler recorded its effects.
    Done,
    /// Try again later (rate limit, 5xx, timeout).
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Cannot succeed: shown to staff with the reason.
    Dead { code: &'static str, error: String },
    /// May already have happened: never repeated automatically.
    InDoubt { error: String },
    /// Not yet (pacing): run again at `until_ms` without using up an attempt.
    Defer { until_ms: i64 },
}

/// A job kind run by a domain crate (e.g. the inbound dispatcher), registered by the wiring
/// so the outbox knows no domain. Handlers must be safe to repeat: a job whose worker died is
/// run again.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync {
    async fn run(&self, worker: &Worker, job: &Job) -> anyhow::Result<Outcome>;
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
    /// Handlers for job kinds outside the outbox, by kind.
    pub handlers: Arc<Vec<(&'static str, Arc<dyn JobHandler>)>>,
}

impl Worker {
    /// Reclaims abandoned jobs, then runs one batch of due jobs. Returns how many ran.
    pub async fn run_once(&self) -> anyhow::Result<usize> {
        self.reclaim_expired().await?;
        let now = self.clock.now_ms();
        let batch = jobs::claim_due(&self.db, now, self.config.lease_ms, self.config.batch).await?;
        let n = batch.len();
        for job in batch {
            let outcome = self.handle(&job).await;
            if let Err(e) = self.finish(&job, outcome).await {
                tracing::error!(job = %job.id, error = %format!("{e:#}"), "recording a job outcome");
            }
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
            tsunagu_privacy::retention::enqueue_daily(tx.conn(), now).await?;
            tx.commit().await
        };
        match result.await {
            Ok(()) => *scheduled_day = Some(day),
            Err(e) => {
                tracing::error!(error = %format!("{e:#}"), "scheduling the daily retention pass")
            }
        }
    }

    async fn handle(&self, job: &Job) -> Outcome {
        let result = match job.kind.as_str() {
            job_kinds::SEND_MESSAGE => send::send(self, job).await,
            job_kinds::LINE_FETCH_PROFILE => line_jobs::fetch_profile(self, job).await,
            job_kinds::LINE_FETCH_CONTENT => line_jobs::fetch_content(self, job).await,
            job_kinds::LINE_REPLY => line_reply::reply(self, job).await,
            job_kinds::FETCH_MEDIA => send::fetch_media(self, job).await,
            job_kinds::MESSENGER_FETCH_PROFILE => messenger_jobs::fetch_profile(self, job).await,
            job_kinds::WHATSAPP_SYNC_TEMPLATES => whatsapp_templates::sync(self, job).await,
            other => match self.handlers.iter().find(|(k, _)| *k == other) {
                Some((_, h)) => h.run(self, job).await,
                None => Ok(Outcome::Dead {
                    code: "unknown_job",
                    error: format!("unknown job kind {other}"),
                }),
            },
        };
        result.unwrap_or_else(|e| {
            tracing::error!(job = %job.id, kind = %job.kind, error = %format!("{e:#}"), "job failed");
            if repeatable(job) {
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
        let message_update = match &outcome {
            Outcome::Done => {
                // Handlers usually complete the job with their effects; this covers the rest.
                jobs::complete(tx.conn(), &id, now).await?;
                None
            }
            Outcome::Retry { after, error } => {
                let at = now + backoff::delay(job.attempts, *after).as_millis() as i64;
                jobs::retry_at(tx.conn(), &id, at, error, now).await?;
                Some(("queued", Some("retrying"), error.clone()))
            }
            Outcome::Dead { code, error } => {
                jobs::dead(tx.conn(), &id, error, now).await?;
                Some(("failed", Some(*code), error.clone()))
            }
            Outcome::InDoubt { error } => {
                jobs::in_doubt(tx.conn(), &id, error, now).await?;
                Some(("in_doubt", Some("in_doubt"), error.clone()))
            }
            Outcome::Defer { until_ms } => {
                jobs::defer(tx.conn(), &id, *until_ms, now).await?;
                None
            }
        };
        let mut touched = None;
        if let (Some((status, code, reason)), Some(msg)) = (message_update, send_message_id(job)) {
            let mid = MessageId::from_db(msg);
            // The provider's own report (delivered, read) outranks what the worker concluded.
            if tsunagu_store::statuses::reported_delivered(tx.conn(), mid.as_str()).await? {
                tx.commit().await?;
                return Ok(());
            }
            conversations::set_delivery(
                tx.conn(),
                &mid,
                Delivery {
                    status,
                    provider_message_id: None,
                    failure_code: code,
                    failure_reason: Some(&reason),
                    sent_at: None,
                },
            )
            .await?;
            touched = conversation_of(&mut tx, job, &mid).await?;
        }
        tx.commit().await?;
        if let (Some(conv), Some(clinic)) = (touched, job.clinic_id.as_deref()) {
            (self.on_change)(clinic, &conv);
        }
        Ok(())
    }

    /// Jobs whose worker died mid-run. LINE pushes carry an idempotency key (retry key), and
    /// reads are harmless to repeat, so they go back to the queue; the send handler itself
    /// marks a push in doubt once its key may have expired. A LINE reply and a send to a
    /// provider without such a key (WhatsApp, Messenger, Twilio) may have been executed before
    /// the worker died: in doubt, never repeated.
    async fn reclaim_expired(&self) -> anyhow::Result<()> {
        let now = self.clock.now_ms();
        let mut tx = self.db.begin().await?;
        let mut in_doubt = Vec::new();
        for job in jobs::expired_leases(tx.conn(), now).await? {
            tracing::warn!(job = %job.id, kind = %job.kind, "reclaiming a job whose worker vanished");
            if repeatable(&job) {
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

fn send_message_id(job: &Job) -> Option<String> {
    if job.kind != job_kinds::SEND_MESSAGE && job.kind != job_kinds::LINE_REPLY {
        return None;
    }
    let v: serde_json::Value = serde_json::from_str(&job.payload).ok()?;
    v.get("message_id")?.as_str().map(str::to_string)
}

async fn conversation_of(
    tx: &mut tsunagu_store::Tx,
    job: &Job,
    mid: &MessageId,
) -> anyhow::Result<Option<String>> {
    let Some(clinic) = job.clinic_id.as_deref() else {
        return Ok(None);
    };
    let clinic = tsunagu_core::ClinicId::from_db(clinic.to_string());
    Ok(conversations::message_by_id(tx.conn(), &clinic, mid)
        .await?
        .map(|m| m.conversation_id))
}
