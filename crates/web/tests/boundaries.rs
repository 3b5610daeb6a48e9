//! Clinic and patient boundaries over the real router (security probe, issue 8): every
//! mutating route of the staff UI and the API refuses ids that are not the caller's to act on
//! through that path, and nothing showing patient data may be cached. SQLite by default,
//! PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod boundaries {
    #[path = "../channels/seed.rs"]
    pub mod seed;
    #[path = "../inbox/support.rs"]
    pub mod ui_support;

    pub mod routes;
    pub mod routes_api;
    pub mod routes_api_automation;
    pub mod routes_drips;
    pub mod routes_event_rules;
    pub mod routes_settings;
    pub mod routes_ui;
    pub mod snapshot;
    pub mod world;

    mod coverage;
    mod identity;
    mod no_store;
    mod walk;
}
