//! The inbox domain: turning provider events into patients, conversations and messages, and
//! staff replies into queued sends.
pub mod ingest;
pub mod live;
pub mod reachability;
pub mod reply;
pub mod state;

pub use live::{LiveEvent, LiveHub};
