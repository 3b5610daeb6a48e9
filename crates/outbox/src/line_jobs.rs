//! LINE jobs: push a staff message, fetch a profile, download media.
//! LINE doc: Messaging API reference › Send push message / Get profile / Get content.
use anyhow::Context;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tsunagu_channels::line::client::{LineClient, SendError};
use tsunagu_channels::outbound::REFUSED_CODE;
use tsunagu_core::{ChannelId, ChannelIdentityId, ClinicId, MessageId};
use tsunagu_store::conversations::{self, Delivery, NewAttachment};
use tsunagu_store::jobs::Job;
use tsunagu_store::{channels, patients};

use crate::worker::{Outcome, Worker};

/// LINE keeps a retry key for 24 hours; past that a resend could deliver twice.
const RETRY_KEY_LIFETIME_MS: i64 = 24 * 3600 * 1000 - 5 * 60 * 1000;

/// 1,000 pushes per second sustained, 1,000 at once: half of LINE's published rate limit.
const PUSH_INTERVAL_MS: i64 = 1;
const PUSH_BURST: i64 = 1_000;

#[derive(Deserialize)]
struct SendPayload {
    message_id: String,
    channel_id: String,
    to: String,
    messages: Vec<serde_json::Value>,
    retry_key: String,
}

pub(crate) async fn client_for(
    w: &Worker,
    clinic: &ClinicId,
    channel: &ChannelId,
) -> anyhow::Result<Option<LineClient>> {
    let mut conn = w.db.pool().acquire().await?;
    let Some(ch) = channels::by_id(&mut conn, clinic, channel).await? else {
        return Ok(None);
    };
    let creds = w
        .cipher
        .decrypt_json(&ch.credentials_enc)
        .context("decrypting the channel credentials")?;
    let token = creds
        .get("channel_access_token")
        .and_then(|v| v.as_str())
        .unwrap_or_default();
    let data_base = ch.api_data_base_url.as_deref().unwrap_or(&ch.api_base_url);
    Ok(Some(LineClient::new(
        w.http.clone(),
        &ch.api_base_url,
        data_base,
        token,
    )))
}

pub(crate) fn clinic_of(job: &Job) -> anyhow::Result<ClinicId> {
    job.clinic_id
        .clone()
        .map(ClinicId::from_db)
        .context("a LINE job without a clinic")
}

pub async fn send(w: &Worker, job: &Job) -> anyhow::Result<Outcome> {
    let p: SendPayload = serde_json::from_str(&job.payload).context("reading the send job")?;
    let clinic = clinic_of(job)?;
    let now = w.clock.now_ms();
    if job.attempts > 1
        && job
            .first_attempt_at
            .is_some_and(|f| now - f > RETRY_KEY_LIFETIME_MS)
    {
        return Ok(Outcome::InDoubt {
            error: "LINE's 24-hour retry key expired before delivery was confirmed; check with the patient before resending".into(),
        });
    }
    let Some(client) = client_for(w, &clinic, &ChannelId::from_db(p.channel_id.clone())).await?
    else {
        return Ok(Outcome::Dead {
            code: "channel_missing",
            error: "the channel no longer exists".into(),
        });
    };
    // LINE allows 2,000 push requests per second per channel; keep well inside it.
    let budget = crate::send::Pace {
        key: format!("line:push:{}", p.channel_id),
        interval_ms: PUSH_INTERVAL_MS,
        burst: PUSH_BURST,
    };
    if let Some(until_ms) = crate::send::pace(w, &[budget]).await? {
        return Ok(Outcome::Defer { until_ms });
    }
    match client.push(&p.to, &p.messages, &p.retry_key).await {
        Ok(ok) => {
            // 409 with x-line-accepted-request-id: an earlier attempt was accepted; it is sent.
            let provider_id = ok
                .sent_message_ids
                .first()
                .cloned()
                .or(ok.accepted_request_id.clone());
            mark_sent(w, job, &clinic, &p.message_id, provider_id.as_deref(), now).await?;
            Ok(Outcome::Done)
        }
        Err(e) => Ok(classify(&client, e).await),
    }
}

/// Records a confirmed send: the message is `sent`, the job done, open inboxes told.
pub(crate) async fn mark_sent(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    message_id: &str,
    provider_id: Option<&str>,
    now: i64,
) -> anyhow::Result<()> {
    let mid = MessageId::from_db(message_id.to_string());
    let mut tx = w.db.begin().await?;
    let sent = Delivery {
        status: "sent",
        provider_message_id: provider_id,
        failure_code: None,
        failure_reason: None,
        sent_at: Some(now),
    };
    conversations::set_delivery(tx.conn(), &mid, sent).await?;
    tsunagu_store::jobs::complete(tx.conn(), &job.job_id(), now).await?;
    let conv = conversations::message_by_id(tx.conn(), clinic, &mid)
        .await?
        .map(|m| m.conversation_id);
    tx.commit().await?;
    if let Some(conv) = conv {
        (w.on_change)(clinic.as_str(), &conv);
    }
    Ok(())
}

async fn classify(client: &LineClient, e: SendError) -> Outcome {
    match e {
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
            Outcome::Dead {
                code: "quota_exceeded",
                error: format!("{message}{plan}"),
            }
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
            Outcome::Dead {
                code: "rejected_by_provider",
                error: format!("LINE answered {status}: {message}{suffix}"),
            }
        }
        SendError::AddressRefused { message } => Outcome::Dead {
            code: REFUSED_CODE,
            error: format!("LINE not called: {message}"),
        },
        // With the retry key, a push whose outcome is unknown is safe to repeat: LINE answers
        // 409 if the first attempt was executed.
        e @ (SendError::Retryable { .. } | SendError::Unknown { .. }) => Outcome::Retry {
            after: e.retry_after(),
            error: e.to_string(),
        },
    }
}

#[derive(Deserialize)]
struct ProfilePayload {
    channel_id: String,
    identity_id: String,
    user_id: String,
}

pub async fn fetch_profile(w: &Worker, job: &Job) -> anyhow::Result<Outcome> {
    let p: ProfilePayload =
        serde_json::from_str(&job.payload).context("reading the profile job")?;
    let clinic = clinic_of(job)?;
    let Some(client) = client_for(w, &clinic, &ChannelId::from_db(p.channel_id)).await? else {
        return Ok(Outcome::Done);
    };
    let profile = match client.profile(&p.user_id).await {
        Ok(pr) => pr,
        // Not a friend (or left): LINE will not tell us; the patient keeps a generic name.
        Err(SendError::Rejected { status: 404, .. }) => return done(w, job).await,
        Err(SendError::Rejected {
            status, message, ..
        }) => {
            return Ok(Outcome::Dead {
                code: "rejected_by_provider",
                error: format!("profile: {status} {message}"),
            })
        }
        Err(SendError::AddressRefused { message }) => {
            return Ok(Outcome::Dead {
                code: REFUSED_CODE,
                error: format!("profile: {message}"),
            })
        }
        Err(e) => {
            return Ok(Outcome::Retry {
                after: e.retry_after(),
                error: e.to_string(),
            })
        }
    };
    let now = w.clock.now_ms();
    let mut tx = w.db.begin().await?;
    patients::set_profile(
        tx.conn(),
        &ChannelIdentityId::from_db(p.identity_id.clone()),
        patients::Profile {
            display_name: &profile.display_name,
            picture_url: profile.picture_url.as_deref(),
            status_message: profile.status_message.as_deref(),
            language: profile.language.as_deref(),
        },
        now,
    )
    .await?;
    tsunagu_store::jobs::complete(tx.conn(), &job.job_id(), now).await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}

async fn done(w: &Worker, job: &Job) -> anyhow::Result<Outcome> {
    let mut conn = w.db.pool().acquire().await?;
    tsunagu_store::jobs::complete(&mut conn, &job.job_id(), w.clock.now_ms()).await?;
    Ok(Outcome::Done)
}

#[derive(Deserialize)]
struct ContentPayload {
    channel_id: String,
    message_id: String,
    line_message_id: String,
}

pub async fn fetch_content(w: &Worker, job: &Job) -> anyhow::Result<Outcome> {
    let p: ContentPayload =
        serde_json::from_str(&job.payload).context("reading the content job")?;
    let clinic = clinic_of(job)?;
    let Some(client) = client_for(w, &clinic, &ChannelId::from_db(p.channel_id)).await? else {
        return Ok(Outcome::Done);
    };
    let (content_type, bytes) = match client.content(&p.line_message_id).await {
        Ok(c) => c,
        Err(SendError::Rejected {
            status, message, ..
        }) => {
            return Ok(Outcome::Dead {
                code: "content_unavailable",
                error: format!("content: {status} {message}"),
            })
        }
        Err(SendError::AddressRefused { message }) => {
            return Ok(Outcome::Dead {
                code: REFUSED_CODE,
                error: format!("content: {message}"),
            })
        }
        Err(e) => {
            return Ok(Outcome::Retry {
                after: e.retry_after(),
                error: e.to_string(),
            })
        }
    };
    let now = w.clock.now_ms();
    let mid = MessageId::from_db(p.message_id.clone());
    let mut tx = w.db.begin().await?;
    // The message may have been unsent or erased meanwhile: then there is nothing to attach.
    let msg = conversations::message_by_id(tx.conn(), &clinic, &mid).await?;
    let already = conversations::attachment_ids(tx.conn(), &p.message_id).await?;
    if let Some(msg) = msg.filter(|m| m.unsent_at.is_none() && already.is_empty()) {
        let sha = hex::encode(Sha256::digest(&bytes));
        conversations::insert_attachment(
            tx.conn(),
            NewAttachment {
                clinic_id: &clinic,
                message_id: &mid,
                content_type: &content_type,
                data: &bytes,
                sha256_hex: &sha,
            },
            now,
        )
        .await?;
        tsunagu_store::jobs::complete(tx.conn(), &job.job_id(), now).await?;
        tx.commit().await?;
        (w.on_change)(clinic.as_str(), &msg.conversation_id);
        return Ok(Outcome::Done);
    }
    tsunagu_store::jobs::complete(tx.conn(), &job.job_id(), now).await?;
    tx.commit().await?;
    Ok(Outcome::Done)
}
