//! LINE as a provider adapter (`crate::provider::Adapter`).
use serde_json::Value;
use tsunagu_core::Refusal;

use super::setup;
use crate::provider::{Adapter, BadCredentials, ChannelKind, Credentials, FormField, Rules, Setup};

/// The LINE Messaging API.
pub struct Line;

impl Adapter for Line {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Line
    }

    fn name(&self) -> &'static str {
        "LINE"
    }

    fn rules(&self) -> Rules {
        Rules {
            service_window_ms: None,
            human_agent_window_ms: None,
            max_text_chars: 5_000,
            // X-Line-Retry-Key.
            idempotency_key: true,
            templates: false,
            template_outside_window: false,
            marks_read: true,
        }
    }

    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials> {
        Credentials::read(self.name(), stored).map(Credentials::Line)
    }

    fn setup(&self, input: Value) -> Result<Setup, Refusal> {
        setup::setup(input)
    }

    fn setup_form(&self) -> &'static [FormField] {
        setup::FORM
    }

    #[cfg(feature = "openapi")]
    fn setup_schemas(&self, out: &mut crate::provider::setup::Schemas) {
        crate::provider::setup::schemas_of::<setup::LineCredentials>(out);
    }
}
