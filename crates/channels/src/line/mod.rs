//! LINE Messaging API adapter.
//! <https://developers.line.biz/en/reference/messaging-api/>
mod adapter;
pub mod client;
mod deliver;
pub mod events;
pub mod login;
pub mod receive;
pub mod richmenu;
pub mod setup;
pub mod signature;

pub use adapter::Line;
pub use client::{
    text_message, LineClient, Profile, Quota, RichMenuCallError, SendError, SendOk, TextError,
};
pub use deliver::{REPLY_TOKEN_LIFETIME_MS, RETRY_KEY_LIFETIME_MS};
pub use events::{EventDetail, InboundMessage, ParseError, Source, WebhookBody};
pub use setup::LineSecrets;
