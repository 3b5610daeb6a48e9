//! Read state that tells the truth: the patient sees 既読 when a person at the clinic opened
//! the conversation, never on arrival. Where the channel's provider can say so
//! (`Rules::marks_read`) and the clinic switched it on for the channel, opening queues a
//! `channel.mark_read` job for the patient's newest message (the provider marks every earlier
//! one with it); the key makes a second opening a no-op.
use sqlx::AnyConnection;
use tsunagu_channels::ChannelKind;
use tsunagu_core::jobs::MarkRead;
use tsunagu_core::{ChannelId, ClinicId, ConversationId};
use tsunagu_store::channels;
use tsunagu_store::conversations::{self, Conversation};
use tsunagu_store::jobs::{self, Enqueue};

/// A person opened `conv` (or it is open on their screen when a message arrives). Whether a
/// job was queued.
pub async fn opened(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conv: &Conversation,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let channel_id = ChannelId::from_db(conv.channel_id.clone());
    let Some(ch) = channels::by_id(conn, clinic, &channel_id).await? else {
        return Ok(false);
    };
    let marks = ChannelKind::parse(&ch.kind).is_some_and(|k| k.rules().marks_read);
    if !marks || ch.mark_read_on_open == 0 || ch.enabled == 0 {
        return Ok(false);
    }
    let conversation = ConversationId::from_db(conv.id.clone());
    let Some(newest) = conversations::newest_from_patient(conn, clinic, &conversation).await?
    else {
        return Ok(false);
    };
    let message_id = tsunagu_core::MessageId::from_db(newest.id);
    let key = format!("mark_read:{}", message_id.as_str());
    let job = MarkRead {
        channel_id,
        message_id,
    };
    let at = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    Ok(jobs::enqueue(conn, &job, at, now_ms).await?.is_some())
}
