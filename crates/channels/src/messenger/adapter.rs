//! Messenger (and Instagram through a page) as a provider adapter (`crate::provider::Adapter`).
use serde_json::Value;
use tsunagu_core::Refusal;

use super::setup;
use crate::provider::{
    Adapter, BadCredentials, ChannelKind, Credentials, FormField, Rules, Setup, HOUR_MS,
};

/// The Messenger Platform (Send API, page webhooks).
pub struct Messenger;

impl Adapter for Messenger {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Messenger
    }

    fn name(&self) -> &'static str {
        "Messenger"
    }

    fn rules(&self) -> Rules {
        Rules {
            // The standard messaging window; a person may answer with HUMAN_AGENT up to 7 days.
            service_window_ms: Some(24 * HOUR_MS),
            human_agent_window_ms: Some(7 * 24 * HOUR_MS),
            max_text_chars: 2_000,
            idempotency_key: false,
            templates: false,
            template_outside_window: false,
            marks_read: false,
        }
    }

    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials> {
        Credentials::read(self.name(), stored).map(Credentials::Messenger)
    }

    fn setup(&self, input: Value) -> Result<Setup, Refusal> {
        setup::setup(input)
    }

    fn setup_form(&self) -> &'static [FormField] {
        setup::FORM
    }

    #[cfg(feature = "openapi")]
    fn setup_schemas(&self, out: &mut crate::provider::setup::Schemas) {
        crate::provider::setup::schemas_of::<setup::MessengerCredentials>(out);
    }
}
