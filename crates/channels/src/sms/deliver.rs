//! Twilio's outbound half: send a queued message (with a status callback back to tsunagu),
//! download MMS media. Twilio doc: Messaging › Messages resource; Errors. No idempotency key:
//! an unknown outcome is in doubt.
use serde_json::Value;

use super::{segments, OutgoingSms, Sender, Sms, TwilioClient};
use crate::compose;
use crate::delivery::SendFailure;
use crate::provider::deliver::{
    Channel, Deliver, Delivery, Media, MediaFailure, Outgoing, Pace, Plan, Reach,
};

/// A long code sends about one segment per second; Twilio queues beyond that, we pace so a
/// broadcast does not sit in Twilio's queue for hours.
const SEGMENTS_PER_SECOND: i64 = 1;
const BURST: i64 = 10;

/// Twilio refuses a number that texted STOP (Advanced Opt-Out).
const OPTED_OUT: &str = "21610";

fn client(ch: &Channel<'_>) -> TwilioClient {
    let (sid, token) = ch
        .creds
        .sms()
        .map(|c| (c.account_sid.as_str(), c.auth_token.as_str()))
        .unwrap_or_default();
    TwilioClient::new(ch.http.clone(), ch.api_base_url, sid, token)
}

/// Who it is sent as, its text and media, or why it cannot leave.
fn request(ch: &Channel<'_>, out: &Outgoing<'_>) -> Result<OutgoingSms, Delivery> {
    out.without_reply_token("Twilio")?;
    let p = out.job;
    let from = match (&p.via, ch.messaging_service_sid, ch.default_via) {
        (Some(number), _, _) => Sender::Number(number.clone()),
        (None, Some(service), _) => Sender::MessagingService(service.to_string()),
        (None, None, Some(number)) => Sender::Number(number.to_string()),
        (None, None, None) => {
            return Err(Delivery::rejected("no_sender", "the channel has no number"))
        }
    };
    let composed = match p.messages.first() {
        Some(m) => compose::sms(m),
        None => Err("no message to send".to_string()),
    };
    let (body, media_urls) =
        composed.map_err(|error| Delivery::rejected("invalid_message", error))?;
    Ok(OutgoingSms {
        from,
        to: p.to.clone(),
        body,
        media_urls,
        // Our message id rides along (Twilio signs the whole URL): a callback that overtakes
        // the answer, or follows an answer that was lost, still finds its message.
        status_callback: Some(format!(
            "{}/webhooks/sms/{}/status?message={}",
            ch.public_base, ch.id, p.message_id
        )),
    })
}

#[async_trait::async_trait]
impl Deliver for Sms {
    /// Segments per second per sending number (or Messaging Service).
    fn plan(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Result<Plan, Delivery> {
        let sms = request(ch, out)?;
        let key = match &sms.from {
            Sender::Number(n) | Sender::MessagingService(n) => format!("sms:from:{n}"),
        };
        Ok(Plan {
            budgets: vec![Pace {
                key: key.clone(),
                interval_ms: 1_000 * i64::from(segments(&sms.body)) / SEGMENTS_PER_SECOND,
                burst: BURST,
            }],
            hold: Some(key),
        })
    }

    async fn send(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Delivery {
        let sms = match request(ch, out) {
            Ok(sms) => sms,
            Err(refused) => return refused,
        };
        let answer = client(ch).send(&sms).await;
        Delivery::from_answer(
            answer,
            |c| self.refusal_code(c),
            // Mirrored so nothing else is attempted until the person texts START.
            |code, _| {
                (code == OPTED_OUT).then(|| Reach::OptedOut {
                    source: format!("provider:{OPTED_OUT}"),
                })
            },
        )
    }

    /// The text (and media links) an SMS or MMS carries.
    fn can_carry(&self, message: &Value) -> Result<(), String> {
        compose::sms(message).map(drop)
    }

    fn refusal_code(&self, provider_code: Option<&str>) -> &'static str {
        match provider_code {
            Some(OPTED_OUT) => "recipient_opted_out",
            Some("21211") | Some("21614") => "recipient_undeliverable",
            Some("20003") => "provider_auth_failed",
            Some(_) | None => "rejected_by_provider",
        }
    }

    /// The StatusCallback URL carries our message id.
    fn reports_name_our_message(&self) -> bool {
        true
    }

    /// `{"urls": [[url, content type], …]}` → every MMS attachment.
    async fn fetch_media(
        &self,
        ch: &Channel<'_>,
        media: &Value,
    ) -> Result<Vec<Media>, MediaFailure> {
        let c = client(ch);
        let mut files = Vec::new();
        for item in media
            .get("urls")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            let url = item.get(0).and_then(|v| v.as_str()).unwrap_or_default();
            match c.download_media(url).await {
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
                    return Err(MediaFailure::Gone {
                        code: "content_unavailable",
                        error: e.to_string(),
                    })
                }
            }
        }
        Ok(files)
    }
}
