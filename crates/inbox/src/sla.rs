//! Service levels (SLA): per clinic, a first-response target (返信期限: from the patient's
//! earliest unanswered message to the next staff reply) and a resolution target (解決期限: from
//! when the patient opened the conversation to resolved), both in minutes of opening time on
//! the clinic calendar (`calendar::Schedule::add_business_minutes`), with a warning some minutes
//! before a breach. `targets` owns the `service_levels` table; `clock` turns a conversation's
//! clock starts (`waiting_since`, `opened_at`, kept by the message UPDATE in
//! `store::conversations`) into wall instants: when to warn and when it is due.
//!
//! Which clocks run: the first-response clock while the conversation is open (a due snooze
//! counts as open) and the patient waits; the resolution clock while it is open or pending
//! (pending waits on the patient, but the matter is not settled until someone resolves it).
//! Snoozed and resolved conversations show no clock.
pub mod clock;
pub mod targets;

pub use clock::{Clock, Clocks, Kind, Level, ServiceLevel};
pub use targets::{Invalid, Targets};
