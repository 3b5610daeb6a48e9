//! Writing one LINE event's message rows and the jobs that follow them (dispatch, media).
use serde_json::json;
use sqlx::AnyConnection;
use tsunagu_channels::line::events::{Event, InboundMessage};
use tsunagu_core::jobs::{InboundDispatch, LineFetchContent};
use tsunagu_core::{ConversationId, MessageId};
use tsunagu_store::conversations::{self, NewMessage};
use tsunagu_store::{jobs, patients};

use super::line::LineChannel;

/// Standby mode: another bot answers; we keep the event but must never auto-reply to it.
pub(super) fn usable_reply_token(event: &Event) -> Option<String> {
    if event.mode.as_deref() == Some("standby") {
        None
    } else {
        event.reply_token.clone()
    }
}

/// "Who answers" runs as a job after the commit, so the webhook answers in milliseconds.
pub(super) async fn enqueue_dispatch(
    conn: &mut AnyConnection,
    ch: &LineChannel<'_>,
    event: &Event,
    message_id: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    if event.mode.as_deref() == Some("standby") {
        return Ok(());
    }
    let payload = InboundDispatch {
        clinic_id: ch.clinic_id.clone(),
        message_id: MessageId::from_db(message_id.to_string()),
    };
    jobs::enqueue(
        conn,
        &payload,
        jobs::Enqueue {
            clinic_id: Some(ch.clinic_id),
            idempotency_key: &format!("dispatch:{message_id}"),
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn store_message(
    conn: &mut AnyConnection,
    ch: &LineChannel<'_>,
    conv: &conversations::Conversation,
    sender: Option<&patients::Identity>,
    event: &Event,
    m: &InboundMessage,
    at: i64,
    now_ms: i64,
) -> anyhow::Result<()> {
    let kind = match m.kind.as_str() {
        "text" | "image" | "video" | "audio" | "file" | "location" | "sticker" => m.kind.as_str(),
        _ => "unsupported",
    };
    let payload = json!({
        "message": m.raw_message,
        "mode": event.mode,
        "reply_token": usable_reply_token(event),
        "reply_token_at": event.timestamp_ms,
    });
    let message_id = insert(
        conn,
        ch,
        conv,
        "in",
        kind,
        m.text.as_deref(),
        &payload,
        sender,
        Some(&m.id),
        at,
    )
    .await?;
    enqueue_dispatch(conn, ch, event, &message_id, now_ms).await?;
    if m.content_provider_line && matches!(kind, "image" | "video" | "audio" | "file") {
        let job = LineFetchContent {
            channel_id: ch.channel_id.clone(),
            message_id: MessageId::from_db(message_id),
            line_message_id: m.id.clone(),
        };
        jobs::enqueue(
            &mut *conn,
            &job,
            jobs::Enqueue {
                clinic_id: Some(ch.clinic_id),
                idempotency_key: &format!("content:{}:{}", ch.channel_id, m.id),
                run_at: now_ms,
            },
            now_ms,
        )
        .await?;
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
pub(super) async fn insert(
    conn: &mut AnyConnection,
    ch: &LineChannel<'_>,
    conv: &conversations::Conversation,
    direction: &str,
    kind: &str,
    body: Option<&str>,
    payload: &serde_json::Value,
    sender: Option<&patients::Identity>,
    provider_message_id: Option<&str>,
    at: i64,
) -> anyhow::Result<String> {
    let conv_id = ConversationId::from_db(conv.id.clone());
    let id = conversations::insert_message(
        &mut *conn,
        NewMessage {
            clinic_id: ch.clinic_id,
            conversation_id: &conv_id,
            channel_id: ch.channel_id,
            direction,
            kind,
            body,
            payload: &payload.to_string(),
            sender_identity_id: sender.map(|s| s.id.as_str()),
            author_kind: if direction == "system" {
                "system"
            } else {
                "patient"
            },
            author_staff_id: None,
            provider_message_id,
            status: "received",
            at_ms: at,
        },
    )
    .await?;
    Ok(id.into_string())
}
