//! Automated answers sent with a LINE reply token. LINE doc: Messaging API reference › "Send reply
//! message". A reply token is single-use and short-lived, and a reply has no retry key: a reply
//! that may have reached LINE is in doubt, never repeated, and never re-sent by push.
use tsunagu_channels::line::client::SendError;
use tsunagu_core::jobs::LineReply;
use tsunagu_store::jobs::Job;

use crate::line_jobs::client_for;
use crate::message_state::{clinic_of, mark_sent};
use crate::outcome::Outcome;
use crate::worker::Worker;

/// How long LINE honours a reply token. LINE documents no exact figure ("≈ 1 minute", unconfirmed
/// in PROVIDERS.md); past it LINE answers 400, so we do not call at all.
pub const REPLY_TOKEN_LIFETIME_MS: i64 = 60_000;

pub(crate) async fn reply(w: &Worker, job: &Job, p: &LineReply) -> anyhow::Result<Outcome> {
    let clinic = clinic_of(job)?;
    let now = w.clock.now_ms();
    if now - p.reply_token_at_ms > REPLY_TOKEN_LIFETIME_MS {
        return Ok(Outcome::Dead {
            code: "reply_token_expired",
            error: format!(
                "the reply token expired ({} s after the event) before it could be used",
                (now - p.reply_token_at_ms) / 1000
            ),
        });
    }
    // Nothing has been sent yet: a database hiccup here is safe to retry.
    let client = match client_for(w, &clinic, &p.channel_id).await {
        Ok(Some(c)) => c,
        Ok(None) => {
            return Ok(Outcome::Dead {
                code: "channel_missing",
                error: "the channel no longer exists".into(),
            })
        }
        Err(e) => {
            return Ok(Outcome::Retry {
                after: None,
                error: format!("loading the channel: {e:#}"),
            })
        }
    };
    match client.reply(&p.reply_token, &p.messages).await {
        Ok(ok) => {
            let provider_id = ok.sent_message_ids.first().cloned();
            mark_sent(w, job, &clinic, &p.message_id, provider_id.as_deref(), now).await?;
            Ok(Outcome::Done)
        }
        Err(e) => Ok(classify(e)),
    }
}

fn classify(e: SendError) -> Outcome {
    if e.may_have_been_sent() {
        // 5xx or no answer: LINE may have executed it and the token is now spent.
        return Outcome::InDoubt {
            error: format!(
                "{e}; the patient may already have this answer, so it is not sent again"
            ),
        };
    }
    match e {
        // No connection, or a rate-limit 429: LINE executed nothing, so the token is unused.
        SendError::Retryable { .. } => Outcome::Retry {
            after: e.retry_after(),
            error: e.to_string(),
        },
        SendError::Rejected {
            status: 400,
            ref message,
            ..
        } if message.to_ascii_lowercase().contains("reply token") => Outcome::Dead {
            code: "reply_token_invalid",
            error: format!("LINE refused the reply token: {message}"),
        },
        SendError::Rejected {
            status, message, ..
        } => Outcome::Dead {
            code: "rejected_by_provider",
            error: format!("LINE answered {status}: {message}"),
        },
        SendError::QuotaExceeded { message } => Outcome::Dead {
            code: "quota_exceeded",
            error: message,
        },
        // Nothing reached LINE, but the address will not change while the token lasts.
        SendError::AddressRefused { message } => Outcome::Dead {
            code: tsunagu_channels::outbound::REFUSED_CODE,
            error: format!("LINE not called: {message}"),
        },
        // Covered by `may_have_been_sent` above; kept for exhaustiveness.
        SendError::Unknown { message } => Outcome::InDoubt { error: message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn retryable(status: Option<u16>) -> SendError {
        SendError::Retryable {
            status,
            retry_after: None,
            message: "x".into(),
        }
    }

    #[test]
    fn only_a_reply_that_certainly_did_not_reach_line_is_retried() {
        assert!(matches!(classify(retryable(None)), Outcome::Retry { .. }));
        assert!(matches!(
            classify(retryable(Some(429))),
            Outcome::Retry { .. }
        ));
        assert!(matches!(
            classify(retryable(Some(500))),
            Outcome::InDoubt { .. }
        ));
        assert!(matches!(
            classify(retryable(Some(503))),
            Outcome::InDoubt { .. }
        ));
        assert!(matches!(
            classify(SendError::Unknown {
                message: "timeout".into()
            }),
            Outcome::InDoubt { .. }
        ));
        let invalid = SendError::Rejected {
            status: 400,
            message: "Invalid reply token".into(),
            details: vec![],
        };
        assert!(matches!(
            classify(invalid),
            Outcome::Dead {
                code: "reply_token_invalid",
                ..
            }
        ));
    }
}
