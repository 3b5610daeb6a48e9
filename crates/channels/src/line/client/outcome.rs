//! What a call to the Messaging API came to, in terms the outbox can act on.
use std::time::Duration;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::Deserialize;

/// The message LINE puts in the 429 that means "monthly quota used up" (not a rate limit).
pub const MONTHLY_LIMIT_MESSAGE: &str = "You have reached your monthly limit.";

/// A send that LINE accepted (or had already accepted under the same retry key).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SendOk {
    /// `x-line-request-id` of this answer.
    pub request_id: Option<String>,
    /// `x-line-accepted-request-id`: the request that executed this retry key first.
    pub accepted_request_id: Option<String>,
    /// Ids from `sentMessages` in the body (empty for multicast or when LINE sent none).
    pub sent_message_ids: Vec<String>,
    /// The answer was 409 with `x-line-accepted-request-id`: the retry key had already
    /// been executed, so the message was sent earlier. Treat as success, do not resend.
    pub already_accepted: bool,
}

/// Why a call failed, classified so the caller decides whether to retry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// 429 rate limit, 5xx, 202-not-ready, or no connection could be made (status `None`).
    /// Retry later; a 5xx may have been executed, so resend only with the same retry key.
    #[error("LINE is unavailable for now (status {status:?}): {message}")]
    Retryable {
        status: Option<u16>,
        retry_after: Option<Duration>,
        message: String,
    },
    /// 429 "You have reached your monthly limit.": retrying will not help this month.
    #[error("LINE monthly message quota reached: {message}")]
    QuotaExceeded { message: String },
    /// Any other 4xx (bad request, auth, not found, invalid reply token): never retry.
    /// `details` are LINE's `(property, message)` pairs. Status 0 means we refused the
    /// call ourselves before it left (e.g. an unusable base URL).
    #[error("LINE rejected the request (status {status}): {message}")]
    Rejected {
        status: u16,
        message: String,
        details: Vec<(String, String)>,
    },
    /// The request may have reached LINE but no answer came (timeout or dropped connection
    /// after connecting). A push may be retried with the same retry key; a reply is in doubt.
    #[error("no answer from LINE, the request may have been executed: {message}")]
    Unknown { message: String },
    /// The outbound guard refused the channel's API address (`crate::outbound`): nothing was
    /// sent and trying again cannot help.
    #[error("LINE not called: {message}")]
    AddressRefused { message: String },
}

impl SendError {
    /// Worth another attempt later (with the same retry key for sends).
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            SendError::Retryable { .. } | SendError::Unknown { .. }
        )
    }

    /// LINE may have executed the request even though we got no success answer.
    pub fn may_have_been_sent(&self) -> bool {
        match self {
            SendError::Unknown { .. } => true,
            SendError::Retryable { status, .. } => status.is_some_and(|s| s >= 500),
            _ => false,
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            SendError::Retryable { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A complete HTTP answer (status, headers, body).
pub(crate) struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    }
}

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    message: String,
    #[serde(default)]
    details: Vec<ErrorDetail>,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default)]
    message: String,
    #[serde(default)]
    property: String,
}

/// LINE doc: Messaging API reference › Common specifications › "Status codes" and
/// "Error responses". 2xx passes through; everything else becomes a `SendError`.
pub(crate) fn classify(answer: Answer) -> Result<Answer, SendError> {
    let status = answer.status;
    if status.is_success() && status != StatusCode::ACCEPTED {
        return Ok(answer);
    }
    let body: ErrorBody = serde_json::from_slice(&answer.body).unwrap_or_default();
    let message = if body.message.is_empty() {
        status.to_string()
    } else {
        body.message
    };
    let code = status.as_u16();
    Err(match code {
        429 if message == MONTHLY_LIMIT_MESSAGE => SendError::QuotaExceeded { message },
        // 202 on content: "still preparing" (video/audio being transcoded); ask again later.
        429 | 202 | 500..=599 => SendError::Retryable {
            status: Some(code),
            retry_after: retry_after(&answer.headers),
            message,
        },
        _ => SendError::Rejected {
            status: code,
            message,
            details: body
                .details
                .into_iter()
                .map(|d| (d.property, d.message))
                .collect(),
        },
    })
}

/// `Retry-After` in seconds (LINE does not document one; honour it if a proxy sends it).
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// Transport failures: "could not connect" means nothing was sent; anything later is unknown.
pub(crate) fn transport_error(e: reqwest::Error) -> SendError {
    if let Some(refused) = crate::outbound::refusal(&e) {
        return SendError::AddressRefused {
            message: refused.to_string(),
        };
    }
    let message = error_chain(&e);
    if e.is_connect() {
        SendError::Retryable {
            status: None,
            retry_after: None,
            message: format!("could not connect: {message}"),
        }
    } else if e.is_builder() {
        SendError::Rejected {
            status: 0,
            message: format!("request not sent: {message}"),
            details: Vec::new(),
        }
    } else if e.is_timeout() {
        SendError::Unknown {
            message: format!("timed out waiting for the answer: {message}"),
        }
    } else {
        SendError::Unknown { message }
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status: StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            headers: HeaderMap::new(),
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn the_monthly_limit_429_is_not_retryable_but_a_rate_limit_429_is() {
        let quota = classify(answer(
            429,
            r#"{"message":"You have reached your monthly limit."}"#,
        ));
        assert!(matches!(quota, Err(SendError::QuotaExceeded { .. })));
        let rate = classify(answer(
            429,
            r#"{"message":"The API rate limit has been exceeded. Try again later."}"#,
        ));
        assert!(matches!(rate, Err(ref e) if e.is_retryable() && !e.may_have_been_sent()));
    }

    #[test]
    fn a_400_keeps_lines_details_as_property_message_pairs() {
        let err = classify(answer(
            400,
            r#"{"message":"The request body has 1 error(s)","details":[{"message":"must be specified","property":"messages[0].text"}]}"#,
        ));
        match err {
            Err(SendError::Rejected {
                status, details, ..
            }) => {
                assert_eq!(status, 400);
                assert_eq!(
                    details,
                    vec![(
                        "messages[0].text".to_owned(),
                        "must be specified".to_owned()
                    )]
                );
            }
            _ => panic!("expected Rejected"),
        }
    }

    #[test]
    fn a_500_without_a_body_is_retryable_and_may_have_been_sent() {
        let err = classify(answer(500, ""));
        assert!(matches!(err, Err(ref e) if e.is_retryable() && e.may_have_been_sent()));
    }
}
