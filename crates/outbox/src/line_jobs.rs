//! LINE jobs: push a staff message, fetch a profile, download media.
//! LINE doc: Messaging API reference › Send push message / Get profile / Get content.
use anyhow::Context;
use tsunagu_channels::line::client::{LineClient, SendError};
use tsunagu_channels::outbound::REFUSED_CODE;
use tsunagu_core::jobs::{LineFetchContent, LineFetchProfile, SendMessage};
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_store::jobs::Job;
use tsunagu_store::{channels, patients};

use crate::message_state::{attach_media, clinic_of, mark_sent};
use crate::outcome::Outcome;
use crate::provider::{pace, Pace};
use crate::worker::Worker;

/// LINE keeps a retry key for 24 hours; past that a resend could deliver twice.
const RETRY_KEY_LIFETIME_MS: i64 = 24 * 3600 * 1000 - 5 * 60 * 1000;

/// 1,000 pushes per second sustained, 1,000 at once: half of LINE's published rate limit.
const PUSH_INTERVAL_MS: i64 = 1;
const PUSH_BURST: i64 = 1_000;

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

pub(crate) async fn send(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    p: &SendMessage,
) -> anyhow::Result<Outcome> {
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
    let Some(client) = client_for(w, clinic, &p.channel_id).await? else {
        return Ok(Outcome::Dead {
            code: "channel_missing",
            error: "the channel no longer exists".into(),
        });
    };
    // LINE allows 2,000 push requests per second per channel; keep well inside it.
    let budget = Pace {
        key: format!("line:push:{}", p.channel_id),
        interval_ms: PUSH_INTERVAL_MS,
        burst: PUSH_BURST,
    };
    if let Some(until_ms) = pace(w, &[budget]).await? {
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
            mark_sent(w, job, clinic, &p.message_id, provider_id.as_deref(), now).await?;
            Ok(Outcome::Done)
        }
        Err(e) => Ok(classify(&client, e).await),
    }
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

pub(crate) async fn fetch_profile(
    w: &Worker,
    job: &Job,
    p: &LineFetchProfile,
) -> anyhow::Result<Outcome> {
    let clinic = clinic_of(job)?;
    let Some(client) = client_for(w, &clinic, &p.channel_id).await? else {
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
        &p.identity_id,
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

pub(crate) async fn fetch_content(
    w: &Worker,
    job: &Job,
    p: &LineFetchContent,
) -> anyhow::Result<Outcome> {
    let clinic = clinic_of(job)?;
    let Some(client) = client_for(w, &clinic, &p.channel_id).await? else {
        return Ok(Outcome::Done);
    };
    let file = match client.content(&p.line_message_id).await {
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
    attach_media(w, job, &clinic, &p.message_id, &[file]).await?;
    Ok(Outcome::Done)
}
