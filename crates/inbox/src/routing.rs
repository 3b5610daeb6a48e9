//! Who looks after a conversation: the clinic's teams (受付, 看護, 会計, …) and their members,
//! each staff member's availability and capacity, giving a conversation to a person or a team
//! by hand (`assign`), and handing a waiting one to an available member automatically (`auto`,
//! run by the `inbound.dispatch` job). This module owns `teams`, `team_members`,
//! `staff_routing` and `channels.default_team_id`; the conversation's `assignee_id`/`team_id`
//! change only through it (or through erasure).
pub mod assign;
pub mod auto;
pub mod availability;
pub mod teams;

pub use assign::{assign, Change, Target};
pub use auto::{route_inbound, Routed};
pub use availability::Availability;
pub use teams::{AssignMode, Team};
