//! WhatsApp Cloud API: send a queued message, download inbound media. Meta doc: Cloud API ›
//! Messages; Media. There is no idempotency key: an unknown outcome is in doubt (`send::settle`).
use anyhow::Context;
use tsunagu_channels::compose;
use tsunagu_channels::delivery::SendFailure;
use tsunagu_channels::whatsapp::client::CallError;
use tsunagu_channels::whatsapp::{events, WhatsAppClient};
use tsunagu_channels::ChannelKind;
use tsunagu_core::jobs::SendMessage;
use tsunagu_core::ClinicId;
use tsunagu_store::jobs::Job;
use tsunagu_store::{patients, reachability, statuses};

use crate::outcome::Outcome;
use crate::provider::{pace, pair_key, settle, Fetch, LoadedChannel, Pace};
use crate::worker::Worker;

/// 80 messages per second per business number; about one per 6 s to the same person, with a
/// small burst so a staff member's two quick lines are not held back.
const NUMBER_INTERVAL_MS: i64 = 13;
const NUMBER_BURST: i64 = 80;
const PAIR_INTERVAL_MS: i64 = 6_000;
const PAIR_BURST: i64 = 5;

fn client(w: &Worker, ch: &LoadedChannel) -> WhatsAppClient {
    WhatsAppClient::new(
        w.http.clone(),
        &ch.row.api_base_url,
        ch.cred("access_token"),
    )
}

/// tsunagu's message object → the Cloud API body.
fn body(p: &SendMessage) -> Result<serde_json::Value, String> {
    let m = p.messages.first().ok_or("no message to send")?;
    compose::whatsapp(&p.to, m)
}

/// Meta's error codes, as reasons staff can act on.
fn dead_code(code: Option<&str>) -> &'static str {
    match code {
        Some("131047") => "outside_service_window",
        Some("131026") => "recipient_undeliverable",
        Some("131050") => "recipient_opted_out",
        Some(c) if c.starts_with("1320") => "template_rejected",
        Some("190") => "provider_auth_failed",
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
    let Some(via) = p
        .via
        .clone()
        .or(endpoints.default_via().map(str::to_string))
    else {
        return Ok(Outcome::Dead {
            code: "no_sender",
            error: "the channel has no phone number".into(),
        });
    };
    let body = match body(p) {
        // Echoed in Meta's status webhooks: they can then name this message even if the answer
        // to this call is lost (in doubt) or overtaken.
        Ok(mut b) => {
            b["biz_opaque_callback_data"] = serde_json::json!(p.message_id);
            b
        }
        Err(error) => {
            return Ok(Outcome::Dead {
                code: "invalid_message",
                error,
            })
        }
    };
    let budgets = [
        Pace {
            key: format!("whatsapp:from:{via}"),
            interval_ms: NUMBER_INTERVAL_MS,
            burst: NUMBER_BURST,
        },
        Pace {
            key: pair_key(ChannelKind::WhatsApp, &via, &p.to),
            interval_ms: PAIR_INTERVAL_MS,
            burst: PAIR_BURST,
        },
    ];
    if let Some(until_ms) = pace(w, &budgets).await? {
        return Ok(Outcome::Defer { until_ms });
    }
    let result = client(w, ch).send(&via, &body).await;
    if let Err(SendFailure::Rejected {
        code: Some(code),
        message,
        ..
    }) = &result
    {
        if code == "131026" {
            bounce(w, ch, &p.to, message).await?;
        }
    }
    let hold = format!("whatsapp:from:{via}");
    let wamid = result.as_ref().ok().map(|s| s.provider_message_id.clone());
    let outcome = settle(
        w,
        job,
        clinic,
        &p.message_id,
        result,
        dead_code,
        Some(&hold),
    )
    .await?;
    if let (Outcome::Done, Some(wamid)) = (&outcome, wamid) {
        // The message is sent and recorded: a failure here must not turn it into a retry.
        if let Err(e) = apply_early_statuses(w, ch, clinic, &wamid).await {
            tracing::warn!(error = %format!("{e:#}"), "applying WhatsApp statuses that came before the send answer");
        }
    }
    Ok(outcome)
}

/// Meta's status webhooks can overtake its answer to the send: such a status was stored as a raw
/// event (`<wamid>:<status>`) but matched no message then. Applied now that the wamid is
/// recorded; `statuses::apply` only moves a message forward, so the order does not matter.
async fn apply_early_statuses(
    w: &Worker,
    ch: &LoadedChannel,
    clinic: &ClinicId,
    wamid: &str,
) -> anyhow::Result<()> {
    let channel = ch.row.channel_id();
    let keys = ["sent", "delivered", "read", "failed"].map(|s| format!("{wamid}:{s}"));
    let mut conn = w.db.pool().acquire().await?;
    let bodies: Vec<Option<String>> = sqlx::query_scalar(
        "SELECT body FROM webhook_events WHERE channel_id = $1 AND event_type = 'status'
           AND provider_event_id IN ($2, $3, $4, $5)",
    )
    .bind(channel.as_str())
    .bind(&keys[0])
    .bind(&keys[1])
    .bind(&keys[2])
    .bind(&keys[3])
    .fetch_all(&mut *conn)
    .await
    .context("finding statuses that arrived before the send answer")?;
    let mut touched = None;
    for body in bodies.into_iter().flatten() {
        let raw: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
        let Some(s) = events::status_item("", &raw).filter(|s| s.wamid == wamid) else {
            continue;
        };
        let (code, reason) = s.failure();
        let report = statuses::Report {
            channel_id: &channel,
            provider_message_id: wamid,
            status: s.word(),
            failure_code: code.as_deref(),
            failure_reason: reason.as_deref(),
            at_ms: if s.timestamp > 0 {
                s.timestamp * 1000
            } else {
                w.clock.now_ms()
            },
        };
        if let Some(applied) = statuses::apply(&mut conn, report).await? {
            touched = Some(applied.conversation_id);
        }
    }
    if let Some(conv) = touched {
        (w.on_change)(clinic.as_str(), &conv);
    }
    Ok(())
}

async fn bounce(w: &Worker, ch: &LoadedChannel, to: &str, why: &str) -> anyhow::Result<()> {
    let mut conn = w.db.pool().acquire().await?;
    if let Some(ident) = patients::identity(&mut conn, &ch.row.channel_id(), to).await? {
        reachability::set_bounced(&mut conn, &ident.id, w.clock.now_ms(), why).await?;
    }
    Ok(())
}

/// `{"media_id", "mime_type"}` → the bytes, fetched while Meta's link is still valid.
pub(crate) async fn download(
    w: &Worker,
    ch: &LoadedChannel,
    media: &serde_json::Value,
) -> Result<Vec<(String, bytes::Bytes)>, Fetch> {
    let id = media
        .get("media_id")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let c = client(w, ch);
    let info = c.media_info(id).await.map_err(fetch_error)?;
    let (content_type, bytes) = c
        .download(&info.url, info.sha256.as_deref())
        .await
        .map_err(fetch_error)?;
    let content_type = info.mime_type.unwrap_or(content_type);
    Ok(vec![(content_type, bytes)])
}

fn fetch_error(e: CallError) -> Fetch {
    match e {
        CallError::Retry {
            message,
            retry_after,
        } => Fetch::Retry(message, retry_after),
        CallError::Rejected { message, .. } | CallError::Invalid { message } => {
            Fetch::Gone(message)
        }
    }
}
