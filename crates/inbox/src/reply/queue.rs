//! The checks every pushed text passes, and the queueing itself, inside the caller's transaction.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, Code, ConversationId, MessageId, PatientId, Refusal};
use tsunagu_privacy::consent::{self, SendBasis};
use tsunagu_store::conversations::{self, Conversation, NewMessage};
use tsunagu_store::{channels, patients};

use super::content::{self, Outgoing};
use super::{enqueue_send, Author, ReplyOutcome, Route};
use crate::reachability;

pub(crate) fn checked_text(text: &str) -> Option<&str> {
    let text = text.trim();
    (!text.is_empty() && text.chars().count() <= MAX_TEXT).then_some(text)
}

pub(crate) fn text_refusal(text: &str) -> Refusal {
    if text.trim().is_empty() {
        Refusal::new(Code::EmptyMessage).detail("the message is empty")
    } else {
        content::too_long(MAX_TEXT)
    }
}

const MAX_TEXT: usize = 5000;

/// Checks and queues inside the caller's transaction; a refusal writes nothing (the caller
/// drops the transaction).
#[allow(clippy::too_many_arguments)]
pub async fn queue_in(
    tx: &mut tsunagu_store::Tx,
    clinic: &ClinicId,
    conversation: &Conversation,
    author: Author<'_>,
    content: Outgoing,
    basis: SendBasis,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let (author_kind, staff_id) = match author {
        Author::Staff(s) => ("staff", Some(s)),
        Author::Api => ("api", None),
        Author::Automation => ("automation", None),
    };
    let channel_id = tsunagu_core::ChannelId::from_db(conversation.channel_id.clone());
    let channel = channels::by_id(tx.conn(), clinic, &channel_id)
        .await?
        .context("the conversation's channel")?;
    if channel.enabled == 0 {
        let why = Refusal::new(Code::ChannelDisabled).detail("the channel is disabled");
        return Ok(ReplyOutcome::Refused(why));
    }
    let mut direct_patient = None;
    let mut ident = None;
    if conversation.kind == "direct" {
        ident = patients::identity(tx.conn(), &channel_id, &conversation.thread_key).await?;
        direct_patient = ident.as_ref().map(|i| i.patient_id.clone());
    }
    // An unknown kind fails closed: its reachability and content rules cannot be checked.
    let Some(kind) = tsunagu_channels::ChannelKind::parse(&channel.kind) else {
        let why = "this kind of channel is not supported";
        return Ok(ReplyOutcome::Refused(
            Refusal::new(Code::ChannelKindUnknown).detail(why),
        ));
    };
    let by_person = matches!(author, Author::Staff(_));
    let check = reachability::check(
        kind,
        ident.as_ref(),
        conversation.last_inbound_at,
        by_person,
        &content.kind,
        now_ms,
    );
    let mode = match check {
        Ok(m) => m,
        Err(refused) => return Ok(ReplyOutcome::Refused(refused.into())),
    };
    // Refused here, with the channel's limits, rather than failing later at the provider.
    if let Err(refused) = content::check(kind, &content) {
        return Ok(ReplyOutcome::Refused(refused));
    }
    let patient = match conversation.patient_id.clone().or(direct_patient) {
        Some(p) => Some(p),
        None => last_sender(tx.conn(), &conversation.id).await?,
    };
    let verdict = match patient {
        Some(p) => {
            consent::may_send(
                tx.conn(),
                clinic,
                &PatientId::from_db(p),
                &channel_id,
                basis,
                now_ms,
            )
            .await?
        }
        // Nobody in the conversation has written: nothing to reply to, nobody's consent to ask.
        None => Err(match basis {
            SendBasis::ReplyToPatient => {
                consent::outside_reply_window(consent::DEFAULT_REPLY_WINDOW_DAYS)
            }
            SendBasis::Purpose(p) => consent::purpose_refusal(Code::ConsentRequired, p),
            // Only ever queued in the patient's own one-to-one conversation.
            SendBasis::RequestedByPatient => {
                consent::outside_reply_window(consent::DEFAULT_REPLY_WINDOW_DAYS)
            }
        }),
    };
    if let Err(refusal) = verdict {
        return Ok(ReplyOutcome::Refused(refusal));
    }
    let conv_id = ConversationId::from_db(conversation.id.clone());
    let payload = content.payload;
    let message_id = conversations::insert_message(
        tx.conn(),
        NewMessage {
            clinic_id: clinic,
            conversation_id: &conv_id,
            channel_id: &channel_id,
            direction: "out",
            kind: &content.kind,
            body: content.body.as_deref(),
            payload: &payload.to_string(),
            sender_identity_id: None,
            author_kind,
            author_staff_id: staff_id,
            provider_message_id: None,
            status: "queued",
            at_ms: now_ms,
        },
    )
    .await?;
    set_basis(tx.conn(), &message_id, basis).await?;
    enqueue_send(
        tx,
        clinic,
        &message_id,
        &channel_id,
        &conversation.thread_key,
        vec![payload],
        Route {
            channel_kind: Some(channel.kind.clone()),
            via: conversation.via.clone(),
            tag: mode.tag().map(str::to_string),
        },
        now_ms,
    )
    .await?;
    let msg = conversations::message_by_id(tx.conn(), clinic, &message_id)
        .await?
        .context("the queued message")?;
    Ok(ReplyOutcome::Queued(Box::new(msg)))
}

/// In a group, the patient who wrote last is the one being answered.
async fn last_sender(
    conn: &mut AnyConnection,
    conversation: &str,
) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT ci.patient_id FROM messages m JOIN channel_identities ci ON ci.id = m.sender_identity_id
         WHERE m.conversation_id = $1 AND m.direction = 'in' ORDER BY m.created_at DESC, m.id DESC LIMIT 1",
    )
    .bind(conversation)
    .fetch_optional(conn)
    .await
    .context("finding who wrote last in the conversation")
}

/// Keeps the grounds the consent check allowed the message on, beside the message.
pub(super) async fn set_basis(
    conn: &mut AnyConnection,
    message: &MessageId,
    basis: SendBasis,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE messages SET send_basis = $1 WHERE id = $2")
        .bind(basis.code())
        .bind(message.as_str())
        .execute(conn)
        .await
        .context("recording why the message may be sent")?;
    Ok(())
}
