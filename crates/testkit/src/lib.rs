//! Test support: a fresh database per test (temporary SQLite by default, PostgreSQL when
//! `TEST_DATABASE_URL` is set), and helpers to run the whole app against the sandbox.
pub mod db;

pub use db::{test_db, TestDb};
