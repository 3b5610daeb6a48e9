//! What becomes of a claimed job that its worker did not see through. The line is the
//! attempt's start, recorded durably just before the provider call: before it nothing left, so
//! the job runs again; after it, a job whose handler is not `repeatable` may have been
//! delivered and is held in doubt for staff.
use tsunagu_store::jobs::{self, Job};

use super::Worker;
use crate::outcome::Outcome;

impl Worker {
    /// Records (committed) that `job`'s attempt is about to call the provider. A handler that
    /// is not `repeatable` calls this right before its external call; until then a worker that
    /// vanishes leaves a job that simply runs again.
    pub async fn attempt_starting(&self, job: &Job) -> anyhow::Result<()> {
        jobs::attempt_started(&self.db, &job.job_id(), self.clock.now_ms()).await
    }

    /// Whether `job`'s current attempt reached its provider call; when the row cannot be read,
    /// assumed so (never repeat what may have left).
    pub(super) async fn attempt_was_started(&self, job: &Job) -> bool {
        let row = async {
            let mut conn = self.db.pool().acquire().await?;
            jobs::by_id(&mut conn, &job.job_id()).await
        };
        match row.await {
            Ok(Some(row)) => row.attempt_started_at.is_some(),
            Ok(None) => false,
            Err(e) => {
                tracing::error!(job = %job.id, error = %format!("{e:#}"), "reading a job");
                true
            }
        }
    }

    /// Jobs whose worker vanished (lease expired while running). One whose attempt never
    /// started, or whose handler calls it repeatable (a LINE push with its retry key, a read),
    /// goes back to the queue; the others (a LINE reply, a send to a provider without an
    /// idempotency key) may have been executed: in doubt, never repeated.
    pub(super) async fn reclaim_expired(&self) -> anyhow::Result<()> {
        let now = self.clock.now_ms();
        let mut tx = self.db.begin().await?;
        let mut in_doubt = Vec::new();
        for job in jobs::expired_leases(tx.conn(), now).await? {
            tracing::warn!(job = %job.id, kind = %job.kind, "reclaiming a job whose worker vanished");
            let started = job.attempt_started_at.is_some();
            if !started || self.repeatable(&job) {
                // Counted: a job that brings its worker down every time still ends.
                let error = if started {
                    "worker stopped mid-run"
                } else {
                    "worker stopped before sending"
                };
                jobs::retry_at(tx.conn(), &job.job_id(), now, error, now).await?;
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

    /// Shutdown came and the grace ran out with `job` unfinished (its run was dropped): not
    /// started → released at once, attempt not counted; started → queued again if repeatable,
    /// else in doubt. Another worker need not wait for the lease.
    pub(super) async fn abandon(&self, job: &Job) {
        let result = async {
            let mut conn = self.db.pool().acquire().await?;
            let Some(row) = jobs::by_id(&mut conn, &job.job_id()).await? else {
                return Ok(());
            };
            // Finished meanwhile, or no longer ours.
            if row.state != "running" || row.lease_until != job.lease_until {
                return Ok(());
            }
            let now = self.clock.now_ms();
            if row.attempt_started_at.is_none() {
                jobs::release(&mut conn, &row.job_id(), now).await
            } else if self.repeatable(&row) {
                let error = "the worker stopped mid-run";
                jobs::retry_at(&mut conn, &row.job_id(), now, error, now).await
            } else {
                drop(conn);
                let error = "the worker stopped while sending; it may have been delivered".into();
                self.finish(&row, Outcome::InDoubt { error }).await
            }
        };
        if let Err(e) = result.await {
            tracing::error!(job = %job.id, error = %format!("{e:#}"), "giving back a job at shutdown");
        }
    }

    /// A job claimed as shutdown came: given back unstarted.
    pub(super) async fn release(&self, job: &Job) {
        let result = async {
            let mut conn = self.db.pool().acquire().await?;
            jobs::release(&mut conn, &job.job_id(), self.clock.now_ms()).await
        };
        if let Err(e) = result.await {
            tracing::error!(job = %job.id, error = %format!("{e:#}"), "releasing a job at shutdown");
        }
    }

    /// A kind without a handler never reached an external call: safe to run again.
    fn repeatable(&self, job: &Job) -> bool {
        self.handlers
            .get(&job.kind)
            .is_none_or(|h| h.repeatable(job))
    }
}
