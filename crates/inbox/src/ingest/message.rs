//! A line in a thread (`What::Message`): the sender's identity (a provisional patient on first
//! contact), the conversation, the message, and the jobs and reachability changes that follow.
//! On SQLite each sqlx call is a trip to the connection thread, which costs more than the
//! statements, so everything the message writes is queued (`push`) in the call that stores its
//! raw event, applying only when its sender and conversation exist then: a returning patient's
//! message is ONE call. Otherwise (first contact) they are read, created, and the same
//! statements go again. What needs the outcome (a name the provider changed, a phone number
//! recorded, an SMS opt-out mirrored) follows in calls of its own.
use anyhow::Context;
use serde_json::Value;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use tsunagu_channels::provider::inbound::{Consent, Follow, Message, Profile, Thread};
use tsunagu_core::jobs::{EventRuleFire, FetchMedia, FetchProfile, InboundDispatch, RuleEventKind};
use tsunagu_core::{ChannelIdentityId, ConversationId, MessageId, PatientId};
use tsunagu_store::arrival::{self, Arrival};
use tsunagu_store::batch::Batch;
use tsunagu_store::conversations::{self, Conversation, Inbound, NewConversation, NewMessage};
use tsunagu_store::{patients, reachability};

use super::inbound::Channel;
use super::jobs::{enqueue, push as push_job};

/// What `push` queued: the message's id, the raw event it requires, the clinic-side address
/// replies leave from.
pub(super) struct Queued {
    id: MessageId,
    event_id: String,
    via: Option<String>,
}

/// Queues everything `m` writes once its sender's identity and conversation exist, after its
/// raw event `event_id` (stored in the same call); `via` is the clinic-side address replies
/// leave from.
pub(super) fn push(
    b: &mut Batch,
    ch: &Channel,
    m: &Message,
    via: Option<&str>,
    event_id: &str,
    now_ms: i64,
) -> anyhow::Result<Queued> {
    let queued = Queued {
        id: MessageId::new(),
        event_id: event_id.to_owned(),
        via: via.map(str::to_owned),
    };
    queue(b, ch, m, &queued, now_ms)?;
    Ok(queued)
}

impl Queued {
    /// The message the arrival's last row reports on (`arrival::push_end`).
    pub(super) fn id(&self) -> &MessageId {
        &self.id
    }
}

/// Stores `m` after its raw event (new: `arrived.fresh`), whose call also ran what `push`
/// queued (`rows`: the arrival's). `Some(conversation)` unless there was nothing to store.
pub(super) async fn store(
    conn: &mut AnyConnection,
    ch: &Channel,
    m: &Message,
    queued: &Queued,
    arrived: Arrival,
    rows: Vec<AnyRow>,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    if let Some(conv) = arrived.message_stored_in {
        let conv_id = ConversationId::from_db(conv.clone());
        after(conn, ch, m, &conv_id, None, &rows, now_ms).await?;
        return Ok(Some(conv));
    }
    // First contact (or a thread or identity staff removed meanwhile): what is missing is
    // created, then the queued statements go again.
    let found = match m.thread.sender() {
        Some(from) => patients::identity(&mut *conn, &ch.channel_id, from).await?,
        None => None,
    };
    // An unfollow from someone never seen leaves nobody to mark.
    if m.follow == Some(Follow::Blocked) && found.is_none() {
        return Ok(None);
    }
    let via = queued.via.as_deref();
    let sender = match m.thread.sender() {
        Some(from) => Some(identity(conn, ch, m, from, found, via, now_ms).await?),
        None => None,
    };
    let conv = conversation(conn, ch, &m.thread, sender.as_ref(), now_ms).await?;
    let mut b = Batch::new(conn);
    queue(&mut b, ch, m, queued, now_ms)?;
    arrival::push_end(&mut b, &queued.event_id, Some(&queued.id));
    let rows = b.run(&mut *conn).await?;
    arrival::read(&rows)?
        .message_stored_in
        .context("the message was not stored with its sender and conversation in place")?;
    let conv_id = ConversationId::from_db(conv.id.clone());
    after(conn, ch, m, &conv_id, sender, &rows, now_ms).await?;
    Ok(Some(conv.id))
}

/// The message and what follows it, applied only if, when they run, its raw event was stored
/// by this transaction and its conversation and sender's identity exist.
fn queue(b: &mut Batch, ch: &Channel, m: &Message, q: &Queued, now_ms: i64) -> anyhow::Result<()> {
    let payload = payload(m);
    let inbound = Inbound {
        id: &q.id,
        event_id: &q.event_id,
        clinic_id: &ch.clinic_id,
        channel_id: &ch.channel_id,
        thread_key: m.thread.key(),
        sender: m.thread.sender(),
        direction: if m.system { "system" } else { "in" },
        kind: &m.kind,
        body: m.body.as_deref(),
        payload: &payload,
        author_kind: if m.system { "system" } else { "patient" },
        provider_message_id: m.provider_message_id.as_deref(),
        status: "received",
        at_ms: m.at_ms,
    };
    conversations::push_inbound(b, &inbound);
    if m.thread.sender().is_some() {
        let sender = conversations::sender_of(&q.id);
        if let Some(f) = m.follow {
            patients::push_follow_state(b, &sender, f.as_str(), now_ms);
        }
        if m.reachable {
            reachability::push_inbound_clearing_bounce(b, &sender, m.at_ms);
        }
        // A name the provider gives renames the identity (and then a provisional patient).
        if let Profile::Given(name) = &m.profile {
            if !name.trim().is_empty() {
                patients::push_rename(b, &sender, name, now_ms);
            }
        }
        if m.sender_is_phone {
            let patient = conversations::patient_of_sender(&q.id);
            patients::push_phone_if_missing(b, &patient, m.thread.key());
        }
    }
    // Replies leave from the address the patient last wrote to (written when it changes).
    if let Some(via) = &q.via {
        conversations::push_set_via(b, &conversations::conversation_of(&q.id), via);
    }
    follow_up(b, ch, m, &q.id, now_ms)
}

/// What needs the outcome of the queued statements (`rows`): a changed name completed on the
/// patient, the search key after a phone number was recorded, an SMS opt-out mirrored. The
/// sender's identity is read only then (`sender`: when the caller has it).
async fn after(
    conn: &mut AnyConnection,
    ch: &Channel,
    m: &Message,
    conv: &ConversationId,
    sender: Option<patients::Identity>,
    rows: &[AnyRow],
    now_ms: i64,
) -> anyhow::Result<()> {
    let (renamed, phone_set) = (patients::renamed(rows), patients::phone_set(rows));
    if !renamed && !phone_set && m.consent.is_none() {
        return Ok(());
    }
    let sender = match (sender, m.thread.sender()) {
        (None, Some(from)) => patients::identity(&mut *conn, &ch.channel_id, from).await?,
        (known, _) => known,
    };
    let Some(s) = sender else { return Ok(()) };
    if let (Profile::Given(name), true) = (&m.profile, renamed) {
        let id = ChannelIdentityId::from_db(s.id.clone());
        let profile = patients::Profile {
            display_name: name,
            picture_url: s.picture_url.as_deref(),
            status_message: s.status_message.as_deref(),
            language: s.language.as_deref(),
        };
        patients::set_profile(&mut *conn, &id, profile, now_ms).await?;
    }
    if phone_set {
        let patient = PatientId::from_db(s.patient_id.clone());
        patients::refresh_search_key(&mut *conn, &patient).await?;
    }
    if let Some(consent) = &m.consent {
        mirror_consent(conn, ch, conv, &s, consent, m.at_ms).await?;
    }
    Ok(())
}

/// The payload as stored, with the reply token (null when it must not be used) for the
/// dispatcher.
fn payload(m: &Message) -> String {
    match (&m.reply, &m.payload) {
        (Some(r), Value::Object(fields)) => {
            let mut fields = fields.clone();
            fields.insert("reply_token".into(), Value::from(r.token.clone()));
            fields.insert("reply_token_at".into(), Value::from(r.issued_at_ms));
            Value::Object(fields).to_string()
        }
        _ => m.payload.to_string(),
    }
}

/// "Who answers" and media downloads run as jobs after the commit, so the webhook answers in
/// milliseconds (media links expire: downloaded at once). Queued after the message, and only
/// if it was stored.
fn follow_up(
    b: &mut Batch,
    ch: &Channel,
    m: &Message,
    id: &MessageId,
    now_ms: i64,
) -> anyhow::Result<()> {
    let stored = conversations::message_ref(id);
    if m.dispatch {
        let job = InboundDispatch {
            clinic_id: ch.clinic_id.clone(),
            message_id: id.clone(),
        };
        push_job(b, ch, &job, &format!("dispatch:{id}"), now_ms, &stored)?;
    }
    // Friend added / blocked is an event for the clinic's event rules (the message names it).
    if let Some(follow) = m.follow {
        let kind = match follow {
            Follow::Following => RuleEventKind::FriendAdded,
            Follow::Blocked => RuleEventKind::FriendBlocked,
        };
        let event_key = format!("follow:{id}");
        let key = format!("event_rule:{event_key}");
        let job = EventRuleFire {
            clinic_id: ch.clinic_id.clone(),
            kind,
            event_key,
            message_id: Some(id.clone()),
            patient_id: None,
            conversation_id: None,
            tags: vec![],
            purpose: None,
            granted: None,
            depth: 0,
        };
        push_job(b, ch, &job, &key, now_ms, &stored)?;
    }
    if let Some(media) = &m.media {
        let job = FetchMedia {
            channel_id: ch.channel_id.clone(),
            message_id: id.clone(),
            media: media.clone(),
        };
        push_job(b, ch, &job, &format!("media:{id}"), now_ms, &stored)?;
    }
    Ok(())
}

/// The sender's identity on this channel (`found`: as read with the event), created with a
/// provisional patient on first contact, whose profile is then asked for when the provider has
/// one. (A name the provider gives is set by the queued statements.)
async fn identity(
    conn: &mut AnyConnection,
    ch: &Channel,
    m: &Message,
    from: &str,
    found: Option<patients::Identity>,
    via: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<patients::Identity> {
    if let Some(found) = found {
        return Ok(found);
    }
    let name = match &m.profile {
        Profile::Given(name) => name,
        Profile::Fetch | Profile::Unknown => &m.fallback_name,
    };
    let (clinic, channel) = (&ch.clinic_id, &ch.channel_id);
    let ident =
        patients::create_provisional(&mut *conn, clinic, channel, from, name, now_ms).await?;
    if m.profile == Profile::Fetch {
        let job = FetchProfile {
            channel_id: ch.channel_id.clone(),
            identity_id: ChannelIdentityId::from_db(ident.id.clone()),
            user_id: from.to_owned(),
            via: via.map(str::to_owned),
        };
        let key = format!("profile:{}", ident.id);
        enqueue(&mut *conn, ch, &job, &key, now_ms).await?;
    }
    Ok(ident)
}

/// The thread's conversation, created on first contact: a person's own, or a group's (a group
/// is not a patient: each sender is recorded on their own messages).
async fn conversation(
    conn: &mut AnyConnection,
    ch: &Channel,
    thread: &Thread,
    sender: Option<&patients::Identity>,
    now_ms: i64,
) -> anyhow::Result<Conversation> {
    let (kind, patient, identity, title) = match thread {
        Thread::Direct { .. } => (
            "direct",
            sender.map(|s| s.patient_id.as_str()),
            sender.map(|s| s.id.as_str()),
            None,
        ),
        Thread::Group { kind, .. } => (kind.as_str(), None, None, Some(kind.title())),
    };
    let new = NewConversation {
        clinic_id: &ch.clinic_id,
        channel_id: &ch.channel_id,
        kind,
        thread_key: thread.key(),
        patient_id: patient,
        channel_identity_id: identity,
        title,
    };
    // Read with the event and not there: created (or, on PostgreSQL, a concurrent one's).
    conversations::create(conn, new, now_ms).await
}

/// A consent keyword the provider acted on (SMS STOP/START): mirrored on the identity, with a
/// system line in the thread.
async fn mirror_consent(
    conn: &mut AnyConnection,
    ch: &Channel,
    conv: &ConversationId,
    sender: &patients::Identity,
    consent: &Consent,
    at_ms: i64,
) -> anyhow::Result<()> {
    match consent {
        Consent::OptedOut { source } => {
            reachability::set_opted_out(&mut *conn, &sender.id, at_ms, source).await?
        }
        Consent::OptedIn => reachability::clear_opt_out(&mut *conn, &sender.id, at_ms).await?,
    }
    let note = consent.note();
    let payload = serde_json::json!({ "event": note }).to_string();
    conversations::insert_message(
        conn,
        NewMessage {
            clinic_id: &ch.clinic_id,
            conversation_id: conv,
            channel_id: &ch.channel_id,
            direction: "system",
            kind: "event",
            body: Some(note),
            payload: &payload,
            sender_identity_id: None,
            author_kind: "system",
            author_staff_id: None,
            provider_message_id: None,
            status: "received",
            at_ms,
        },
    )
    .await?;
    Ok(())
}
