//! Known devices: browsers that completed a sign-in for an account. Their sign-in attempts are
//! counted on their own (see `throttle`), so someone guessing a staff member's password from
//! elsewhere cannot lock that person out of the browser they always use. The cookie holds up to
//! `MAX_PER_BROWSER` random tokens (a shared reception PC serves several people); only each
//! token's SHA-256 is stored. "Sign out everywhere" forgets them all.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::StaffId;

use tsunagu_privacy::crypto::{random_token, sha256_hex};

pub const COOKIE: &str = "tsunagu_device";
pub const MAX_PER_BROWSER: usize = 8;
/// How long a browser stays known without signing in again.
pub const LIFETIME_MS: i64 = 180 * 86_400_000;
const TOKEN_LEN: usize = 43;

/// The well-formed tokens in a cookie value, newest first.
pub fn tokens(cookie_value: &str) -> Vec<&str> {
    cookie_value
        .split('.')
        .filter(|t| {
            t.len() == TOKEN_LEN
                && t.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .take(MAX_PER_BROWSER)
        .collect()
}

/// The hash of the token among `tokens` that is a known device of `staff`, if any.
pub async fn recognise(
    conn: &mut AnyConnection,
    tokens: &[&str],
    staff: &StaffId,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    for t in tokens {
        let hash = sha256_hex(t.as_bytes());
        let found: Option<i64> = sqlx::query_scalar(
            "SELECT last_used_at FROM known_devices WHERE token_hash = $1 AND staff_id = $2",
        )
        .bind(&hash)
        .bind(staff.as_str())
        .fetch_optional(&mut *conn)
        .await
        .context("looking up a known device")?;
        if matches!(found, Some(at) if at + LIFETIME_MS > now_ms) {
            return Ok(Some(hash));
        }
    }
    Ok(None)
}

/// After a full sign-in: marks this browser as known for `staff`. Returns the cookie value to
/// set (the new token first), or None when the browser already was and only its time moved.
pub async fn remember(
    conn: &mut AnyConnection,
    existing: &[&str],
    staff: &StaffId,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    if let Some(hash) = recognise(&mut *conn, existing, staff, now_ms).await? {
        sqlx::query("UPDATE known_devices SET last_used_at = $1 WHERE token_hash = $2")
            .bind(now_ms)
            .bind(&hash)
            .execute(&mut *conn)
            .await
            .context("touching a known device")?;
        return Ok(None);
    }
    let token = random_token(32);
    sqlx::query(
        "INSERT INTO known_devices (token_hash, staff_id, created_at, last_used_at) VALUES ($1, $2, $3, $3)",
    )
    .bind(sha256_hex(token.as_bytes()))
    .bind(staff.as_str())
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("remembering a device")?;
    let mut all = vec![token.as_str()];
    all.extend(existing.iter().take(MAX_PER_BROWSER - 1));
    Ok(Some(all.join(".")))
}

/// Forgets every device of `staff` ("sign out everywhere": a lost laptop is no longer trusted).
pub async fn forget_all(conn: &mut AnyConnection, staff: &StaffId) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM known_devices WHERE staff_id = $1")
        .bind(staff.as_str())
        .execute(conn)
        .await
        .context("forgetting known devices")?;
    Ok(())
}

/// Drops devices unused for their whole lifetime.
pub async fn purge(conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<u64> {
    let r = sqlx::query("DELETE FROM known_devices WHERE last_used_at < $1")
        .bind(now_ms - LIFETIME_MS)
        .execute(conn)
        .await
        .context("removing stale known devices")?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_are_read() {
        let good = "a".repeat(43);
        let v = format!("{good}.short.{}", "b".repeat(43));
        assert_eq!(tokens(&v).len(), 2);
        assert!(tokens(&format!("{}<", "a".repeat(42))).is_empty());
    }
}
