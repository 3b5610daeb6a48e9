//! `channel.mark_read`: tells the provider a person read the patient's messages, so the patient
//! sees 既読 only when someone at the clinic opened the conversation, not on arrival; and
//! `channel.show_loading`, the chat's loading indicator.
use tsunagu_channels::provider::deliver::MarkRead as Marked;
use tsunagu_core::jobs::{MarkRead, ShowLoading};
use tsunagu_store::conversations;
use tsunagu_store::jobs::Job;

use crate::channel;
use crate::message_state::clinic_of;
use crate::outcome::Outcome;
use crate::worker::Worker;

pub(crate) async fn mark(w: &Worker, job: &Job, p: &MarkRead) -> anyhow::Result<Outcome> {
    let ch = match channel::for_job(w, job, &p.channel_id, || Outcome::Done).await? {
        Ok(ch) => ch,
        Err(outcome) => return Ok(outcome),
    };
    // Switched off since it was queued, or the channel was disabled: nothing to tell.
    if !ch.enabled() || ch.row.mark_read_on_open == 0 {
        return Ok(Outcome::Done);
    }
    let clinic = clinic_of(job)?;
    let message = {
        let mut conn = w.db.pool().acquire().await?;
        conversations::message_by_id(&mut conn, &clinic, &p.message_id).await?
    };
    // Erased meanwhile: nothing left to mark.
    let Some(message) = message else {
        return Ok(Outcome::Done);
    };
    let payload: serde_json::Value = serde_json::from_str(&message.payload).unwrap_or_default();
    let endpoints = ch.endpoints();
    let view = ch.view(&w.http, &endpoints, &w.public_base);
    Ok(match ch.adapter.mark_read(&view, &payload).await {
        Marked::Done | Marked::Nothing => Outcome::Done,
        Marked::Retry { after, error } => Outcome::Retry { after, error },
        Marked::Failed { code, error } => Outcome::Dead { code, error },
    })
}

/// `channel.show_loading`: the loading indicator, best effort — a failure is logged and never
/// retried (the answer it announces goes out anyway, and a late indicator would mislead).
pub(crate) async fn show_loading(
    w: &Worker,
    job: &Job,
    p: &ShowLoading,
) -> anyhow::Result<Outcome> {
    let ch = match channel::for_job(w, job, &p.channel_id, || Outcome::Done).await? {
        Ok(ch) => ch,
        Err(outcome) => return Ok(outcome),
    };
    if !ch.enabled() {
        return Ok(Outcome::Done);
    }
    let endpoints = ch.endpoints();
    let view = ch.view(&w.http, &endpoints, &w.public_base);
    if let Err(error) = ch.adapter.show_loading(&view, &p.user_id, p.seconds).await {
        tracing::warn!(channel = %p.channel_id, %error, "the loading indicator was not shown");
    }
    Ok(Outcome::Done)
}
