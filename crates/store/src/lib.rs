//! Storage: one pool over SQLite (embedded default) or PostgreSQL, chosen by URL at run time.
//! All SQL is written once with `$1` binds through sqlx's Any driver; what truly differs between
//! the dialects lives in explicit arms here (`Backend`).
pub mod arrival;
pub mod attachments;
pub mod batch;
pub mod channels;
pub mod clinics;
pub mod conversations;
pub mod db;
pub mod edits;
pub mod group;
pub mod idempotency;
pub mod inbox_views;
pub mod jobs;
pub mod labels;
pub mod pacing;
pub mod patients;
pub mod reachability;
pub mod saved_views;
pub mod search;
pub mod secrets;
pub mod statuses;
pub mod templates;
mod wal_flush;
pub mod webhooks;

pub use db::{Backend, Db, Tx};
pub use group::{run_staged, BoxFuture, GroupWork, Staged};

/// A row's `INTEGER` flag as a bool (both dialects store flags as integers).
pub fn flag(v: i64) -> bool {
    v != 0
}
