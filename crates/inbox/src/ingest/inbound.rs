//! The part of ingest every provider shares once its adapter has verified and parsed a
//! delivery (WhatsApp, Messenger, SMS): the raw event stored once, the patient's identity
//! (provisional patient on first contact), the conversation, the message, and the jobs that
//! follow (dispatch, media download) — all on the caller's transaction.
use serde_json::json;
use sqlx::AnyConnection;
use tsunagu_core::jobs::{FetchMedia, InboundDispatch, JobPayload};
use tsunagu_core::{ChannelId, ClinicId, ConversationId, MessageId};
use tsunagu_store::conversations::{self, NewConversation, NewMessage};
use tsunagu_store::{arrival, jobs, patients, reachability, statuses, webhooks};

/// The channel a delivery arrived on.
#[derive(Clone, Copy)]
pub struct ChannelRef<'a> {
    pub clinic_id: &'a ClinicId,
    pub channel_id: &'a ChannelId,
}

/// One raw provider event: `event_id` is the dedupe key (wamid, mid, MessageSid, or
/// `wamid:status` for statuses).
pub struct RawEvent<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    /// The event as received (one entry/item, not the whole delivery).
    pub body: &'a str,
    /// The patient's provider id, so erasure finds their raw events.
    pub sender: Option<&'a str>,
}

/// A patient's message, in the words every kind shares.
pub struct PatientMessage<'a> {
    /// Provider id of the patient: wa_id, PSID, E.164 number.
    pub from: &'a str,
    /// The name the provider gives (WhatsApp profile name); the patient is named after it.
    pub profile_name: Option<&'a str>,
    /// Used as the provisional patient's name when there is no profile name.
    pub fallback_name: &'a str,
    /// The clinic-side address it was sent to (phone number id, page id, SMS number).
    pub via: Option<&'a str>,
    /// text, image, video, audio, file, location, sticker, contacts, interactive, postback,
    /// reaction, unsupported.
    pub kind: &'a str,
    pub body: Option<&'a str>,
    pub payload: serde_json::Value,
    pub provider_message_id: Option<&'a str>,
    /// When the provider says it was sent.
    pub at_ms: i64,
    /// The provider's media reference, for a `channel.fetch_media` job (downloaded at once:
    /// the links expire).
    pub media: Option<serde_json::Value>,
    /// Hand it to the dispatcher (automations, verification). Reactions and the like: no.
    pub dispatch: bool,
}

/// What storing a message did.
pub enum Stored {
    /// Delivered before: nothing changed.
    Duplicate,
    New {
        conversation_id: String,
        message_id: String,
        identity: Box<patients::Identity>,
    },
}

/// Stores the raw event once. `false`: a redelivery, store nothing else.
pub async fn record_event(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    e: &RawEvent<'_>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    webhooks::insert_once_from(conn, new_event(ch, e), e.sender, now_ms).await
}

fn new_event<'a>(ch: ChannelRef<'a>, e: &RawEvent<'a>) -> webhooks::NewEvent<'a> {
    webhooks::NewEvent {
        clinic_id: ch.clinic_id,
        channel_id: ch.channel_id,
        provider_event_id: e.event_id,
        event_type: e.event_type,
        mode: None,
        body: e.body,
    }
}

/// Stores a raw event that could not be routed (an entry for a phone number or page this
/// channel does not serve): kept and flagged for the administrator, never dropped.
pub async fn record_unrouted(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    e: &RawEvent<'_>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let fresh = record_event(&mut *conn, ch, e, now_ms).await?;
    if fresh {
        webhooks::flag(conn, ch.channel_id, e.event_id, "unrouted").await?;
    }
    Ok(fresh)
}

/// The patient's identity on this channel, created with a provisional patient on first contact;
/// a provider profile name renames a provisional patient.
pub async fn identity_for(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    from: &str,
    profile_name: Option<&str>,
    fallback_name: &str,
    now_ms: i64,
) -> anyhow::Result<patients::Identity> {
    let found = patients::identity(&mut *conn, ch.channel_id, from).await?;
    identity_from(conn, ch, found, from, profile_name, fallback_name, now_ms).await
}

/// `identity_for` with the lookup already done (`found`, read in this transaction).
async fn identity_from(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    found: Option<patients::Identity>,
    from: &str,
    profile_name: Option<&str>,
    fallback_name: &str,
    now_ms: i64,
) -> anyhow::Result<patients::Identity> {
    let ident = match found {
        Some(i) => i,
        None => {
            let name = profile_name.unwrap_or(fallback_name);
            patients::create_provisional(conn, ch.clinic_id, ch.channel_id, from, name, now_ms)
                .await?
        }
    };
    if let Some(name) = profile_name.filter(|n| !n.trim().is_empty()) {
        if ident.display_name.as_deref() != Some(name) {
            let id = tsunagu_core::ChannelIdentityId::from_db(ident.id.clone());
            let profile = patients::Profile {
                display_name: name,
                picture_url: ident.picture_url.as_deref(),
                status_message: ident.status_message.as_deref(),
                language: ident.language.as_deref(),
            };
            patients::set_profile(conn, &id, profile, now_ms).await?;
        }
    }
    Ok(ident)
}

/// Stores a patient's message after its raw event (dedupe first).
pub async fn store_message(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    raw: &RawEvent<'_>,
    m: &PatientMessage<'_>,
    now_ms: i64,
) -> anyhow::Result<Stored> {
    // The raw event with the patient's identity and conversation as they stand: one call.
    let lookup = arrival::Lookup {
        external_id: Some(m.from),
        thread_key: Some(m.from),
    };
    let arrived =
        arrival::arrive(&mut *conn, new_event(ch, raw), raw.sender, lookup, now_ms).await?;
    if !arrived.fresh {
        return Ok(Stored::Duplicate);
    }
    let (found, conv) = (arrived.identity, arrived.conversation);
    let ident = identity_from(
        conn,
        ch,
        found,
        m.from,
        m.profile_name,
        m.fallback_name,
        now_ms,
    )
    .await?;
    reachability::record_inbound_clearing_bounce(&mut *conn, &ident.id, m.at_ms).await?;
    let conv = match conv {
        Some(conv) => conv,
        None => {
            let new = NewConversation {
                clinic_id: ch.clinic_id,
                channel_id: ch.channel_id,
                kind: "direct",
                thread_key: m.from,
                patient_id: Some(&ident.patient_id),
                channel_identity_id: Some(&ident.id),
                title: None,
            };
            conversations::find_or_create(&mut *conn, new, now_ms).await?
        }
    };
    // Written only when it changes (the statement would change nothing, at the cost of a call).
    if let Some(via) = m.via.filter(|v| conv.via.as_deref() != Some(*v)) {
        conversations::set_via(&mut *conn, &conv.id, via).await?;
    }
    let message_id = conversations::insert_message(
        &mut *conn,
        NewMessage {
            clinic_id: ch.clinic_id,
            conversation_id: &ConversationId::from_db(conv.id.clone()),
            channel_id: ch.channel_id,
            direction: "in",
            kind: m.kind,
            body: m.body,
            payload: &m.payload.to_string(),
            sender_identity_id: Some(&ident.id),
            author_kind: "patient",
            author_staff_id: None,
            provider_message_id: m.provider_message_id,
            status: "received",
            at_ms: m.at_ms,
        },
    )
    .await?
    .into_string();
    if m.dispatch {
        let payload = InboundDispatch {
            clinic_id: ch.clinic_id.clone(),
            message_id: MessageId::from_db(message_id.clone()),
        };
        enqueue(
            conn,
            ch,
            &payload,
            &format!("dispatch:{message_id}"),
            now_ms,
        )
        .await?;
    }
    if let Some(media) = &m.media {
        let payload = FetchMedia {
            channel_id: ch.channel_id.clone(),
            message_id: MessageId::from_db(message_id.clone()),
            media: media.clone(),
        };
        enqueue(conn, ch, &payload, &format!("media:{message_id}"), now_ms).await?;
    }
    Ok(Stored::New {
        conversation_id: conv.id,
        message_id,
        identity: Box::new(ident),
    })
}

/// Stores a delivery status once (`raw.event_id` is `<provider id>:<status>`) and applies it if
/// it moves the message forward: `(fresh, what changed)`.
pub async fn store_status(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    raw: &RawEvent<'_>,
    report: statuses::Report<'_>,
    now_ms: i64,
) -> anyhow::Result<(bool, Option<statuses::Applied>)> {
    if !record_event(&mut *conn, ch, raw, now_ms).await? {
        return Ok((false, None));
    }
    Ok((true, statuses::apply(conn, report).await?))
}

/// A system line in the patient's conversation (opted out, opted in, blocked…), if they have
/// one on this channel.
pub async fn system_note(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    from: &str,
    what: &str,
    at_ms: i64,
) -> anyhow::Result<Option<String>> {
    let conv = conversations::id_by_thread(&mut *conn, ch.channel_id, from).await?;
    let Some(conv) = conv else { return Ok(None) };
    conversations::insert_message(
        conn,
        NewMessage {
            clinic_id: ch.clinic_id,
            conversation_id: &ConversationId::from_db(conv.clone()),
            channel_id: ch.channel_id,
            direction: "system",
            kind: "event",
            body: Some(what),
            payload: &json!({"event": what}).to_string(),
            sender_identity_id: None,
            author_kind: "system",
            author_staff_id: None,
            provider_message_id: None,
            status: "received",
            at_ms,
        },
    )
    .await?;
    Ok(Some(conv))
}

async fn enqueue<J: JobPayload>(
    conn: &mut AnyConnection,
    ch: ChannelRef<'_>,
    payload: &J,
    key: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    jobs::enqueue(
        conn,
        payload,
        jobs::Enqueue {
            clinic_id: Some(ch.clinic_id),
            idempotency_key: key,
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    Ok(())
}

/// Commits one delivery's work before the provider gets its answer: on SQLite it joins the
/// group commit (one writer, one fsync for every delivery queued meanwhile, each under its own
/// savepoint); PostgreSQL takes concurrent writers and gets a transaction per delivery.
pub async fn commit<T: Send + 'static>(
    db: &tsunagu_store::Db,
    work: tsunagu_store::GroupWork<T>,
) -> anyhow::Result<T> {
    if db.backend() == tsunagu_store::Backend::Postgres {
        let mut tx = db.begin().await?;
        let out = work(tx.conn()).await?;
        tx.commit().await?;
        return Ok(out);
    }
    db.write_grouped(work).await
}
