//! What a job that delivers a message does to the message, for every channel alike: a confirmed
//! send, and a retry, failure or doubt shown to staff on the message.
use anyhow::Context;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tsunagu_channels::provider::deliver::Media;
use tsunagu_core::{ClinicId, MessageId};
use tsunagu_store::conversations::{self, Delivery, NewAttachment};
use tsunagu_store::jobs::{self, Job};
use tsunagu_store::{statuses, Tx};

use crate::outcome::Outcome;
use crate::worker::Worker;

/// The clinic a job belongs to (every message and channel job has one).
pub(crate) fn clinic_of(job: &Job) -> anyhow::Result<ClinicId> {
    job.clinic_id
        .clone()
        .map(ClinicId::from_db)
        .with_context(|| format!("a {} job without a clinic", job.kind))
}

/// Records a confirmed send: the message is `sent`, the job done, open inboxes told.
pub(crate) async fn mark_sent(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    message_id: &MessageId,
    provider_id: Option<&str>,
    now: i64,
) -> anyhow::Result<()> {
    let mut tx = w.db.begin().await?;
    let sent = Delivery {
        status: "sent",
        provider_message_id: provider_id,
        failure_code: None,
        failure_reason: None,
        sent_at: Some(now),
    };
    conversations::set_delivery(tx.conn(), message_id, sent).await?;
    complete_and_tell(w, tx, job, clinic, message_id, now).await
}

/// Records a send whose provider's reports may have overtaken its answer: the provider's id,
/// and `sent` unless a report already moved the message further; the job done.
pub(crate) async fn confirm_sent(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    message_id: &MessageId,
    provider_id: &str,
    now: i64,
) -> anyhow::Result<()> {
    let mut tx = w.db.begin().await?;
    statuses::confirm_sent(tx.conn(), message_id.as_str(), provider_id, now).await?;
    complete_and_tell(w, tx, job, clinic, message_id, now).await
}

/// Whether a provider's report has already given the message the provider's id (its send had
/// no answer, but the provider has it).
pub(crate) async fn named_by_report(w: &Worker, message_id: &MessageId) -> anyhow::Result<bool> {
    let mut conn = w.db.pool().acquire().await?;
    let id: Option<Option<String>> =
        sqlx::query_scalar("SELECT provider_message_id FROM messages WHERE id = $1")
            .bind(message_id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .context("reading whether a report named the message")?;
    Ok(id.flatten().is_some())
}

/// Ends a job whose message changed in `tx`: the job done, committed, open inboxes told.
pub(crate) async fn complete_and_tell(
    w: &Worker,
    mut tx: Tx,
    job: &Job,
    clinic: &ClinicId,
    message_id: &MessageId,
    now: i64,
) -> anyhow::Result<()> {
    jobs::complete(tx.conn(), &job.job_id(), now).await?;
    let conv = conversations::message_by_id(tx.conn(), clinic, message_id)
        .await?
        .map(|m| m.conversation_id);
    tx.commit().await?;
    if let Some(conv) = conv {
        (w.on_change)(clinic.as_str(), &conv);
    }
    Ok(())
}

/// Stores downloaded media on an inbound message, once, and completes the job; nothing is
/// attached to a message unsent or erased meanwhile.
pub(crate) async fn attach_media(
    w: &Worker,
    job: &Job,
    clinic: &ClinicId,
    message_id: &MessageId,
    files: &[Media],
) -> anyhow::Result<()> {
    let now = w.clock.now_ms();
    let mut tx = w.db.begin().await?;
    let msg = conversations::message_by_id(tx.conn(), clinic, message_id).await?;
    let already = conversations::attachment_ids(tx.conn(), message_id.as_str()).await?;
    let mut touched = None;
    if let Some(msg) = msg.filter(|m| m.unsent_at.is_none() && already.is_empty()) {
        for f in files {
            let sha = hex::encode(Sha256::digest(&f.bytes));
            let file = NewAttachment {
                clinic_id: clinic,
                message_id,
                content_type: &f.content_type,
                data: &f.bytes,
                sha256_hex: &sha,
            };
            conversations::insert_attachment(tx.conn(), file, now).await?;
        }
        touched = Some(msg.conversation_id);
    }
    jobs::complete(tx.conn(), &job.job_id(), now).await?;
    tx.commit().await?;
    if let Some(conv) = touched {
        (w.on_change)(clinic.as_str(), &conv);
    }
    Ok(())
}

/// The message a job delivers, read leniently: a job whose payload no longer reads as its type
/// still shows its failure on the message.
fn message_of(job: &Job) -> Option<MessageId> {
    #[derive(Deserialize)]
    struct Names {
        message_id: MessageId,
    }
    serde_json::from_str::<Names>(&job.payload)
        .ok()
        .map(|n| n.message_id)
}

/// Shows a retry, failure or doubt on the job's message, in the transaction that records the
/// outcome (a confirmed send was recorded by `mark_sent`). Returns the conversation to refresh.
pub(crate) async fn settled(
    tx: &mut Tx,
    job: &Job,
    outcome: &Outcome,
) -> anyhow::Result<Option<String>> {
    let (status, code, reason) = match outcome {
        Outcome::Done | Outcome::Defer { .. } => return Ok(None),
        Outcome::Retry { error, .. } => ("queued", "retrying", error),
        Outcome::Dead { code, error } => ("failed", *code, error),
        Outcome::InDoubt { error } => ("in_doubt", "in_doubt", error),
    };
    let Some(mid) = message_of(job) else {
        return Ok(None);
    };
    // The provider's own report (delivered, read) outranks what the worker concluded.
    if tsunagu_store::statuses::reported_delivered(tx.conn(), mid.as_str()).await? {
        return Ok(None);
    }
    let delivery = Delivery {
        status,
        provider_message_id: None,
        failure_code: Some(code),
        failure_reason: Some(reason),
        sent_at: None,
    };
    conversations::set_delivery(tx.conn(), &mid, delivery).await?;
    let Some(clinic) = job.clinic_id.clone().map(ClinicId::from_db) else {
        return Ok(None);
    };
    Ok(conversations::message_by_id(tx.conn(), &clinic, &mid)
        .await?
        .map(|m| m.conversation_id))
}
