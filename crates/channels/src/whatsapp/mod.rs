//! WhatsApp Cloud API adapter: verify, handshake, parse, and the outbound client.
//! <https://developers.facebook.com/docs/whatsapp/cloud-api/webhooks>
mod adapter;
pub mod client;
pub mod content;
mod deliver;
pub mod events;
pub mod manage;
pub mod outgoing;
pub mod receive;
pub mod setup;
pub mod signature;
pub mod verification;

pub use adapter::WhatsApp;
pub use client::{
    CallError, CreatedTemplate, MediaInfo, NewTemplate, TemplateSummary, WhatsAppClient,
};
pub use content::{ApiError, Content};
pub use events::{
    parse, status_item, status_rank, status_should_apply, Message, OtherItem, ParseError, Status,
    StatusKind, WebhookBody,
};
pub use manage::{body_variables, MAX_MEDIA_BYTES};
pub use outgoing::{BuildError, ListRow, ListSection, MediaKind, MediaSource};
pub use setup::WhatsAppSecrets;
