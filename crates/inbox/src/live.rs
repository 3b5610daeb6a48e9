//! Live inbox updates for open staff pages (SSE). In-process for now; when web and workers run
//! as separate processes this becomes PostgreSQL LISTEN/NOTIFY behind the same interface.
use serde::Serialize;
use tokio::sync::broadcast;

#[derive(Clone, Debug, Serialize)]
pub struct LiveEvent {
    pub clinic_id: String,
    pub conversation_id: String,
    /// message.created | message.updated | conversation.updated
    pub kind: &'static str,
}

#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<LiveEvent>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    pub fn new() -> Self {
        Self { tx: broadcast::channel(1024).0 }
    }

    /// Nobody listening is fine: pages reload state on connect.
    pub fn publish(&self, e: LiveEvent) {
        let _ = self.tx.send(e);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }
}
