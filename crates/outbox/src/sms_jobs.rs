//! Twilio SMS: send a queued message (with a status callback back to tsunagu), download MMS
//! media. Twilio doc: Messaging › Messages resource. No idempotency key: an unknown outcome is
//! in doubt (`send::settle`).
use anyhow::Context as _;
use tsunagu_channels::compose;
use tsunagu_channels::delivery::SendFailure;
use tsunagu_channels::sms::{segments, OutgoingSms, Sender, TwilioClient};
use tsunagu_core::jobs::SendMessage;
use tsunagu_core::{ClinicId, MessageId};
use tsunagu_store::jobs::Job;
use tsunagu_store::{patients, reachability, statuses};

use crate::outcome::Outcome;
use crate::provider::{pace, settle, Fetch, LoadedChannel, Pace};
use crate::worker::Worker;

/// A long code sends about one segment per second; Twilio queues beyond that, we pace so a
/// broadcast does not sit in Twilio's queue for hours.
const SEGMENTS_PER_SECOND: i64 = 1;
const BURST: i64 = 10;

fn client(w: &Worker, ch: &LoadedChannel) -> TwilioClient {
    TwilioClient::new(
        w.http.clone(),
        &ch.row.api_base_url,
        ch.cred("account_sid"),
        ch.cred("auth_token"),
    )
}

fn dead_code(code: Option<&str>) -> &'static str {
    match code {
        Some("21610") => "recipient_opted_out",
        Some("21211") | Some("21614") => "recipient_undeliverable",
        Some("20003") => "provider_auth_failed",
        _ => "rejected_by_provider",
    }
}

pub(crate) async fn send(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    ch: &LoadedChannel,
    p: &SendMessage,
) -> anyhow::Result<Outcome> {
    let endpoints = ch.row.endpoints();
    let from = match (
        &p.via,
        &endpoints.messaging_service_sid,
        endpoints.default_via(),
    ) {
        (Some(number), _, _) => Sender::Number(number.clone()),
        (None, Some(service), _) => Sender::MessagingService(service.clone()),
        (None, None, Some(number)) => Sender::Number(number.to_string()),
        (None, None, None) => {
            return Ok(Outcome::Dead {
                code: "no_sender",
                error: "the channel has no number".into(),
            })
        }
    };
    let composed = match p.messages.first() {
        Some(m) => compose::sms(m),
        None => Err("no message to send".to_string()),
    };
    let (text, media_urls) = match composed {
        Ok(c) => c,
        Err(error) => {
            return Ok(Outcome::Dead {
                code: "invalid_message",
                error,
            })
        }
    };
    let key = match &from {
        Sender::Number(n) | Sender::MessagingService(n) => format!("sms:from:{n}"),
    };
    let interval = 1_000 * i64::from(segments(&text)) / SEGMENTS_PER_SECOND;
    if let Some(until_ms) = pace(
        w,
        &[Pace {
            key: key.clone(),
            interval_ms: interval,
            burst: BURST,
        }],
    )
    .await?
    {
        return Ok(Outcome::Defer { until_ms });
    }
    let sms = OutgoingSms {
        from,
        to: p.to.clone(),
        body: text,
        media_urls,
        // Our message id rides along (Twilio signs the whole URL): a callback that overtakes
        // the answer, or follows an answer that was lost, still finds its message.
        status_callback: Some(format!(
            "{}/webhooks/sms/{}/status?message={}",
            w.public_base, ch.row.id, p.message_id
        )),
    };
    let result = client(w, ch).send(&sms).await;
    match &result {
        Ok(sent) => return confirm(w, job, clinic, &p.message_id, &sent.provider_message_id).await,
        // A status callback already named the message: Twilio has it, nothing is in doubt.
        Err(SendFailure::InDoubt { .. }) if adopted(w, &p.message_id).await? => {
            return Ok(Outcome::Done)
        }
        _ => {}
    }
    if let Err(SendFailure::Rejected {
        code: Some(code), ..
    }) = &result
    {
        // Twilio refuses a number that texted STOP: mirror it so nothing else is attempted.
        if code == "21610" {
            let mut conn = w.db.pool().acquire().await?;
            if let Some(ident) = patients::identity(&mut conn, &ch.row.channel_id(), &p.to).await? {
                reachability::set_opted_out(
                    &mut conn,
                    &ident.id,
                    w.clock.now_ms(),
                    "provider:21610",
                )
                .await?;
            }
        }
    }
    settle(w, job, clinic, &p.message_id, result, dead_code, Some(&key)).await
}

/// Twilio accepted the message: `sent` with its sid, unless a status callback that overtook the
/// answer already moved it further.
async fn confirm(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    message_id: &MessageId,
    sid: &str,
) -> anyhow::Result<Outcome> {
    let now = w.clock.now_ms();
    let mut tx = w.db.begin().await?;
    statuses::confirm_sent(tx.conn(), message_id.as_str(), sid, now).await?;
    crate::message_state::complete_and_tell(w, tx, job, clinic, message_id, now).await?;
    Ok(Outcome::Done)
}

/// Whether a status callback has given the message Twilio's sid while its send had no answer.
async fn adopted(w: &Worker, message_id: &MessageId) -> anyhow::Result<bool> {
    let mut conn = w.db.pool().acquire().await?;
    let sid: Option<Option<String>> =
        sqlx::query_scalar("SELECT provider_message_id FROM messages WHERE id = $1")
            .bind(message_id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .context("reading whether Twilio's callback named the message")?;
    Ok(sid.flatten().is_some())
}

/// `{"urls": [[url, content type], …]}` → every MMS attachment.
pub(crate) async fn download(
    w: &Worker,
    ch: &LoadedChannel,
    media: &serde_json::Value,
) -> Result<Vec<(String, bytes::Bytes)>, Fetch> {
    let c = client(w, ch);
    let mut files = Vec::new();
    for item in media
        .get("urls")
        .and_then(|v| v.as_array())
        .into_iter()
        .flatten()
    {
        let url = item.get(0).and_then(|v| v.as_str()).unwrap_or_default();
        match c.download_media(url).await {
            Ok(file) => files.push(file),
            Err(SendFailure::Retry {
                message,
                retry_after,
                ..
            }) => return Err(Fetch::Retry(message, retry_after)),
            Err(e) => return Err(Fetch::Gone(e.to_string())),
        }
    }
    Ok(files)
}
