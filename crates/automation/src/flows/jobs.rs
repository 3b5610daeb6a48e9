//! The flow jobs, registered in the binary's `job_handlers`: `flow.timeout` ends a run nobody
//! answered; `flow.webhook` posts one signed delivery through the one SSRF-safe client
//! (`channels::outbound`), again and again with growing waits until it is taken, for 24 hours.
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;
use tsunagu_channels::outbound::{self, REFUSED_CODE};
use tsunagu_core::jobs::{FlowTimeout, FlowWebhook};
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Worker};
use tsunagu_store::jobs::Job;

use super::{runtime, store};

/// Deliveries are retried for this long after the first attempt.
pub const RETRY_FOR_MS: i64 = 24 * 3600 * 1000;
const FIRST_WAIT_MS: i64 = 10_000;
const MAX_WAIT_MS: i64 = 3600 * 1000;
const TIMEOUT: Duration = Duration::from_secs(10);
pub const SIGNATURE_HEADER: &str = "X-Tsunagu-Signature";

pub struct Timeout;

#[async_trait::async_trait]
impl JobHandler for Timeout {
    type Job = FlowTimeout;

    async fn run(&self, w: &Worker, _: &Job, p: FlowTimeout) -> anyhow::Result<Outcome> {
        let now = w.clock.now_ms();
        runtime::time_out(&w.db, &p.clinic_id, &p.run_id, p.expires_at, now).await?;
        Ok(Outcome::Done)
    }
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>` (DESIGN §6).
pub fn signature(secret: &[u8], unix_s: i64, body: &str) -> String {
    // HMAC takes a key of any length; the error arm cannot be reached.
    let hex = match Hmac::<Sha256>::new_from_slice(secret) {
        Ok(mut mac) => {
            mac.update(format!("{unix_s}.{body}").as_bytes());
            hex::encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("t={unix_s},v1={hex}")
}

/// The wait before the next attempt: as long as the deliveries have already taken (so the
/// waits double), from 10 s up to an hour.
pub fn next_wait(first_at: i64, now_ms: i64) -> i64 {
    (now_ms - first_at).clamp(FIRST_WAIT_MS, MAX_WAIT_MS)
}

pub struct Webhook;

#[async_trait::async_trait]
impl JobHandler for Webhook {
    type Job = FlowWebhook;

    async fn run(&self, w: &Worker, _: &Job, p: FlowWebhook) -> anyhow::Result<Outcome> {
        let now = w.clock.now_ms();
        let secret = {
            let mut conn = w.db.pool().acquire().await?;
            match &p.rule_id {
                Some(rule) => {
                    crate::event_rules::store::webhook_secret(&mut conn, &p.clinic_id, rule).await?
                }
                None => store::webhook_secret(&mut conn, &p.clinic_id, &p.flow_id).await?,
            }
        };
        let Some(secret) = secret.and_then(|s| w.cipher.decrypt(&s).ok()) else {
            // The flow is gone (or has no key): nothing to sign with, nobody to tell.
            return Ok(Outcome::Done);
        };
        let sig = signature(&secret, now.div_euclid(1000), &p.body);
        let req = w
            .http
            .post(&p.url)
            .timeout(TIMEOUT)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, sig)
            .body(p.body.clone());
        let failure = match outbound::send("flow", "webhook", req).await {
            Ok(resp) if resp.status().is_success() => return Ok(Outcome::Done),
            Ok(resp) => format!("the receiver answered {}", resp.status().as_u16()),
            Err(e) if outbound::refusal(&e).is_some() => {
                return Ok(Outcome::Dead {
                    code: REFUSED_CODE,
                    error: "the webhook address is not public".into(),
                })
            }
            Err(e) => format!("the webhook could not be delivered: {e}"),
        };
        if now - p.first_at >= RETRY_FOR_MS {
            return Ok(Outcome::Dead {
                code: "retries_exhausted",
                error: format!("gave up after 24 hours: {failure}"),
            });
        }
        // Deferred rather than retried: the worker's attempt limit would stop well short of
        // 24 hours; the wait grows with the time already spent.
        tracing::info!(flow = %p.flow_id, "flow webhook not taken; trying again later");
        Ok(Outcome::Defer {
            until_ms: now + next_wait(p.first_at, now),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_over_time_dot_body() {
        // Checked with: printf '1700000000.{"id":"x"}' | openssl dgst -sha256 -hmac secret
        assert_eq!(
            signature(b"secret", 1_700_000_000, r#"{"id":"x"}"#),
            format!(
                "t=1700000000,v1={}",
                "2f7852138f9dbd8d61c07c2cfb0b8ac96a46a32d78d4527788fb42fcb409a493"
            )
        );
    }

    #[test]
    fn waits_double_from_ten_seconds_to_an_hour() {
        assert_eq!(next_wait(0, 0), 10_000);
        assert_eq!(next_wait(0, 40_000), 40_000);
        assert_eq!(next_wait(0, 20 * 3600 * 1000), 3600 * 1000);
    }
}
