//! `channel.fetch_media` for every provider: an inbound message's media, downloaded at once
//! (providers' links expire) by the channel's adapter and stored on the message.
use tsunagu_channels::provider::deliver::MediaFailure;
use tsunagu_core::jobs::FetchMedia;
use tsunagu_store::jobs::Job;

use crate::channel;
use crate::message_state::attach_media;
use crate::outcome::Outcome;
use crate::worker::Worker;

pub(crate) async fn fetch(w: &Worker, job: &Job, p: &FetchMedia) -> anyhow::Result<Outcome> {
    // A channel removed meanwhile took its messages with it: nothing to attach to.
    let ch = match channel::for_job(w, job, &p.channel_id, || Outcome::Done).await? {
        Ok(ch) => ch,
        Err(outcome) => return Ok(outcome),
    };
    let endpoints = ch.endpoints();
    let view = ch.view(&w.http, &endpoints, &w.public_base);
    match ch.adapter.fetch_media(&view, &p.media).await {
        Ok(files) => {
            attach_media(w, job, &ch.clinic(), &p.message_id, &files).await?;
            Ok(Outcome::Done)
        }
        Err(MediaFailure::Retry { after, error }) => Ok(Outcome::Retry { after, error }),
        Err(MediaFailure::Gone { code, error }) => Ok(Outcome::Dead { code, error }),
    }
}
