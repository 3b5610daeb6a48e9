//! WhatsApp Cloud API as a provider adapter (`crate::provider::Adapter`).
use serde_json::Value;
use tsunagu_core::Refusal;

use super::setup;
use crate::provider::{
    Adapter, BadCredentials, ChannelKind, Credentials, FormField, Rules, Setup, HOUR_MS,
};

/// The WhatsApp Cloud API.
pub struct WhatsApp;

impl Adapter for WhatsApp {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WhatsApp
    }

    fn name(&self) -> &'static str {
        "WhatsApp"
    }

    fn rules(&self) -> Rules {
        Rules {
            // The customer-service window: after it, only an approved template.
            service_window_ms: Some(24 * HOUR_MS),
            human_agent_window_ms: None,
            max_text_chars: 4_096,
            idempotency_key: false,
            templates: true,
            template_outside_window: true,
            marks_read: false,
        }
    }

    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials> {
        Credentials::read(self.name(), stored).map(Credentials::WhatsApp)
    }

    fn setup(&self, input: Value) -> Result<Setup, Refusal> {
        setup::setup(input)
    }

    fn setup_form(&self) -> &'static [FormField] {
        setup::FORM
    }

    #[cfg(feature = "openapi")]
    fn setup_schemas(&self, out: &mut crate::provider::setup::Schemas) {
        crate::provider::setup::schemas_of::<setup::WhatsAppCredentials>(out);
    }
}
