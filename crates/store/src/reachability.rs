//! Whether a patient can be reached on one channel identity: opt-outs, bounces and the time of
//! their last message (which opens the WhatsApp and Messenger service windows).
use anyhow::Context;
use sqlx::AnyConnection;

use crate::batch::{Batch, Ref};

/// The patient wrote at `at_ms`: keeps the latest time (deliveries can arrive out of order).
pub async fn record_inbound(
    conn: &mut AnyConnection,
    identity_id: &str,
    at_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE channel_identities SET last_inbound_at = $1
         WHERE id = $2 AND (last_inbound_at IS NULL OR last_inbound_at < $1)",
    )
    .bind(at_ms)
    .bind(identity_id)
    .execute(conn)
    .await
    .context("recording the patient's last message time")?;
    Ok(())
}

/// A message from the patient, in one statement: `record_inbound` (the service window opens)
/// and `clear_bounce` (the address evidently receives again).
pub async fn record_inbound_clearing_bounce(
    conn: &mut AnyConnection,
    identity_id: &str,
    at_ms: i64,
) -> anyhow::Result<()> {
    let mut b = Batch::new(conn);
    push_inbound_clearing_bounce(&mut b, &Ref::Id(identity_id.to_owned()), at_ms);
    b.run(conn).await?;
    Ok(())
}

/// `record_inbound_clearing_bounce` as a statement of `b`, sent with the message it follows.
pub fn push_inbound_clearing_bounce(b: &mut Batch, identity: &Ref, at_ms: i64) {
    b.arg(at_ms);
    b.push_ref(
        "UPDATE channel_identities SET
            last_inbound_at = CASE WHEN last_inbound_at IS NULL OR last_inbound_at < $1
                THEN $1 ELSE last_inbound_at END,
            bounce_reason = CASE WHEN bounced_at IS NOT NULL THEN NULL ELSE bounce_reason END,
            bounced_at = NULL
         WHERE id = {ref} AND (last_inbound_at IS NULL OR last_inbound_at < $1 OR bounced_at IS NOT NULL)",
        identity,
        "recording the patient's last message time",
    );
}

/// The patient opted out (`source`: e.g. `sms:STOP`, `provider:21610`). Keeps the first time.
pub async fn set_opted_out(
    conn: &mut AnyConnection,
    identity_id: &str,
    at_ms: i64,
    source: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE channel_identities SET opted_out_at = COALESCE(opted_out_at, $1),
            opt_out_source = COALESCE(opt_out_source, $2), updated_at = $1 WHERE id = $3",
    )
    .bind(at_ms)
    .bind(source)
    .bind(identity_id)
    .execute(conn)
    .await
    .context("recording an opt-out")?;
    Ok(())
}

/// The patient opted back in (START).
pub async fn clear_opt_out(
    conn: &mut AnyConnection,
    identity_id: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE channel_identities SET opted_out_at = NULL, opt_out_source = NULL, updated_at = $1
         WHERE id = $2",
    )
    .bind(now_ms)
    .bind(identity_id)
    .execute(conn)
    .await
    .context("clearing an opt-out")?;
    Ok(())
}

/// The provider said the address cannot receive (`reason` is shown to staff).
pub async fn set_bounced(
    conn: &mut AnyConnection,
    identity_id: &str,
    at_ms: i64,
    reason: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE channel_identities SET bounced_at = $1, bounce_reason = $2, updated_at = $1 WHERE id = $3",
    )
    .bind(at_ms)
    .bind(reason)
    .bind(identity_id)
    .execute(conn)
    .await
    .context("recording a bounce")?;
    Ok(())
}

/// A message from the patient proves the address works again.
pub async fn clear_bounce(conn: &mut AnyConnection, identity_id: &str) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE channel_identities SET bounced_at = NULL, bounce_reason = NULL
         WHERE id = $1 AND bounced_at IS NOT NULL",
    )
    .bind(identity_id)
    .execute(conn)
    .await
    .context("clearing a bounce")?;
    Ok(())
}
