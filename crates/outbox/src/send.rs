//! `message.send` and `channel.fetch_media` for every channel kind: the job names the channel,
//! the channel's kind picks the provider's sender.
use tsunagu_channels::ChannelKind;
use tsunagu_core::jobs::{FetchMedia, SendMessage};
use tsunagu_store::jobs::Job;

use crate::message_state::{attach_media, clinic_of};
use crate::outcome::Outcome;
use crate::provider::{load_channel, Fetch};
use crate::worker::Worker;
use crate::{line_jobs, messenger_jobs, sms_jobs, whatsapp_jobs};

/// Whether a send may run again after an attempt whose outcome is unknown (a worker that died
/// mid-send, an internal error after the call). Only a LINE push may: its retry key makes the
/// repeat harmless. Jobs queued before other kinds existed are LINE pushes.
pub(crate) fn repeatable(p: &SendMessage) -> bool {
    let kind = p.channel_kind.as_deref().and_then(ChannelKind::parse);
    kind.is_none_or(|k| k.rules().idempotency_key)
}

pub(crate) async fn send(w: &Worker, job: &Job, p: &SendMessage) -> anyhow::Result<Outcome> {
    let clinic = clinic_of(job)?;
    let Some(ch) = load_channel(w, &clinic, &p.channel_id).await? else {
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
        Some(ChannelKind::Line) => line_jobs::send(w, job, &clinic, p).await,
        Some(ChannelKind::WhatsApp) => whatsapp_jobs::send(w, job, &clinic, &ch, p).await,
        Some(ChannelKind::Messenger) => messenger_jobs::send(w, job, &clinic, &ch, p).await,
        Some(ChannelKind::Sms) => sms_jobs::send(w, job, &clinic, &ch, p).await,
        None => Ok(Outcome::Dead {
            code: "unsupported_channel_kind",
            error: format!("unknown channel kind {}", ch.row.kind),
        }),
    }
}

/// `channel.fetch_media`: an inbound message's media, downloaded from the provider at once.
pub(crate) async fn fetch_media(w: &Worker, job: &Job, p: &FetchMedia) -> anyhow::Result<Outcome> {
    let clinic = clinic_of(job)?;
    let Some(ch) = load_channel(w, &clinic, &p.channel_id).await? else {
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
        Ok(files) => {
            attach_media(w, job, &clinic, &p.message_id, &files).await?;
            Ok(Outcome::Done)
        }
        Err(Fetch::Retry(error, after)) => Ok(Outcome::Retry { after, error }),
        Err(Fetch::Gone(error)) => Ok(Outcome::Dead {
            code: "content_unavailable",
            error,
        }),
    }
}
