//! `channel.fetch_profile` for every provider: a new patient's name and picture, from the
//! provider's profile (LINE, Messenger); a provider without profiles has nothing to record.
use tsunagu_channels::provider::deliver::ProfileFetch;
use tsunagu_core::jobs::FetchProfile;
use tsunagu_store::jobs::{self, Job};
use tsunagu_store::patients;

use crate::channel;
use crate::outcome::Outcome;
use crate::worker::Worker;

pub(crate) async fn fetch(w: &Worker, job: &Job, p: &FetchProfile) -> anyhow::Result<Outcome> {
    let ch = match channel::for_job(w, job, &p.channel_id, || Outcome::Done).await? {
        Ok(ch) => ch,
        Err(outcome) => return Ok(outcome),
    };
    let endpoints = ch.endpoints();
    let view = ch.view(&w.http, &endpoints, &w.public_base);
    let profile = match ch
        .adapter
        .fetch_profile(&view, &p.user_id, p.via.as_deref())
        .await
    {
        ProfileFetch::Found(profile) => profile,
        // The patient keeps a generic name.
        ProfileFetch::Nothing => return Ok(Outcome::Done),
        ProfileFetch::Retry { after, error } => return Ok(Outcome::Retry { after, error }),
        ProfileFetch::Failed { code, error } => return Ok(Outcome::Dead { code, error }),
    };
    let now = w.clock.now_ms();
    let mut tx = w.db.begin().await?;
    let pr = patients::Profile {
        display_name: &profile.display_name,
        picture_url: profile.picture_url.as_deref(),
        status_message: profile.status_message.as_deref(),
        language: profile.language.as_deref(),
    };
    patients::set_profile(tx.conn(), &p.identity_id, pr, now).await?;
    jobs::complete(tx.conn(), &job.job_id(), now).await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}
