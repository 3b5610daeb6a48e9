//! Test support: a fresh database per test (temporary SQLite by default, PostgreSQL when
//! `TEST_DATABASE_URL` is set), helpers to run the whole app against the sandbox, and the
//! import graph of a crate's modules (`modules`, for the no-cycles tests).
pub mod db;
pub mod modules;

pub use db::{test_db, TestDb};
