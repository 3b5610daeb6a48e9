//! What a send to a provider without an idempotency key (WhatsApp, Messenger, Twilio) came to,
//! in terms the outbox acts on. LINE keeps its own richer type (`line::client::SendError`)
//! because its retry key makes an unknown outcome safe to repeat.
use std::time::Duration;

use reqwest::header::HeaderMap;

/// A send the provider accepted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sent {
    /// wamid, Messenger `message_id`, Twilio `sid`: status webhooks refer to it.
    pub provider_message_id: String,
    /// The provider's status in its answer, when it gives one (Twilio `queued`, `accepted`).
    pub status: Option<String>,
}

/// Why a send failed, classified by whether repeating it is safe.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendFailure {
    /// The provider certainly did not execute it (429/throttling codes, a connection that never
    /// opened, a 503 with Retry-After): try again later, not sooner than `retry_after`.
    #[error("{message}")]
    Retry {
        status: Option<u16>,
        code: Option<String>,
        message: String,
        retry_after: Option<Duration>,
    },
    /// Refused for good (4xx): `code` is the provider's error code (e.g. "131047", "21610")
    /// so callers can map it to reachability; `message` is shown to staff. Status 0: refused
    /// here before sending; code `outbound_address_refused` when the outbound guard refused the
    /// provider's address (`crate::outbound`).
    #[error("{message}")]
    Rejected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// It may have been executed (timeout after sending, connection dropped, an ambiguous 5xx):
    /// never repeated automatically; staff decide.
    #[error("{message}")]
    InDoubt { message: String },
}

impl SendFailure {
    /// A transport error: a request that never connected was not executed; anything else may
    /// have been.
    pub fn from_transport(provider: &str, e: &reqwest::Error) -> Self {
        if let Some(refused) = Self::refused(provider, e) {
            return refused;
        }
        if e.is_connect() || e.is_builder() {
            SendFailure::Retry {
                status: None,
                code: None,
                message: format!("could not reach {provider}: {e}"),
                retry_after: None,
            }
        } else {
            SendFailure::InDoubt {
                message: format!("no answer from {provider}; it may have been delivered: {e}"),
            }
        }
    }

    /// The outbound guard refused the address (nothing was sent; trying again cannot help).
    pub fn refused(provider: &str, e: &reqwest::Error) -> Option<Self> {
        crate::outbound::refusal(e).map(|r| SendFailure::Rejected {
            status: 0,
            code: Some(crate::outbound::REFUSED_CODE.to_owned()),
            message: format!("{provider} not called: {r}"),
        })
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendFailure::Retry { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn code(&self) -> Option<&str> {
        match self {
            SendFailure::Retry { code, .. } | SendFailure::Rejected { code, .. } => code.as_deref(),
            SendFailure::InDoubt { .. } => None,
        }
    }
}

/// `Retry-After` in seconds (the only form Meta and Twilio use); an HTTP date is ignored.
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_seconds_only() {
        let mut h = HeaderMap::new();
        h.insert(
            reqwest::header::RETRY_AFTER,
            "7".parse().unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after(&h), Some(Duration::from_secs(7)));
        h.insert(
            reqwest::header::RETRY_AFTER,
            "Wed, 21 Oct 2015 07:28:00 GMT"
                .parse()
                .unwrap_or_else(|_| unreachable!()),
        );
        assert_eq!(retry_after(&h), None);
    }
}
