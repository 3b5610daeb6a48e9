//! The `/api/v1` contract over the real router, on SQLite by default and on PostgreSQL when
//! `TEST_DATABASE_URL` is set. One test binary (modules under `tests/api/`) keeps linking cheap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod api {
    pub mod support;

    mod auth;
    mod automation_settings;
    mod channels;
    mod event_rules;
    mod flows;
    mod idempotency;
    mod openapi;
    mod purposes;
    mod reading;
    mod reply;
    mod rich_menus;
    mod scheduled;
    mod sequences;
    mod service_level;
    mod sources;
    mod views;
}
