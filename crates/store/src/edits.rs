//! Changes the patient makes to a message they already sent (WhatsApp edits).
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::ChannelId;

/// The patient edited an earlier message: its text is replaced, the edit time kept in the
/// payload so staff see it was changed.
pub async fn edit_inbound(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    provider_message_id: &str,
    body: Option<&str>,
    at_ms: i64,
) -> anyhow::Result<bool> {
    let r = sqlx::query(
        "UPDATE messages SET body = $1, edited_at = $2
         WHERE channel_id = $3 AND provider_message_id = $4 AND direction = 'in' AND unsent_at IS NULL",
    )
    .bind(body)
    .bind(at_ms)
    .bind(channel.as_str())
    .bind(provider_message_id)
    .execute(&mut *conn)
    .await
    .context("applying an edit to a message")?;
    if r.rows_affected() > 0 {
        let edited: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM messages WHERE channel_id = $1 AND provider_message_id = $2 AND direction = 'in'",
        )
        .bind(channel.as_str())
        .bind(provider_message_id)
        .fetch_all(&mut *conn)
        .await
        .context("finding an edited message")?;
        crate::search::reindex_messages(conn, &edited).await?;
    }
    Ok(r.rows_affected() > 0)
}
