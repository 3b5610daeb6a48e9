//! Providers' reports about our messages: statuses (WhatsApp, Twilio callbacks) and receipts
//! (Messenger). They arrive out of order, so they apply through `store::statuses`, which only
//! moves a message forward.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_channels::provider::inbound::{Receipt, Status, Unreachable};
use tsunagu_store::arrival::Arrival;
use tsunagu_store::{jobs, reachability, statuses};

use super::inbound::Channel;

/// A status (new: its raw event was just stored): the message it names takes the provider's id
/// if the send's answer never gave it, then the status applies, then what it says about the
/// recipient. The conversation it changed, if any.
pub(super) async fn status(
    conn: &mut AnyConnection,
    ch: &Channel,
    s: &Status,
    arrived: Arrival,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    if let Some(ours) = &s.ours {
        adopt(&mut *conn, ch, ours, &s.provider_message_id, now_ms).await?;
    }
    let report = statuses::Report {
        channel_id: &ch.channel_id,
        provider_message_id: &s.provider_message_id,
        status: s.state.as_str(),
        failure_code: s.failure_code.as_deref(),
        failure_reason: s.failure_reason.as_deref(),
        at_ms: s.at_ms,
    };
    let applied = statuses::apply(&mut *conn, report).await?;
    // The recipient's identity, read with the event (looked up only when there is an effect).
    if let (Some(effect), Some(ident)) = (&s.unreachable, &arrived.identity) {
        match effect {
            Unreachable::Bounced { reason } => {
                reachability::set_bounced(conn, &ident.id, s.at_ms, reason).await?
            }
            Unreachable::OptedOut { source } => {
                reachability::set_opted_out(conn, &ident.id, s.at_ms, source).await?
            }
        }
    }
    Ok(applied.map(|a| a.conversation_id))
}

/// A status names our message itself (WhatsApp's `biz_opaque_callback_data`, the `message` of
/// Twilio's callback URL). If that outbound message of this channel has no provider id yet (the
/// answer to the send was lost, so it is in doubt, or has not arrived yet) and no other message
/// has this one, it takes it: the status then applies, and a send the provider confirms is no
/// longer in doubt (its reason is cleared and its job settled, so staff cannot send it twice).
async fn adopt(
    conn: &mut AnyConnection,
    ch: &Channel,
    message_id: &str,
    provider_message_id: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let adopted = sqlx::query(
        "UPDATE messages SET provider_message_id = $1,
            failure_code = CASE WHEN status = 'in_doubt' THEN NULL ELSE failure_code END,
            failure_reason = CASE WHEN status = 'in_doubt' THEN NULL ELSE failure_reason END
         WHERE id = $2 AND channel_id = $3 AND direction = 'out' AND provider_message_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = $3 AND m.provider_message_id = $1)",
    )
    .bind(provider_message_id)
    .bind(message_id)
    .bind(ch.channel_id.as_str())
    .execute(&mut *conn)
    .await
    .context("matching a status to the message it names")?
    .rows_affected()
        == 1;
    if adopted {
        if let Some(job) = jobs::by_key(&mut *conn, &format!("send:{message_id}")).await? {
            if job.state == "in_doubt" {
                jobs::complete(conn, &job.job_id(), now_ms).await?;
            }
        }
    }
    Ok(())
}

/// Delivery and read receipts (new): by message id when given, else by watermark.
pub(super) async fn receipt(
    conn: &mut AnyConnection,
    ch: &Channel,
    r: &Receipt,
) -> anyhow::Result<Option<String>> {
    let mut conv = None;
    for mid in &r.provider_message_ids {
        let report = statuses::Report {
            channel_id: &ch.channel_id,
            provider_message_id: mid,
            status: r.state.as_str(),
            failure_code: None,
            failure_reason: None,
            at_ms: r.at_ms,
        };
        if let Some(a) = statuses::apply(&mut *conn, report).await? {
            conv = Some(a.conversation_id);
        }
    }
    if let Some(w) = r.watermark {
        let (channel, state) = (&ch.channel_id, r.state.as_str());
        if let Some(c) = statuses::apply_watermark(conn, channel, &r.thread, state, w).await? {
            conv = Some(c);
        }
    }
    Ok(conv)
}
