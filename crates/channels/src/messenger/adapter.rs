//! Messenger (and Instagram through a page) as a provider adapter (`crate::provider::Adapter`).
use crate::provider::{
    Adapter, BadCredentials, ChannelKind, Credentials, Deliver, Receive, Rules, HOUR_MS,
};

/// The Messenger Platform (Send API, page webhooks).
pub struct Messenger;

impl Adapter for Messenger {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Messenger
    }

    fn rules(&self) -> Rules {
        Rules {
            // The standard messaging window; a person may answer with HUMAN_AGENT up to 7 days.
            service_window_ms: Some(24 * HOUR_MS),
            human_agent_window_ms: Some(7 * 24 * HOUR_MS),
            max_text_chars: 2_000,
            idempotency_key: false,
        }
    }

    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials> {
        Credentials::read("Messenger", stored).map(Credentials::Messenger)
    }
}

impl Receive for Messenger {}

impl Deliver for Messenger {}
