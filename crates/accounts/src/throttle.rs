//! Sign-in throttling, kept in the database so every instance sees the same counts.
//!
//! An attempt is *reserved* before the expensive check (argon2, a second-factor code): one
//! atomic upsert per counter takes a place only while that counter is under its limit and not
//! locked out, so parallel guesses cannot all pass a count taken before any was recorded. A
//! failed check keeps its place (and may start a lock-out); a successful one gives it back.
//!
//! The counters (the policy the README states):
//! - the account-and-address pair: `login_max_failures` per window, then a lock-out of one
//!   window, doubling with each further lock-out up to `login_max_lockout_minutes`;
//! - the address, whatever the account: `login_max_failures_per_address` (a clinic shares one);
//! - the account, from browsers it never signed in from: `login_max_failures_per_account`;
//! - a known device (a browser that completed a sign-in for this account) counts alone, like a
//!   pair, so a person locked out by someone else's guesses still gets in from it;
//! - second-factor codes: per account (or per known device), like a pair;
//! - a patient's LINE Login code exchanges (a public page): per address, as the address
//!   counter but under keys of their own.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::config::SecuritySettings;
use tsunagu_store::Db;

use crate::staff::normalize_email;
use tsunagu_privacy::crypto::sha256_hex;

/// The key attempts are counted under, for known and unknown e-mails alike.
pub fn email_hash(email: &str) -> String {
    sha256_hex(normalize_email(email).as_bytes())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Counter {
    Pair,
    Address,
    Account,
    Device,
    SecondFactor,
}

impl Counter {
    fn limit(self, sec: &SecuritySettings) -> i64 {
        i64::from(match self {
            Counter::Pair | Counter::Device | Counter::SecondFactor => sec.login_max_failures,
            Counter::Address => sec.login_max_failures_per_address,
            Counter::Account => sec.login_max_failures_per_account,
        })
    }
    /// Counters whose success clears them, and whose limit starts a growing lock-out.
    fn personal(self) -> bool {
        !matches!(self, Counter::Address | Counter::Account)
    }
}

/// The counters one attempt is reserved under, in a fixed (sorted) order so that concurrent
/// reservations lock rows in the same order and never deadlock.
#[derive(Clone, Debug)]
pub struct Keys(Vec<(String, Counter)>);

impl Keys {
    /// A password attempt. `device` is the hash of a known-device token of this account.
    pub fn password(email_hash: &str, source_ip: Option<&str>, device: Option<&str>) -> Keys {
        let mut k = Vec::new();
        match device {
            Some(d) => k.push((format!("dev:{d}"), Counter::Device)),
            None => {
                let pair =
                    sha256_hex(format!("{email_hash}|{}", source_ip.unwrap_or("-")).as_bytes());
                k.push((format!("pair:{pair}"), Counter::Pair));
                k.push((format!("acct:{email_hash}"), Counter::Account));
                if let Some(ip) = source_ip {
                    k.push((format!("addr:{ip}"), Counter::Address));
                }
            }
        }
        Keys::sorted(k)
    }

    /// A second-factor attempt (TOTP or recovery code) by someone who knew the password.
    pub fn second_factor(email_hash: &str, source_ip: Option<&str>, device: Option<&str>) -> Keys {
        let mut k = Vec::new();
        match device {
            Some(d) => k.push((format!("mfa-dev:{d}"), Counter::SecondFactor)),
            None => {
                k.push((format!("mfa:{email_hash}"), Counter::SecondFactor));
                if let Some(ip) = source_ip {
                    k.push((format!("addr:{ip}"), Counter::Address));
                }
            }
        }
        Keys::sorted(k)
    }

    /// A patient back from LINE Login with a code to exchange (a public page, no account):
    /// counted per address apart from staff sign-in, so patients' failures never lock staff
    /// out of the clinic's address; nothing counted without an address.
    pub fn line_login(source_ip: Option<&str>) -> Keys {
        let k = source_ip.map(|ip| (format!("line-login:{ip}"), Counter::Address));
        Keys::sorted(k.into_iter().collect())
    }

    fn sorted(mut k: Vec<(String, Counter)>) -> Keys {
        k.sort_by(|a, b| a.0.cmp(&b.0));
        Keys(k)
    }
}

/// A reserved attempt: settle it with [`failed`] or [`succeeded`] once the check is done.
#[must_use]
#[derive(Debug)]
pub struct Ticket(Keys);

#[derive(Debug)]
pub enum Reserved {
    Granted(Ticket),
    /// Whole minutes (at least 1) before a try may be checked again.
    Refused {
        minutes: u32,
    },
}

/// Takes a place on every counter of `keys`, or none when any is full or locked out.
pub async fn reserve(
    db: &Db,
    sec: &SecuritySettings,
    keys: &Keys,
    now_ms: i64,
) -> anyhow::Result<Reserved> {
    let window = window_ms(sec);
    let mut tx = db.begin().await?;
    for (key, counter) in &keys.0 {
        let limit = counter.limit(sec);
        if limit == 0 {
            continue;
        }
        // Taken only while not locked out and under the limit (a window that has ended starts
        // again at 1); a refused upsert updates nothing and returns no row.
        let taken: Option<i64> = sqlx::query_scalar(
            "INSERT INTO sign_in_throttle (key, failures, window_start, blocked_until, lockouts)
             VALUES ($1, 1, $2, 0, 0)
             ON CONFLICT (key) DO UPDATE SET
               failures = CASE WHEN sign_in_throttle.window_start <= $3 THEN 1
                               ELSE sign_in_throttle.failures + 1 END,
               window_start = CASE WHEN sign_in_throttle.window_start <= $3 THEN $2
                                   ELSE sign_in_throttle.window_start END
             WHERE sign_in_throttle.blocked_until <= $2
               AND (sign_in_throttle.window_start <= $3 OR sign_in_throttle.failures < $4)
             RETURNING failures",
        )
        .bind(key)
        .bind(now_ms)
        .bind(now_ms - window)
        .bind(limit)
        .fetch_optional(tx.conn())
        .await
        .context("reserving a sign-in attempt")?;
        if taken.is_none() {
            drop(tx);
            let minutes = wait_minutes(db, sec, keys, now_ms).await?;
            return Ok(Reserved::Refused { minutes });
        }
    }
    tx.commit().await?;
    Ok(Reserved::Granted(Ticket(keys.clone())))
}

/// The check failed: the places stay taken; a personal counter at its limit is locked out for
/// one window, doubled for each lock-out before it.
pub async fn failed(
    conn: &mut AnyConnection,
    sec: &SecuritySettings,
    ticket: Ticket,
    now_ms: i64,
) -> anyhow::Result<()> {
    let window = window_ms(sec);
    let max_lockout = i64::from(sec.login_max_lockout_minutes).max(1) * 60_000;
    for (key, counter) in ticket.0 .0.iter().filter(|(_, c)| c.personal()) {
        let limit = counter.limit(sec);
        let row: Option<(i64, i64)> =
            sqlx::query_as("SELECT failures, lockouts FROM sign_in_throttle WHERE key = $1")
                .bind(key)
                .fetch_optional(&mut *conn)
                .await
                .context("reading a sign-in counter")?;
        let Some((failures, lockouts)) = row else {
            continue;
        };
        if limit == 0 || failures < limit {
            continue;
        }
        let wait = window
            .saturating_mul(1_i64 << lockouts.clamp(0, 30))
            .min(max_lockout.max(window));
        // Compare-and-set on the lock-out count: of two failures reaching the limit together,
        // one locks out.
        sqlx::query(
            "UPDATE sign_in_throttle
             SET blocked_until = $2, lockouts = lockouts + 1, failures = 0, window_start = $3
             WHERE key = $1 AND lockouts = $4 AND failures >= $5",
        )
        .bind(key)
        .bind(now_ms + wait)
        .bind(now_ms)
        .bind(lockouts)
        .bind(limit)
        .execute(&mut *conn)
        .await
        .context("locking out a sign-in counter")?;
    }
    Ok(())
}

/// The check passed: personal counters are cleared, shared ones give their place back.
pub async fn succeeded(conn: &mut AnyConnection, ticket: Ticket) -> anyhow::Result<()> {
    for (key, counter) in &ticket.0 .0 {
        let sql = if counter.personal() {
            "DELETE FROM sign_in_throttle WHERE key = $1"
        } else {
            "UPDATE sign_in_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0"
        };
        sqlx::query(sql)
            .bind(key)
            .execute(&mut *conn)
            .await
            .context("releasing a sign-in attempt")?;
    }
    Ok(())
}

/// How long the longest hold on `keys` lasts, in whole minutes (at least 1).
async fn wait_minutes(
    db: &Db,
    sec: &SecuritySettings,
    keys: &Keys,
    now_ms: i64,
) -> anyhow::Result<u32> {
    let window = window_ms(sec);
    let mut conn = db.pool().acquire().await?;
    let mut until = now_ms;
    for (key, counter) in &keys.0 {
        let row: Option<(i64, i64, i64)> = sqlx::query_as(
            "SELECT failures, window_start, blocked_until FROM sign_in_throttle WHERE key = $1",
        )
        .bind(key)
        .fetch_optional(&mut *conn)
        .await
        .context("reading a sign-in counter")?;
        let Some((failures, start, blocked)) = row else {
            continue;
        };
        until = until.max(blocked);
        let limit = counter.limit(sec);
        if limit > 0 && failures >= limit && start + window > now_ms {
            until = until.max(start + window);
        }
    }
    let minutes = (until - now_ms + 59_999) / 60_000;
    Ok(u32::try_from(minutes.max(1)).unwrap_or(u32::MAX))
}

fn window_ms(sec: &SecuritySettings) -> i64 {
    i64::from(sec.login_window_minutes.max(1)) * 60_000
}

/// Forgets counters quiet for a day (their lock-out history with them).
pub async fn purge(conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<u64> {
    let before = now_ms - 86_400_000;
    let r =
        sqlx::query("DELETE FROM sign_in_throttle WHERE window_start < $1 AND blocked_until < $1")
            .bind(before)
            .execute(conn)
            .await
            .context("removing old sign-in counters")?;
    Ok(r.rows_affected())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_known_device_counts_alone_and_others_count_pair_account_and_address() {
        let k = Keys::password("h", Some("203.0.113.9"), None);
        let kinds: Vec<Counter> = k.0.iter().map(|(_, c)| *c).collect();
        assert_eq!(kinds.len(), 3);
        assert!(kinds.contains(&Counter::Pair) && kinds.contains(&Counter::Address));
        let k = Keys::password("h", Some("203.0.113.9"), Some("d"));
        assert_eq!(k.0, vec![("dev:d".to_string(), Counter::Device)]);
        // Sorted, so concurrent reservations take row locks in one order.
        let k = Keys::password("h", Some("203.0.113.9"), None);
        assert!(k.0.windows(2).all(|w| w[0].0 <= w[1].0));
    }
}
