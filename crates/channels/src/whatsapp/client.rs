//! Async client for the WhatsApp Cloud API (Graph API). The base URL includes the Graph version
//! (`https://graph.facebook.com/v23.0`, or the sandbox's); nothing here retries by itself.
//! Sends have no idempotency key, so an unknown outcome is `InDoubt`, never `Retry`.
use std::time::Duration;

use bytes::Bytes;
use reqwest::{RequestBuilder, StatusCode};
use serde::Deserialize;
use serde_json::Value;

use crate::delivery::{retry_after, SendFailure, Sent};

pub use super::manage::{CreatedTemplate, MediaInfo, NewTemplate, TemplateSummary};

const PROVIDER: &str = "WhatsApp";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
/// Meta's throttling codes: account/app rate (4, 80007), throughput (130429), pair rate
/// (131056), spam rate (131048). Meta doc: Cloud API › Support › "Error codes".
const THROTTLED: [i64; 5] = [4, 80007, 130429, 131056, 131048];

#[derive(Clone)]
pub struct WhatsAppClient {
    pub(super) http: reqwest::Client,
    pub(super) base: String,
    access_token: String,
    pub(super) timeout: Duration,
}

impl std::fmt::Debug for WhatsAppClient {
    // The access token must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WhatsAppClient")
            .field("base", &self.base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// A call other than a send failed (media, templates). Reads may always be repeated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Throttled, unavailable or no answer: try again later.
    #[error("{message}")]
    Retry {
        message: String,
        retry_after: Option<Duration>,
    },
    /// Refused (4xx); `code` is Meta's error code. Status 0: refused here before sending.
    #[error("{message}")]
    Rejected {
        status: u16,
        code: Option<String>,
        message: String,
    },
    /// An answer we cannot use: malformed, too large, or a checksum mismatch.
    #[error("{message}")]
    Invalid { message: String },
}

impl From<SendFailure> for CallError {
    fn from(f: SendFailure) -> Self {
        match f {
            SendFailure::Retry {
                message,
                retry_after,
                ..
            } => CallError::Retry {
                message,
                retry_after,
            },
            SendFailure::InDoubt { message } => CallError::Retry {
                message,
                retry_after: None,
            },
            SendFailure::Rejected {
                status,
                code,
                message,
            } => CallError::Rejected {
                status,
                code,
                message,
            },
        }
    }
}

#[derive(Deserialize, Default)]
struct Envelope {
    error: Option<GraphError>,
}

#[derive(Deserialize, Default)]
struct GraphError {
    #[serde(default)]
    message: String,
    code: Option<i64>,
    error_subcode: Option<i64>,
    error_data: Option<ErrorData>,
    is_transient: Option<bool>,
}

#[derive(Deserialize, Default)]
struct ErrorData {
    details: Option<String>,
}

#[derive(Deserialize)]
struct SendAnswer {
    #[serde(default)]
    messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
    message_status: Option<String>,
}

impl WhatsAppClient {
    /// `api_base_url` includes the version: `https://graph.facebook.com/v23.0`.
    pub fn new(http: reqwest::Client, api_base_url: &str, access_token: &str) -> Self {
        Self {
            http,
            base: api_base_url.trim_end_matches('/').to_owned(),
            access_token: access_token.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Per-request timeout (default 15 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Meta doc: Cloud API reference › Messages (`POST /{Phone-Number-ID}/messages`). Build
    /// `body` with `whatsapp::outgoing`. The answer's `messages[0].id` (wamid) is what status
    /// webhooks refer to.
    pub async fn send(&self, phone_number_id: &str, body: &Value) -> Result<Sent, SendFailure> {
        let url = format!("{}/{}/messages", self.base, node(phone_number_id)?);
        let (status, _, bytes) = self.execute("send", self.http.post(url).json(body)).await?;
        let answer: Option<SendAnswer> = serde_json::from_slice(&bytes).ok();
        match answer.and_then(|a| a.messages.into_iter().next()) {
            Some(m) => Ok(Sent {
                provider_message_id: m.id,
                status: m.message_status,
            }),
            // Accepted (2xx) but no wamid: it may well go out, and we cannot track it.
            None => Err(SendFailure::InDoubt {
                message: format!("WhatsApp answered {status} without a message id"),
            }),
        }
    }

    /// Meta doc: Messages › "Mark messages as read" (blue ticks for the patient).
    pub async fn mark_read(&self, phone_number_id: &str, wamid: &str) -> Result<(), SendFailure> {
        let url = format!("{}/{}/messages", self.base, node(phone_number_id)?);
        let body = super::outgoing::mark_read(wamid);
        self.execute("mark_read", self.http.post(url).json(&body))
            .await
            .map(|_| ())
    }

    /// Sends with the token and timeout; 2xx passes, anything else is classified.
    pub(super) async fn execute(
        &self,
        op: &'static str,
        req: RequestBuilder,
    ) -> Result<(StatusCode, reqwest::header::HeaderMap, Bytes), SendFailure> {
        let resp = crate::outbound::send("whatsapp", op, self.authorised(req))
            .await
            .map_err(|e| SendFailure::from_transport(PROVIDER, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(b) => b,
            // The status line arrived, so Meta decided; classify on it without the body.
            Err(e) => {
                tracing::warn!(%status, error = %e, "WhatsApp answer body could not be read");
                Bytes::new()
            }
        };
        if status.is_success() {
            return Ok((status, headers, body));
        }
        Err(classify(status, &headers, &body))
    }

    pub(super) fn authorised(&self, req: RequestBuilder) -> RequestBuilder {
        req.bearer_auth(&self.access_token).timeout(self.timeout)
    }
}

/// Meta doc: Cloud API › Support › "Error codes" and Graph API › "Handling errors".
pub(super) fn classify(
    status: StatusCode,
    headers: &reqwest::header::HeaderMap,
    body: &[u8],
) -> SendFailure {
    let error = serde_json::from_slice::<Envelope>(body)
        .ok()
        .and_then(|e| e.error)
        .unwrap_or_default();
    let code = error.code;
    let mut message = if error.message.is_empty() {
        status.to_string()
    } else {
        error.message.clone()
    };
    if let Some(c) = code {
        let details = error.error_data.as_ref().and_then(|d| d.details.clone());
        let sub = error
            .error_subcode
            .map(|s| format!(", subcode {s}"))
            .unwrap_or_default();
        message = match details {
            Some(d) if !d.is_empty() => format!("{message} (code {c}{sub}: {d})"),
            _ => format!("{message} (code {c}{sub})"),
        };
    }
    let throttled =
        code.is_some_and(|c| THROTTLED.contains(&c)) || status == StatusCode::TOO_MANY_REQUESTS;
    // Codes 1 and 2 (unknown/temporary service errors) and is_transient are documented as
    // "not processed, try again".
    let transient = error.is_transient == Some(true) || matches!(code, Some(1 | 2));
    if throttled || transient {
        return SendFailure::Retry {
            status: Some(status.as_u16()),
            code: code.map(|c| c.to_string()),
            message,
            retry_after: retry_after(headers),
        };
    }
    if status.is_server_error() {
        return SendFailure::InDoubt {
            message: format!("WhatsApp answered {status}; it may have been delivered: {message}"),
        };
    }
    SendFailure::Rejected {
        status: status.as_u16(),
        code: code.map(|c| c.to_string()),
        message,
    }
}

/// A Graph node id (phone number, media, WABA) as one path segment: never empty, never a
/// separator, so an id cannot change which endpoint is called.
pub(super) fn node(id: &str) -> Result<&str, SendFailure> {
    let ok = !id.is_empty()
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
    if ok {
        Ok(id)
    } else {
        Err(SendFailure::Rejected {
            status: 0,
            code: None,
            message: format!("request not sent: invalid id {id:?}"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn class(status: u16, body: &str) -> SendFailure {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT);
        classify(status, &reqwest::header::HeaderMap::new(), body.as_bytes())
    }

    #[test]
    fn throttling_and_transient_codes_are_retried_even_on_a_400() {
        for code in [4, 80007, 130429, 131056, 131048, 1, 2] {
            let body = format!(r#"{{"error":{{"message":"m","code":{code}}}}}"#);
            assert!(
                matches!(class(400, &body), SendFailure::Retry { .. }),
                "{code}"
            );
        }
        let transient = r#"{"error":{"message":"m","code":131000,"is_transient":true}}"#;
        assert!(matches!(class(500, transient), SendFailure::Retry { .. }));
        assert!(matches!(class(429, ""), SendFailure::Retry { .. }));
    }

    #[test]
    fn a_plain_5xx_is_in_doubt_and_a_4xx_is_rejected_with_code_and_details() {
        assert!(matches!(
            class(500, r#"{"error":{"message":"x","code":131000}}"#),
            SendFailure::InDoubt { .. }
        ));
        let body = r#"{"error":{"message":"(#131047) Re-engagement message","code":131047,"error_data":{"details":"24 hours"}}}"#;
        assert_eq!(
            class(400, body),
            SendFailure::Rejected {
                status: 400,
                code: Some("131047".into()),
                message: "(#131047) Re-engagement message (code 131047: 24 hours)".into(),
            }
        );
    }

    #[test]
    fn ids_cannot_leave_their_path_segment() {
        assert!(node("106540352242922").is_ok());
        assert!(node("../me").is_err());
        assert!(node("").is_err());
    }
}
