//! Everything a dispatch step needs about one inbound message, loaded once.
use tsunagu_core::jobs::InboundDispatch;
use tsunagu_core::{ClinicId, ConversationId, SharedClock};
use tsunagu_outbox::worker::Worker;
use tsunagu_store::conversations::{self, Conversation, Message};
use tsunagu_store::{patients, Db};

pub struct Inbound {
    pub db: Db,
    pub clock: SharedClock,
    pub clinic: ClinicId,
    pub conversation: Conversation,
    pub message: Message,
    /// The sender's identity on the channel (None for system events without a user).
    pub identity: Option<patients::Identity>,
    /// The message text as the patient typed it (trimmed), if any.
    pub text: Option<String>,
    /// LINE reply token and when it was issued (ms), if the event carried one.
    pub reply_token: Option<(String, i64)>,
    pub standby: bool,
    /// The `ref` of the link that brought the patient (a Messenger m.me link), if any.
    pub source_ref: Option<String>,
}

impl Inbound {
    /// The message an `inbound.dispatch` job names; `None` if it was erased meanwhile.
    pub async fn load(w: &Worker, p: &InboundDispatch) -> anyhow::Result<Option<Inbound>> {
        let clinic = p.clinic_id.clone();
        let mut conn = w.db.pool().acquire().await?;
        let Some(message) = conversations::message_by_id(&mut conn, &clinic, &p.message_id).await?
        else {
            return Ok(None); // erased meanwhile
        };
        let conv_id = ConversationId::from_db(message.conversation_id.clone());
        let Some(conversation) = conversations::by_id(&mut conn, &clinic, &conv_id).await? else {
            return Ok(None);
        };
        let identity = match &message.sender_identity_id {
            Some(id) => patients::identity_by_id(&mut conn, &clinic, id).await?,
            None => None,
        };
        let payload: serde_json::Value = serde_json::from_str(&message.payload).unwrap_or_default();
        let reply_token = payload
            .get("reply_token")
            .and_then(|t| t.as_str())
            .map(|t| {
                (
                    t.to_string(),
                    payload
                        .get("reply_token_at")
                        .and_then(|v| v.as_i64())
                        .unwrap_or(0),
                )
            });
        let standby = payload.get("mode").and_then(|m| m.as_str()) == Some("standby");
        let source_ref = payload
            .get("source_ref")
            .and_then(|r| r.as_str())
            .map(str::to_string);
        let text = message
            .body
            .as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        Ok(Some(Inbound {
            db: w.db.clone(),
            clock: w.clock.clone(),
            clinic,
            conversation,
            message,
            identity,
            text,
            reply_token,
            standby,
            source_ref,
        }))
    }
}
