//! `message.send` for every channel kind: the job names the channel, the channel's kind picks
//! the provider. Shared here: loading the channel, pacing, recording a confirmed send, and what a
//! provider without an idempotency key (WhatsApp, Messenger, Twilio) answered, as an outcome.
use anyhow::Context;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tsunagu_channels::delivery::{SendFailure, Sent};
use tsunagu_channels::outbound::REFUSED_CODE;
use tsunagu_core::{ChannelId, ChannelKind, ClinicId, MessageId};
use tsunagu_store::conversations::{self, NewAttachment};
use tsunagu_store::jobs::Job;
use tsunagu_store::{channels, pacing};

use crate::line_jobs::{self, clinic_of};
use crate::worker::{Outcome, Worker};
use crate::{messenger_jobs, sms_jobs, whatsapp_jobs};

/// The job payload (`tsunagu_inbox::reply::SendJob`), as the providers read it.
#[derive(Deserialize)]
pub(crate) struct SendPayload {
    pub message_id: String,
    pub channel_id: String,
    /// The provider address of the patient: WhatsApp wa_id, Messenger PSID, E.164 number.
    pub to: String,
    pub messages: Vec<serde_json::Value>,
    /// The clinic-side address to send from (phone number id, page id, SMS number).
    #[serde(default)]
    pub via: Option<String>,
    /// Messenger `messaging_type`/`tag` decided when the message was queued (`HUMAN_AGENT`).
    #[serde(default)]
    pub tag: Option<String>,
}

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

/// Whether a job may run again after an attempt whose outcome is unknown (a worker that died
/// mid-send, an internal error after the call). Only a LINE push may: its retry key makes the
/// repeat harmless. Jobs queued before other kinds existed are LINE pushes.
pub(crate) fn repeatable(job: &Job) -> bool {
    match job.kind.as_str() {
        tsunagu_core::job_kinds::LINE_REPLY => false,
        tsunagu_core::job_kinds::SEND_MESSAGE => {
            let kind = serde_json::from_str::<serde_json::Value>(&job.payload)
                .ok()
                .and_then(|v| v.get("channel_kind")?.as_str().and_then(ChannelKind::parse));
            kind.is_none_or(ChannelKind::has_idempotency_key)
        }
        _ => true,
    }
}

pub async fn send(w: &Worker, job: &Job) -> anyhow::Result<Outcome> {
    let p: SendPayload = serde_json::from_str(&job.payload).context("reading the send job")?;
    let clinic = clinic_of(job)?;
    let Some(ch) = load_channel(w, &clinic, &ChannelId::from_db(p.channel_id.clone())).await?
    else {
        return Ok(Outcome::Dead {
            code: "channel_missing",
            error: "the channel no longer exists".into(),
        });
    };
    if ch.row.enabled == 0 {
        return Ok(Outcome::Dead {
            code: "channel_disabled",
            error: "the channel is disabled".into(),
        });
    }
    match ChannelKind::parse(&ch.row.kind) {
        Some(ChannelKind::Line) => line_jobs::send(w, job).await,
        Some(ChannelKind::WhatsApp) => whatsapp_jobs::send(w, job, &clinic, &ch, &p).await,
        Some(ChannelKind::Messenger) => messenger_jobs::send(w, job, &clinic, &ch, &p).await,
        Some(ChannelKind::Sms) => sms_jobs::send(w, job, &clinic, &ch, &p).await,
        None => Ok(Outcome::Dead {
            code: "unsupported_channel_kind",
            error: format!("unknown channel kind {}", ch.row.kind),
        }),
    }
}

/// `channel.fetch_media`: an inbound message's media, downloaded from the provider at once.
pub async fn fetch_media(w: &Worker, job: &Job) -> anyhow::Result<Outcome> {
    #[derive(Deserialize)]
    struct MediaPayload {
        channel_id: String,
        message_id: String,
        media: serde_json::Value,
    }
    let p: MediaPayload = serde_json::from_str(&job.payload).context("reading the media job")?;
    let clinic = clinic_of(job)?;
    let Some(ch) = load_channel(w, &clinic, &ChannelId::from_db(p.channel_id)).await? else {
        return Ok(Outcome::Done);
    };
    let fetched = match ChannelKind::parse(&ch.row.kind) {
        Some(ChannelKind::WhatsApp) => whatsapp_jobs::download(w, &ch, &p.media).await,
        Some(ChannelKind::Messenger) => messenger_jobs::download(w, &ch, &p.media).await,
        Some(ChannelKind::Sms) => sms_jobs::download(w, &ch, &p.media).await,
        _ => Err(Fetch::Gone(
            "no media download for this channel kind".into(),
        )),
    };
    match fetched {
        Ok(files) => attach(w, job, &clinic, &p.message_id, &files).await,
        Err(Fetch::Retry(error, after)) => Ok(Outcome::Retry { after, error }),
        Err(Fetch::Gone(error)) => Ok(Outcome::Dead {
            code: "content_unavailable",
            error,
        }),
    }
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
    message_id: &str,
    result: Result<Sent, SendFailure>,
    dead_code: impl Fn(Option<&str>) -> &'static str,
    hold: Option<&str>,
) -> anyhow::Result<Outcome> {
    match result {
        Ok(sent) => {
            let now = w.clock.now_ms();
            line_jobs::mark_sent(
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

/// Stores downloaded media on an inbound message (once; not if it was unsent or erased).
async fn attach(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    message_id: &str,
    files: &[(String, bytes::Bytes)],
) -> anyhow::Result<Outcome> {
    let now = w.clock.now_ms();
    let mid = MessageId::from_db(message_id.to_string());
    let mut tx = w.db.begin().await?;
    let msg = conversations::message_by_id(tx.conn(), clinic, &mid).await?;
    let already = conversations::attachment_ids(tx.conn(), message_id).await?;
    let mut touched = None;
    if let Some(msg) = msg.filter(|m| m.unsent_at.is_none() && already.is_empty()) {
        for (content_type, bytes) in files {
            let sha = hex::encode(Sha256::digest(bytes));
            conversations::insert_attachment(
                tx.conn(),
                NewAttachment {
                    clinic_id: clinic,
                    message_id: &mid,
                    content_type,
                    data: bytes,
                    sha256_hex: &sha,
                },
                now,
            )
            .await?;
        }
        touched = Some(msg.conversation_id);
    }
    tsunagu_store::jobs::complete(tx.conn(), &job.job_id(), now).await?;
    tx.commit().await?;
    if let Some(conv) = touched {
        (w.on_change)(clinic.as_str(), &conv);
    }
    Ok(Outcome::Done)
}
