//! Job handlers by kind. A handler is written against its kind's payload type
//! (`tsunagu_core::jobs`); the registry decodes each claimed job into that type, so the producer
//! and the consumer share one shape, and the worker loop needs to know no kind.
use std::collections::HashMap;
use std::sync::Arc;

use sqlx::AnyConnection;
use tsunagu_core::jobs::JobPayload;
use tsunagu_store::jobs::Job;
use tsunagu_store::Tx;

use super::Worker;
use crate::outcome::Outcome;

/// Runs the jobs of one kind. A job whose worker died is run again when `repeatable` allows, so
/// a repeatable handler must be safe to repeat.
#[async_trait::async_trait]
pub trait JobHandler: Send + Sync + 'static {
    type Job: JobPayload;

    async fn run(&self, worker: &Worker, job: &Job, payload: Self::Job) -> anyhow::Result<Outcome>;

    /// Whether an attempt whose outcome is unknown (the worker died mid-run, an error after an
    /// external call) may run again; if not, the job is marked in doubt.
    fn repeatable(&self, _payload: &Self::Job) -> bool {
        true
    }

    /// Records what the outcome means beyond the job row, in the transaction that records it.
    /// Returns the conversation open screens should refresh.
    async fn settled(
        &self,
        _tx: &mut Tx,
        _job: &Job,
        _outcome: &Outcome,
    ) -> anyhow::Result<Option<String>> {
        Ok(None)
    }

    /// Enqueues this kind's job for the day, called once per UTC day by each worker process
    /// (the job's idempotency key makes the other processes' calls no-ops).
    async fn schedule_daily(&self, _conn: &mut AnyConnection, _now_ms: i64) -> anyhow::Result<()> {
        Ok(())
    }
}

/// The object-safe face of a `JobHandler`, decoding the payload first.
#[async_trait::async_trait]
pub(super) trait Erased: Send + Sync {
    async fn run(&self, worker: &Worker, job: &Job) -> anyhow::Result<Outcome>;
    fn repeatable(&self, job: &Job) -> bool;
    async fn settled(
        &self,
        tx: &mut Tx,
        job: &Job,
        outcome: &Outcome,
    ) -> anyhow::Result<Option<String>>;
    async fn schedule_daily(&self, conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<()>;
}

struct Typed<H>(H);

#[async_trait::async_trait]
impl<H: JobHandler> Erased for Typed<H> {
    async fn run(&self, worker: &Worker, job: &Job) -> anyhow::Result<Outcome> {
        match serde_json::from_str::<H::Job>(&job.payload) {
            Ok(payload) => self.0.run(worker, job, payload).await,
            // Nothing was attempted, and another attempt would read the same bytes. Neither the
            // payload nor serde's message (it may quote a value) goes to the log.
            Err(e) => {
                tracing::error!(
                    line = e.line(),
                    column = e.column(),
                    "unreadable job payload"
                );
                Ok(Outcome::Dead {
                    code: "invalid_job_payload",
                    error: format!("the {} job's payload does not read as its type", job.kind),
                })
            }
        }
    }

    fn repeatable(&self, job: &Job) -> bool {
        // A payload that does not read never got as far as an external call.
        serde_json::from_str::<H::Job>(&job.payload).map_or(true, |p| self.0.repeatable(&p))
    }

    async fn settled(
        &self,
        tx: &mut Tx,
        job: &Job,
        outcome: &Outcome,
    ) -> anyhow::Result<Option<String>> {
        self.0.settled(tx, job, outcome).await
    }

    async fn schedule_daily(&self, conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<()> {
        self.0.schedule_daily(conn, now_ms).await
    }
}

/// Every job kind this process runs, with its handler.
#[derive(Clone, Default)]
pub struct Registry {
    handlers: HashMap<&'static str, Arc<dyn Erased>>,
}

impl Registry {
    /// Adds the handler of `H::Job`'s kind. Panics if the kind already has one: two handlers
    /// for one kind is a wiring mistake, caught at startup.
    pub fn register<H: JobHandler>(&mut self, handler: H) -> &mut Self {
        let kind = <H::Job as JobPayload>::KIND;
        if self
            .handlers
            .insert(kind, Arc::new(Typed(handler)))
            .is_some()
        {
            panic!("job kind {kind} has two handlers");
        }
        self
    }

    /// The registered kinds, sorted.
    pub fn kinds(&self) -> Vec<&'static str> {
        let mut kinds: Vec<_> = self.handlers.keys().copied().collect();
        kinds.sort_unstable();
        kinds
    }

    pub(super) fn get(&self, kind: &str) -> Option<&dyn Erased> {
        self.handlers.get(kind).map(|h| h.as_ref())
    }

    pub(super) fn all(&self) -> impl Iterator<Item = &dyn Erased> {
        self.handlers.values().map(|h| h.as_ref())
    }
}
