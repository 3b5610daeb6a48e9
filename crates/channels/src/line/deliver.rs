//! LINE's outbound half: push (with `X-Line-Retry-Key`), reply by token, content, profile.
//! LINE doc: Messaging API reference › "Send push message", "Send reply message", "Get content", "Mark as read",
//! "Get profile"; "Retry the API request".
use serde_json::Value;

use super::client::{LineClient, SendError};
use crate::compose;
use crate::outbound::REFUSED_CODE;
use crate::provider::deliver::{
    Channel, Deliver, Delivery, MarkRead, Media, MediaFailure, Outgoing, Pace, Plan, Profile,
    ProfileFetch,
};

use super::Line;

/// How long LINE honours a reply token. LINE documents no exact figure ("≈ 1 minute",
/// unconfirmed in PROVIDERS.md); past it LINE answers 400, so we do not call at all.
pub const REPLY_TOKEN_LIFETIME_MS: i64 = 60_000;

/// LINE keeps a retry key for 24 hours; past that a resend could deliver twice.
pub const RETRY_KEY_LIFETIME_MS: i64 = 24 * 3600 * 1000 - 5 * 60 * 1000;

/// 1,000 pushes per second sustained, 1,000 at once: half of LINE's published rate limit
/// (2,000 push requests per second per channel).
const PUSH_INTERVAL_MS: i64 = 1;
const PUSH_BURST: i64 = 1_000;

fn client(ch: &Channel<'_>) -> LineClient {
    let token = ch.creds.line().map(|c| c.channel_access_token.as_str());
    let data_base = ch.api_data_base_url.unwrap_or(ch.api_base_url);
    LineClient::new(
        ch.http.clone(),
        ch.api_base_url,
        data_base,
        token.unwrap_or_default(),
    )
}

#[async_trait::async_trait]
impl Deliver for Line {
    fn plan(&self, _ch: &Channel<'_>, out: &Outgoing<'_>) -> Result<Plan, Delivery> {
        if let Some(reply) = &out.job.reply {
            let age = out.now_ms - reply.issued_at_ms;
            if age > REPLY_TOKEN_LIFETIME_MS {
                return Err(Delivery::rejected(
                    "reply_token_expired",
                    format!(
                        "the reply token expired ({} s after the event) before it could be used",
                        age / 1000
                    ),
                ));
            }
            // A reply answers one event at once; it is not paced.
            return Ok(Plan::default());
        }
        if out.attempt > 1
            && out
                .first_attempt_at_ms
                .is_some_and(|f| out.now_ms - f > RETRY_KEY_LIFETIME_MS)
        {
            return Err(Delivery::InDoubt {
                error: "LINE's 24-hour retry key expired before delivery was confirmed; check with the patient before resending".into(),
            });
        }
        Ok(Plan {
            budgets: vec![Pace {
                key: format!("line:push:{}", out.job.channel_id),
                interval_ms: PUSH_INTERVAL_MS,
                burst: PUSH_BURST,
            }],
            hold: None,
        })
    }

    async fn send(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Delivery {
        let client = client(ch);
        let p = out.job;
        // tsunagu's objects (a choice) as LINE's; text and LINE's own pass unchanged.
        let messages: Result<Vec<Value>, String> = p.messages.iter().map(compose::line).collect();
        let messages = match messages {
            Ok(m) => m,
            Err(why) => return Delivery::rejected("unsupported_content", why),
        };
        if let Some(reply) = &p.reply {
            return match client.reply(&reply.token, &messages).await {
                Ok(ok) => Delivery::Sent {
                    provider_message_id: ok.sent_message_ids.into_iter().next(),
                },
                Err(e) => reply_failed(e),
            };
        }
        match client.push(&p.to, &messages, &p.retry_key).await {
            // 409 with x-line-accepted-request-id: an earlier attempt was accepted; it is sent.
            Ok(ok) => Delivery::Sent {
                provider_message_id: ok
                    .sent_message_ids
                    .into_iter()
                    .next()
                    .or(ok.accepted_request_id),
            },
            Err(e) => push_failed(&client, e).await,
        }
    }

    /// Replies from tsunagu to LINE are text, or a choice as text with quick replies.
    fn can_carry(&self, message: &Value) -> Result<(), String> {
        match message.get("type").and_then(Value::as_str) {
            Some("text") => Ok(()),
            Some("choice") => compose::line(message).map(drop),
            _ => Err("LINE replies from tsunagu carry text only".to_string()),
        }
    }

    /// LINE answers with a status and a message, no error codes.
    fn refusal_code(&self, _provider_code: Option<&str>) -> &'static str {
        "rejected_by_provider"
    }

    /// `{"message_id": "<LINE message id>"}` → the content endpoint on the api-data host.
    async fn fetch_media(
        &self,
        ch: &Channel<'_>,
        media: &Value,
    ) -> Result<Vec<Media>, MediaFailure> {
        let id = media
            .get("message_id")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        match client(ch).content(id).await {
            Ok((content_type, bytes)) => Ok(vec![Media {
                content_type,
                bytes,
            }]),
            Err(SendError::Rejected {
                status, message, ..
            }) => Err(MediaFailure::Gone {
                code: "content_unavailable",
                error: format!("content: {status} {message}"),
            }),
            Err(SendError::AddressRefused { message }) => Err(MediaFailure::Gone {
                code: REFUSED_CODE,
                error: format!("content: {message}"),
            }),
            Err(e) => Err(MediaFailure::Retry {
                after: e.retry_after(),
                error: e.to_string(),
            }),
        }
    }

    async fn show_loading(
        &self,
        ch: &Channel<'_>,
        user_id: &str,
        seconds: u32,
    ) -> Result<bool, String> {
        client(ch)
            .show_loading(user_id, seconds)
            .await
            .map(|()| true)
            .map_err(|e| e.to_string())
    }

    async fn mark_read(&self, ch: &Channel<'_>, payload: &Value) -> MarkRead {
        // The token LINE put in the message object of the webhook (stored as `message`).
        let Some(token) = payload
            .pointer("/message/markAsReadToken")
            .and_then(Value::as_str)
        else {
            return MarkRead::Nothing;
        };
        match client(ch).mark_as_read(token).await {
            Ok(()) => MarkRead::Done,
            // The chat is off, or the token is not this bot's: another try reads the same.
            Err(SendError::Rejected {
                status, message, ..
            }) => MarkRead::Failed {
                code: "rejected_by_provider",
                error: format!("mark as read: {status} {message}"),
            },
            Err(SendError::AddressRefused { message }) => MarkRead::Failed {
                code: REFUSED_CODE,
                error: format!("mark as read: {message}"),
            },
            Err(e) => MarkRead::Retry {
                after: e.retry_after(),
                error: e.to_string(),
            },
        }
    }

    async fn fetch_profile(
        &self,
        ch: &Channel<'_>,
        user_id: &str,
        _via: Option<&str>,
    ) -> ProfileFetch {
        match client(ch).profile(user_id).await {
            Ok(p) => ProfileFetch::Found(Profile {
                display_name: p.display_name,
                picture_url: p.picture_url,
                status_message: p.status_message,
                language: p.language,
            }),
            // Not a friend (or left): LINE will not tell us; the patient keeps a generic name.
            Err(SendError::Rejected { status: 404, .. }) => ProfileFetch::Nothing,
            Err(SendError::Rejected {
                status, message, ..
            }) => ProfileFetch::Failed {
                code: "rejected_by_provider",
                error: format!("profile: {status} {message}"),
            },
            Err(SendError::AddressRefused { message }) => ProfileFetch::Failed {
                code: REFUSED_CODE,
                error: format!("profile: {message}"),
            },
            Err(e) => ProfileFetch::Retry {
                after: e.retry_after(),
                error: e.to_string(),
            },
        }
    }
}

/// A push carries the retry key, so one whose outcome is unknown is safe to repeat: LINE
/// answers 409 if the first attempt was executed.
async fn push_failed(client: &LineClient, e: SendError) -> Delivery {
    match e {
        // The monthly quota: retrying will not help this month; staff see the plan's numbers.
        SendError::QuotaExceeded { message } => {
            let plan = match (client.quota().await, client.consumption().await) {
                (Ok(q), Ok(used)) => match q.value {
                    Some(limit) => {
                        format!(" (plan limit {limit} messages this month, {used} used)")
                    }
                    None => format!(" ({used} used this month)"),
                },
                _ => String::new(),
            };
            Delivery::rejected("quota_exceeded", format!("{message}{plan}"))
        }
        SendError::Rejected {
            status,
            message,
            details,
        } => {
            let detail: Vec<String> = details
                .into_iter()
                .map(|(p, m)| format!("{p}: {m}"))
                .collect();
            let suffix = if detail.is_empty() {
                String::new()
            } else {
                format!(" ({})", detail.join("; "))
            };
            Delivery::rejected(
                "rejected_by_provider",
                format!("LINE answered {status}: {message}{suffix}"),
            )
        }
        SendError::AddressRefused { message } => {
            Delivery::rejected(REFUSED_CODE, format!("LINE not called: {message}"))
        }
        e @ (SendError::Retryable { .. } | SendError::Unknown { .. }) => Delivery::Retry {
            after: e.retry_after(),
            error: e.to_string(),
        },
    }
}

/// A reply token is single-use and a reply has no retry key: a reply that may have reached LINE
/// is in doubt, never repeated, and never re-sent by push.
fn reply_failed(e: SendError) -> Delivery {
    if e.may_have_been_sent() {
        // 5xx or no answer: LINE may have executed it and the token is now spent.
        return Delivery::InDoubt {
            error: format!(
                "{e}; the patient may already have this answer, so it is not sent again"
            ),
        };
    }
    match e {
        // No connection, or a rate-limit 429: LINE executed nothing, so the token is unused.
        SendError::Retryable { .. } => Delivery::Retry {
            after: e.retry_after(),
            error: e.to_string(),
        },
        SendError::Rejected {
            status: 400,
            ref message,
            ..
        } if message.to_ascii_lowercase().contains("reply token") => Delivery::rejected(
            "reply_token_invalid",
            format!("LINE refused the reply token: {message}"),
        ),
        SendError::Rejected {
            status, message, ..
        } => Delivery::rejected(
            "rejected_by_provider",
            format!("LINE answered {status}: {message}"),
        ),
        SendError::QuotaExceeded { message } => Delivery::rejected("quota_exceeded", message),
        // Nothing reached LINE, but the address will not change while the token lasts.
        SendError::AddressRefused { message } => {
            Delivery::rejected(REFUSED_CODE, format!("LINE not called: {message}"))
        }
        // Covered by `may_have_been_sent` above; kept for exhaustiveness.
        SendError::Unknown { message } => Delivery::InDoubt { error: message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::line::LineSecrets;
    use crate::provider::Credentials;
    use tsunagu_core::jobs::{ReplyToken, SendMessage};

    const NOW: i64 = 1_700_000_000_000;

    fn job(reply: Option<ReplyToken>) -> SendMessage {
        serde_json::from_value(serde_json::json!({
            "message_id": "m", "channel_id": "c", "to": "U1", "messages": [],
            "retry_key": "k", "reply": reply.map(|r| serde_json::json!({
                "token": r.token, "issued_at_ms": r.issued_at_ms})),
        }))
        .unwrap_or_else(|e| panic!("{e}"))
    }

    fn plan(job: &SendMessage, attempt: i64, first: Option<i64>) -> Result<Plan, Delivery> {
        let creds = Credentials::Line(LineSecrets {
            channel_secret: "s".into(),
            channel_access_token: "t".into(),
        });
        let http = reqwest::Client::new();
        let ch = Channel {
            http: &http,
            id: "c",
            api_base_url: "http://127.0.0.1:1",
            api_data_base_url: None,
            creds: &creds,
            default_via: None,
            messaging_service_sid: None,
            public_base: "http://localhost",
        };
        let out = Outgoing {
            job,
            now_ms: NOW,
            attempt,
            first_attempt_at_ms: first,
            window: None,
        };
        Line.plan(&ch, &out)
    }

    #[test]
    fn a_reply_token_past_its_lifetime_is_refused_before_any_call_and_a_fresh_one_is_not_paced() {
        let token = |age: i64| {
            Some(ReplyToken {
                token: "r".into(),
                issued_at_ms: NOW - age,
            })
        };
        let expired = plan(&job(token(REPLY_TOKEN_LIFETIME_MS + 1)), 1, None);
        assert!(matches!(
            expired,
            Err(Delivery::Rejected {
                code: "reply_token_expired",
                ..
            })
        ));
        let fresh = plan(&job(token(REPLY_TOKEN_LIFETIME_MS)), 1, None);
        assert_eq!(fresh, Ok(Plan::default()));
    }

    #[test]
    fn a_push_is_paced_per_channel_and_in_doubt_once_its_retry_key_may_have_expired() {
        let push = job(None);
        let first = plan(&push, 1, None).unwrap_or_else(|_| panic!("refused"));
        assert_eq!(first.budgets[0].key, "line:push:c");
        assert!(plan(&push, 2, Some(NOW - RETRY_KEY_LIFETIME_MS)).is_ok());
        let late = plan(&push, 2, Some(NOW - RETRY_KEY_LIFETIME_MS - 1));
        assert!(matches!(late, Err(Delivery::InDoubt { .. })));
    }

    fn retryable(status: Option<u16>) -> SendError {
        SendError::Retryable {
            status,
            retry_after: None,
            message: "x".into(),
        }
    }

    #[test]
    fn only_a_reply_that_certainly_did_not_reach_line_is_retried() {
        assert!(matches!(
            reply_failed(retryable(None)),
            Delivery::Retry { .. }
        ));
        assert!(matches!(
            reply_failed(retryable(Some(429))),
            Delivery::Retry { .. }
        ));
        assert!(matches!(
            reply_failed(retryable(Some(500))),
            Delivery::InDoubt { .. }
        ));
        assert!(matches!(
            reply_failed(retryable(Some(503))),
            Delivery::InDoubt { .. }
        ));
        assert!(matches!(
            reply_failed(SendError::Unknown {
                message: "timeout".into()
            }),
            Delivery::InDoubt { .. }
        ));
        let invalid = SendError::Rejected {
            status: 400,
            message: "Invalid reply token".into(),
            details: vec![],
        };
        assert!(matches!(
            reply_failed(invalid),
            Delivery::Rejected {
                code: "reply_token_invalid",
                ..
            }
        ));
    }
}
