//! Inbound: a verified provider delivery becomes stored events, patients, conversations and
//! messages in one transaction, before the provider gets its 200. Slow work (profiles, media,
//! automation) is enqueued as jobs in the same transaction.
pub mod inbound;
pub mod line;
mod line_messages;
pub mod messenger;
pub mod sms;
pub mod whatsapp;

/// What one delivery changed, for the live inbox and for tests.
#[derive(Debug, Default)]
pub struct IngestReport {
    pub new_events: usize,
    pub duplicate_events: usize,
    /// Conversations that got something new (for live updates).
    pub touched_conversations: Vec<String>,
}
