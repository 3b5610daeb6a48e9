//! Sign-in throttling, kept in the database so every instance sees the same count. Attempts are
//! counted per e-mail (by hash: the table never holds an address) and per source address;
//! `login_max_failures` failures within `login_window_minutes` refuse further tries until the
//! oldest of them leaves the window. A successful sign-in clears the e-mail's count.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::config::SecuritySettings;
use tsunagu_core::new_id;

use crate::crypto::sha256_hex;
use crate::staff::normalize_email;

/// The key attempts are counted under, for known and unknown e-mails alike.
pub fn email_hash(email: &str) -> String {
    sha256_hex(normalize_email(email).as_bytes())
}

/// Whole minutes (at least 1) until a refused sign-in may be tried again, or None when allowed.
pub async fn check(
    conn: &mut AnyConnection,
    sec: &SecuritySettings,
    email_hash: &str,
    source_ip: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<Option<u32>> {
    let max = sec.login_max_failures as usize;
    if max == 0 {
        return Ok(None);
    }
    let window = i64::from(sec.login_window_minutes) * 60_000;
    let since = now_ms - window;
    let by_email: Vec<i64> = sqlx::query_scalar(
        "SELECT at FROM login_attempts
         WHERE email_hash = $1 AND success = 0 AND at > $2
           AND at >= COALESCE((SELECT MAX(at) FROM login_attempts WHERE email_hash = $1 AND success = 1), 0)
         ORDER BY at",
    )
    .bind(email_hash)
    .bind(since)
    .fetch_all(&mut *conn)
    .await
    .context("counting failed sign-ins for the e-mail")?;
    // (A failure in the same millisecond as the last success still counts: erring towards caution.)
    let by_ip: Vec<i64> = match source_ip {
        Some(ip) => sqlx::query_scalar(
            "SELECT at FROM login_attempts WHERE source_ip = $1 AND success = 0 AND at > $2 ORDER BY at",
        )
        .bind(ip)
        .bind(since)
        .fetch_all(&mut *conn)
        .await
        .context("counting failed sign-ins from the address")?,
        None => Vec::new(),
    };
    let lift_at = [by_email, by_ip]
        .iter()
        .filter(|f| f.len() >= max)
        .map(|f| f[f.len() - max] + window)
        .max();
    Ok(lift_at.map(|at| {
        let minutes = (at - now_ms + 59_999) / 60_000;
        u32::try_from(minutes.max(1)).unwrap_or(u32::MAX)
    }))
}

/// Records one attempt (a password or second-factor check).
pub async fn record(
    conn: &mut AnyConnection,
    email_hash: &str,
    source_ip: Option<&str>,
    success: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query("INSERT INTO login_attempts (id, email_hash, source_ip, success, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(new_id())
        .bind(email_hash)
        .bind(source_ip.map(str::to_string))
        .bind(success as i64)
        .bind(now_ms)
        .execute(conn)
        .await
        .context("recording the sign-in attempt")?;
    Ok(())
}

/// Drops attempts older than `before_ms` (housekeeping; they no longer count).
pub async fn purge(conn: &mut AnyConnection, before_ms: i64) -> anyhow::Result<u64> {
    let r = sqlx::query("DELETE FROM login_attempts WHERE at < $1")
        .bind(before_ms)
        .execute(conn)
        .await
        .context("removing old sign-in attempts")?;
    Ok(r.rows_affected())
}
