//! Messenger (and Instagram messaging): send a queued message, download inbound attachments.
//! Meta doc: Messenger Platform › Send API; message tags. No idempotency key: an unknown
//! outcome is in doubt (`send::settle`).
use tsunagu_channels::compose;
use tsunagu_channels::delivery::SendFailure;
use tsunagu_channels::messenger::client::MessagingKind;
use tsunagu_channels::messenger::{allowed_kind, MessengerClient, WindowRefusal};
use tsunagu_core::jobs::{MessengerFetchProfile, SendMessage};
use tsunagu_core::ClinicId;
use tsunagu_store::jobs::Job;
use tsunagu_store::{conversations, patients, reachability, statuses, webhooks};

use crate::message_state::clinic_of;
use crate::outcome::Outcome;
use crate::provider::{load_channel, settle, Fetch, LoadedChannel};
use crate::worker::Worker;

fn page_token<'a>(ch: &'a LoadedChannel, page: &str) -> &'a str {
    ch.creds
        .get("page_tokens")
        .and_then(|t| t.get(page))
        .and_then(|v| v.as_str())
        .unwrap_or_default()
}

fn dead_code(code: Option<&str>) -> &'static str {
    match code {
        Some("10/2018278") => "outside_service_window",
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
    p: &SendMessage,
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
    let kind = match messaging_kind(w, ch, clinic, p).await? {
        Ok(kind) => kind,
        Err(refused) => {
            return Ok(Outcome::Dead {
                code: "outside_service_window",
                error: refused.to_string(),
            })
        }
    };
    let built = match p.messages.first() {
        Some(m) => compose::messenger(&p.to, m, kind),
        None => Err("no message to send".to_string()),
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
    let started = w.clock.now_ms();
    let result = MessengerClient::new(w.http.clone(), &ch.row.api_base_url, token)
        .send(&page, &payload)
        .await;
    let mid = result.as_ref().ok().map(|s| s.provider_message_id.clone());
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
    let outcome = settle(w, job, clinic, &p.message_id, result, dead_code, None).await?;
    if let (Outcome::Done, Some(mid)) = (&outcome, mid.filter(|m| !m.is_empty())) {
        // The message is sent: a failure here must not turn it into a retry.
        if let Err(e) = early_receipts(w, ch, &p.to, &mid, started).await {
            tracing::warn!(error = %format!("{e:#}"), "applying Messenger receipts that came before the send answer");
        }
    }
    Ok(outcome)
}

/// Meta doc: Webhook events › message_deliveries, message_reads. Meta may deliver, and the
/// person read, before the Send API's answer reaches us; those receipts found no message with
/// the mid and were only stored. Applied now: by mid exactly, by watermark when it is not older
/// than the call (never backwards either way).
async fn early_receipts(
    w: &Worker,
    ch: &LoadedChannel,
    psid: &str,
    mid: &str,
    started: i64,
) -> anyhow::Result<()> {
    let mut conn = w.db.pool().acquire().await?;
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT event_type, body FROM webhook_events WHERE channel_id = $1 AND sender_ref = $2
           AND event_type IN ('delivery', 'read') AND received_at >= $3 ORDER BY received_at",
    )
    .bind(&ch.row.id)
    .bind(webhooks::sender_ref(&ch.row.channel_id(), psid))
    .bind(started)
    .fetch_all(&mut *conn)
    .await?;
    let channel = ch.row.channel_id();
    for (kind, body) in rows {
        let item: serde_json::Value =
            serde_json::from_str(body.as_deref().unwrap_or("null")).unwrap_or_default();
        let r = &item[kind.as_str()];
        let watermark = r["watermark"].as_i64();
        let by_mid = r["mid"] == mid
            || r["mids"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == mid));
        let by_watermark = watermark.is_some_and(|wm| wm >= started);
        if !(by_mid || by_watermark) {
            continue;
        }
        let report = statuses::Report {
            channel_id: &channel,
            provider_message_id: mid,
            status: if kind == "read" { "read" } else { "delivered" },
            failure_code: None,
            failure_reason: None,
            at_ms: watermark
                .or(item["timestamp"].as_i64())
                .unwrap_or_else(|| w.clock.now_ms()),
        };
        if let Some(applied) = statuses::apply(&mut conn, report).await? {
            (w.on_change)(&applied.clinic_id, &applied.conversation_id);
        }
    }
    Ok(())
}

/// Meta doc: Send messages › "Messaging types" and Message tags › HUMAN_AGENT, applied when the
/// message leaves, not when it was queued: a reply held up (throttling, retries) past 24 hours
/// goes as a staff member's HUMAN_AGENT reply, or not at all if no person wrote it; past 7 days
/// nothing goes. Without a recorded last message the queue-time decision stands.
async fn messaging_kind(
    w: &Worker,
    ch: &LoadedChannel,
    clinic: &ClinicId,
    p: &SendMessage,
) -> anyhow::Result<Result<MessagingKind, WindowRefusal>> {
    let queued = match p.tag.as_deref() {
        Some("HUMAN_AGENT") => MessagingKind::HumanAgent,
        _ => MessagingKind::Response,
    };
    let mut conn = w.db.pool().acquire().await?;
    let ident = patients::identity(&mut conn, &ch.row.channel_id(), &p.to).await?;
    let Some(last) = ident.and_then(|i| i.last_inbound_at) else {
        return Ok(Ok(queued));
    };
    let msg = conversations::message_by_id(&mut conn, clinic, &p.message_id).await?;
    let by_person = msg.is_some_and(|m| m.author_kind == "staff");
    Ok(allowed_kind(Some(last), w.clock.now_ms(), by_person))
}

/// `{"url", "urls"}` → every attachment's bytes (CDN links, no token). A link that is gone
/// does not cost the others; a throttled one retries the whole message (attachments are stored
/// once, all together).
pub(crate) async fn download(
    w: &Worker,
    ch: &LoadedChannel,
    media: &serde_json::Value,
) -> Result<Vec<(String, bytes::Bytes)>, Fetch> {
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
    let c = MessengerClient::new(w.http.clone(), &ch.row.api_base_url, "");
    let mut files = Vec::with_capacity(urls.len());
    let mut gone = None;
    for url in urls {
        match c.download(url).await {
            Ok(file) => files.push(file),
            Err(SendFailure::Retry {
                message,
                retry_after,
                ..
            }) => return Err(Fetch::Retry(message, retry_after)),
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
    match gone {
        Some(error) if files.is_empty() => Err(Fetch::Gone(error)),
        None if files.is_empty() => Err(Fetch::Gone("the message has no attachment URL".into())),
        _ => Ok(files),
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

/// `messenger.fetch_profile`: names a new patient after their Facebook profile.
pub(crate) async fn fetch_profile(
    w: &Worker,
    job: &Job,
    p: &MessengerFetchProfile,
) -> anyhow::Result<Outcome> {
    let clinic = clinic_of(job)?;
    let Some(ch) = load_channel(w, &clinic, &p.channel_id).await? else {
        return Ok(Outcome::Done);
    };
    let client = MessengerClient::new(
        w.http.clone(),
        &ch.row.api_base_url,
        page_token(&ch, &p.page_id),
    );
    let profile = match client.user_profile(&p.psid).await {
        Ok(pr) => pr,
        Err(SendFailure::Retry {
            message,
            retry_after,
            ..
        }) => {
            return Ok(Outcome::Retry {
                after: retry_after,
                error: message,
            })
        }
        // No permission or no such person: the patient keeps the generic name.
        Err(e) => {
            return Ok(Outcome::Dead {
                code: "profile_unavailable",
                error: e.to_string(),
            })
        }
    };
    let name = display_name(
        profile.first_name.as_deref().unwrap_or_default(),
        profile.last_name.as_deref().unwrap_or_default(),
    );
    let now = w.clock.now_ms();
    let mut tx = w.db.begin().await?;
    if !name.is_empty() {
        let pr = patients::Profile {
            display_name: &name,
            picture_url: profile.profile_pic.as_deref(),
            status_message: None,
            language: None,
        };
        patients::set_profile(tx.conn(), &p.identity_id, pr, now).await?;
    }
    tsunagu_store::jobs::complete(tx.conn(), &job.job_id(), now).await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

#[cfg(test)]
mod tests {
    #[test]
    fn family_name_first_in_japanese() {
        assert_eq!(super::display_name("美咲", "田中"), "田中 美咲");
        assert_eq!(super::display_name("John", "Miller"), "John Miller");
    }
}
