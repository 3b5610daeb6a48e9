//! The inbox domain: turning provider events into patients, conversations and messages, and
//! staff replies into queued sends.
pub mod bulk;
pub mod canned;
pub mod ingest;
pub mod live;
pub mod notes;
pub mod reachability;
pub mod read_marks;
pub mod reply;
pub mod routing;
pub mod scheduled;
pub mod search;
pub mod sla;
pub mod state;

pub use live::{LiveEvent, LiveHub};
