//! Async client for the Send API, the user profile and attachment downloads. The base URL
//! includes the Graph API version so tests and the demo point it at the sandbox; nothing here
//! retries by itself: the outbox decides from the [`SendFailure`].
mod body;
mod outcome;

use std::time::Duration;

use bytes::Bytes;
use reqwest::RequestBuilder;
use serde::Deserialize;
use serde_json::Value;

use crate::delivery::{SendFailure, Sent};
pub use body::{
    attachment, quick_replies, text, AttachmentType, BodyError, MessagingKind, MAX_QUICK_REPLIES,
    MAX_TEXT_CHARS,
};

const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);
/// Meta doc: Send API › attachments (25 MB limit); received media are capped the same way.
pub const DEFAULT_MAX_DOWNLOAD_BYTES: usize = 25 * 1024 * 1024;

#[derive(Clone)]
pub struct MessengerClient {
    http: reqwest::Client,
    api_base: String,
    page_access_token: String,
    timeout: Duration,
    max_download_bytes: usize,
}

impl std::fmt::Debug for MessengerClient {
    // The page access token must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MessengerClient")
            .field("api_base", &self.api_base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Meta doc: Messenger Platform › "User Profile API" (fields the page may read for a PSID).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct UserProfile {
    #[serde(default)]
    pub first_name: Option<String>,
    #[serde(default)]
    pub last_name: Option<String>,
    #[serde(default)]
    pub profile_pic: Option<String>,
}

#[derive(Deserialize, Default)]
struct SendAnswer {
    #[serde(default)]
    message_id: String,
}

impl MessengerClient {
    /// `api_base_url` includes the version: `https://graph.facebook.com/v23.0`, or the sandbox's
    /// `http://127.0.0.1:8081/messenger/v23.0`.
    pub fn new(http: reqwest::Client, api_base_url: &str, page_access_token: &str) -> Self {
        Self {
            http,
            api_base: api_base_url.trim_end_matches('/').to_owned(),
            page_access_token: page_access_token.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_download_bytes: DEFAULT_MAX_DOWNLOAD_BYTES,
        }
    }

    /// Per-request timeout (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest attachment [`download`](Self::download) accepts (default 25 MB).
    pub fn with_max_download_bytes(mut self, max: usize) -> Self {
        self.max_download_bytes = max;
        self
    }

    /// Meta doc: Send API reference (`POST /{PAGE-ID}/messages`, answer
    /// `{"recipient_id","message_id"}`). Build `body` with [`text`], [`attachment`] or
    /// [`quick_replies`]. No idempotency key exists: a failure that may have been executed comes
    /// back as `InDoubt` and must not be repeated blindly.
    pub async fn send(&self, page_id: &str, body: &Value) -> Result<Sent, SendFailure> {
        let url = format!("{}/{}/messages", self.api_base, segment(page_id)?);
        let (_, bytes) = self.call("send", self.http.post(url).json(body)).await?;
        let answer: SendAnswer = serde_json::from_slice(&bytes).unwrap_or_default();
        if answer.message_id.is_empty() {
            // Accepted (2xx) all the same: never resend, only the id is missing.
            tracing::warn!("Messenger accepted a send without a message_id");
        }
        Ok(Sent {
            provider_message_id: answer.message_id,
            status: None,
        })
    }

    /// Meta doc: "User Profile API" (`GET /{PSID}?fields=first_name,last_name,profile_pic`).
    pub async fn user_profile(&self, psid: &str) -> Result<UserProfile, SendFailure> {
        let url = format!(
            "{}/{}?fields=first_name,last_name,profile_pic",
            self.api_base,
            segment(psid)?
        );
        let (_, bytes) = self.call("user_profile", self.http.get(url)).await?;
        serde_json::from_slice(&bytes).map_err(|e| SendFailure::InDoubt {
            message: format!("unexpected profile answer from Messenger: {e}"),
        })
    }

    /// Meta doc: Webhook events › messages › `attachments[].payload.url` (a CDN URL that needs no
    /// token, so none is sent to it). Returns the content type and the bytes, refusing bodies over
    /// the size cap before and while reading them.
    pub async fn download(&self, url: &str) -> Result<(String, Bytes), SendFailure> {
        let req = self.http.get(url).timeout(self.timeout);
        let resp = crate::outbound::send("messenger", "download", req)
            .await
            .map_err(|e| SendFailure::from_transport("Messenger", &e))?;
        let status = resp.status();
        if !status.is_success() {
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            return Err(outcome::classify(status, &headers, &body));
        }
        let too_big = |size: u64| SendFailure::Rejected {
            status: status.as_u16(),
            code: Some("attachment_too_large".to_owned()),
            message: format!(
                "attachment of {size} bytes exceeds the {} byte limit",
                self.max_download_bytes
            ),
        };
        let cap = u64::try_from(self.max_download_bytes).unwrap_or(u64::MAX);
        if let Some(len) = resp.content_length().filter(|l| *l > cap) {
            return Err(too_big(len));
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut resp = resp;
        let mut out = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| SendFailure::from_transport("Messenger", &e))?
        {
            out.extend_from_slice(&chunk);
            if out.len() > self.max_download_bytes {
                return Err(too_big(u64::try_from(out.len()).unwrap_or(u64::MAX)));
            }
        }
        Ok((content_type, Bytes::from(out)))
    }

    /// Sends with the page token as a bearer; a non-2xx answer is classified.
    async fn call(
        &self,
        op: &'static str,
        req: RequestBuilder,
    ) -> Result<(reqwest::StatusCode, Bytes), SendFailure> {
        let req = req
            .bearer_auth(&self.page_access_token)
            .timeout(self.timeout);
        let resp = crate::outbound::send("messenger", op, req)
            .await
            .map_err(|e| SendFailure::from_transport("Messenger", &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(body) => body,
            // The status line arrived, so Meta decided; classify on it without the body.
            Err(e) => {
                tracing::warn!(%status, error = %e, "Messenger answer body could not be read");
                Bytes::new()
            }
        };
        if status.is_success() {
            Ok((status, body))
        } else {
            Err(outcome::classify(status, &headers, &body))
        }
    }
}

/// An id as one path segment: percent-encoded, never empty or a dot segment, so an id can never
/// change which endpoint is called.
fn segment(id: &str) -> Result<String, SendFailure> {
    if id.is_empty() || id.trim_matches('.').is_empty() {
        return Err(SendFailure::Rejected {
            status: 0,
            code: None,
            message: format!("request not sent: invalid id {id:?}"),
        });
    }
    let mut out = String::with_capacity(id.len());
    for b in id.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::segment;

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert_eq!(
            segment("1008372609250235").ok().as_deref(),
            Some("1008372609250235")
        );
        assert_eq!(segment("../me").ok().as_deref(), Some("..%2Fme"));
        assert!(segment("..").is_err());
        assert!(segment("").is_err());
    }
}
