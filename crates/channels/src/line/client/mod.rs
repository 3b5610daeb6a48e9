//! Async client for the Messaging API. Base URLs are per channel so tests and the demo point
//! it at the sandbox; nothing here panics or retries by itself: the outbox decides.
mod outcome;
mod richmenu;
pub use richmenu::RichMenuCallError;

use std::time::Duration;

use bytes::Bytes;
use reqwest::RequestBuilder;
use serde::Deserialize;
use serde_json::{json, Value};

use outcome::{classify, transport_error, Answer};
pub use outcome::{SendError, SendOk, MONTHLY_LIMIT_MESSAGE};

/// LINE's limit on a text message (counted in UTF-16 units, the stricter reading).
pub const MAX_TEXT_LEN: usize = 5000;
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone)]
pub struct LineClient {
    http: reqwest::Client,
    api_base: String,
    api_data_base: String,
    access_token: String,
    timeout: Duration,
}

impl std::fmt::Debug for LineClient {
    // The access token must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LineClient")
            .field("api_base", &self.api_base)
            .field("api_data_base", &self.api_data_base)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub display_name: String,
    pub user_id: String,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    pub language: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Quota {
    /// `none` (unlimited plan) or `limited`.
    #[serde(rename = "type")]
    pub kind: String,
    pub value: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    #[error("text_empty")]
    Empty,
    #[error("text_too_long: {units} UTF-16 units, LINE allows 5000")]
    TooLong { units: usize },
}

/// LINE doc: Messaging API reference › Message objects › "Text message" (max 5000 characters).
pub fn text_message(text: &str) -> Result<Value, TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    let units = text.encode_utf16().count();
    if units > MAX_TEXT_LEN {
        return Err(TextError::TooLong { units });
    }
    Ok(json!({ "type": "text", "text": text }))
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct SentMessages {
    #[serde(default)]
    sent_messages: Vec<SentMessage>,
}

#[derive(Deserialize)]
struct SentMessage {
    id: String,
}

impl LineClient {
    /// `api_base` is `https://api.line.me` and `api_data_base` `https://api-data.line.me`
    /// in production, or the sandbox's address in tests and the demo.
    pub fn new(
        http: reqwest::Client,
        api_base: &str,
        api_data_base: &str,
        access_token: &str,
    ) -> Self {
        Self {
            http,
            api_base: api_base.trim_end_matches('/').to_owned(),
            api_data_base: api_data_base.trim_end_matches('/').to_owned(),
            access_token: access_token.to_owned(),
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// Per-request timeout (default 10 s).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// LINE doc: Messaging API reference › "Send push message" (`POST /v2/bot/message/push`)
    /// with "Retry the API request" (`X-Line-Retry-Key`: a UUID, the same one on every attempt).
    pub async fn push(
        &self,
        to: &str,
        messages: &[Value],
        retry_key: &str,
    ) -> Result<SendOk, SendError> {
        let url = format!("{}/v2/bot/message/push", self.api_base);
        let req = self
            .http
            .post(url)
            .json(&json!({ "to": to, "messages": messages }));
        self.send("push", with_retry_key(req, retry_key)).await
    }

    /// LINE doc: Messaging API reference › "Send multicast message" (`POST /v2/bot/message/multicast`,
    /// up to 500 user ids, `X-Line-Retry-Key`).
    pub async fn multicast(
        &self,
        to: &[String],
        messages: &[Value],
        retry_key: &str,
    ) -> Result<SendOk, SendError> {
        let url = format!("{}/v2/bot/message/multicast", self.api_base);
        let req = self
            .http
            .post(url)
            .json(&json!({ "to": to, "messages": messages }));
        self.send("multicast", with_retry_key(req, retry_key)).await
    }

    /// LINE doc: Messaging API reference › "Send reply message" (`POST /v2/bot/message/reply`).
    /// No retry key: LINE answers 400 to one here. A reply token works once, for about a minute.
    pub async fn reply(&self, reply_token: &str, messages: &[Value]) -> Result<SendOk, SendError> {
        let url = format!("{}/v2/bot/message/reply", self.api_base);
        let req = self
            .http
            .post(url)
            .json(&json!({ "replyToken": reply_token, "messages": messages }));
        self.send("reply", req).await
    }

    /// LINE doc: Messaging API reference › "Get profile" (`GET /v2/bot/profile/{userId}`).
    pub async fn profile(&self, user_id: &str) -> Result<Profile, SendError> {
        let url = format!("{}/v2/bot/profile/{}", self.api_base, segment(user_id)?);
        let answer = self.call("profile", self.http.get(url)).await?;
        decode(&answer.body)
    }

    /// LINE doc: Messaging API reference › "Mark messages from users as read by token"
    /// (`POST /v2/bot/chat/markAsRead`): the message the token came with, and every earlier one
    /// in that chat, show as read to the patient. Works only while the account's chat is on.
    pub async fn mark_as_read(&self, mark_as_read_token: &str) -> Result<(), SendError> {
        let url = format!("{}/v2/bot/chat/markAsRead", self.api_base);
        let req = self
            .http
            .post(url)
            .json(&json!({ "markAsReadToken": mark_as_read_token }));
        self.call("mark_as_read", req).await.map(|_| ())
    }

    /// LINE doc: Messaging API reference › "Display a loading animation"
    /// (`POST /v2/bot/chat/loading/start`): the patient sees the bot typing for `seconds`
    /// (5–60 in steps of 5: `loading_seconds`) or until the next message arrives.
    pub async fn show_loading(&self, user_id: &str, seconds: u32) -> Result<(), SendError> {
        let url = format!("{}/v2/bot/chat/loading/start", self.api_base);
        let body = json!({ "chatId": user_id, "loadingSeconds": loading_seconds(seconds) });
        let req = self.http.post(url).json(&body);
        self.call("show_loading", req).await.map(|_| ())
    }

    /// LINE doc: Messaging API reference › "Get content" (`GET /v2/bot/message/{messageId}/content`
    /// on the api-data host). Returns the content type and the bytes.
    pub async fn content(&self, message_id: &str) -> Result<(String, Bytes), SendError> {
        let url = format!(
            "{}/v2/bot/message/{}/content",
            self.api_data_base,
            segment(message_id)?
        );
        let answer = self.call("content", self.http.get(url)).await?;
        let content_type = answer
            .header("content-type")
            .unwrap_or_else(|| "application/octet-stream".to_owned());
        Ok((content_type, answer.body))
    }

    /// LINE doc: Messaging API reference › "Get the target limit for sending messages this month"
    /// (`GET /v2/bot/message/quota`).
    pub async fn quota(&self) -> Result<Quota, SendError> {
        let url = format!("{}/v2/bot/message/quota", self.api_base);
        let answer = self.call("quota", self.http.get(url)).await?;
        decode(&answer.body)
    }

    /// LINE doc: Messaging API reference › "Get number of messages sent this month"
    /// (`GET /v2/bot/message/quota/consumption` → `totalUsage`).
    pub async fn consumption(&self) -> Result<i64, SendError> {
        #[derive(Deserialize)]
        #[serde(rename_all = "camelCase")]
        struct Consumption {
            total_usage: i64,
        }
        let url = format!("{}/v2/bot/message/quota/consumption", self.api_base);
        let answer = self.call("consumption", self.http.get(url)).await?;
        decode::<Consumption>(&answer.body).map(|c| c.total_usage)
    }

    /// A send (reply/push/multicast): 2xx, or 409 with `x-line-accepted-request-id`, is success.
    async fn send(&self, op: &'static str, req: RequestBuilder) -> Result<SendOk, SendError> {
        let answer = self.execute(op, req).await?;
        let accepted_request_id = answer.header("x-line-accepted-request-id");
        let already_accepted = answer.status.as_u16() == 409 && accepted_request_id.is_some();
        let answer = if already_accepted {
            answer
        } else {
            classify(answer)?
        };
        // A 2xx whose body is odd is still a success: only the ids are missing.
        let sent: SentMessages = serde_json::from_slice(&answer.body).unwrap_or_default();
        Ok(SendOk {
            request_id: answer.header("x-line-request-id"),
            accepted_request_id,
            sent_message_ids: sent.sent_messages.into_iter().map(|m| m.id).collect(),
            already_accepted,
        })
    }

    async fn call(&self, op: &'static str, req: RequestBuilder) -> Result<Answer, SendError> {
        classify(self.execute(op, req).await?)
    }

    async fn execute(&self, op: &'static str, req: RequestBuilder) -> Result<Answer, SendError> {
        let req = req.bearer_auth(&self.access_token).timeout(self.timeout);
        let resp = crate::outbound::send("line", op, req)
            .await
            .map_err(transport_error)?;
        let status = resp.status();
        let headers = resp.headers().clone();
        let body = match resp.bytes().await {
            Ok(body) => body,
            // The status line arrived, so LINE decided; classify on it without the body.
            Err(e) => {
                tracing::warn!(%status, error = %e, "LINE answer body could not be read");
                Bytes::new()
            }
        };
        Ok(Answer {
            status,
            headers,
            body,
        })
    }
}

fn with_retry_key(req: RequestBuilder, retry_key: &str) -> RequestBuilder {
    if retry_key.is_empty() {
        req
    } else {
        req.header("X-Line-Retry-Key", retry_key)
    }
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, SendError> {
    serde_json::from_slice(body).map_err(|e| SendError::Unknown {
        message: format!("unexpected answer from LINE: {e}"),
    })
}

/// An id as one path segment: percent-encoded, and never empty or a dot segment, so an id
/// can never change which endpoint is called.
fn segment(id: &str) -> Result<String, SendError> {
    if id.is_empty() || id.trim_matches('.').is_empty() {
        return Err(SendError::Rejected {
            status: 0,
            message: format!("request not sent: invalid id {id:?}"),
            details: Vec::new(),
        });
    }
    Ok(encode_segment(id))
}

fn encode_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_message_over_5000_utf16_units_is_refused() {
        assert_eq!(
            text_message("こんにちは").ok(),
            Some(json!({"type":"text","text":"こんにちは"}))
        );
        assert!(text_message(&"a".repeat(5000)).is_ok());
        assert_eq!(
            text_message(&"a".repeat(5001)),
            Err(TextError::TooLong { units: 5001 })
        );
        // An emoji outside the BMP is two UTF-16 units.
        assert!(text_message(&"😄".repeat(2501)).is_err());
        assert_eq!(text_message(""), Err(TextError::Empty));
    }

    #[test]
    fn ids_cannot_escape_their_path_segment() {
        assert_eq!(encode_segment("U123abc"), "U123abc");
        assert_eq!(encode_segment("../quota"), "..%2Fquota");
        assert!(segment("..").is_err());
        assert!(segment("").is_err());
    }
}

/// LINE's loading time: 5 to 60 seconds in steps of 5 (rounded up, then clamped).
pub fn loading_seconds(seconds: u32) -> u32 {
    (seconds.div_ceil(5) * 5).clamp(5, 60)
}

#[cfg(test)]
mod loading_tests {
    use super::loading_seconds;

    #[test]
    fn loading_seconds_are_lines_steps_of_five() {
        assert_eq!(loading_seconds(0), 5);
        assert_eq!(loading_seconds(5), 5);
        assert_eq!(loading_seconds(12), 15);
        assert_eq!(loading_seconds(60), 60);
        assert_eq!(loading_seconds(600), 60);
    }
}
