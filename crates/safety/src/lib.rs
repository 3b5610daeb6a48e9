//! Safety (issue 13): what tsunagu does with a red flag in a patient's message. `tsunagu-triage`
//! recognises (pure, no database); this crate owns the tables (migration 0027) and decides:
//! the clinic's settings and own phrases (`settings`: guidance and crisis texts, escalation
//! minutes, built-in rules switched off, the clinic's `Detector`), what triage found per message
//! (`hits`), raising a conversation to urgent with its alert (`raise`), the guidance's
//! once-an-hour claim and text (`guidance`), the on-call rota (`rota`) and each alert's
//! escalation state (`alerts`). Sends nothing itself: `dispatch` answers the patient and the
//! binary's `triage.escalate` job notifies staff.
pub mod alerts;
pub mod guidance;
pub mod hits;
pub mod raise;
pub mod rota;
pub mod settings;

pub use tsunagu_triage as triage;
