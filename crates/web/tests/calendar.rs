//! The clinic calendar over the real router: `/api/v1/calendar*` and `/app/settings/calendar`,
//! with a fake clock, on SQLite by default and on PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod calendar {
    pub mod support;

    mod api;
    mod ui;
}
