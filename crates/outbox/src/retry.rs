//! Staff pressed 再送 (retry) on a failed message.
use tsunagu_core::{ClinicId, MessageId};
use tsunagu_store::conversations::{self, Delivery};
use tsunagu_store::{jobs, Db};

#[derive(Debug, PartialEq, Eq)]
pub enum RetryOutcome {
    Requeued,
    /// Not failed or in doubt (already sent, or still being tried).
    NotRetryable,
    NotFound,
}

pub async fn retry_message(
    db: &Db,
    clinic: &ClinicId,
    message: &MessageId,
    now_ms: i64,
) -> anyhow::Result<RetryOutcome> {
    let mut tx = db.begin().await?;
    let Some(msg) = conversations::message_by_id(tx.conn(), clinic, message).await? else {
        return Ok(RetryOutcome::NotFound);
    };
    let Some(job) = jobs::by_key(tx.conn(), &format!("send:{}", msg.id)).await? else {
        return Ok(RetryOutcome::NotRetryable);
    };
    if !jobs::requeue(tx.conn(), &job.job_id(), now_ms).await? {
        return Ok(RetryOutcome::NotRetryable);
    }
    conversations::set_delivery(
        tx.conn(),
        message,
        Delivery {
            status: "queued",
            provider_message_id: None,
            failure_code: None,
            failure_reason: None,
            sent_at: None,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(RetryOutcome::Requeued)
}
