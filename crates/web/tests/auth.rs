//! Staff sign-in, second factor, sessions, CSRF and the audit page over the real router, on
//! SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod auth {
    pub mod support;

    mod origin;
    mod pages;
    mod sessions;
    mod sign_in;
    mod throttle;
    mod two_factor;
}
