//! Patient records over the real router: the `/api/v1/patients` and custom-field API, CSV
//! import, and the `/app/patients` pages. SQLite by default, PostgreSQL when
//! `TEST_DATABASE_URL` is set. The API and inbox test helpers are shared, not copied.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod patients {
    #[path = "../api/support.rs"]
    pub mod api_support;
    #[path = "../inbox/support.rs"]
    pub mod ui_support;

    mod api;
    mod api_import;
    mod pages;
    mod pages_import;
}
