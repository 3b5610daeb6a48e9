//! Messenger (and Instagram messaging): send a queued message, download inbound attachments.
//! Meta doc: Messenger Platform › Send API; message tags. No idempotency key: an unknown
//! outcome is in doubt (`send::settle`).
use tsunagu_channels::delivery::SendFailure;
use tsunagu_channels::messenger::client::{self as body, MessagingKind};
use tsunagu_channels::messenger::MessengerClient;
use tsunagu_core::ClinicId;
use tsunagu_store::jobs::Job;
use tsunagu_store::{patients, reachability};

use crate::send::{settle, Fetch, LoadedChannel, SendPayload};
use crate::worker::{Outcome, Worker};

fn page_token<'a>(ch: &'a LoadedChannel, page: &str) -> &'a str {
    ch.creds
        .get("page_tokens")
        .and_then(|t| t.get(page))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
}

fn dead_code(code: Option<&str>) -> &'static str {
    match code {
        Some("10/2018278") | Some("10") => "outside_service_window",
        Some(c) if c.starts_with("551") => "recipient_unavailable",
        Some(c) if c.starts_with("190") || c.starts_with("200") => "provider_auth_failed",
        _ => "rejected_by_provider",
    }
}

pub(crate) async fn send(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    ch: &LoadedChannel,
    p: &SendPayload,
) -> anyhow::Result<Outcome> {
    let endpoints = ch.row.endpoints();
    let Some(page) = p
        .via
        .clone()
        .or(endpoints.default_via().map(str::to_string))
    else {
        return Ok(Outcome::Dead {
            code: "no_sender",
            error: "the channel has no page".into(),
        });
    };
    // Decided when the message was queued (reachability::check): HUMAN_AGENT past 24 hours.
    let kind = match p.tag.as_deref() {
        Some("HUMAN_AGENT") => MessagingKind::HumanAgent,
        _ => MessagingKind::Response,
    };
    let m = p.messages.first();
    let text = m.and_then(|m| m.get("text")).and_then(|t| t.as_str());
    let built = match (m.and_then(|m| m.get("type")).and_then(|t| t.as_str()), text) {
        (Some("text"), Some(text)) => body::text(&p.to, text, kind).map_err(|e| e.to_string()),
        (other, _) => Err(format!(
            "Messenger cannot send a {other:?} message from tsunagu yet"
        )),
    };
    let payload = match built {
        Ok(b) => b,
        Err(error) => {
            return Ok(Outcome::Dead {
                code: "invalid_message",
                error,
            })
        }
    };
    let token = page_token(ch, &page);
    let result = MessengerClient::new(w.http.clone(), &ch.row.api_base_url, token)
        .send(&page, &payload)
        .await;
    if let Err(SendFailure::Rejected {
        code: Some(code),
        message,
        ..
    }) = &result
    {
        if code.starts_with("551") {
            let mut conn = w.db.pool().acquire().await?;
            if let Some(ident) = patients::identity(&mut conn, &ch.row.channel_id(), &p.to).await? {
                reachability::set_bounced(&mut conn, &ident.id, w.clock.now_ms(), message).await?;
            }
        }
    }
    settle(w, job, clinic, &p.message_id, result, dead_code, None).await
}

/// `{"url"}` → the attachment's bytes (a CDN link, no token).
pub(crate) async fn download(
    w: &Worker,
    ch: &LoadedChannel,
    media: &serde_json::Value,
) -> Result<Vec<(String, bytes::Bytes)>, Fetch> {
    let url = media
        .get("url")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let c = MessengerClient::new(w.http.clone(), &ch.row.api_base_url, "");
    match c.download(url).await {
        Ok(file) => Ok(vec![file]),
        Err(SendFailure::Retry {
            message,
            retry_after,
            ..
        }) => Err(Fetch::Retry(message, retry_after)),
        Err(e) => Err(Fetch::Gone(e.to_string())),
    }
}
