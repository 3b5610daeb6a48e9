//! Several workers on one database (issue 10): what a worker that vanished or was stopped
//! leaves behind, and a conversation's lines in order whichever worker claims them. Run on
//! SQLite and, with TEST_DATABASE_URL, on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

mod courier;
mod lifecycle;
mod ordering;
mod shutdown;
