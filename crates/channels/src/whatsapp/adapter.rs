//! WhatsApp Cloud API as a provider adapter (`crate::provider::Adapter`).
use crate::provider::{
    Adapter, BadCredentials, ChannelKind, Credentials, Deliver, Receive, Rules, HOUR_MS,
};

/// The WhatsApp Cloud API.
pub struct WhatsApp;

impl Adapter for WhatsApp {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WhatsApp
    }

    fn rules(&self) -> Rules {
        Rules {
            // The customer-service window: after it, only an approved template.
            service_window_ms: Some(24 * HOUR_MS),
            human_agent_window_ms: None,
            max_text_chars: 4_096,
            idempotency_key: false,
        }
    }

    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials> {
        Credentials::read("WhatsApp", stored).map(Credentials::WhatsApp)
    }
}

impl Receive for WhatsApp {}

impl Deliver for WhatsApp {}
