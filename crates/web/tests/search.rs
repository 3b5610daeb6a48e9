//! Search (issue 11 item 6) over the real app: the API and the page, the index kept true by
//! ingest, replies, edits, unsends and erasure, and a plain substring scan as the oracle. SQLite
//! by default, PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod search {
    #[path = "../inbox/support.rs"]
    pub mod inbox_support;
    pub mod support;

    mod facets;
    mod notes;
    mod oracle;
    mod page;
    mod patients;
    mod upkeep;
}
