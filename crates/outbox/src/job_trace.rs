//! The span every job runs in, and one line for what it came to. A job's `request_id` is its
//! own id (UUIDv7): the request that queued it is not recorded with the job. Never the payload,
//! the error text (a provider's message may quote a number or id) or a recipient.
use tracing::field::Empty;
use tracing::Span;
use tsunagu_store::jobs::Job;

use crate::outcome::Outcome;

pub(crate) fn span(job: &Job) -> Span {
    tracing::info_span!(
        "job",
        request_id = %job.id,
        id = %job.id,
        kind = %job.kind,
        attempt = job.attempts,
        outcome = Empty,
    )
}

/// Records the handler's outcome on the current job span: debug when done or paced, info for
/// a retry, warn when staff must look (dead, in doubt).
pub(crate) fn outcome(outcome: &Outcome) {
    let span = Span::current();
    match outcome {
        Outcome::Done => {
            span.record("outcome", "done");
            tracing::debug!("job finished");
        }
        Outcome::Defer { .. } => {
            span.record("outcome", "deferred");
            tracing::debug!("job deferred by pacing");
        }
        Outcome::Retry { .. } => {
            span.record("outcome", "retry");
            tracing::info!("job will be retried");
        }
        Outcome::Dead { code, .. } => {
            span.record("outcome", "dead");
            tracing::warn!(code = *code, "job failed for good");
        }
        Outcome::InDoubt { .. } => {
            span.record("outcome", "in_doubt");
            tracing::warn!("job in doubt: it may have been done");
        }
    }
}
