//! SMS through Twilio as a provider adapter (`crate::provider::Adapter`).
use crate::provider::{Adapter, BadCredentials, ChannelKind, Credentials, Deliver, Receive, Rules};

/// Twilio Programmable Messaging.
pub struct Sms;

impl Adapter for Sms {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn rules(&self) -> Rules {
        Rules {
            service_window_ms: None,
            human_agent_window_ms: None,
            // Twilio's limit; it is split into segments.
            max_text_chars: 1_600,
            idempotency_key: false,
        }
    }

    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials> {
        Credentials::read("Twilio", stored).map(Credentials::Sms)
    }
}

impl Receive for Sms {}

impl Deliver for Sms {}
