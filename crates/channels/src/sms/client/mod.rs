//! Async client for Twilio's Messages API: send an SMS/MMS, download a patient's media, count
//! segments for pacing. The base URL is per account so tests and the demo point it at the
//! sandbox; nothing here retries by itself: the outbox decides from the `SendFailure`.
use std::time::Duration;

mod outcome;
mod rules;

use bytes::{Bytes, BytesMut};
use reqwest::header::CONTENT_TYPE;
use url::Url;

use crate::delivery::{retry_after, SendFailure, Sent};
use outcome::{classify, fetch_retry, not_sent};
pub use rules::segments;
use rules::{encode_segment, form, validate};

pub const DEFAULT_API_BASE: &str = "https://api.twilio.com";
/// Twilio doc: Message resource › Body — "up to 1,600 characters".
pub const MAX_BODY_CHARS: usize = 1600;
/// Twilio doc: Message resource › MediaUrl — "up to ten `media_url` parameters".
pub const MAX_MEDIA_URLS: usize = 10;
/// Twilio takes at most 5 MB per outbound MMS and carriers deliver less inbound; twice that
/// leaves room for odd carriers while bounding what one download can hold in memory.
pub const MAX_MEDIA_BYTES: usize = 10 * 1024 * 1024;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(15);
const PROVIDER: &str = "Twilio";

/// Who a message is sent as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sender {
    /// A number the account owns, E.164 (`From`).
    Number(String),
    /// A Messaging Service (`MG…`, `MessagingServiceSid`): Twilio picks the number from its pool.
    MessagingService(String),
}

/// One outbound SMS/MMS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutgoingSms {
    pub from: Sender,
    /// E.164 recipient.
    pub to: String,
    pub body: String,
    /// Public http(s) URLs Twilio fetches and attaches (makes it an MMS).
    pub media_urls: Vec<String>,
    /// Where Twilio posts this message's status changes.
    pub status_callback: Option<String>,
}

#[derive(Clone)]
pub struct TwilioClient {
    http: reqwest::Client,
    api_base: String,
    account_sid: String,
    auth_token: String,
    timeout: Duration,
    max_media_bytes: usize,
}

impl std::fmt::Debug for TwilioClient {
    // The auth token must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TwilioClient")
            .field("api_base", &self.api_base)
            .field("account_sid", &self.account_sid)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl TwilioClient {
    /// `api_base_url` is [`DEFAULT_API_BASE`] in production, or the sandbox's address (e.g.
    /// `http://127.0.0.1:8081/twilio`) in tests and the demo.
    pub fn new(
        http: reqwest::Client,
        api_base_url: &str,
        account_sid: &str,
        auth_token: &str,
    ) -> Self {
        Self {
            http,
            api_base: api_base_url.trim_end_matches('/').to_owned(),
            account_sid: account_sid.to_owned(),
            auth_token: auth_token.to_owned(),
            timeout: DEFAULT_TIMEOUT,
            max_media_bytes: MAX_MEDIA_BYTES,
        }
    }

    /// Per-request timeout (default 15 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Largest media download accepted (default [`MAX_MEDIA_BYTES`]).
    pub fn with_max_media_bytes(mut self, max: usize) -> Self {
        self.max_media_bytes = max;
        self
    }

    pub fn account_sid(&self) -> &str {
        &self.account_sid
    }

    /// Twilio doc: Messaging › API › Message resource › "Create a Message resource"
    /// (`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded, HTTP Basic).
    /// Twilio has no idempotency key: anything that may have reached it and got no clear answer
    /// is `InDoubt`, never `Retry`.
    pub async fn send(&self, sms: &OutgoingSms) -> Result<Sent, SendFailure> {
        validate(sms)?;
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_base,
            encode_segment(&self.account_sid)
        );
        let req = self
            .http
            .post(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .timeout(self.timeout)
            .form(&form(sms));
        let resp = crate::outbound::send("sms", "send", req)
            .await
            .map_err(|e| SendFailure::from_transport(PROVIDER, &e))?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(body) => body,
            // The status line arrived, so Twilio decided; classify on it without the body.
            Err(e) => {
                tracing::warn!(%status, error = %e, "Twilio answer body could not be read");
                Bytes::new()
            }
        };
        classify(status, &headers, &body)
    }

    /// Twilio doc: Messaging › API › Media resource — `MediaUrl{N}` of an inbound MMS is the
    /// file itself. HTTP Basic is sent only to the API's own origin (accounts may enforce it);
    /// redirects are followed by the `reqwest::Client` (its default policy), which drops the
    /// credentials when a redirect leaves the host. A download is safe to repeat, so failures
    /// are `Retry` (429, 5xx, transport) or `Rejected` (4xx, too large), never `InDoubt`.
    pub async fn download_media(&self, url: &str) -> Result<(String, Bytes), SendFailure> {
        let parsed = Url::parse(url)
            .ok()
            .filter(|u| matches!(u.scheme(), "http" | "https"))
            .ok_or_else(|| not_sent(None, format!("not an http(s) media URL: {url:?}")))?;
        let mut req = self.http.get(parsed.clone()).timeout(self.timeout);
        if same_origin(&parsed, &self.api_base) {
            req = req.basic_auth(&self.account_sid, Some(&self.auth_token));
        }
        let mut resp = crate::outbound::send("sms", "download_media", req)
            .await
            .map_err(|e| fetch_retry(None, &e))?;
        let status = resp.status();
        if !status.is_success() {
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            return Err(match classify(status, &headers, &body) {
                Err(SendFailure::InDoubt { message }) => SendFailure::Retry {
                    status: Some(status.as_u16()),
                    code: None,
                    message,
                    retry_after: retry_after(&headers),
                },
                Err(other) => other,
                Ok(_) => not_sent(None, format!("unexpected media answer {status}")),
            });
        }
        let content_type = resp
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let too_large = || {
            not_sent(
                Some("media_too_large"),
                format!("media larger than {} bytes", self.max_media_bytes),
            )
        };
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_media_bytes as u64)
        {
            return Err(too_large());
        }
        // Read chunk by chunk: a missing or lying Content-Length cannot make us buffer more.
        let mut bytes = BytesMut::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| fetch_retry(Some(status.as_u16()), &e))?
        {
            if bytes.len() + chunk.len() > self.max_media_bytes {
                return Err(too_large());
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok((content_type, bytes.freeze()))
    }
}

fn same_origin(url: &Url, base: &str) -> bool {
    Url::parse(base).is_ok_and(|b| b.origin() == url.origin())
}
