//! Messenger's (and Instagram messaging's) outbound half: send a queued message, download
//! inbound attachments, a person's profile. Meta doc: Messenger Platform › Send API; message
//! tags; "User Profile API". No idempotency key: an unknown outcome is in doubt.
use serde_json::Value;

use super::client::MessagingKind;
use super::{allowed_kind, Messenger, MessengerClient};
use crate::compose;
use crate::delivery::SendFailure;
use crate::provider::deliver::{
    Channel, Deliver, Delivery, EarlyReports, Media, MediaFailure, Outgoing, Plan, Profile,
    ProfileFetch, Reach, StatusReport,
};

fn page_token<'a>(ch: &'a Channel<'_>, page: &str) -> &'a str {
    ch.creds
        .messenger()
        .and_then(|c| c.page_tokens.get(page))
        .map(String::as_str)
        .unwrap_or_default()
}

/// Meta doc: Send messages › "Messaging types" and Message tags › HUMAN_AGENT, applied when the
/// message leaves, not when it was queued: a reply held up (throttling, retries) past 24 hours
/// goes as a staff member's HUMAN_AGENT reply, or not at all if no person wrote it; past 7 days
/// nothing goes. Without a recorded last message the queue-time decision stands.
fn messaging_kind(out: &Outgoing<'_>) -> Result<MessagingKind, Delivery> {
    let queued = match out.job.tag.as_deref() {
        Some("HUMAN_AGENT") => MessagingKind::HumanAgent,
        Some(_) | None => MessagingKind::Response,
    };
    let Some(window) = out.window else {
        return Ok(queued);
    };
    let Some(last) = window.last_inbound_at_ms else {
        return Ok(queued);
    };
    allowed_kind(Some(last), out.now_ms, window.by_person)
        .map_err(|refused| Delivery::rejected("outside_service_window", refused.to_string()))
}

/// The page it leaves from and the Send API body, or why it cannot leave.
fn request(ch: &Channel<'_>, out: &Outgoing<'_>) -> Result<(String, Value), Delivery> {
    out.without_reply_token("Messenger")?;
    let p = out.job;
    let Some(page) = p.via.clone().or(ch.default_via.map(str::to_string)) else {
        return Err(Delivery::rejected("no_sender", "the channel has no page"));
    };
    let kind = messaging_kind(out)?;
    let built = match p.messages.first() {
        Some(m) => compose::messenger(&p.to, m, kind),
        None => Err("no message to send".to_string()),
    };
    let body = built.map_err(|error| Delivery::rejected("invalid_message", error))?;
    Ok((page, body))
}

#[async_trait::async_trait]
impl Deliver for Messenger {
    /// No pacing: Meta throttles per page and answers with a code we retry on.
    fn plan(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Result<Plan, Delivery> {
        request(ch, out).map(|_| Plan::default())
    }

    async fn send(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Delivery {
        let (page, body) = match request(ch, out) {
            Ok(r) => r,
            Err(refused) => return refused,
        };
        let answer = MessengerClient::new(ch.http.clone(), ch.api_base_url, page_token(ch, &page))
            .send(&page, &body)
            .await;
        Delivery::from_answer(
            answer,
            |c| self.refusal_code(c),
            |code, message| {
                code.starts_with("551").then(|| Reach::Bounced {
                    reason: message.to_string(),
                })
            },
        )
    }

    /// The Send API body builds (for a stand-in recipient, as a response).
    fn can_carry(&self, message: &Value) -> Result<(), String> {
        compose::messenger("0", message, MessagingKind::Response).map(drop)
    }

    fn refusal_code(&self, provider_code: Option<&str>) -> &'static str {
        match provider_code {
            Some("10/2018278") => "outside_service_window",
            Some(c) if c.starts_with("551") => "recipient_unavailable",
            Some(c) if c.starts_with("190") || c.starts_with("200") => "provider_auth_failed",
            Some(_) | None => "rejected_by_provider",
        }
    }

    /// Meta doc: Webhook events › message_deliveries, message_reads. Meta may deliver, and the
    /// person read, before the Send API's answer reaches us; those receipts found no message
    /// with the mid and were only stored.
    fn early_reports(&self, mid: &str) -> Option<EarlyReports> {
        (!mid.is_empty()).then_some(EarlyReports::FromRecipient {
            event_types: &["delivery", "read"],
        })
    }

    /// By mid exactly, or by watermark when it is not older than the call (never backwards
    /// either way: the outbox only moves a message forward).
    fn early_report(
        &self,
        event_type: &str,
        item: &Value,
        mid: &str,
        started_ms: i64,
    ) -> Option<StatusReport> {
        let r = &item[event_type];
        let watermark = r["watermark"].as_i64();
        let by_mid = r["mid"] == mid
            || r["mids"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == mid));
        let by_watermark = watermark.is_some_and(|wm| wm >= started_ms);
        if !(by_mid || by_watermark) {
            return None;
        }
        let status = if event_type == "read" {
            "read"
        } else {
            "delivered"
        };
        Some(StatusReport {
            status: status.to_string(),
            failure_code: None,
            failure_reason: None,
            at_ms: watermark.or(item["timestamp"].as_i64()),
        })
    }

    /// `{"url", "urls"}` → every attachment's bytes (CDN links, no token). A link that is gone
    /// does not cost the others; a throttled one retries the whole message (attachments are
    /// stored once, all together).
    async fn fetch_media(
        &self,
        ch: &Channel<'_>,
        media: &Value,
    ) -> Result<Vec<Media>, MediaFailure> {
        let mut urls: Vec<&str> = media
            .get("urls")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str())
            .collect();
        if urls.is_empty() {
            urls.extend(media.get("url").and_then(|v| v.as_str()));
        }
        let c = MessengerClient::new(ch.http.clone(), ch.api_base_url, "");
        let mut files = Vec::with_capacity(urls.len());
        let mut gone = None;
        for url in urls {
            match c.download(url).await {
                Ok((content_type, bytes)) => files.push(Media {
                    content_type,
                    bytes,
                }),
                Err(SendFailure::Retry {
                    message,
                    retry_after,
                    ..
                }) => {
                    return Err(MediaFailure::Retry {
                        after: retry_after,
                        error: message,
                    })
                }
                Err(e) => {
                    // The code only: Meta's text may quote what it was asked for.
                    tracing::warn!(
                        code = e.code().unwrap_or("-"),
                        "a Messenger attachment could not be downloaded"
                    );
                    gone.get_or_insert(e.to_string());
                }
            }
        }
        let unavailable = |error| MediaFailure::Gone {
            code: "content_unavailable",
            error,
        };
        match gone {
            Some(error) if files.is_empty() => Err(unavailable(error)),
            None if files.is_empty() => {
                Err(unavailable("the message has no attachment URL".into()))
            }
            Some(_) | None => Ok(files),
        }
    }

    /// Names a new patient after their Facebook profile, asked through the page they wrote to.
    async fn fetch_profile(&self, ch: &Channel<'_>, psid: &str, via: Option<&str>) -> ProfileFetch {
        let page = via.or(ch.default_via).unwrap_or_default();
        let client = MessengerClient::new(ch.http.clone(), ch.api_base_url, page_token(ch, page));
        let profile = match client.user_profile(psid).await {
            Ok(pr) => pr,
            Err(SendFailure::Retry {
                message,
                retry_after,
                ..
            }) => {
                return ProfileFetch::Retry {
                    after: retry_after,
                    error: message,
                }
            }
            // No permission or no such person: the patient keeps the generic name.
            Err(e) => {
                return ProfileFetch::Failed {
                    code: "profile_unavailable",
                    error: e.to_string(),
                }
            }
        };
        let name = display_name(
            profile.first_name.as_deref().unwrap_or_default(),
            profile.last_name.as_deref().unwrap_or_default(),
        );
        if name.is_empty() {
            return ProfileFetch::Nothing;
        }
        ProfileFetch::Found(Profile {
            display_name: name,
            picture_url: profile.profile_pic,
            status_message: None,
            language: None,
        })
    }
}

/// A person's display name as people write it: family name first in Japanese and Chinese.
fn display_name(first: &str, last: &str) -> String {
    let cjk = |s: &str| s.chars().any(|c| ('\u{3040}'..='\u{9fff}').contains(&c));
    let name = if cjk(first) || cjk(last) {
        format!("{last} {first}")
    } else {
        format!("{first} {last}")
    };
    name.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn family_name_first_in_japanese() {
        assert_eq!(display_name("美咲", "田中"), "田中 美咲");
        assert_eq!(display_name("John", "Miller"), "John Miller");
    }

    #[test]
    fn a_receipt_applies_by_mid_or_by_a_watermark_not_older_than_the_call() {
        let m = Messenger;
        let by_mid = serde_json::json!({"delivery": {"mids": ["m_1"]}, "timestamp": 5});
        let r = m.early_report("delivery", &by_mid, "m_1", 100);
        assert_eq!(
            r.map(|r| (r.status, r.at_ms)),
            Some(("delivered".into(), Some(5)))
        );
        let old = serde_json::json!({"read": {"watermark": 99}});
        assert_eq!(m.early_report("read", &old, "m_1", 100), None);
        let fresh = serde_json::json!({"read": {"watermark": 100}});
        let r = m.early_report("read", &fresh, "m_1", 100);
        assert_eq!(
            r.map(|r| (r.status, r.at_ms)),
            Some(("read".into(), Some(100)))
        );
    }
}
