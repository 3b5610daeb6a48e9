//! LINE as a provider adapter (`crate::provider::Adapter`).
use crate::provider::{Adapter, BadCredentials, ChannelKind, Credentials, Deliver, Receive, Rules};

/// The LINE Messaging API.
pub struct Line;

impl Adapter for Line {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Line
    }

    fn rules(&self) -> Rules {
        Rules {
            service_window_ms: None,
            human_agent_window_ms: None,
            max_text_chars: 5_000,
            // X-Line-Retry-Key.
            idempotency_key: true,
        }
    }

    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials> {
        Credentials::read("LINE", stored).map(Credentials::Line)
    }
}

impl Receive for Line {}

impl Deliver for Line {}
