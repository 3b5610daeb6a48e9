//! What a job that delivers a message does to the message, for every channel alike: a confirmed
//! send, and a retry, failure or doubt shown to staff on the message.
use anyhow::Context;
use serde::Deserialize;
use sha2::{Digest, Sha256};
use tsunagu_core::{ClinicId, MessageId};
use tsunagu_store::conversations::{self, Delivery, NewAttachment};
use tsunagu_store::jobs::{self, Job};
use tsunagu_store::Tx;

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
    files: &[(String, bytes::Bytes)],
) -> anyhow::Result<()> {
    let now = w.clock.now_ms();
    let mut tx = w.db.begin().await?;
    let msg = conversations::message_by_id(tx.conn(), clinic, message_id).await?;
    let already = conversations::attachment_ids(tx.conn(), message_id.as_str()).await?;
    let mut touched = None;
    if let Some(msg) = msg.filter(|m| m.unsent_at.is_none() && already.is_empty()) {
        for (content_type, bytes) in files {
            let sha = hex::encode(Sha256::digest(bytes));
            let file = NewAttachment {
                clinic_id: clinic,
                message_id,
                content_type,
                data: bytes,
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
