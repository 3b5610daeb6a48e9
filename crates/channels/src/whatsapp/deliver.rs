//! WhatsApp's outbound half: send a queued message, download inbound media. Meta doc: Cloud API
//! › Messages; Media; Support › "Error codes". There is no idempotency key: an unknown outcome
//! is in doubt.
use serde_json::Value;

use super::client::CallError;
use super::{events, WhatsApp, WhatsAppClient};
use crate::compose;
use crate::provider::deliver::{
    Channel, Deliver, Delivery, EarlyReports, Media, MediaFailure, Outgoing, Pace, Plan, Reach,
    StatusReport,
};

/// 80 messages per second per business number; about one per 6 s to the same person, with a
/// small burst so a staff member's two quick lines are not held back.
const NUMBER_INTERVAL_MS: i64 = 13;
const NUMBER_BURST: i64 = 80;
const PAIR_INTERVAL_MS: i64 = 6_000;
const PAIR_BURST: i64 = 5;

/// Meta's code for a recipient who cannot receive messages: the identity is marked bounced.
const UNDELIVERABLE: &str = "131026";

fn client(ch: &Channel<'_>) -> WhatsAppClient {
    let token = ch.creds.whatsapp().map(|c| c.access_token.as_str());
    WhatsAppClient::new(ch.http.clone(), ch.api_base_url, token.unwrap_or_default())
}

fn number_key(via: &str) -> String {
    format!("whatsapp:from:{via}")
}

/// The number it leaves from and the Cloud API body, or why it cannot leave.
fn request(ch: &Channel<'_>, out: &Outgoing<'_>) -> Result<(String, Value), Delivery> {
    out.without_reply_token("WhatsApp")?;
    let p = out.job;
    let Some(via) = p.via.clone().or(ch.default_via.map(str::to_string)) else {
        return Err(Delivery::rejected(
            "no_sender",
            "the channel has no phone number",
        ));
    };
    let built = match p.messages.first() {
        Some(m) => compose::whatsapp(&p.to, m),
        None => Err("no message to send".to_string()),
    };
    let mut body = built.map_err(|error| Delivery::rejected("invalid_message", error))?;
    // Echoed in Meta's status webhooks: they can then name this message even if the answer to
    // this call is lost (in doubt) or overtaken.
    body["biz_opaque_callback_data"] = serde_json::json!(p.message_id);
    Ok((via, body))
}

#[async_trait::async_trait]
impl Deliver for WhatsApp {
    fn plan(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Result<Plan, Delivery> {
        let (via, _) = request(ch, out)?;
        Ok(Plan {
            budgets: vec![
                Pace {
                    key: number_key(&via),
                    interval_ms: NUMBER_INTERVAL_MS,
                    burst: NUMBER_BURST,
                },
                Pace {
                    key: Pace::pair_key("whatsapp", &via, &out.job.to),
                    interval_ms: PAIR_INTERVAL_MS,
                    burst: PAIR_BURST,
                },
            ],
            // Throttling holds back every later send from the number.
            hold: Some(number_key(&via)),
        })
    }

    async fn send(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Delivery {
        let (via, body) = match request(ch, out) {
            Ok(r) => r,
            Err(refused) => return refused,
        };
        let answer = client(ch).send(&via, &body).await;
        Delivery::from_answer(
            answer,
            |c| self.refusal_code(c),
            |code, message| {
                (code == UNDELIVERABLE).then(|| Reach::Bounced {
                    reason: message.to_string(),
                })
            },
        )
    }

    /// The Cloud API body builds (for a stand-in recipient).
    fn can_carry(&self, message: &Value) -> Result<(), String> {
        compose::whatsapp("10000000000", message).map(drop)
    }

    /// Meta's error codes, as reasons staff can act on.
    fn refusal_code(&self, provider_code: Option<&str>) -> &'static str {
        match provider_code {
            Some("131047") => "outside_service_window",
            Some(UNDELIVERABLE) => "recipient_undeliverable",
            Some("131050") => "recipient_opted_out",
            Some(c) if c.starts_with("1320") => "template_rejected",
            Some("190") => "provider_auth_failed",
            Some(_) | None => "rejected_by_provider",
        }
    }

    /// Meta's status webhooks can overtake its answer to the send: such a status was stored as
    /// a raw event (`<wamid>:<status>`) but matched no message then.
    fn early_reports(&self, wamid: &str) -> Option<EarlyReports> {
        let ids = ["sent", "delivered", "read", "failed"].map(|s| format!("{wamid}:{s}"));
        Some(EarlyReports::ByEventIds {
            event_type: "status",
            ids: ids.to_vec(),
        })
    }

    fn early_report(
        &self,
        _event_type: &str,
        body: &Value,
        wamid: &str,
        _started_ms: i64,
    ) -> Option<StatusReport> {
        let s = events::status_item("", body).filter(|s| s.wamid == wamid)?;
        let (failure_code, failure_reason) = s.failure();
        Some(StatusReport {
            status: s.word().to_string(),
            failure_code,
            failure_reason,
            at_ms: (s.timestamp > 0).then_some(s.timestamp * 1000),
        })
    }

    /// `{"media_id", "mime_type"}` → the bytes, fetched while Meta's link is still valid.
    async fn fetch_media(
        &self,
        ch: &Channel<'_>,
        media: &Value,
    ) -> Result<Vec<Media>, MediaFailure> {
        let id = media
            .get("media_id")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        let c = client(ch);
        let info = c.media_info(id).await.map_err(fetch_error)?;
        let (content_type, bytes) = c
            .download(&info.url, info.sha256.as_deref())
            .await
            .map_err(fetch_error)?;
        let content_type = info.mime_type.unwrap_or(content_type);
        Ok(vec![Media {
            content_type,
            bytes,
        }])
    }
}

fn fetch_error(e: CallError) -> MediaFailure {
    match e {
        CallError::Retry {
            message,
            retry_after,
        } => MediaFailure::Retry {
            after: retry_after,
            error: message,
        },
        CallError::Rejected { message, .. } | CallError::Invalid { message } => {
            MediaFailure::Gone {
                code: "content_unavailable",
                error: message,
            }
        }
    }
}
