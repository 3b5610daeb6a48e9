//! Test support: a fresh database per test (temporary SQLite by default, PostgreSQL when
//! `TEST_DATABASE_URL` is set), the whole app against the provider sandboxes (`app`, feature
//! `app`), a clinic's inbox at scale (`corpus`, feature `app`), and the import graph of a crate's modules (`modules`, for the no-cycles tests).
#[cfg(feature = "app")]
pub mod app;
#[cfg(feature = "app")]
pub mod corpus;
pub mod db;
pub mod modules;

#[cfg(feature = "app")]
pub use app::TestApp;
pub use db::{test_db, TestDb};
