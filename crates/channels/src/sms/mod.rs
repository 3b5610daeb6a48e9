//! Twilio Programmable Messaging (SMS) adapter: webhook verification and parsing, and the
//! Messages API client (send, media download, segment count).
//! <https://www.twilio.com/docs/messaging>
mod adapter;
pub mod client;
mod deliver;
pub mod inbound;
pub mod keywords;
pub mod receive;
pub mod setup;
pub mod signature;
pub mod status;

pub use adapter::Sms;
pub use client::{segments, OutgoingSms, Sender, TwilioClient};
pub use inbound::InboundSms;
pub use keywords::Keyword;
pub use setup::TwilioSecrets;
pub use status::{MessageStatus, StatusCallback};

/// A webhook form that lacks a field we need or carries one we cannot read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("missing form field {0}")]
    Missing(String),
    #[error("invalid form field {field}: {value:?}")]
    Invalid { field: String, value: String },
}

/// The first value of `name` in a decoded `application/x-www-form-urlencoded` body.
pub(crate) fn field<'a>(form: &'a [(String, String)], name: &str) -> Option<&'a str> {
    form.iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The first of `names` present, else `Missing(names[0])`.
pub(crate) fn required(form: &[(String, String)], names: &[&str]) -> Result<String, ParseError> {
    names
        .iter()
        .find_map(|n| field(form, n))
        .map(str::to_owned)
        .ok_or_else(|| ParseError::Missing(names.first().copied().unwrap_or("").to_owned()))
}
