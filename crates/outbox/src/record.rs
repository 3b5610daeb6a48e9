//! What a send came to (`Deliver::send`, or `Deliver::plan` refusing it) recorded for every
//! provider alike: the message's state, the sender's pacing held back after throttling, what a
//! refusal means for reaching the person, and reports that overtook the answer.
use tsunagu_channels::provider::deliver::{Delivery, Plan, Reach};
use tsunagu_core::jobs::SendMessage;
use tsunagu_store::jobs::Job;
use tsunagu_store::{patients, reachability};

use crate::channel::LoadedChannel;
use crate::message_state::{confirm_sent, mark_sent, named_by_report};
use crate::outcome::Outcome;
use crate::worker::Worker;
use crate::{early_reports, pacing};

/// The send of `p` on `ch` (called at `started_ms` under `plan`) came to `d`.
pub(crate) async fn delivery(
    w: &Worker,
    job: &Job,
    ch: &LoadedChannel,
    p: &SendMessage,
    plan: &Plan,
    started_ms: i64,
    d: Delivery,
) -> anyhow::Result<Outcome> {
    let clinic = ch.clinic();
    let named_by_reports = ch.adapter.reports_name_our_message();
    match d {
        Delivery::Sent {
            provider_message_id,
        } => {
            let now = w.clock.now_ms();
            match provider_message_id.as_deref() {
                Some(id) if named_by_reports => {
                    confirm_sent(w, job, &clinic, &p.message_id, id, now).await?
                }
                id => mark_sent(w, job, &clinic, &p.message_id, id, now).await?,
            }
            if let Some(id) = provider_message_id.filter(|id| !id.is_empty()) {
                // The message is sent and recorded: a failure here must not turn it into a retry.
                if let Err(e) = early_reports::apply(w, ch, &p.to, &id, started_ms).await {
                    tracing::warn!(error = %format!("{e:#}"), "applying reports that came before the send answer");
                }
            }
            Ok(Outcome::Done)
        }
        Delivery::Retry { after, error } => {
            if let (Some(key), Some(after)) = (&plan.hold, after) {
                pacing::hold(w, key, after).await?;
            }
            Ok(Outcome::Retry { after, error })
        }
        Delivery::Rejected { code, error, reach } => {
            if let Some(reach) = reach {
                record_reach(w, ch, &p.to, &reach).await?;
            }
            Ok(Outcome::Dead { code, error })
        }
        // A report already named the message: the provider has it, nothing is in doubt.
        Delivery::InDoubt { .. }
            if named_by_reports && named_by_report(w, &p.message_id).await? =>
        {
            Ok(Outcome::Done)
        }
        Delivery::InDoubt { error } => Ok(Outcome::InDoubt { error }),
    }
}

/// Mirrors the provider's refusal on the person's identity so nothing else is attempted.
async fn record_reach(
    w: &Worker,
    ch: &LoadedChannel,
    to: &str,
    reach: &Reach,
) -> anyhow::Result<()> {
    let mut conn = w.db.pool().acquire().await?;
    let Some(ident) = patients::identity(&mut conn, &ch.id(), to).await? else {
        return Ok(());
    };
    let now = w.clock.now_ms();
    match reach {
        Reach::OptedOut { source } => {
            reachability::set_opted_out(&mut conn, &ident.id, now, source).await
        }
        Reach::Bounced { reason } => {
            reachability::set_bounced(&mut conn, &ident.id, now, reason).await
        }
    }
}
