//! The provider adapter: everything tsunagu needs from one messaging provider, behind one
//! trait, and the one registry that lists the providers.
//!
//! A provider is one `Adapter` (its kind, its rules, its typed credentials) that also
//! implements `Receive` (verify and parse a webhook delivery into inbound items) and `Deliver`
//! (send a message, fetch media, pacing budgets, provider error → stable code). Everything
//! above this crate (the webhook endpoint, ingest, the send and media jobs, reachability) asks
//! the registry for the adapter of a channel's kind and never matches on the kind itself.
mod credentials;
pub mod deliver;
pub mod inbound;
pub mod receive;
mod registry;
pub mod setup;

pub use credentials::{BadCredentials, Credentials};
pub use deliver::Deliver;
pub use receive::{Answer, Endpoint, Malformed, Receive, Routes, WebhookRequest};
pub use registry::{adapter, adapters, ChannelKind};
pub use setup::{FormField, Setup, Shape};

/// Delivery rules that differ between providers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rules {
    /// How long after the patient's last message free-form messages may be sent (WhatsApp's
    /// customer-service window, Messenger's standard messaging window). `None`: no such rule.
    pub service_window_ms: Option<i64>,
    /// Messenger's `HUMAN_AGENT` tag: a person (not automation) may answer this long after the
    /// patient's last message.
    pub human_agent_window_ms: Option<i64>,
    /// The longest text one message may carry.
    pub max_text_chars: usize,
    /// Whether a send carries a provider idempotency key (LINE's `X-Line-Retry-Key`), so an
    /// attempt whose outcome is unknown may be repeated. Without one it is in doubt instead.
    pub idempotency_key: bool,
    /// Whether the provider sends message templates it approved beforehand (WhatsApp's): a
    /// channel then has templates to draft, submit, sync and send.
    pub templates: bool,
    /// Whether an approved template may still be sent once the service window has closed.
    pub template_outside_window: bool,
    /// Whether the provider can show the patient that staff read their messages
    /// (`Deliver::mark_read`): a channel then has the setting "mark read when opened".
    pub marks_read: bool,
}

/// An hour in milliseconds, the unit of the window rules.
pub const HOUR_MS: i64 = 3_600_000;

/// One messaging provider. Implemented once per provider (`line::Line`, `whatsapp::WhatsApp`,
/// `messenger::Messenger`, `sms::Sms`) and listed once in the registry.
pub trait Adapter: Receive + Deliver + Send + Sync + 'static {
    fn kind(&self) -> ChannelKind;
    /// The provider's name in English, for developers' details ("WhatsApp", "Twilio").
    fn name(&self) -> &'static str;
    fn rules(&self) -> Rules;
    /// The stored (decrypted) credentials, typed; an error names what is missing.
    fn credentials(&self, stored: &serde_json::Value) -> Result<Credentials, BadCredentials>;

    /// Connecting a channel: the administrator's input (the API's `credentials`, or the
    /// settings form read by `setup::read_form`) checked and split into secrets and addresses.
    /// Refused with `invalid_credentials` and a message saying what is needed.
    fn setup(&self, input: serde_json::Value) -> Result<Setup, tsunagu_core::Refusal>;

    /// The settings page's connect form, in order.
    fn setup_form(&self) -> &'static [FormField];

    /// The OpenAPI schemas of the input `setup` takes (named as the API document shows them).
    #[cfg(feature = "openapi")]
    fn setup_schemas(&self, out: &mut setup::Schemas);
}
