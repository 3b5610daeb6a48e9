//! Delivery reports that overtook the answer to a send: they were stored as raw webhook events
//! but matched no message then. Once the provider's id is recorded, the adapter says where they
//! are (`Deliver::early_reports`) and reads each (`Deliver::early_report`); `statuses::apply`
//! only moves a message forward, so the order does not matter.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_channels::provider::deliver::EarlyReports;
use tsunagu_channels::Adapter;
use tsunagu_store::{statuses, webhooks};

use crate::channel::LoadedChannel;
use crate::worker::Worker;

/// Applies the reports about `sent_id` (the message just sent to `to`, from `started_ms`).
pub(crate) async fn apply(
    w: &Worker,
    ch: &LoadedChannel,
    to: &str,
    sent_id: &str,
    started_ms: i64,
) -> anyhow::Result<()> {
    let adapter: &dyn Adapter = ch.adapter;
    let Some(place) = adapter.early_reports(sent_id) else {
        return Ok(());
    };
    let channel = ch.id();
    let mut conn = w.db.pool().acquire().await?;
    let events = stored(&mut conn, ch, to, &place, started_ms).await?;
    for (event_type, body) in events {
        let raw: serde_json::Value =
            serde_json::from_str(body.as_deref().unwrap_or("null")).unwrap_or_default();
        let Some(r) = adapter.early_report(&event_type, &raw, sent_id, started_ms) else {
            continue;
        };
        let report = statuses::Report {
            channel_id: &channel,
            provider_message_id: sent_id,
            status: &r.status,
            failure_code: r.failure_code.as_deref(),
            failure_reason: r.failure_reason.as_deref(),
            at_ms: r.at_ms.unwrap_or_else(|| w.clock.now_ms()),
        };
        if let Some(applied) = statuses::apply(&mut conn, report).await? {
            (w.on_change)(&applied.clinic_id, &applied.conversation_id);
        }
    }
    Ok(())
}

/// The stored events `place` names, oldest first: (event type, body).
async fn stored(
    conn: &mut AnyConnection,
    ch: &LoadedChannel,
    to: &str,
    place: &EarlyReports,
    started_ms: i64,
) -> anyhow::Result<Vec<(String, Option<String>)>> {
    match place {
        EarlyReports::ByEventIds { event_type, ids } => {
            let sql = format!(
                "SELECT event_type, body FROM webhook_events WHERE channel_id = $1
                   AND event_type = $2 AND provider_event_id IN ({})",
                placeholders(3, ids.len())
            );
            let mut q = sqlx::query_as(&sql).bind(&ch.row.id).bind(*event_type);
            for id in ids {
                q = q.bind(id);
            }
            q.fetch_all(conn)
                .await
                .context("finding statuses that arrived before the send answer")
        }
        EarlyReports::FromRecipient { event_types } => {
            let sql = format!(
                "SELECT event_type, body FROM webhook_events WHERE channel_id = $1
                   AND sender_ref = $2 AND received_at >= $3 AND event_type IN ({})
                 ORDER BY received_at",
                placeholders(4, event_types.len())
            );
            let sender = webhooks::sender_ref(&ch.id(), to);
            let mut q = sqlx::query_as(&sql)
                .bind(&ch.row.id)
                .bind(sender)
                .bind(started_ms);
            for t in *event_types {
                q = q.bind(*t);
            }
            q.fetch_all(conn)
                .await
                .context("finding receipts that arrived before the send answer")
        }
    }
}

/// `$first, $first+1, …` for `n` values (never empty: `NULL` matches nothing).
fn placeholders(first: usize, n: usize) -> String {
    if n == 0 {
        return "NULL".into();
    }
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}
