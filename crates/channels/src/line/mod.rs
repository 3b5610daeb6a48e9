//! LINE Messaging API adapter.
//! <https://developers.line.biz/en/reference/messaging-api/>
mod adapter;
pub mod client;
pub mod events;
pub mod signature;

pub use adapter::Line;
pub use client::{text_message, LineClient, Profile, Quota, SendError, SendOk, TextError};
pub use events::{EventDetail, InboundMessage, ParseError, Source, WebhookBody};
