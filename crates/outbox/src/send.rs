//! `message.send` for every provider: load the channel, let its adapter check the message and
//! name its pacing, take a slot, send, and record what it came to. No kind is named here; an
//! unknown kind is refused (`channel::for_job`).
use tsunagu_channels::provider::deliver::{Outgoing, Plan, Window};
use tsunagu_channels::ChannelKind;
use tsunagu_core::jobs::SendMessage;
use tsunagu_store::jobs::Job;
use tsunagu_store::{conversations, patients};

use crate::channel::{self, LoadedChannel};
use crate::outcome::Outcome;
use crate::worker::Worker;
use crate::{pacing, record};

/// Whether a send may run again after an attempt whose outcome is unknown (a worker that died
/// mid-send, an internal error after the call): only where the provider honours an idempotency
/// key (a LINE push's retry key makes the repeat harmless). A reply token is single-use, so a
/// reply never is. Jobs queued before other kinds existed are LINE pushes; a kind no adapter
/// serves is not repeated (fail closed).
pub(crate) fn repeatable(p: &SendMessage) -> bool {
    if p.reply.is_some() {
        return false;
    }
    match p.channel_kind.as_deref() {
        None => true,
        Some(kind) => ChannelKind::parse(kind).is_some_and(|k| k.rules().idempotency_key),
    }
}

pub(crate) async fn send(w: &Worker, job: &Job, p: &SendMessage) -> anyhow::Result<Outcome> {
    let missing = || Outcome::Dead {
        code: "channel_missing",
        error: "the channel no longer exists".into(),
    };
    let ch = match channel::for_job(w, job, &p.channel_id, missing).await? {
        Ok(ch) => ch,
        Err(outcome) => return Ok(outcome),
    };
    if !ch.enabled() {
        return Ok(Outcome::Dead {
            code: "channel_disabled",
            error: "the channel is disabled".into(),
        });
    }
    let now = w.clock.now_ms();
    let window = match ch.kind.rules().service_window_ms {
        Some(_) => Some(window(w, &ch, p).await?),
        None => None,
    };
    let out = Outgoing {
        job: p,
        now_ms: now,
        attempt: job.attempts,
        first_attempt_at_ms: job.first_attempt_at,
        window,
    };
    let endpoints = ch.endpoints();
    let view = ch.view(&w.http, &endpoints, &w.public_base);
    let plan = match ch.adapter.plan(&view, &out) {
        Ok(plan) => plan,
        Err(refused) => {
            return record::delivery(w, job, &ch, p, &Plan::default(), now, refused).await
        }
    };
    if let Some(until_ms) = pacing::take(w, &plan.budgets).await? {
        return Ok(Outcome::Defer { until_ms });
    }
    // From here the message may leave: a worker that vanishes now leaves it in doubt (unless
    // repeatable), one that vanished before left a job that simply runs again.
    w.attempt_starting(job).await?;
    let started = w.clock.now_ms();
    let delivery = ch.adapter.send(&view, &out).await;
    record::delivery(w, job, &ch, p, &plan, started, delivery).await
}

/// What the provider's window rule is decided on as the message leaves: the patient's last
/// message and whether a person wrote this one.
async fn window(w: &Worker, ch: &LoadedChannel, p: &SendMessage) -> anyhow::Result<Window> {
    let mut conn = w.db.pool().acquire().await?;
    let ident = patients::identity(&mut conn, &ch.id(), &p.to).await?;
    let msg = conversations::message_by_id(&mut conn, &ch.clinic(), &p.message_id).await?;
    Ok(Window {
        last_inbound_at_ms: ident.and_then(|i| i.last_inbound_at),
        by_person: msg.is_some_and(|m| m.author_kind == "staff"),
    })
}
