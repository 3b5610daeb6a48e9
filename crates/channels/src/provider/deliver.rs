//! Outbound half of an adapter: send a message, fetch media, pacing, provider error → code.
/// Implemented by every adapter (see `super::Adapter`).
pub trait Deliver {}
