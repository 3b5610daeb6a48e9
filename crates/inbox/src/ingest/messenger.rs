//! Messenger and Instagram messaging deliveries into the inbox: messages, postbacks,
//! reactions, delivery and read receipts, routed by page id. Meta doc: Messenger Platform ›
//! Webhooks › messages, messaging_postbacks, message_deliveries, message_reads,
//! message_reactions.
use serde_json::json;
use sqlx::AnyConnection;
use tsunagu_channels::messenger::events::{Event, EventKind, WebhookBody};
use tsunagu_core::jobs::MessengerFetchProfile;
use tsunagu_core::ChannelIdentityId;
use tsunagu_store::channels::Endpoints;
use tsunagu_store::{conversations, jobs, statuses, Db};

use super::inbound::{self, ChannelRef, PatientMessage, RawEvent, Stored};
use super::IngestReport;
use tsunagu_store::GroupWork;

async fn ingest_in(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    endpoints: &Endpoints,
    body: &WebhookBody,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    let mut report = IngestReport::default();
    for e in &body.events {
        let raw = e.raw.to_string();
        let ev = RawEvent {
            event_id: &e.dedupe_key,
            event_type: event_type(&e.kind),
            body: &raw,
            sender: Some(e.user_id()),
        };
        let (fresh, conv) = if endpoints.serves(&e.page_id) {
            // An Instagram account linked to a page is answered through that page.
            let via = endpoints.page_for(&e.page_id).unwrap_or(&e.page_id);
            apply(&mut *conn, ch, &ev, e, via, now_ms).await?
        } else {
            (
                inbound::record_unrouted(&mut *conn, ch, &ev, now_ms).await?,
                None,
            )
        };
        if fresh {
            report.new_events += 1;
        } else {
            report.duplicate_events += 1;
        }
        if let Some(c) = conv.filter(|c| !report.touched_conversations.contains(c)) {
            report.touched_conversations.push(c);
        }
    }
    Ok(report)
}

/// Stores one verified delivery atomically before the 200 (`inbound::commit`: the group
/// commit on SQLite); redelivered items change nothing.
pub async fn ingest(
    db: &Db,
    ch: ChannelRef<'_>,
    endpoints: &Endpoints,
    body: &WebhookBody,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    // Shared, not cloned, by every run of the work (the group writer may run it again).
    let data = std::sync::Arc::new((
        ch.clinic_id.clone(),
        ch.channel_id.clone(),
        endpoints.clone(),
        body.clone(),
    ));
    let work: GroupWork<IngestReport> = Box::new(move |conn| {
        let data = data.clone();
        Box::pin(async move {
            let (clinic_id, channel_id, endpoints, body) = &*data;
            let ch = ChannelRef {
                clinic_id,
                channel_id,
            };
            ingest_in(conn, ch, endpoints, body, now_ms).await
        })
    });
    inbound::commit(db, work).await
}

fn event_type(kind: &EventKind) -> &str {
    match kind {
        EventKind::Message { .. } => "message",
        EventKind::Postback { .. } => "postback",
        EventKind::Delivery { .. } => "delivery",
        EventKind::Read { .. } => "read",
        EventKind::Reaction { .. } => "reaction",
        EventKind::Other { kind } => kind,
    }
}

async fn apply(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    ev: &RawEvent<'_>,
    e: &Event,
    via: &str,
    now_ms: i64,
) -> anyhow::Result<(bool, Option<String>)> {
    let at = if e.timestamp_ms > 0 {
        e.timestamp_ms
    } else {
        now_ms
    };
    let patient = |kind, body: Option<String>, payload, mid: Option<&str>, media, dispatch| {
        (
            kind,
            body,
            payload,
            mid.map(str::to_string),
            media,
            dispatch,
        )
    };
    let shaped = match &e.kind {
        // The page's own messages (sent by us or another tool): kept raw only.
        EventKind::Message { is_echo: true, .. } | EventKind::Other { .. } => None,
        EventKind::Message {
            is_deleted: true,
            mid,
            ..
        } => {
            let fresh = inbound::record_event(&mut *conn, ch, ev, now_ms).await?;
            if fresh {
                conversations::mark_unsent(&mut *conn, ch.channel_id, mid, at).await?;
            }
            return Ok((fresh, None));
        }
        EventKind::Message {
            mid,
            text,
            attachments,
            quick_reply_payload,
            reply_to_mid,
            ..
        } => {
            let first = attachments.first();
            let kind = match first.map(|a| a.kind.as_str()) {
                None => "text",
                Some(_) if first.is_some_and(|a| a.sticker_id.is_some()) => "sticker",
                Some("image") => "image",
                Some("video") => "video",
                Some("audio") => "audio",
                Some("location") => "location",
                Some("file") => "file",
                Some(_) => "unsupported",
            };
            // A multi-photo pick is one message with an attachment per photo: every URL is
            // downloaded (they expire), not just the first.
            let urls: Vec<&str> = attachments
                .iter()
                .filter(|a| {
                    a.sticker_id.is_some()
                        || matches!(a.kind.as_str(), "image" | "video" | "audio" | "file")
                })
                .filter_map(|a| a.url.as_deref())
                .collect();
            let media = urls
                .first()
                .filter(|_| matches!(kind, "image" | "video" | "audio" | "file" | "sticker"))
                .map(|url| json!({"url": url, "urls": urls}));
            let body = text.clone().or_else(|| first.and_then(|a| a.title.clone()));
            let payload = json!({"message": e.raw.get("message"), "quick_reply": quick_reply_payload,
                "reply_to": reply_to_mid, "instagram": e.instagram});
            Some(patient(kind, body, payload, Some(mid), media, !e.standby))
        }
        EventKind::Postback {
            mid,
            title,
            payload,
        } => {
            let body = title.clone().or(payload.clone());
            let p = json!({"postback": e.raw.get("postback"), "instagram": e.instagram});
            Some(patient(
                "postback",
                body,
                p,
                mid.as_deref(),
                None,
                !e.standby,
            ))
        }
        EventKind::Reaction {
            mid, emoji, action, ..
        } => {
            let removed = matches!(
                action,
                tsunagu_channels::messenger::events::ReactionAction::Unreact
            );
            let body = if removed {
                Some("(reaction removed)".to_string())
            } else {
                emoji.clone()
            };
            Some(patient(
                "reaction",
                body,
                json!({"target": mid}),
                None,
                None,
                false,
            ))
        }
        EventKind::Delivery { mids, watermark } => {
            return receipt(conn, ch, ev, e, "delivered", mids, *watermark, now_ms).await;
        }
        EventKind::Read { watermark, mid } => {
            let mids: Vec<String> = mid.iter().cloned().collect();
            return receipt(conn, ch, ev, e, "read", &mids, *watermark, now_ms).await;
        }
    };
    let Some((kind, body, payload, mid, media, dispatch)) = shaped else {
        return Ok((inbound::record_event(conn, ch, ev, now_ms).await?, None));
    };
    let fallback = if e.instagram {
        "Instagram"
    } else {
        "Messenger"
    };
    let pm = PatientMessage {
        from: &e.sender_id,
        profile_name: None,
        fallback_name: fallback,
        via: Some(via),
        kind,
        body: body.as_deref(),
        payload,
        provider_message_id: mid.as_deref(),
        at_ms: at,
        media,
        dispatch,
    };
    match inbound::store_message(conn, ch, ev, &pm, now_ms).await? {
        Stored::Duplicate => Ok((false, None)),
        Stored::New {
            conversation_id,
            identity,
            ..
        } => {
            // A first message: the name comes from the Graph API (Instagram profiles differ).
            if identity.display_name.is_none() && !e.instagram {
                let job = MessengerFetchProfile {
                    channel_id: ch.channel_id.clone(),
                    identity_id: ChannelIdentityId::from_db(identity.id.clone()),
                    page_id: via.to_string(),
                    psid: e.sender_id.clone(),
                };
                jobs::enqueue(
                    conn,
                    &job,
                    jobs::Enqueue {
                        clinic_id: Some(ch.clinic_id),
                        idempotency_key: &format!("profile:{}", identity.id),
                        run_at: now_ms,
                    },
                    now_ms,
                )
                .await?;
            }
            Ok((true, Some(conversation_id)))
        }
    }
}

/// Delivery and read receipts: by message id when given, else by watermark.
#[allow(clippy::too_many_arguments)]
async fn receipt(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    ev: &RawEvent<'_>,
    e: &Event,
    status: &str,
    mids: &[String],
    watermark: Option<i64>,
    now_ms: i64,
) -> anyhow::Result<(bool, Option<String>)> {
    if !inbound::record_event(&mut *conn, ch, ev, now_ms).await? {
        return Ok((false, None));
    }
    let at = if e.timestamp_ms > 0 {
        e.timestamp_ms
    } else {
        now_ms
    };
    let mut conv = None;
    for mid in mids {
        let r = statuses::Report {
            channel_id: ch.channel_id,
            provider_message_id: mid,
            status,
            failure_code: None,
            failure_reason: None,
            at_ms: at,
        };
        if let Some(a) = statuses::apply(&mut *conn, r).await? {
            conv = Some(a.conversation_id);
        }
    }
    if let Some(w) = watermark {
        let user = e.user_id();
        if let Some(c) = statuses::apply_watermark(conn, ch.channel_id, user, status, w).await? {
            conv = Some(c);
        }
    }
    Ok((true, conv))
}
