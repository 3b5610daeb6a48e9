//! The jobs a delivery leaves behind, enqueued on its transaction, once per key.
use sqlx::AnyConnection;
use tsunagu_core::jobs::JobPayload;
use tsunagu_store::batch::{Batch, Ref};

use super::inbound::Channel;

fn at<'a>(ch: &'a Channel, key: &'a str, now_ms: i64) -> tsunagu_store::jobs::Enqueue<'a> {
    tsunagu_store::jobs::Enqueue {
        clinic_id: Some(&ch.clinic_id),
        idempotency_key: key,
        run_at: now_ms,
    }
}

pub(super) async fn enqueue<J: JobPayload>(
    conn: &mut AnyConnection,
    ch: &Channel,
    payload: &J,
    key: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    tsunagu_store::jobs::enqueue(conn, payload, at(ch, key, now_ms), now_ms).await?;
    Ok(())
}

/// As `enqueue`, as a statement of the caller's batch (sent with the message in one call),
/// applied only if the row `after` names exists then.
pub(super) fn push<J: JobPayload>(
    b: &mut Batch,
    ch: &Channel,
    payload: &J,
    key: &str,
    now_ms: i64,
    after: &Ref,
) -> anyhow::Result<()> {
    tsunagu_store::jobs::push_enqueue(b, payload, at(ch, key, now_ms), now_ms, after)?;
    Ok(())
}
