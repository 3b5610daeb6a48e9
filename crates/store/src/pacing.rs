//! Send pacing shared by every worker: per sender (WhatsApp 80 messages/s per number, an SMS
//! number's segments per second) and per recipient (WhatsApp about one message per 6 s to the
//! same person). Durable so several worker processes on one PostgreSQL share the budget.
use anyhow::Context;
use sqlx::AnyConnection;

/// A generic cell rate: one send per `interval_ms` on average, up to `burst` at once. Takes a
/// slot under `key` if one is free at `now_ms` (`Ok(None)`: go); otherwise nothing is taken and
/// `Ok(Some(at))` says when to come back. Call inside a write transaction (the row is the lock).
pub async fn take_slot(
    conn: &mut AnyConnection,
    key: &str,
    interval_ms: i64,
    burst: i64,
    now_ms: i64,
) -> anyhow::Result<Option<i64>> {
    sqlx::query("INSERT INTO send_pacing (pace_key, next_at) VALUES ($1, 0) ON CONFLICT (pace_key) DO NOTHING")
        .bind(key)
        .execute(&mut *conn)
        .await
        .context("preparing a pacing slot")?;
    let next: i64 = sqlx::query_scalar("SELECT next_at FROM send_pacing WHERE pace_key = $1")
        .bind(key)
        .fetch_one(&mut *conn)
        .await
        .context("reading a pacing slot")?;
    // `next_at` is the theoretical time the budget is used up to; `burst` slots may be ahead.
    let interval = interval_ms.max(0);
    let tolerance = interval * (burst.max(1) - 1);
    if next - now_ms > tolerance {
        return Ok(Some(next - tolerance));
    }
    sqlx::query("UPDATE send_pacing SET next_at = $1 WHERE pace_key = $2")
        .bind(next.max(now_ms) + interval)
        .bind(key)
        .execute(conn)
        .await
        .context("taking a pacing slot")?;
    Ok(None)
}

/// Pushes a key's next slot to at least `at_ms` (the provider said "slow down").
pub async fn hold_until(conn: &mut AnyConnection, key: &str, at_ms: i64) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO send_pacing (pace_key, next_at) VALUES ($1, $2)
         ON CONFLICT (pace_key) DO UPDATE SET next_at = CASE WHEN send_pacing.next_at > $2 THEN send_pacing.next_at ELSE $2 END",
    )
    .bind(key)
    .bind(at_ms)
    .execute(conn)
    .await
    .context("holding a pacing slot")?;
    Ok(())
}
