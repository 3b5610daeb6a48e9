//! SMS through Twilio as a provider adapter (`crate::provider::Adapter`).
use serde_json::Value;
use tsunagu_core::Refusal;

use super::setup;
use crate::provider::{Adapter, BadCredentials, ChannelKind, Credentials, FormField, Rules, Setup};

/// Twilio Programmable Messaging.
pub struct Sms;

impl Adapter for Sms {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn name(&self) -> &'static str {
        "Twilio"
    }

    fn rules(&self) -> Rules {
        Rules {
            service_window_ms: None,
            human_agent_window_ms: None,
            // Twilio's limit; it is split into segments.
            max_text_chars: 1_600,
            idempotency_key: false,
            templates: false,
            template_outside_window: false,
            marks_read: false,
        }
    }

    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials> {
        Credentials::read(self.name(), stored).map(Credentials::Sms)
    }

    fn setup(&self, input: Value) -> Result<Setup, Refusal> {
        setup::setup(input)
    }

    fn setup_form(&self) -> &'static [FormField] {
        setup::FORM
    }

    #[cfg(feature = "openapi")]
    fn setup_schemas(&self, out: &mut crate::provider::setup::Schemas) {
        crate::provider::setup::schemas_of::<setup::TwilioCredentials>(out);
    }
}
