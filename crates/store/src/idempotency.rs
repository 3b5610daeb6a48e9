//! The store behind `Idempotency-Key` on API writes (the header itself is read in `web`): a repeat within 24 hours answers with the first response
//! and does nothing again.
//!
//! The row's primary key `(clinic, token, key)` is the lock. A request first commits a
//! placeholder row (status 0); only the request whose insert went in does the work, then stores
//! its response. A concurrent repeat finds the placeholder and waits briefly for that response
//! (409 `idempotency_key_in_progress` if it does not come), so two racing requests never both
//! act. A failed attempt deletes its placeholder, so the client may retry with the same key.
//!
//! If the process dies between doing the work and storing the response, the placeholder stays
//! and repeats get 409 until it expires: refusing is safe, acting twice is not.
use std::time::{Duration, Instant};

use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;

use crate::Db;

const TTL_MS: i64 = 24 * 60 * 60 * 1000;
const PENDING: i64 = 0;
/// How long a repeat waits for the first request's response before answering 409.
const WAIT: Duration = Duration::from_secs(5);
const POLL: Duration = Duration::from_millis(25);

/// Whose key it is: keys are per clinic and per token.
pub struct KeyScope<'a> {
    pub clinic: &'a ClinicId,
    pub actor_id: &'a str,
    pub key: &'a str,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Claim {
    /// This request holds the key and must do the work, then `store` or `release`.
    Acquired,
    /// The first request already answered; send this again.
    Replay { status: u16, body: String },
    /// The key was used for a different request.
    Mismatch,
    /// The first request is still running.
    InProgress,
}

/// One attempt to take the key. Expired keys of this token are cleared first, so a key may be
/// reused after 24 hours.
async fn try_claim(
    db: &Db,
    s: &KeyScope<'_>,
    request_hash: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Claim>> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE clinic_id = $1 AND actor_id = $2 AND created_at <= $3",
    )
    .bind(s.clinic.as_str())
    .bind(s.actor_id)
    .bind(now_ms - TTL_MS)
    .execute(tx.conn())
    .await
    .context("clearing expired idempotency keys")?;
    let inserted = sqlx::query(
        "INSERT INTO idempotency_keys (clinic_id, actor_id, key, request_hash, response_status, response_body, created_at)
         VALUES ($1, $2, $3, $4, $5, '', $6)
         ON CONFLICT (clinic_id, actor_id, key) DO NOTHING",
    )
    .bind(s.clinic.as_str())
    .bind(s.actor_id)
    .bind(s.key)
    .bind(request_hash)
    .bind(PENDING)
    .bind(now_ms)
    .execute(tx.conn())
    .await
    .context("claiming the idempotency key")?
    .rows_affected()
        == 1;
    let claim = if inserted {
        Some(Claim::Acquired)
    } else {
        let row: Option<(String, i64, String)> = sqlx::query_as(
            "SELECT request_hash, response_status, response_body FROM idempotency_keys
             WHERE clinic_id = $1 AND actor_id = $2 AND key = $3",
        )
        .bind(s.clinic.as_str())
        .bind(s.actor_id)
        .bind(s.key)
        .fetch_optional(tx.conn())
        .await
        .context("reading the idempotency key")?;
        // None: the holder released it between our insert and this read; try again.
        row.map(
            |(hash, status, body)| match (hash == request_hash, status) {
                (false, _) => Claim::Mismatch,
                (true, PENDING) => Claim::InProgress,
                (true, status) => Claim::Replay {
                    status: u16::try_from(status).unwrap_or(500),
                    body,
                },
            },
        )
    };
    tx.commit().await?;
    Ok(claim)
}

/// Takes the key, or says what to answer instead. A repeat racing the first request waits up
/// to a few seconds for its response.
pub async fn claim(
    db: &Db,
    s: &KeyScope<'_>,
    request_hash: &str,
    now_ms: i64,
) -> anyhow::Result<Claim> {
    let started = Instant::now();
    loop {
        match try_claim(db, s, request_hash, now_ms).await? {
            Some(Claim::InProgress) | None if started.elapsed() < WAIT => {
                tokio::time::sleep(POLL).await
            }
            Some(c) => return Ok(c),
            None => return Ok(Claim::InProgress),
        }
    }
}

/// Stores the response for repeats.
pub async fn store(
    conn: &mut AnyConnection,
    s: &KeyScope<'_>,
    status: u16,
    body: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE idempotency_keys SET response_status = $1, response_body = $2
         WHERE clinic_id = $3 AND actor_id = $4 AND key = $5",
    )
    .bind(i64::from(status))
    .bind(body)
    .bind(s.clinic.as_str())
    .bind(s.actor_id)
    .bind(s.key)
    .execute(conn)
    .await
    .context("storing the idempotent response")?;
    Ok(())
}

/// Gives the key back after an attempt that changed nothing.
pub async fn release(db: &Db, s: &KeyScope<'_>) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(
        "DELETE FROM idempotency_keys WHERE clinic_id = $1 AND actor_id = $2 AND key = $3 AND response_status = $4",
    )
    .bind(s.clinic.as_str())
    .bind(s.actor_id)
    .bind(s.key)
    .bind(PENDING)
    .execute(tx.conn())
    .await
    .context("releasing the idempotency key")?;
    tx.commit().await
}
