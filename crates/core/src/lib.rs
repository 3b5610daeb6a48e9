//! The vocabulary every other crate shares: ids, the clock, roles and permissions, settings, job
//! kinds with their payloads.
pub mod clock;
pub mod config;
pub mod ids;
pub mod jobs;
pub mod roles;
pub mod text;

pub use clock::{Clock, FakeClock, SharedClock, SystemClock};
pub use ids::*;
pub use roles::{Permission, Role, TokenScope};
