//! The durable job queue (outbox). Jobs are enqueued in the transaction that decided the work,
//! each as its kind's payload type (`tsunagu_core::jobs`); workers claim due jobs under a lease,
//! so several processes can share one PostgreSQL.
use crate::batch::{Batch, Ref};
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::jobs::JobPayload;
use tsunagu_core::{new_id, ClinicId, JobId};

mod claim;
pub use claim::{attempt_started, claim_due, expired_leases, release};

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct Job {
    pub id: String,
    pub clinic_id: Option<String>,
    pub kind: String,
    pub payload: String,
    pub idempotency_key: String,
    pub state: String,
    pub run_at: i64,
    pub attempts: i64,
    pub lease_until: Option<i64>,
    pub last_error: Option<String>,
    pub first_attempt_at: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Set (and committed) just before the current attempt's provider call; `None` while the
    /// attempt has not reached it.
    pub attempt_started_at: Option<i64>,
    /// Jobs sharing it run one at a time in queue order (a message's conversation).
    pub ordering_key: Option<String>,
}

impl Job {
    pub fn job_id(&self) -> JobId {
        JobId::from_db(self.id.clone())
    }
}

const COLS: &str = "id, clinic_id, kind, payload, idempotency_key, state, run_at, attempts, lease_until, last_error, first_attempt_at, created_at, updated_at, attempt_started_at, ordering_key";

/// Where and when a job runs; its kind and payload come from the payload's type.
pub struct Enqueue<'a> {
    pub clinic_id: Option<&'a ClinicId>,
    /// A second enqueue with the same key is a no-op.
    pub idempotency_key: &'a str,
    pub run_at: i64,
}

/// Enqueues once per idempotency key; `None` when that key was already enqueued.
pub async fn enqueue<J: JobPayload>(
    conn: &mut AnyConnection,
    payload: &J,
    at: Enqueue<'_>,
    now_ms: i64,
) -> anyhow::Result<Option<JobId>> {
    let mut b = Batch::new(conn);
    let id = bind(&mut b, payload, at, now_ms)?;
    b.push(
        "INSERT INTO outbox_jobs (id, clinic_id, kind, payload, idempotency_key, state, run_at, attempts, created_at, updated_at, ordering_key)
         VALUES ($1, $2, $3, $4, $5, 'queued', $6, 0, $7, $7, (SELECT conversation_id FROM messages WHERE id = $8))
         ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
        "enqueueing a job",
    );
    let enqueued = !b.run(conn).await?.is_empty();
    Ok(enqueued.then_some(id))
}

/// `enqueue` as a statement of `b`, sent with the writes that decided the work in one call,
/// and only if the row `after` names exists when it runs (a message queued before it in the
/// same call, which a redelivery does not insert); whether the key was new is not told.
pub fn push_enqueue<J: JobPayload>(
    b: &mut Batch,
    payload: &J,
    at: Enqueue<'_>,
    now_ms: i64,
    after: &Ref,
) -> anyhow::Result<JobId> {
    let id = bind(b, payload, at, now_ms)?;
    // The WHERE clause also keeps SQLite from reading ON CONFLICT as a join's ON.
    b.push_ref(
        "INSERT INTO outbox_jobs (id, clinic_id, kind, payload, idempotency_key, state, run_at, attempts, created_at, updated_at, ordering_key)
         SELECT $1, $2, $3, $4, $5, 'queued', $6, 0, $7, $7, (SELECT conversation_id FROM messages WHERE id = $8)
         WHERE {ref} IS NOT NULL
         ON CONFLICT (idempotency_key) DO NOTHING",
        after,
        "enqueueing a job",
    );
    Ok(id)
}

/// A job row's `$1` … `$8` (`$8`: the message it delivers, whose conversation orders it).
fn bind<J: JobPayload>(
    b: &mut Batch,
    payload: &J,
    at: Enqueue<'_>,
    now_ms: i64,
) -> anyhow::Result<JobId> {
    let id = new_id();
    b.arg(id.clone());
    b.arg(at.clinic_id.map(|c| c.as_str().to_owned()));
    b.arg(J::KIND);
    b.arg(serde_json::to_string(payload).context("writing a job payload")?);
    b.arg(at.idempotency_key.to_owned());
    b.arg(at.run_at);
    b.arg(now_ms);
    b.arg(payload.delivers().map(|m| m.as_str().to_owned()));
    Ok(JobId::from_db(id))
}

async fn set_state(
    conn: &mut AnyConnection,
    id: &JobId,
    state: &str,
    run_at: Option<i64>,
    error: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox_jobs SET state = $1, run_at = COALESCE($2, run_at), last_error = COALESCE($3, last_error),
            lease_until = NULL, updated_at = $4 WHERE id = $5",
    )
    .bind(state)
    .bind(run_at)
    .bind(error)
    .bind(now_ms)
    .bind(id.as_str())
    .execute(conn)
    .await
    .with_context(|| format!("marking a job {state}"))?;
    Ok(())
}

pub async fn complete(conn: &mut AnyConnection, id: &JobId, now_ms: i64) -> anyhow::Result<()> {
    set_state(conn, id, "done", None, None, now_ms).await
}

pub async fn retry_at(
    conn: &mut AnyConnection,
    id: &JobId,
    run_at: i64,
    error: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    set_state(conn, id, "queued", Some(run_at), Some(error), now_ms).await
}

/// Not yet: the job waits for its slot (pacing) without using up an attempt.
pub async fn defer(
    conn: &mut AnyConnection,
    id: &JobId,
    run_at: i64,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox_jobs SET state = 'queued', run_at = $1, lease_until = NULL, updated_at = $2,
            attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = $3",
    )
    .bind(run_at)
    .bind(now_ms)
    .bind(id.as_str())
    .execute(conn)
    .await
    .context("deferring a job")?;
    Ok(())
}

/// Given up: shown to staff with the reason and a retry button.
pub async fn dead(
    conn: &mut AnyConnection,
    id: &JobId,
    error: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    set_state(conn, id, "dead", None, Some(error), now_ms).await
}

/// The outcome is unknown and re-sending could deliver twice: never retried automatically.
pub async fn in_doubt(
    conn: &mut AnyConnection,
    id: &JobId,
    error: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    set_state(conn, id, "in_doubt", None, Some(error), now_ms).await
}

/// Staff pressed retry: the job runs again now with a fresh attempt count.
pub async fn requeue(conn: &mut AnyConnection, id: &JobId, now_ms: i64) -> anyhow::Result<bool> {
    let r = sqlx::query(
        "UPDATE outbox_jobs SET state = 'queued', run_at = $1, attempts = 0, lease_until = NULL, updated_at = $1
         WHERE id = $2 AND state IN ('dead', 'in_doubt')",
    )
    .bind(now_ms)
    .bind(id.as_str())
    .execute(conn)
    .await
    .context("requeueing a job")?;
    Ok(r.rows_affected() == 1)
}

pub async fn by_id(conn: &mut AnyConnection, id: &JobId) -> anyhow::Result<Option<Job>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM outbox_jobs WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
        .context("reading a job")
}

pub async fn by_key(conn: &mut AnyConnection, key: &str) -> anyhow::Result<Option<Job>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM outbox_jobs WHERE idempotency_key = $1"
    ))
    .bind(key)
    .fetch_optional(conn)
    .await
    .context("reading a job by key")
}

/// The earliest time a queued job becomes due (so an idle worker sleeps just long enough).
pub async fn next_run_at(conn: &mut AnyConnection) -> anyhow::Result<Option<i64>> {
    sqlx::query_scalar("SELECT MIN(run_at) FROM outbox_jobs WHERE state = 'queued'")
        .fetch_one(conn)
        .await
        .context("finding the next due job")
}
