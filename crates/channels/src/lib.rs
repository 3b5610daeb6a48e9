//! Channel adapters: verify and parse what providers send us, and call their send APIs.
//! Pure: no database, no web framework; tested against the `tsunagu-sandbox` emulators.
pub mod compose;
pub mod delivery;
pub mod line;
pub mod messenger;
pub mod outbound;
pub mod provider;
pub mod sms;
pub mod whatsapp;

pub use provider::{Adapter, ChannelKind, Credentials};
