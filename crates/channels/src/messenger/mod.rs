//! Facebook Messenger and Instagram messaging adapter (Messenger Platform): verify, handshake,
//! parse webhooks, send through the Send API, and the 24-hour / 7-day window rule.
//! <https://developers.facebook.com/docs/messenger-platform>
mod adapter;
pub mod client;
mod deliver;
pub mod events;
pub mod receive;
pub mod setup;
pub mod signature;
pub mod window;

pub use crate::whatsapp::verification::handshake;
/// Meta doc: Graph API › Webhooks › "Verification Requests" — identical to WhatsApp's handshake.
pub use adapter::Messenger;

pub use client::{
    attachment, quick_replies, text, AttachmentType, BodyError, MessagingKind, MessengerClient,
    UserProfile,
};
pub use events::{parse, Attachment, Event, EventKind, ParseError, ReactionAction, WebhookBody};
pub use setup::MessengerSecrets;
pub use window::{allowed_kind, WindowRefusal};
