//! Patient records against a real database: SQLite by default, PostgreSQL when
//! `TEST_DATABASE_URL` is set. One test binary (modules under `tests/contacts/`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contacts {
    pub mod support;

    mod fields;
    mod import;
    mod records;
}
