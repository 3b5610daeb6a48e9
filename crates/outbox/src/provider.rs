//! What every provider's sender shares: the channel with its credentials, pacing budgets, and
//! what a provider without an idempotency key (WhatsApp, Messenger, Twilio) answered, as an
//! outcome.
use anyhow::Context;
use sha2::{Digest, Sha256};
use tsunagu_channels::delivery::{SendFailure, Sent};
use tsunagu_channels::outbound::REFUSED_CODE;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, ClinicId, MessageId};
use tsunagu_store::jobs::Job;
use tsunagu_store::{channels, pacing};

use crate::message_state::mark_sent;
use crate::outcome::Outcome;
use crate::worker::Worker;

/// A channel row with its credentials decrypted (kept in memory only for the call).
pub(crate) struct LoadedChannel {
    pub row: channels::Channel,
    pub creds: serde_json::Value,
}

impl LoadedChannel {
    pub fn cred(&self, key: &str) -> &str {
        self.creds
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }
}

pub(crate) async fn load_channel(
    w: &Worker,
    clinic: &ClinicId,
    channel: &ChannelId,
) -> anyhow::Result<Option<LoadedChannel>> {
    let mut conn = w.db.pool().acquire().await?;
    let Some(row) = channels::by_id(&mut conn, clinic, channel).await? else {
        return Ok(None);
    };
    let creds = w
        .cipher
        .decrypt_json(&row.credentials_enc)
        .context("decrypting the channel credentials")?;
    Ok(Some(LoadedChannel { row, creds }))
}

/// Why a media download did not give bytes.
pub(crate) enum Fetch {
    Retry(String, Option<std::time::Duration>),
    /// Expired, refused or unusable: trying again will not help.
    Gone(String),
}

/// A pacing key that never holds a patient's address in clear.
pub(crate) fn pair_key(kind: ChannelKind, via: &str, to: &str) -> String {
    let h = hex::encode(&Sha256::digest(to.as_bytes())[..12]);
    format!("{kind}:pair:{via}:{h}")
}

/// One pacing budget: on average one send per `interval_ms`, up to `burst` at once.
pub(crate) struct Pace {
    pub key: String,
    pub interval_ms: i64,
    pub burst: i64,
}

/// Takes a slot under every budget, or none: `Some(at)` means come back then, without using up
/// an attempt.
pub(crate) async fn pace(w: &Worker, budgets: &[Pace]) -> anyhow::Result<Option<i64>> {
    let now = w.clock.now_ms();
    let mut tx = w.db.begin().await?;
    for b in budgets {
        if let Some(at) = pacing::take_slot(tx.conn(), &b.key, b.interval_ms, b.burst, now).await? {
            return Ok(Some(at)); // dropping the transaction gives back the slots taken
        }
    }
    tx.commit().await?;
    Ok(None)
}

/// What a provider without an idempotency key answered, as the job's outcome. `dead_code`
/// names a refusal for staff (e.g. `outside_service_window`); a throttling answer also holds
/// back every later send under `hold` until the provider's Retry-After.
pub(crate) async fn settle(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    message_id: &MessageId,
    result: Result<Sent, SendFailure>,
    dead_code: impl Fn(Option<&str>) -> &'static str,
    hold: Option<&str>,
) -> anyhow::Result<Outcome> {
    match result {
        Ok(sent) => {
            let now = w.clock.now_ms();
            mark_sent(
                w,
                job,
                clinic,
                message_id,
                Some(&sent.provider_message_id),
                now,
            )
            .await?;
            Ok(Outcome::Done)
        }
        Err(f @ SendFailure::Retry { .. }) => {
            if let (Some(key), Some(after)) = (hold, f.retry_after()) {
                let mut conn = w.db.pool().acquire().await?;
                let at = w.clock.now_ms() + after.as_millis() as i64;
                pacing::hold_until(&mut conn, key, at).await?;
            }
            Ok(Outcome::Retry {
                after: f.retry_after(),
                error: f.to_string(),
            })
        }
        Err(SendFailure::Rejected { code, message, .. }) => Ok(Outcome::Dead {
            code: match code.as_deref() {
                Some(REFUSED_CODE) => REFUSED_CODE,
                other => dead_code(other),
            },
            error: message,
        }),
        Err(SendFailure::InDoubt { message }) => Ok(Outcome::InDoubt { error: message }),
    }
}
