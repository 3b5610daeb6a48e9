//! Automated answers to a LINE event, sent with its reply token (single-use, short-lived): the
//! outbox never repeats one whose outcome is unknown and never falls back to push for it.
use anyhow::Context;
use tsunagu_core::jobs::{ReplyToken, SendMessage};
use tsunagu_core::{ClinicId, Code, ConversationId, Refusal};
use tsunagu_privacy::consent::SendBasis;
use tsunagu_store::conversations::{self, Conversation, NewMessage};
use tsunagu_store::{channels, jobs, Db};

use super::queue::set_basis;
use super::ReplyOutcome;

/// LINE accepts 1–5 message objects per reply.
const MAX_REPLY_MESSAGES: usize = 5;
/// LINE does not publish the reply token's lifetime (about a minute); leave a margin.
pub const REPLY_TOKEN_FRESH_MS: i64 = 50_000;

/// The token and when it was issued, while it is fresh enough to use.
pub fn fresh_token(token: Option<&(String, i64)>, now_ms: i64) -> Option<(&str, i64)> {
    token
        .filter(|(t, at)| !t.is_empty() && now_ms - at < REPLY_TOKEN_FRESH_MS)
        .map(|(t, at)| (t.as_str(), *at))
}

/// The LINE reply token a stored inbound message's payload carries (ingest writes it), if any.
pub fn stored_token(payload: &serde_json::Value) -> Option<(String, i64)> {
    let token = payload.get("reply_token")?.as_str()?.to_string();
    let at = payload
        .get("reply_token_at")
        .and_then(|v| v.as_i64())
        .unwrap_or(0);
    Some((token, at))
}

/// Queues an immediate automated answer to a LINE event, sent with its reply token. The token is
/// single-use, so the outbox never repeats a reply whose outcome is unknown, and never falls back
/// to push for it. `reply_token` is what ingest stored: `None` for standby-mode events.
#[allow(clippy::too_many_arguments)]
pub async fn queue_auto_reply(
    db: &Db,
    clinic: &ClinicId,
    conversation: &Conversation,
    reply_token: Option<&str>,
    reply_token_at_ms: i64,
    messages: Vec<serde_json::Value>,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let mut tx = db.begin().await?;
    let token = reply_token;
    let at = reply_token_at_ms;
    let outcome =
        queue_auto_reply_in(&mut tx, clinic, conversation, token, at, messages, now_ms).await?;
    if matches!(outcome, ReplyOutcome::Queued(_)) {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// [`queue_auto_reply`] within the caller's transaction (the emergency guidance queues it with
/// its once-an-hour claim). A token already used is refused before anything is written, so
/// the caller may push instead in the same transaction.
#[allow(clippy::too_many_arguments)]
pub async fn queue_auto_reply_in(
    tx: &mut tsunagu_store::Tx,
    clinic: &ClinicId,
    conversation: &Conversation,
    reply_token: Option<&str>,
    reply_token_at_ms: i64,
    messages: Vec<serde_json::Value>,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let Some(token) = reply_token.filter(|t| !t.is_empty()) else {
        let why = Refusal::new(Code::NoReplyToken).detail("the event has no reply token");
        return Ok(ReplyOutcome::Refused(why));
    };
    if messages.is_empty() || messages.len() > MAX_REPLY_MESSAGES {
        let why = format!("a reply carries 1 to {MAX_REPLY_MESSAGES} messages");
        let why = Refusal::new(Code::MessageCount).detail(why);
        return Ok(ReplyOutcome::Refused(why.arg("max", MAX_REPLY_MESSAGES)));
    }
    let channel_id = tsunagu_core::ChannelId::from_db(conversation.channel_id.clone());
    let channel = channels::by_id(tx.conn(), clinic, &channel_id)
        .await?
        .context("the conversation's channel")?;
    if channel.enabled == 0 {
        let why = Refusal::new(Code::ChannelDisabled).detail("the channel is disabled");
        return Ok(ReplyOutcome::Refused(why));
    }
    // Keyed by the token, not the message: a second answer to one event is refused.
    let key = format!("reply:{channel_id}:{token}");
    if jobs::by_key(tx.conn(), &key).await?.is_some() {
        return Ok(ReplyOutcome::Refused(token_used()));
    }
    // A choice's question reads as its text in the conversation.
    let texts: Vec<&str> = messages
        .iter()
        .filter_map(|m| m.get("text").or(m.get("body")).and_then(|t| t.as_str()))
        .collect();
    let all_text = messages
        .iter()
        .all(|m| m.get("type").and_then(|t| t.as_str()) == Some("text"));
    let kind = if all_text {
        "text"
    } else if messages
        .iter()
        .any(|m| m.get("type").and_then(|t| t.as_str()) == Some("choice"))
    {
        "interactive"
    } else {
        messages[0]
            .get("type")
            .and_then(|t| t.as_str())
            .unwrap_or("unsupported")
    };
    let body = (!texts.is_empty()).then(|| texts.join("\n"));
    // One object is stored as itself (like a staff reply); several keep their order.
    let payload = if messages.len() == 1 {
        messages[0].clone()
    } else {
        serde_json::json!({"messages": messages})
    };
    let conv_id = ConversationId::from_db(conversation.id.clone());
    let message_id = conversations::insert_message(
        tx.conn(),
        NewMessage {
            clinic_id: clinic,
            conversation_id: &conv_id,
            channel_id: &channel_id,
            direction: "out",
            kind,
            body: body.as_deref(),
            payload: &payload.to_string(),
            sender_identity_id: None,
            author_kind: "automation",
            author_staff_id: None,
            provider_message_id: None,
            status: "queued",
            at_ms: now_ms,
        },
    )
    .await?;
    // A reply token exists only for the patient's own action moments ago (LINE's proof), so the
    // answer is a reply by construction; the grounds are recorded like any other send.
    set_basis(tx.conn(), &message_id, SendBasis::ReplyToPatient).await?;
    // The one send job, as a reply: the token addresses it, and LINE's reply API has no retry
    // key, so the outbox never repeats it and never pushes it instead.
    let job = SendMessage {
        message_id: message_id.clone(),
        channel_id: channel_id.clone(),
        to: String::new(),
        messages,
        retry_key: String::new(),
        channel_kind: Some(channel.kind.clone()),
        via: None,
        tag: None,
        reply: Some(ReplyToken {
            token: token.to_string(),
            issued_at_ms: reply_token_at_ms,
        }),
    };
    let enqueued = jobs::enqueue(
        tx.conn(),
        &job,
        jobs::Enqueue {
            clinic_id: Some(clinic),
            idempotency_key: &key,
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    if enqueued.is_none() {
        // Used meanwhile (another instance): the caller drops the transaction, and the message.
        return Ok(ReplyOutcome::Refused(token_used()));
    }
    let msg = conversations::message_by_id(tx.conn(), clinic, &message_id)
        .await?
        .context("the queued message")?;
    Ok(ReplyOutcome::Queued(Box::new(msg)))
}

fn token_used() -> Refusal {
    Refusal::new(Code::ReplyTokenUsed).detail("this reply token was already used")
}
