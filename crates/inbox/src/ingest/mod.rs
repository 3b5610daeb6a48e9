//! Inbound: a verified provider delivery, parsed by its adapter into provider-neutral items
//! (`tsunagu_channels::provider::inbound`), becomes stored events, patients, conversations and
//! messages in one transaction, before the provider gets its answer. Slow work (profiles,
//! media, automation) is enqueued as jobs in the same transaction. One path serves every
//! provider: nothing here asks which one sent the items.
pub mod inbound;
mod jobs;
mod message;
mod status;

/// What one delivery changed, for the live inbox and for tests.
#[derive(Debug, Default)]
pub struct IngestReport {
    pub new_events: usize,
    pub duplicate_events: usize,
    /// Conversations that got something new (for live updates).
    pub touched_conversations: Vec<String>,
}

impl IngestReport {
    fn count(&mut self, fresh: bool, conversation: Option<String>) {
        if fresh {
            self.new_events += 1;
        } else {
            self.duplicate_events += 1;
        }
        if let Some(c) = conversation.filter(|c| !self.touched_conversations.contains(c)) {
            self.touched_conversations.push(c);
        }
    }
}
