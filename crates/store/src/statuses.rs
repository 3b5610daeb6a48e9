//! Delivery statuses reported by providers (status webhooks, callbacks). They arrive out of
//! order: a status only applies if it moves the message forward (read before delivered stays
//! read).
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::ChannelId;

/// How far an outbound message got. `failed` ranks above `sent` (the provider gave up after
/// accepting it) and below `delivered` (a late failure never undoes a delivery).
pub fn rank(status: &str) -> u8 {
    match status {
        "queued" => 1,
        "sending" | "in_doubt" => 2,
        "sent" => 3,
        "failed" => 4,
        "delivered" => 5,
        "read" => 6,
        _ => 0,
    }
}

/// A provider's report about one of our messages, in tsunagu's words (sent, delivered, read,
/// failed).
pub struct Report<'a> {
    pub channel_id: &'a ChannelId,
    pub provider_message_id: &'a str,
    pub status: &'a str,
    pub failure_code: Option<&'a str>,
    pub failure_reason: Option<&'a str>,
    pub at_ms: i64,
}

/// What a report changed: the message and its conversation, for live updates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    pub clinic_id: String,
    pub conversation_id: String,
    pub message_id: String,
    pub status: String,
}

/// Applies the report if it moves the message forward. `None`: unknown message (not ours, or
/// erased) or a stale report.
pub async fn apply(conn: &mut AnyConnection, r: Report<'_>) -> anyhow::Result<Option<Applied>> {
    let row: Option<(String, String, String, String)> = sqlx::query_as(
        "SELECT id, clinic_id, conversation_id, status FROM messages
         WHERE channel_id = $1 AND provider_message_id = $2 AND direction = 'out'",
    )
    .bind(r.channel_id.as_str())
    .bind(r.provider_message_id)
    .fetch_optional(&mut *conn)
    .await
    .context("finding the message a status is about")?;
    let Some((id, clinic_id, conversation_id, current)) = row else {
        return Ok(None);
    };
    if rank(r.status) <= rank(&current) {
        return Ok(None);
    }
    let failed = r.status == "failed";
    sqlx::query(
        "UPDATE messages SET status = $1,
            failure_code = CASE WHEN $2 = 1 THEN $3 ELSE failure_code END,
            failure_reason = CASE WHEN $2 = 1 THEN $4 ELSE failure_reason END,
            sent_at = COALESCE(sent_at, $5),
            delivered_at = CASE WHEN $1 IN ('delivered', 'read') THEN COALESCE(delivered_at, $5) ELSE delivered_at END,
            read_at = CASE WHEN $1 = 'read' THEN COALESCE(read_at, $5) ELSE read_at END
         WHERE id = $6",
    )
    .bind(r.status)
    .bind(failed as i64)
    .bind(r.failure_code)
    .bind(r.failure_reason)
    .bind(r.at_ms)
    .bind(&id)
    .execute(conn)
    .await
    .context("recording a delivery status")?;
    Ok(Some(Applied {
        clinic_id,
        conversation_id,
        message_id: id,
        status: r.status.to_string(),
    }))
}

/// Whether the provider already reported the message delivered or read: a later worker outcome
/// (in doubt after a lost answer, a failed retry) must not overwrite that.
pub async fn reported_delivered(
    conn: &mut AnyConnection,
    message_id: &str,
) -> anyhow::Result<bool> {
    let status: Option<String> = sqlx::query_scalar("SELECT status FROM messages WHERE id = $1")
        .bind(message_id)
        .fetch_optional(conn)
        .await
        .context("reading a message's delivery status")?;
    Ok(status.is_some_and(|s| rank(&s) >= rank("delivered")))
}

/// Messenger's delivery/read watermark: every message we sent in the thread up to `watermark`
/// moves to `status` (never backwards). Returns the conversation if anything changed.
pub async fn apply_watermark(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    thread_key: &str,
    status: &str,
    watermark_ms: i64,
) -> anyhow::Result<Option<String>> {
    let conv = crate::conversations::id_by_thread(&mut *conn, channel, thread_key).await?;
    let Some(conv) = conv else { return Ok(None) };
    // Only messages the provider accepted move, and only forward: read covers delivered too.
    let list = match status {
        "delivered" => "'sent'",
        "read" => "'sent', 'delivered'",
        _ => return Ok(None),
    };
    let r = sqlx::query(&format!(
        "UPDATE messages SET status = $1,
            delivered_at = COALESCE(delivered_at, $2),
            read_at = CASE WHEN $1 = 'read' THEN COALESCE(read_at, $2) ELSE read_at END
         WHERE conversation_id = $3 AND direction = 'out' AND status IN ({list})
           AND sent_at IS NOT NULL AND sent_at <= $2"
    ))
    .bind(status)
    .bind(watermark_ms)
    .bind(&conv)
    .execute(conn)
    .await
    .context("applying a delivery watermark")?;
    Ok((r.rows_affected() > 0).then_some(conv))
}

/// A status report that names our message itself (Twilio's StatusCallback URL carries its id)
/// when the send's answer has not given us the provider's id (still on its way, or lost: the
/// message is in doubt). Records `provider_message_id` on that outbound message of `channel` if
/// it has none yet; true when it did.
pub async fn adopt(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    message_id: &str,
    provider_message_id: &str,
) -> anyhow::Result<bool> {
    let r = sqlx::query(
        "UPDATE messages SET provider_message_id = $1
         WHERE id = $2 AND channel_id = $3 AND direction = 'out' AND provider_message_id IS NULL",
    )
    .bind(provider_message_id)
    .bind(message_id)
    .bind(channel.as_str())
    .execute(conn)
    .await
    .context("recording the provider's id a status report names")?;
    Ok(r.rows_affected() == 1)
}

/// The send's answer for a provider whose status reports may overtake it: the provider's id, and
/// `sent` unless a report already moved the message further (delivered, read, failed).
pub async fn confirm_sent(
    conn: &mut AnyConnection,
    message_id: &str,
    provider_message_id: &str,
    at_ms: i64,
) -> anyhow::Result<()> {
    let ahead = ["sent", "failed", "delivered", "read"]
        .iter()
        .map(|s| format!("'{s}'"))
        .collect::<Vec<_>>()
        .join(", ");
    sqlx::query(&format!(
        "UPDATE messages SET provider_message_id = $1, sent_at = COALESCE(sent_at, $2),
            failure_code = CASE WHEN status IN ({ahead}) THEN failure_code ELSE NULL END,
            failure_reason = CASE WHEN status IN ({ahead}) THEN failure_reason ELSE NULL END,
            status = CASE WHEN status IN ({ahead}) THEN status ELSE 'sent' END
         WHERE id = $3"
    ))
    .bind(provider_message_id)
    .bind(at_ms)
    .bind(message_id)
    .execute(conn)
    .await
    .context("recording the provider's acceptance of a message")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::rank;

    #[test]
    fn never_backwards() {
        assert!(rank("read") > rank("delivered"));
        assert!(rank("delivered") > rank("failed"));
        assert!(rank("failed") > rank("sent"));
        assert!(rank("sent") > rank("queued"));
        assert!(rank("sent") > rank("in_doubt"));
    }
}
