//! Every outbound text: the message (queued) and its send job commit together, so it is either
//! fully queued or not at all, and the worker delivers it exactly once. Each sender states its
//! grounds (`SendBasis`) and asks `consent::may_send` first: a reply to the patient's own action,
//! or a purpose the patient agreed to (`queue_for_purpose`). Automated answers to a LINE event go
//! by reply token instead (`queue_auto_reply`).
use tsunagu_core::jobs::SendMessage;
use tsunagu_core::{ClinicId, MessageId, Refusal};
use tsunagu_privacy::consent::SendBasis;
use tsunagu_store::conversations::{self, Conversation};
use tsunagu_store::{jobs, Db};

mod auto_reply;
mod content;
mod purpose;
mod queue;

pub use auto_reply::{
    fresh_token, queue_auto_reply, queue_auto_reply_in, stored_token, REPLY_TOKEN_FRESH_MS,
};
pub use content::{Choice, Outgoing};
pub use purpose::{queue_content_for_purpose, queue_content_for_purpose_in, queue_for_purpose};
pub use queue::queue_in;
pub(crate) use queue::{checked_text, text_refusal};

/// Where and how a send leaves, decided when it is queued.
#[derive(Clone, Debug, Default)]
pub struct Route {
    pub channel_kind: Option<String>,
    pub via: Option<String>,
    pub tag: Option<String>,
}

/// A message queued with its send job, or refused before anything was written: empty or too
/// long (`empty_message`, `message_too_long {max}`), the channel (`channel_disabled`,
/// `channel_kind_unknown`, `unsupported_content`, `template_invalid`), reachability
/// (`recipient_blocked`, `recipient_opted_out`, `recipient_bounced`, `outside_service_window`,
/// `no_reachable_channel`), consent (`consent_required`, `consent_withdrawn`,
/// `outside_reply_window`), reply tokens (`no_reply_token`, `reply_token_used`, `message_count`).
#[derive(Debug)]
pub enum ReplyOutcome {
    Queued(Box<conversations::Message>),
    Refused(Refusal),
}

impl ReplyOutcome {
    /// The queued message, or the refusal as an error (for `?` at the edge).
    pub fn queued(self) -> Result<Box<conversations::Message>, Refusal> {
        match self {
            ReplyOutcome::Queued(m) => Ok(m),
            ReplyOutcome::Refused(r) => Err(r),
        }
    }
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
