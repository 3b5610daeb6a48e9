//! Every outbound text: the message (queued) and its send job commit together, so it is either
//! fully queued or not at all, and the worker delivers it exactly once. Each sender states its
//! grounds (`SendBasis`) and asks `consent::may_send` first: a reply to the patient's own action,
//! or a purpose the patient agreed to (`queue_for_purpose`). Automated answers to a LINE event go
//! by reply token instead (`queue_auto_reply`).
use tsunagu_core::jobs::SendMessage;
use tsunagu_core::{ClinicId, MessageId};
use tsunagu_privacy::consent::{Refusal, SendBasis};
use tsunagu_store::conversations::{self, Conversation};
use tsunagu_store::{jobs, Db};

use crate::reachability::Unreachable;

mod auto_reply;
mod content;
mod purpose;
mod queue;

pub use auto_reply::queue_auto_reply;
pub use content::{Choice, Outgoing};
pub use purpose::{queue_content_for_purpose, queue_for_purpose};
pub use queue::queue_in;
use queue::{checked_text, text_refusal};

/// Where and how a send leaves, decided when it is queued.
#[derive(Clone, Debug, Default)]
pub struct Route {
    pub channel_kind: Option<String>,
    pub via: Option<String>,
    pub tag: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReplyRefused {
    #[error("the message is empty")]
    Empty,
    #[error("the message is longer than the channel allows ({max} characters)")]
    TooLong { max: usize },
    #[error("the patient has blocked this account")]
    Blocked,
    #[error("the channel is disabled")]
    ChannelDisabled,
    /// A channel row of a kind this build does not know: nothing is checked, so nothing is sent.
    #[error("this kind of channel is not supported")]
    UnknownChannelKind,
    /// Standby-mode events and events without a token cannot be answered by reply.
    #[error("the event has no reply token")]
    NoReplyToken,
    /// A reply token is single-use: a second answer to the same event is refused here.
    #[error("this reply token was already used")]
    ReplyTokenUsed,
    #[error("a reply carries 1 to {max} messages")]
    MessageCount { max: usize },
    /// The consent ledger says no (`consent_required`, `consent_withdrawn`,
    /// `outside_reply_window`), with the reason in words.
    #[error("{0}")]
    Consent(Refusal),
    #[error("the patient has no channel to reach them on")]
    NoChannel,
    /// The patient opted out on this channel (SMS STOP): nothing is attempted until START.
    #[error("the patient opted out of messages on this channel")]
    OptedOut,
    /// The provider said this address cannot receive.
    #[error("the address cannot receive messages: {reason}")]
    Bounced { reason: String },
    /// WhatsApp/Messenger: more than 24 hours since the patient's last message.
    #[error("{}", outside_window_text(*kind))]
    OutsideServiceWindow { kind: tsunagu_channels::ChannelKind },
    /// A WhatsApp template that is not approved, or whose variables do not match.
    #[error("{0}")]
    Template(String),
    /// The channel cannot carry this content, or it breaks the provider's limits.
    #[error("{0}")]
    Unsupported(String),
}

impl From<Unreachable> for ReplyRefused {
    fn from(u: Unreachable) -> Self {
        match u {
            Unreachable::Blocked => ReplyRefused::Blocked,
            Unreachable::OptedOut => ReplyRefused::OptedOut,
            Unreachable::Bounced { reason } => ReplyRefused::Bounced { reason },
            Unreachable::OutsideServiceWindow { kind } => {
                ReplyRefused::OutsideServiceWindow { kind }
            }
        }
    }
}

fn outside_window_text(kind: tsunagu_channels::ChannelKind) -> &'static str {
    match kind {
        tsunagu_channels::ChannelKind::Messenger => "more than 24 hours (7 days for a staff reply) have passed since the patient's last message; Messenger does not allow a message now",
        _ => "more than 24 hours have passed since the patient's last message; WhatsApp allows only an approved template now",
    }
}

impl ReplyRefused {
    /// Stable error key for the API and UI.
    pub fn code(&self) -> &'static str {
        match self {
            ReplyRefused::Empty => "empty_message",
            ReplyRefused::TooLong { .. } => "message_too_long",
            ReplyRefused::Blocked => "recipient_blocked",
            ReplyRefused::ChannelDisabled => "channel_disabled",
            ReplyRefused::UnknownChannelKind => "channel_kind_unknown",
            ReplyRefused::NoReplyToken => "no_reply_token",
            ReplyRefused::ReplyTokenUsed => "reply_token_used",
            ReplyRefused::MessageCount { .. } => "message_count",
            ReplyRefused::Consent(r) => r.code,
            ReplyRefused::NoChannel => "no_reachable_channel",
            ReplyRefused::OptedOut => "recipient_opted_out",
            ReplyRefused::Bounced { .. } => "recipient_bounced",
            ReplyRefused::OutsideServiceWindow { .. } => "outside_service_window",
            ReplyRefused::Template(_) => "template_invalid",
            ReplyRefused::Unsupported(_) => "unsupported_content",
        }
    }
}

pub enum ReplyOutcome {
    Queued(Box<conversations::Message>),
    Refused(ReplyRefused),
}

/// Who wrote an outbound text.
#[derive(Clone, Copy, Debug)]
pub enum Author<'a> {
    Staff(&'a str),
    /// An integration through the API.
    Api,
    /// tsunagu itself (dispatcher answers, automations).
    Automation,
}

/// Queues a text reply in a conversation: by a staff member (`Some(staff id)`) or through the
/// API by an integration (`None`).
pub async fn queue_staff_reply(
    db: &Db,
    clinic: &ClinicId,
    conversation: &Conversation,
    staff_id: Option<&str>,
    text: &str,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let author = match staff_id {
        Some(s) => Author::Staff(s),
        None => Author::Api,
    };
    queue_text(db, clinic, conversation, author, text, now_ms).await
}

/// An automated answer sent by push (when no fresh reply token is at hand): an answer to the
/// patient's own message, so it goes as a reply, within the reply window.
pub async fn queue_automation_push(
    db: &Db,
    clinic: &ClinicId,
    conversation: &Conversation,
    text: &str,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let basis = SendBasis::ReplyToPatient;
    queue_text_for(
        db,
        clinic,
        conversation,
        Author::Automation,
        text,
        basis,
        now_ms,
    )
    .await
}

/// A reply in a conversation: allowed while the patient's last action there is recent
/// (`consent::may_send` with `ReplyToPatient`); older, it is refused with
/// `outside_reply_window` and staff send for a purpose instead (`queue_for_purpose`).
pub async fn queue_text(
    db: &Db,
    clinic: &ClinicId,
    conversation: &Conversation,
    author: Author<'_>,
    text: &str,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let basis = SendBasis::ReplyToPatient;
    queue_text_for(db, clinic, conversation, author, text, basis, now_ms).await
}

/// A text message queued for push delivery in one transaction with its send job, once the
/// consent check allows it on `basis`.
pub async fn queue_text_for(
    db: &Db,
    clinic: &ClinicId,
    conversation: &Conversation,
    author: Author<'_>,
    text: &str,
    basis: SendBasis,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let Some(text) = checked_text(text) else {
        return Ok(ReplyOutcome::Refused(text_refusal(text)));
    };
    let mut tx = db.begin().await?;
    let content = Outgoing::text(text);
    let outcome = queue_in(
        &mut tx,
        clinic,
        conversation,
        author,
        content,
        basis,
        now_ms,
    )
    .await?;
    if matches!(outcome, ReplyOutcome::Queued(_)) {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// Any prepared content (a WhatsApp template, media, buttons) queued like a text: consent on
/// `basis`, then reachability and the service window, then the message and its send job.
pub async fn queue_outgoing(
    db: &Db,
    clinic: &ClinicId,
    conversation: &Conversation,
    author: Author<'_>,
    content: Outgoing,
    basis: SendBasis,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let mut tx = db.begin().await?;
    let outcome = queue_in(
        &mut tx,
        clinic,
        conversation,
        author,
        content,
        basis,
        now_ms,
    )
    .await?;
    if matches!(outcome, ReplyOutcome::Queued(_)) {
        tx.commit().await?;
    }
    Ok(outcome)
}

/// The send job of a message already inserted in this transaction.
#[allow(clippy::too_many_arguments)]
pub async fn enqueue_send(
    tx: &mut tsunagu_store::Tx,
    clinic: &ClinicId,
    message_id: &MessageId,
    channel_id: &tsunagu_core::ChannelId,
    to: &str,
    messages: Vec<serde_json::Value>,
    route: Route,
    now_ms: i64,
) -> anyhow::Result<()> {
    let job = SendMessage {
        message_id: message_id.clone(),
        channel_id: channel_id.clone(),
        to: to.to_string(),
        messages,
        retry_key: uuid::Uuid::new_v4().to_string(),
        channel_kind: route.channel_kind,
        via: route.via,
        tag: route.tag,
        reply: None,
    };
    jobs::enqueue(
        tx.conn(),
        &job,
        jobs::Enqueue {
            clinic_id: Some(clinic),
            idempotency_key: &format!("send:{message_id}"),
            run_at: now_ms,
        },
        now_ms,
    )
    .await?;
    Ok(())
}
