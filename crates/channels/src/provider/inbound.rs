//! What a webhook delivery means, in words every provider shares: each adapter's `parse` turns
//! its wire format into these items (pure), and the one ingest path (`inbox::ingest`) stores
//! them, so ingest never asks which provider sent them.
use serde_json::Value;

/// One item of a delivery: the raw event to store once, where it was addressed, and what it
/// means.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    pub event: RawEvent,
    /// The clinic-side address it was sent to; `None`: the whole channel (LINE). An address the
    /// channel does not serve is stored as `unrouted` and means nothing further.
    pub to: Option<Address>,
    pub what: What,
}

/// The event as received, stored before anything is acted on.
#[derive(Debug, Clone, PartialEq)]
pub struct RawEvent {
    /// The dedupe key: a redelivery carries the same one and changes nothing.
    pub key: String,
    /// `message`, `status`, `follow`, `postback`, a change field…
    pub kind: String,
    /// The JSON text of this event only (one event, entry item or form), compact.
    pub body: String,
    /// The provider id of the person it is about, so erasure finds their raw events.
    pub sender: Option<String>,
    /// LINE's `mode` (`active`, `standby`).
    pub mode: Option<String>,
}

/// A clinic-side address: a WhatsApp phone number id, a page or Instagram account id, an SMS
/// number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Address {
    pub id: String,
    /// The account-level sender group it came through (a Twilio Messaging Service), which
    /// routes it as well as the address itself.
    pub service: Option<String>,
}

impl Address {
    pub fn id(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            service: None,
        }
    }
}

/// What an item means for the inbox.
#[derive(Debug, Clone, PartialEq)]
pub enum What {
    /// Kept as the raw event only (echoes, unknown types, statuses that rank nowhere…).
    Record,
    /// A line in a thread: the patient's words, or an event shown in it (LINE follow, join…).
    Message(Box<Message>),
    /// A provider's report about one of our messages.
    Status(Status),
    /// Delivery or read receipts naming several messages and/or a watermark (Messenger).
    Receipt(Receipt),
    /// The patient edited an earlier message.
    Edit(Edit),
    /// The patient unsent (revoked, deleted) an earlier message: its body goes, a tombstone
    /// stays.
    Unsend(Unsend),
    /// The provider reviewed a message template: fetch the review states now (WhatsApp).
    TemplateReview,
}

/// Whose thread a line belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Thread {
    /// One person, whose provider id is the thread.
    Direct { from: String },
    /// A LINE group or room: the thread is the group's; `from` the member who acted, when the
    /// provider says (members may not have consented to be named).
    Group {
        kind: GroupKind,
        id: String,
        from: Option<String>,
    },
}

impl Thread {
    /// The conversation's thread key.
    pub fn key(&self) -> &str {
        match self {
            Thread::Direct { from } => from,
            Thread::Group { id, .. } => id,
        }
    }

    /// The person who acted, if known.
    pub fn sender(&self) -> Option<&str> {
        match self {
            Thread::Direct { from } => Some(from),
            Thread::Group { from, .. } => from.as_deref(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupKind {
    Group,
    Room,
}

impl GroupKind {
    /// The conversation kind stored (`group`, `room`).
    pub fn as_str(self) -> &'static str {
        match self {
            GroupKind::Group => "group",
            GroupKind::Room => "room",
        }
    }

    /// The conversation's title: a group is not a patient.
    pub fn title(self) -> &'static str {
        match self {
            GroupKind::Group => "LINE グループ",
            GroupKind::Room => "LINE トークルーム",
        }
    }
}

/// How a new person gets their name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Profile {
    /// The provider sends it with the message (WhatsApp's contact profile): it names a
    /// provisional patient, and renames one when it changes.
    Given(String),
    /// Ask the provider once the person is new (`channel.fetch_profile`: LINE, Messenger).
    Fetch,
    /// Neither (SMS, Instagram): the fallback name stays.
    Unknown,
}

/// The follow state a LINE event sets on the sender's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Follow {
    /// follow, unblock.
    Following,
    /// unfollow: recorded only for a person already known (nobody else to mark).
    Blocked,
}

impl Follow {
    pub fn as_str(self) -> &'static str {
        match self {
            Follow::Following => "following",
            Follow::Blocked => "blocked",
        }
    }
}

/// A consent keyword the provider acts on itself (SMS STOP/START, Twilio's `OptOutType`):
/// mirrored on the identity, with a system line in the thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Consent {
    /// `source` as recorded (`sms:STOP`).
    OptedOut {
        source: String,
    },
    OptedIn,
}

impl Consent {
    /// The system line written in the thread.
    pub fn note(&self) -> &'static str {
        match self {
            Consent::OptedOut { .. } => "opted_out",
            Consent::OptedIn => "opted_in",
        }
    }
}

/// A line in a thread.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    pub thread: Thread,
    /// Staff see an event line (follow, join…) rather than the patient's words.
    pub system: bool,
    /// How a new sender is named.
    pub profile: Profile,
    /// The provisional patient's name when there is no given one.
    pub fallback_name: String,
    /// text, image, video, audio, file, location, sticker, contacts, interactive, postback,
    /// reaction, event, unsupported.
    pub kind: String,
    pub body: Option<String>,
    pub payload: Value,
    pub provider_message_id: Option<String>,
    /// When the provider says it happened.
    pub at_ms: i64,
    /// The provider's media reference, for a `channel.fetch_media` job (downloaded at once:
    /// links expire).
    pub media: Option<Value>,
    /// Hand it to the dispatcher (automation, verification). Reactions, standby events: no.
    pub dispatch: bool,
    /// The event's reply token (LINE), kept in the payload as `reply_token` / `reply_token_at`
    /// for the dispatcher.
    pub reply: Option<Reply>,
    /// The follow state it sets on the sender's identity.
    pub follow: Option<Follow>,
    /// The patient wrote: the service window opens and a bounce is cleared (every provider
    /// but LINE, whose pushes know neither).
    pub reachable: bool,
    /// The sender's id is their phone number: recorded on the patient if they have none (SMS).
    pub sender_is_phone: bool,
    pub consent: Option<Consent>,
}

/// A provider's reply token (LINE): an automated answer may use it instead of a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    /// `None` when it must not be used: standby mode (another bot answers), or none was given.
    pub token: Option<String>,
    /// When the provider issued it (the event's time): its lifetime runs from here.
    pub issued_at_ms: i64,
}

/// tsunagu's delivery states a provider reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivered {
    Sent,
    Delivered,
    Read,
    Failed,
}

impl Delivered {
    /// As `store::statuses` ranks them.
    pub fn as_str(self) -> &'static str {
        match self {
            Delivered::Sent => "sent",
            Delivered::Delivered => "delivered",
            Delivered::Read => "read",
            Delivered::Failed => "failed",
        }
    }
}

/// What a status says about the person it was sent to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unreachable {
    /// The address cannot receive messages (WhatsApp 131026, Twilio 30005/30006).
    Bounced { reason: String },
    /// The person opted out with the provider (Twilio 21610).
    OptedOut { source: String },
}

/// A provider's report about one of our messages.
#[derive(Debug, Clone, PartialEq)]
pub struct Status {
    pub provider_message_id: String,
    pub state: Delivered,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
    pub at_ms: i64,
    /// Our message id, echoed by the provider (WhatsApp `biz_opaque_callback_data`, the
    /// `message` of Twilio's status callback URL): a message whose send answer was lost takes
    /// the provider's id from it and is no longer in doubt.
    pub ours: Option<String>,
    /// The recipient's provider id.
    pub recipient: Option<String>,
    /// Applied to the recipient's identity when the status is new.
    pub unreachable: Option<Unreachable>,
}

/// Messenger's delivery and read receipts.
#[derive(Debug, Clone, PartialEq)]
pub struct Receipt {
    pub state: Delivered,
    pub provider_message_ids: Vec<String>,
    /// Every message sent in the thread up to this time (ms).
    pub watermark: Option<i64>,
    /// The person's thread.
    pub thread: String,
    pub at_ms: i64,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Edit {
    pub provider_message_id: String,
    pub body: Option<String>,
    pub at_ms: i64,
    /// The thread it happened in, for live updates.
    pub thread: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Unsend {
    pub provider_message_id: String,
    pub at_ms: i64,
    /// The thread it happened in, for live updates.
    pub thread: String,
}

/// The provider's time if it gave one, else now.
pub(crate) fn at_or(provider_ms: i64, now_ms: i64) -> i64 {
    if provider_ms > 0 {
        provider_ms
    } else {
        now_ms
    }
}
