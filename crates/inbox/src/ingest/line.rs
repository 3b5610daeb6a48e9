//! LINE webhook events into the inbox. LINE doc: Messaging API reference › Webhook Event Objects.
use anyhow::Context;
use serde_json::json;
use tsunagu_channels::line::events::{Event, EventDetail, InboundMessage, Source, WebhookBody};
use tsunagu_core::{ChannelId, ChannelIdentityId, ClinicId, ConversationId};
use tsunagu_store::conversations::{self, NewConversation, NewMessage};
use tsunagu_store::{jobs, patients, webhooks, Db, Tx};

use super::IngestReport;
use tsunagu_core::job_kinds::{LINE_FETCH_CONTENT as FETCH_CONTENT_JOB, LINE_FETCH_PROFILE as FETCH_PROFILE_JOB};

pub struct LineChannel<'a> {
    pub clinic_id: &'a ClinicId,
    pub channel_id: &'a ChannelId,
}

/// Stores every event of one delivery in one transaction; redelivered events change nothing.
pub async fn ingest(db: &Db, ch: LineChannel<'_>, body: &WebhookBody, now_ms: i64) -> anyhow::Result<IngestReport> {
    let mut report = IngestReport::default();
    let mut tx = db.begin().await?;
    for event in &body.events {
        let fresh = webhooks::insert_once(
            tx.conn(),
            webhooks::NewEvent {
                clinic_id: ch.clinic_id,
                channel_id: ch.channel_id,
                provider_event_id: &event.webhook_event_id,
                event_type: &event.kind,
                mode: event.mode.as_deref(),
                body: &event.raw.to_string(),
            },
            now_ms,
        )
        .await?;
        if !fresh {
            report.duplicate_events += 1;
            continue;
        }
        report.new_events += 1;
        if let Some(conv) = apply(&mut tx, &ch, event, now_ms)
            .await
            .with_context(|| format!("applying a LINE {} event", event.kind))?
        {
            if !report.touched_conversations.contains(&conv) {
                report.touched_conversations.push(conv);
            }
        }
    }
    tx.commit().await.context("committing the LINE delivery")?;
    Ok(report)
}

/// The identity of a LINE user on this channel, created (with a provisional patient and a
/// profile-fetch job) on first sight.
async fn identity_for(
    tx: &mut Tx,
    ch: &LineChannel<'_>,
    user_id: &str,
    now_ms: i64,
) -> anyhow::Result<patients::Identity> {
    if let Some(found) = patients::identity(tx.conn(), ch.channel_id, user_id).await? {
        return Ok(found);
    }
    let ident = patients::create_provisional(tx.conn(), ch.clinic_id, ch.channel_id, user_id, "LINE", now_ms).await?;
    let payload = json!({"channel_id": ch.channel_id.as_str(), "identity_id": ident.id, "user_id": user_id});
    jobs::enqueue(
        tx.conn(),
        jobs::NewJob {
            clinic_id: Some(ch.clinic_id),
            kind: FETCH_PROFILE_JOB,
            payload: &payload.to_string(),
            idempotency_key: &format!("profile:{}", ident.id),
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    Ok(ident)
}

async fn conversation_for(
    tx: &mut Tx,
    ch: &LineChannel<'_>,
    source: &Source,
    now_ms: i64,
) -> anyhow::Result<Option<(conversations::Conversation, Option<patients::Identity>)>> {
    let Some(thread) = source.thread_key() else { return Ok(None) };
    let sender = match source.sender_user_id() {
        Some(u) => Some(identity_for(tx, ch, u, now_ms).await?),
        None => None,
    };
    let (kind, patient, identity, title) = match source {
        Source::User { .. } => (
            "direct",
            sender.as_ref().map(|i| i.patient_id.as_str()),
            sender.as_ref().map(|i| i.id.as_str()),
            None,
        ),
        // A group is not a patient: each sender is recorded on their own messages.
        Source::Group { .. } => ("group", None, None, Some("LINE グループ")),
        Source::Room { .. } => ("room", None, None, Some("LINE トークルーム")),
        Source::Unknown { .. } => return Ok(None),
    };
    let conv = conversations::find_or_create(
        tx.conn(),
        NewConversation {
            clinic_id: ch.clinic_id,
            channel_id: ch.channel_id,
            kind,
            thread_key: thread,
            patient_id: patient,
            channel_identity_id: identity,
            title,
        },
        now_ms,
    )
    .await?;
    Ok(Some((conv, sender)))
}

async fn apply(tx: &mut Tx, ch: &LineChannel<'_>, event: &Event, now_ms: i64) -> anyhow::Result<Option<String>> {
    let Some(source) = &event.source else { return Ok(None) };
    let at = if event.timestamp_ms > 0 { event.timestamp_ms } else { now_ms };
    match &event.detail {
        EventDetail::Message(m) => {
            let Some((conv, sender)) = conversation_for(tx, ch, source, now_ms).await? else { return Ok(None) };
            store_message(tx, ch, &conv, sender.as_ref(), event, m, at, now_ms).await?;
            Ok(Some(conv.id))
        }
        EventDetail::Postback { data, params } => {
            let Some((conv, sender)) = conversation_for(tx, ch, source, now_ms).await? else { return Ok(None) };
            let payload = json!({"data": data, "params": params, "mode": event.mode});
            insert(tx, ch, &conv, "in", "postback", Some(data), &payload, sender.as_ref(), None, at).await?;
            Ok(Some(conv.id))
        }
        EventDetail::Follow { is_unblocked } => {
            let Some((conv, sender)) = conversation_for(tx, ch, source, now_ms).await? else { return Ok(None) };
            if let Some(s) = &sender {
                let id = ChannelIdentityId::from_db(s.id.clone());
                patients::set_follow_state(tx.conn(), &id, "following", now_ms).await?;
            }
            let what = if *is_unblocked { "unblocked" } else { "followed" };
            let payload = json!({"event": what});
            insert(tx, ch, &conv, "system", "event", Some(what), &payload, sender.as_ref(), None, at).await?;
            Ok(Some(conv.id))
        }
        EventDetail::Unfollow => {
            let Some(user) = source.sender_user_id() else { return Ok(None) };
            let Some(ident) = patients::identity(tx.conn(), ch.channel_id, user).await? else { return Ok(None) };
            let id = ChannelIdentityId::from_db(ident.id.clone());
            patients::set_follow_state(tx.conn(), &id, "blocked", now_ms).await?;
            let Some((conv, _)) = conversation_for(tx, ch, source, now_ms).await? else { return Ok(None) };
            let payload = json!({"event": "blocked"});
            insert(tx, ch, &conv, "system", "event", Some("blocked"), &payload, Some(&ident), None, at).await?;
            Ok(Some(conv.id))
        }
        EventDetail::Unsend { message_id } => {
            conversations::mark_unsent(tx.conn(), ch.channel_id, message_id, at).await?;
            let conv = conversation_for(tx, ch, source, now_ms).await?.map(|(c, _)| c.id);
            Ok(conv)
        }
        EventDetail::Join | EventDetail::Leave | EventDetail::MemberJoined { .. } | EventDetail::MemberLeft { .. } => {
            let Some((conv, sender)) = conversation_for(tx, ch, source, now_ms).await? else { return Ok(None) };
            let payload = json!({"event": event.kind, "raw": event.raw});
            insert(tx, ch, &conv, "system", "event", Some(&event.kind), &payload, sender.as_ref(), None, at).await?;
            Ok(Some(conv.id))
        }
        // Stored as a raw webhook event only (beacon, accountLink, future types…).
        EventDetail::Other => Ok(None),
    }
}

#[allow(clippy::too_many_arguments)]
async fn store_message(
    tx: &mut Tx,
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
    // Standby mode: another bot answers; we keep the message but must never auto-reply to it.
    let payload = json!({
        "message": m.raw_message,
        "mode": event.mode,
        "reply_token": if event.mode.as_deref() == Some("standby") { None } else { event.reply_token.clone() },
        "reply_token_at": event.timestamp_ms,
    });
    let message_id = insert(tx, ch, conv, "in", kind, m.text.as_deref(), &payload, sender, Some(&m.id), at).await?;
    if m.content_provider_line && matches!(kind, "image" | "video" | "audio" | "file") {
        let job = json!({"channel_id": ch.channel_id.as_str(), "message_id": message_id, "line_message_id": m.id});
        jobs::enqueue(
            tx.conn(),
            jobs::NewJob {
                clinic_id: Some(ch.clinic_id),
                kind: FETCH_CONTENT_JOB,
                payload: &job.to_string(),
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
async fn insert(
    tx: &mut Tx,
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
        tx.conn(),
        NewMessage {
            clinic_id: ch.clinic_id,
            conversation_id: &conv_id,
            channel_id: ch.channel_id,
            direction,
            kind,
            body,
            payload: &payload.to_string(),
            sender_identity_id: sender.map(|s| s.id.as_str()),
            author_kind: if direction == "system" { "system" } else { "patient" },
            author_staff_id: None,
            provider_message_id,
            status: "received",
            at_ms: at,
        },
    )
    .await?;
    Ok(id.into_string())
}
