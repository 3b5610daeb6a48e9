//! WhatsApp Cloud API deliveries into the inbox: messages, statuses and everything else, routed
//! by `phone_number_id` among the numbers the channel serves. Meta doc: Cloud API › Webhooks ›
//! Reference › messages.
use anyhow::Context;
use serde_json::json;
use sqlx::AnyConnection;
use tsunagu_channels::whatsapp::{Content, Message, Status, StatusKind, WebhookBody};
use tsunagu_store::channels::Endpoints;
use tsunagu_store::{conversations, reachability, statuses, templates, Db};

use super::inbound::{self, ChannelRef, PatientMessage, RawEvent, Stored};
use super::IngestReport;
use tsunagu_store::GroupWork;

/// Meta's "message undeliverable" family: the number cannot receive WhatsApp messages.
const UNDELIVERABLE: [i64; 2] = [131026, 131000];

async fn ingest_in(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    endpoints: &Endpoints,
    body: &WebhookBody,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    let mut report = IngestReport::default();
    for m in &body.messages {
        let raw = json!({"phone_number_id": m.phone_number_id, "message": m.raw}).to_string();
        let ev = RawEvent {
            event_id: &m.wamid,
            event_type: "message",
            body: &raw,
            sender: Some(&m.from),
        };
        if !endpoints.serves(&m.phone_number_id) {
            count(
                &mut report,
                inbound::record_unrouted(&mut *conn, ch, &ev, now_ms).await?,
                None,
            );
            continue;
        }
        let conv = message(&mut *conn, ch, &ev, m, now_ms).await?;
        count(&mut report, conv.is_some(), conv);
    }
    for s in &body.statuses {
        let raw = s.raw.to_string();
        let key = format!("{}:{}", s.wamid, s.word());
        let ev = RawEvent {
            event_id: &key,
            event_type: "status",
            body: &raw,
            sender: s.recipient_id.as_deref(),
        };
        if !endpoints.serves(&s.phone_number_id) {
            count(
                &mut report,
                inbound::record_unrouted(&mut *conn, ch, &ev, now_ms).await?,
                None,
            );
            continue;
        }
        let (fresh, conv) = status(&mut *conn, ch, &ev, s, now_ms).await?;
        count(&mut report, fresh, conv);
    }
    for o in &body.others {
        // No id of their own: the content is the identity, so a redelivery dedupes.
        let raw = o.raw.to_string();
        let key = format!(
            "other:{}:{}",
            o.field.as_deref().unwrap_or("-"),
            digest(&raw)
        );
        let ev = RawEvent {
            event_id: &key,
            event_type: o.field.as_deref().unwrap_or("other"),
            body: &raw,
            sender: None,
        };
        let served = o
            .phone_number_id
            .as_deref()
            .is_none_or(|p| endpoints.serves(p));
        let fresh = if served {
            inbound::record_event(&mut *conn, ch, &ev, now_ms).await?
        } else {
            inbound::record_unrouted(&mut *conn, ch, &ev, now_ms).await?
        };
        // Meta reviewed a template: fetch the review states now rather than at the next sync.
        if fresh && served && o.field.as_deref() == Some("message_template_status_update") {
            templates::enqueue_sync_keyed(&mut *conn, ch.clinic_id, ch.channel_id, &key, now_ms)
                .await?;
        }
        count(&mut report, fresh, None);
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

fn count(report: &mut IngestReport, fresh: bool, conv: Option<String>) {
    if fresh {
        report.new_events += 1;
    } else {
        report.duplicate_events += 1;
    }
    if let Some(c) = conv.filter(|c| !report.touched_conversations.contains(c)) {
        report.touched_conversations.push(c);
    }
}

fn digest(raw: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(&Sha256::digest(raw.as_bytes())[..16])
}

/// A message: `Some(conversation)` when it was new.
async fn message(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    ev: &RawEvent<'_>,
    m: &Message,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let at = if m.timestamp > 0 {
        m.timestamp * 1000
    } else {
        now_ms
    };
    // Edits and deletions change an earlier message instead of adding one.
    match &m.content {
        Content::Revoke {
            original_message_id,
        } => {
            if !inbound::record_event(&mut *conn, ch, ev, now_ms).await? {
                return Ok(None);
            }
            conversations::mark_unsent(&mut *conn, ch.channel_id, original_message_id, at).await?;
            return conversations::id_by_thread(conn, ch.channel_id, &m.from).await;
        }
        Content::Edit {
            original_message_id,
            body,
        } => {
            if !inbound::record_event(&mut *conn, ch, ev, now_ms).await? {
                return Ok(None);
            }
            conversations::edit_inbound(
                &mut *conn,
                ch.channel_id,
                original_message_id,
                body.as_deref(),
                at,
            )
            .await?;
            return conversations::id_by_thread(conn, ch.channel_id, &m.from).await;
        }
        _ => {}
    }
    let (kind, text, media) = shape(m);
    let payload = json!({"type": m.kind, "message": m.raw, "context_id": m.context_id});
    let pm = PatientMessage {
        from: &m.from,
        profile_name: m.profile_name.as_deref(),
        fallback_name: "WhatsApp",
        via: Some(&m.phone_number_id),
        kind,
        body: text.as_deref(),
        payload,
        provider_message_id: Some(&m.wamid),
        at_ms: at,
        media,
        dispatch: !matches!(m.content, Content::Reaction { .. } | Content::System { .. }),
    };
    match inbound::store_message(conn, ch, ev, &pm, now_ms).await? {
        Stored::Duplicate => Ok(None),
        Stored::New {
            conversation_id, ..
        } => Ok(Some(conversation_id)),
    }
}

/// tsunagu's kind, the text staff see, and the media reference to download.
fn shape(m: &Message) -> (&'static str, Option<String>, Option<serde_json::Value>) {
    match &m.content {
        Content::Text { body } => ("text", Some(body.clone()), None),
        Content::Media {
            media_id,
            mime_type,
            caption,
            filename,
            ..
        } => {
            let kind = match m.kind.as_str() {
                "image" => "image",
                "video" => "video",
                "audio" => "audio",
                "sticker" => "sticker",
                _ => "file",
            };
            let media = media_id
                .as_ref()
                .map(|id| json!({"media_id": id, "mime_type": mime_type}));
            (kind, caption.clone().or(filename.clone()), media)
        }
        Content::Location {
            latitude,
            longitude,
            name,
            address,
        } => {
            let label = [name.clone(), address.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let text = if label.is_empty() {
                format!(
                    "{}, {}",
                    latitude.unwrap_or_default(),
                    longitude.unwrap_or_default()
                )
            } else {
                label
            };
            ("location", Some(text), None)
        }
        Content::Contacts { contacts } => {
            let names: Vec<String> = contacts
                .iter()
                .filter_map(|c| {
                    c.pointer("/name/formatted_name")?
                        .as_str()
                        .map(str::to_string)
                })
                .collect();
            ("contacts", Some(names.join(", ")), None)
        }
        Content::Reaction { emoji, .. } => (
            "reaction",
            Some(
                emoji
                    .clone()
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| "(reaction removed)".into()),
            ),
            None,
        ),
        Content::Button { text, payload } => ("postback", text.clone().or(payload.clone()), None),
        Content::ButtonReply { title, id } => {
            ("postback", title.clone().or(Some(id.clone())), None)
        }
        Content::ListReply { title, id, .. } => {
            ("postback", title.clone().or(Some(id.clone())), None)
        }
        Content::Interactive { subtype } => ("interactive", subtype.clone(), None),
        Content::Order { text, .. } => ("unsupported", text.clone(), None),
        Content::System { body, .. } => ("event", body.clone(), None),
        Content::Unsupported { .. }
        | Content::Unknown
        | Content::Edit { .. }
        | Content::Revoke { .. } => ("unsupported", None, None),
    }
}

/// A status: `(fresh, conversation to refresh)`.
async fn status(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    ev: &RawEvent<'_>,
    s: &Status,
    now_ms: i64,
) -> anyhow::Result<(bool, Option<String>)> {
    if let StatusKind::Other(_) = &s.status {
        return Ok((inbound::record_event(conn, ch, ev, now_ms).await?, None));
    }
    let word = s.word();
    let err = s.errors.first();
    // Kept as the raw event even when no message has this wamid yet: Meta's status can
    // overtake its answer to the send, and the sender applies it once the wamid is recorded.
    let (code, reason) = s.failure();
    let at = if s.timestamp > 0 {
        s.timestamp * 1000
    } else {
        now_ms
    };
    if let Some(ours) = &s.callback_data {
        adopt(&mut *conn, ch, ours, &s.wamid).await?;
    }
    let report = statuses::Report {
        channel_id: ch.channel_id,
        provider_message_id: &s.wamid,
        status: word,
        failure_code: code.as_deref(),
        failure_reason: reason.as_deref(),
        at_ms: at,
    };
    let (fresh, applied) = inbound::store_status(&mut *conn, ch, ev, report, now_ms).await?;
    if fresh
        && word == "failed"
        && err
            .and_then(|e| e.code)
            .is_some_and(|c| UNDELIVERABLE.contains(&c))
    {
        if let Some(to) = &s.recipient_id {
            if let Some(ident) =
                tsunagu_store::patients::identity(&mut *conn, ch.channel_id, to).await?
            {
                let why = reason.as_deref().unwrap_or("undeliverable");
                reachability::set_bounced(&mut *conn, &ident.id, at, why).await?;
            }
        }
    }
    Ok((fresh, applied.map(|a| a.conversation_id)))
}

/// A status names our message through `biz_opaque_callback_data` (its tsunagu id, set by the
/// sender). If that outbound message of this channel has no wamid yet (Meta's answer to the send
/// was lost, so it is in doubt, or has not arrived yet), it takes this one, so the status can be
/// applied: an in-doubt message whose delivery Meta confirms is no longer in doubt.
async fn adopt(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    message_id: &str,
    wamid: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE messages SET provider_message_id = $1,
            failure_code = CASE WHEN status = 'in_doubt' THEN NULL ELSE failure_code END,
            failure_reason = CASE WHEN status = 'in_doubt' THEN NULL ELSE failure_reason END
         WHERE id = $2 AND channel_id = $3 AND direction = 'out' AND provider_message_id IS NULL
           AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.channel_id = $3 AND m.provider_message_id = $1)",
    )
    .bind(wamid)
    .bind(message_id)
    .bind(ch.channel_id.as_str())
    .execute(conn)
    .await
    .context("matching a WhatsApp status to the message it names")?;
    Ok(())
}
