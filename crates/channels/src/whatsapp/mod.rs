//! WhatsApp Cloud API adapter (groundwork: verify, handshake, parse; not wired yet).
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks>
pub mod content;
pub mod events;
pub mod signature;
pub mod verification;

pub use content::{ApiError, Content};
pub use events::{
    parse, status_rank, status_should_apply, Message, OtherItem, ParseError, Status, StatusKind,
    WebhookBody,
};
