//! LINE webhook events into the inbox. LINE doc: Messaging API reference › Webhook Event Objects.
use anyhow::Context;
use serde_json::json;
use sqlx::AnyConnection;
use tsunagu_channels::line::events::{Event, EventDetail, Source, WebhookBody};
use tsunagu_core::{ChannelId, ChannelIdentityId, ClinicId};
use tsunagu_store::arrival::{self, Arrival};
use tsunagu_store::conversations::{self, NewConversation};
use tsunagu_store::{jobs, patients, webhooks, Backend, Db, GroupWork};

use super::line_messages::{enqueue_dispatch, insert, store_message, usable_reply_token};
use super::IngestReport;
use tsunagu_core::jobs::LineFetchProfile;

pub struct LineChannel<'a> {
    pub clinic_id: &'a ClinicId,
    pub channel_id: &'a ChannelId,
}

/// Stores every event of one delivery atomically; redelivered events change nothing. On SQLite
/// the delivery joins the group commit (one writer, one fsync for every delivery queued
/// meanwhile); the answer comes only after the commit, so nothing acknowledged can be lost.
pub async fn ingest(
    db: &Db,
    ch: LineChannel<'_>,
    body: &WebhookBody,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    if body.events.is_empty() {
        return Ok(IngestReport::default()); // LINE's connectivity check: nothing to store
    }
    if db.backend() == Backend::Postgres {
        // PostgreSQL takes concurrent writers and already flushes concurrent commits together.
        let mut tx = db.begin().await?;
        let report = ingest_in(tx.conn(), &ch, body, now_ms).await?;
        tx.commit().await.context("committing the LINE delivery")?;
        return Ok(report);
    }
    // Shared, not cloned, by every run of the work (the group writer may run it again).
    let data = std::sync::Arc::new((ch.clinic_id.clone(), ch.channel_id.clone(), body.clone()));
    let work: GroupWork<IngestReport> = Box::new(move |conn| {
        let data = data.clone();
        Box::pin(async move {
            let (clinic_id, channel_id, body) = &*data;
            let ch = LineChannel {
                clinic_id,
                channel_id,
            };
            ingest_in(conn, &ch, body, now_ms).await
        })
    });
    db.write_grouped(work)
        .await
        .context("committing the LINE delivery")
}

/// One delivery's events on `conn`, inside the caller's transaction (or savepoint).
pub async fn ingest_in(
    conn: &mut AnyConnection,
    ch: &LineChannel<'_>,
    body: &WebhookBody,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    let mut report = IngestReport::default();
    for event in &body.events {
        let sender = event.source.as_ref().and_then(|s| s.sender_user_id());
        // The raw event once, with the sender's identity and the thread's conversation as
        // they stand (one call on SQLite): `apply` reads them instead of looking them up.
        let lookup = arrival::Lookup {
            external_id: sender,
            thread_key: event.source.as_ref().and_then(|s| s.thread_key()),
        };
        let raw = event.raw.to_string();
        let new = webhooks::NewEvent {
            clinic_id: ch.clinic_id,
            channel_id: ch.channel_id,
            provider_event_id: &event.webhook_event_id,
            event_type: &event.kind,
            mode: event.mode.as_deref(),
            body: &raw,
        };
        let arrived = arrival::arrive(&mut *conn, new, sender, lookup, now_ms).await?;
        if !arrived.fresh {
            report.duplicate_events += 1;
            continue;
        }
        report.new_events += 1;
        if let Some(conv) = apply(conn, ch, event, arrived, now_ms)
            .await
            .with_context(|| format!("applying a LINE {} event", event.kind))?
        {
            if !report.touched_conversations.contains(&conv) {
                report.touched_conversations.push(conv);
            }
        }
    }
    Ok(report)
}

/// The identity of a LINE user on this channel (`found`: as read with the event), created
/// (with a provisional patient and a profile-fetch job) on first sight.
async fn identity_for(
    conn: &mut AnyConnection,
    ch: &LineChannel<'_>,
    user_id: &str,
    found: Option<patients::Identity>,
    now_ms: i64,
) -> anyhow::Result<patients::Identity> {
    if let Some(found) = found {
        return Ok(found);
    }
    let ident = patients::create_provisional(
        &mut *conn,
        ch.clinic_id,
        ch.channel_id,
        user_id,
        "LINE",
        now_ms,
    )
    .await?;
    let payload = LineFetchProfile {
        channel_id: ch.channel_id.clone(),
        identity_id: ChannelIdentityId::from_db(ident.id.clone()),
        user_id: user_id.to_string(),
    };
    jobs::enqueue(
        &mut *conn,
        &payload,
        jobs::Enqueue {
            clinic_id: Some(ch.clinic_id),
            idempotency_key: &format!("profile:{}", ident.id),
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    Ok(ident)
}

/// The event's conversation and sender, from what `arrived` read with the event (created when
/// missing).
async fn conversation_for(
    conn: &mut AnyConnection,
    ch: &LineChannel<'_>,
    source: &Source,
    arrived: Arrival,
    now_ms: i64,
) -> anyhow::Result<Option<(conversations::Conversation, Option<patients::Identity>)>> {
    let Some(thread) = source.thread_key() else {
        return Ok(None);
    };
    let sender = match source.sender_user_id() {
        Some(u) => Some(identity_for(conn, ch, u, arrived.identity, now_ms).await?),
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
    if let Some(conv) = arrived.conversation {
        return Ok(Some((conv, sender)));
    }
    let conv = conversations::find_or_create(
        &mut *conn,
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

async fn apply(
    conn: &mut AnyConnection,
    ch: &LineChannel<'_>,
    event: &Event,
    arrived: Arrival,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let Some(source) = &event.source else {
        return Ok(None);
    };
    let at = if event.timestamp_ms > 0 {
        event.timestamp_ms
    } else {
        now_ms
    };
    match &event.detail {
        EventDetail::Message(m) => {
            let Some((conv, sender)) = conversation_for(conn, ch, source, arrived, now_ms).await?
            else {
                return Ok(None);
            };
            store_message(conn, ch, &conv, sender.as_ref(), event, m, at, now_ms).await?;
            Ok(Some(conv.id))
        }
        EventDetail::Postback { data, params } => {
            let Some((conv, sender)) = conversation_for(conn, ch, source, arrived, now_ms).await?
            else {
                return Ok(None);
            };
            let payload = json!({"data": data, "params": params, "mode": event.mode,
                "reply_token": usable_reply_token(event), "reply_token_at": event.timestamp_ms});
            let id = insert(
                conn,
                ch,
                &conv,
                "in",
                "postback",
                Some(data),
                &payload,
                sender.as_ref(),
                None,
                at,
            )
            .await?;
            enqueue_dispatch(conn, ch, event, &id, now_ms).await?;
            Ok(Some(conv.id))
        }
        EventDetail::Follow { is_unblocked } => {
            let Some((conv, sender)) = conversation_for(conn, ch, source, arrived, now_ms).await?
            else {
                return Ok(None);
            };
            if let Some(s) = &sender {
                let id = ChannelIdentityId::from_db(s.id.clone());
                patients::set_follow_state(&mut *conn, &id, "following", now_ms).await?;
            }
            let what = if *is_unblocked {
                "unblocked"
            } else {
                "followed"
            };
            let payload = json!({"event": what, "mode": event.mode,
                "reply_token": usable_reply_token(event), "reply_token_at": event.timestamp_ms});
            let id = insert(
                conn,
                ch,
                &conv,
                "system",
                "event",
                Some(what),
                &payload,
                sender.as_ref(),
                None,
                at,
            )
            .await?;
            enqueue_dispatch(conn, ch, event, &id, now_ms).await?;
            Ok(Some(conv.id))
        }
        EventDetail::Unfollow => {
            let Some(user) = source.sender_user_id() else {
                return Ok(None);
            };
            let Some(ident) = patients::identity(&mut *conn, ch.channel_id, user).await? else {
                return Ok(None);
            };
            let id = ChannelIdentityId::from_db(ident.id.clone());
            patients::set_follow_state(&mut *conn, &id, "blocked", now_ms).await?;
            let Some((conv, _)) = conversation_for(conn, ch, source, arrived, now_ms).await? else {
                return Ok(None);
            };
            let payload = json!({"event": "blocked"});
            insert(
                conn,
                ch,
                &conv,
                "system",
                "event",
                Some("blocked"),
                &payload,
                Some(&ident),
                None,
                at,
            )
            .await?;
            Ok(Some(conv.id))
        }
        EventDetail::Unsend { message_id } => {
            conversations::mark_unsent(&mut *conn, ch.channel_id, message_id, at).await?;
            let conv = conversation_for(conn, ch, source, arrived, now_ms)
                .await?
                .map(|(c, _)| c.id);
            Ok(conv)
        }
        EventDetail::Join
        | EventDetail::Leave
        | EventDetail::MemberJoined { .. }
        | EventDetail::MemberLeft { .. } => {
            let Some((conv, sender)) = conversation_for(conn, ch, source, arrived, now_ms).await?
            else {
                return Ok(None);
            };
            let payload = json!({"event": event.kind, "raw": event.raw});
            insert(
                conn,
                ch,
                &conv,
                "system",
                "event",
                Some(&event.kind),
                &payload,
                sender.as_ref(),
                None,
                at,
            )
            .await?;
            Ok(Some(conv.id))
        }
        // Stored as a raw webhook event only (beacon, accountLink, future types…).
        EventDetail::Other => Ok(None),
    }
}
