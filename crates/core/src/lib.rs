//! The vocabulary every other crate shares: ids, the clock, roles and permissions, settings, job
//! kinds with their payloads, stable codes and the one refusal type.
pub mod clock;
pub mod code;
pub mod config;
pub mod conversation_state;
pub mod ids;
pub mod jobs;
pub mod refusal;
pub mod roles;
pub mod text;

pub use clock::{Clock, FakeClock, OffsetClock, SharedClock, SystemClock};
pub use code::Code;
pub use conversation_state::{ConversationStatus, Priority};
pub use ids::*;
pub use refusal::{Arg, Refusal};
pub use roles::{Permission, Role, TokenScope};
