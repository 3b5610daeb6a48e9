//! Claiming jobs under a lease, and what happens to a claim: its attempt starts (just before
//! the provider call), it is released unstarted (shutdown), or its worker vanishes (the lease
//! expires). Several instances share one database, so each step decides in SQL.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::JobId;

use super::{Job, COLS};
use crate::{Backend, Db};

/// Claims up to `limit` due jobs (as many as the worker runs now: a claim it does not reach
/// before its lease ends would look abandoned), marking them running until `now + lease_ms`.
/// A job with an ordering key waits while an earlier job with the same key is queued or
/// running, so a conversation's messages leave one at a time in the order they were queued.
pub async fn claim_due(
    db: &Db,
    now_ms: i64,
    lease_ms: i64,
    limit: i64,
) -> anyhow::Result<Vec<Job>> {
    let lock = match db.backend() {
        // Two workers never take the same row; neither waits on the other's rows.
        Backend::Postgres => "FOR UPDATE SKIP LOCKED",
        // SQLite has a single writer: the UPDATE itself is the lock.
        Backend::Sqlite => "",
    };
    // "Earlier is queued or running" holds before and after another worker's claim of it, so
    // two workers claiming at once cannot both pass it for one conversation.
    let sql = format!(
        "UPDATE outbox_jobs SET state = 'running', lease_until = $1, attempts = attempts + 1,
            attempt_started_at = NULL, first_attempt_at = COALESCE(first_attempt_at, $2),
            updated_at = $2
         WHERE id IN (
            SELECT j.id FROM outbox_jobs j WHERE j.state = 'queued' AND j.run_at <= $2
              AND (j.ordering_key IS NULL OR NOT EXISTS (
                  SELECT 1 FROM outbox_jobs e
                  WHERE e.ordering_key = j.ordering_key AND e.state IN ('queued', 'running')
                    AND (e.created_at < j.created_at OR (e.created_at = j.created_at AND e.id < j.id))))
            ORDER BY j.run_at, j.id LIMIT $3 {lock})
         RETURNING {COLS}"
    );
    let mut tx = db.begin().await?;
    let mut jobs: Vec<Job> = sqlx::query_as(&sql)
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(limit)
        .fetch_all(tx.conn())
        .await
        .context("claiming due jobs")?;
    tx.commit().await?;
    // RETURNING does not keep the subquery's order (PostgreSQL returns rows as it updates them).
    jobs.sort_by(|a, b| (a.run_at, &a.id).cmp(&(b.run_at, &b.id)));
    Ok(jobs)
}

/// Records, durably, that the claimed attempt is about to call the provider: from here on a
/// vanished worker may have delivered it. Call it (and let it commit) right before the call.
pub async fn attempt_started(db: &Db, id: &JobId, now_ms: i64) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    sqlx::query(
        "UPDATE outbox_jobs SET attempt_started_at = $1, updated_at = $1
         WHERE id = $2 AND state = 'running'",
    )
    .bind(now_ms)
    .bind(id.as_str())
    .execute(&mut *conn)
    .await
    .context("recording that a job's attempt started")?;
    Ok(())
}

/// Gives back a claimed job whose attempt never started: queued again at once, lease cleared,
/// the attempt not counted. Nothing changes if the job is no longer running (it finished).
pub async fn release(conn: &mut AnyConnection, id: &JobId, now_ms: i64) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE outbox_jobs SET state = 'queued', lease_until = NULL, attempt_started_at = NULL,
            attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, updated_at = $1
         WHERE id = $2 AND state = 'running'",
    )
    .bind(now_ms)
    .bind(id.as_str())
    .execute(conn)
    .await
    .context("releasing a claimed job")?;
    Ok(())
}

/// Jobs whose worker vanished mid-run (lease expired while running).
pub async fn expired_leases(conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<Vec<Job>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM outbox_jobs WHERE state = 'running' AND lease_until < $1 ORDER BY id"
    ))
    .bind(now_ms)
    .fetch_all(conn)
    .await
    .context("finding jobs with expired leases")
}
