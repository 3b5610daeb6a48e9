//! Inbound half of an adapter: verify a webhook delivery and parse it into inbound items.
/// Implemented by every adapter (see `super::Adapter`).
pub trait Receive {}
