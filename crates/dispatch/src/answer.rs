//! Answering the patient's own message: with LINE's reply token while it is fresh (free of
//! quota, single-use), otherwise by push. Either way it is a reply to the patient's action, so it
//! needs no separate consent.
use tsunagu_inbox::reply::{self, ReplyOutcome};

use crate::Inbound;

/// LINE does not publish the reply token's lifetime (about a minute); leave a margin.
const REPLY_TOKEN_FRESH_MS: i64 = 50_000;

pub async fn answer(m: &Inbound, text: &str) -> anyhow::Result<ReplyOutcome> {
    let now = m.clock.now_ms();
    let message = serde_json::json!({"type": "text", "text": text});
    if let Some((token, at)) = m
        .reply_token
        .as_ref()
        .filter(|(_, at)| now - at < REPLY_TOKEN_FRESH_MS)
    {
        return reply::queue_auto_reply(
            &m.db,
            &m.clinic,
            &m.conversation,
            Some(token),
            *at,
            vec![message],
            now,
        )
        .await;
    }
    reply::queue_automation_push(&m.db, &m.clinic, &m.conversation, text, now).await
}
