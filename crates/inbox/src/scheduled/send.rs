//! A scheduled message that is due leaves through the same checks as a reply sent now.
use tsunagu_core::{ClinicId, ConversationId, Refusal};
use tsunagu_privacy::consent::{Purpose, SendBasis};
use tsunagu_store::conversations;
use tsunagu_store::Db;

use super::rows;
use crate::reply::{queue_in, Author, Outgoing, ReplyOutcome};

/// What a due message came to (the conversation, for live updates).
#[derive(Debug)]
pub enum Sent {
    /// Queued with its send job, as a reply sent now would be.
    Queued { conversation_id: String },
    /// Refused by the checks at its time: kept on the conversation with the code.
    Refused {
        conversation_id: String,
        why: Refusal,
    },
    /// Cancelled, changed to another time, sent already, or gone: nothing to do.
    Nothing,
}

/// Sends scheduled message `id` if it is still due at `send_at` (the time its job was queued
/// for). One transaction: taking it, queueing the message and its send job, and recording
/// what it came to.
pub async fn send_due(
    db: &Db,
    clinic: &ClinicId,
    id: &str,
    send_at: i64,
    now_ms: i64,
) -> anyhow::Result<Sent> {
    let mut tx = db.begin().await?;
    let Some(row) = rows::by_id(tx.conn(), clinic, id).await? else {
        return Ok(Sent::Nothing);
    };
    if !rows::take(tx.conn(), &row, send_at, now_ms).await? {
        return Ok(Sent::Nothing);
    }
    let conversation_id = ConversationId::from_db(row.conversation_id.clone());
    let Some(conv) = conversations::by_id(tx.conn(), clinic, &conversation_id).await? else {
        return Ok(Sent::Nothing);
    };
    let basis = match row.purpose.as_deref().and_then(Purpose::parse) {
        Some(p) => SendBasis::Purpose(p),
        None => SendBasis::ReplyToPatient,
    };
    let author = match row.author_staff_id.as_deref() {
        Some(s) => Author::Staff(s),
        None => Author::Api,
    };
    let content = Outgoing::text(&row.body);
    let outcome = queue_in(&mut tx, clinic, &conv, author, content, basis, now_ms).await?;
    let conversation_id = row.conversation_id.clone();
    // A refusal wrote nothing; what it came to is recorded in the same transaction.
    let sent = match outcome {
        ReplyOutcome::Queued(m) => {
            rows::settle(tx.conn(), &row, "sent", Some(&m.id), None, now_ms).await?;
            Sent::Queued { conversation_id }
        }
        ReplyOutcome::Refused(why) => {
            let code = why.code.as_str();
            rows::settle(tx.conn(), &row, "refused", None, Some(code), now_ms).await?;
            Sent::Refused {
                conversation_id,
                why,
            }
        }
    };
    tx.commit().await?;
    Ok(sent)
}
