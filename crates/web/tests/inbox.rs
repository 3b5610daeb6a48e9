//! The staff inbox over the real router: list, conversation, reply, attachments, live stream,
//! and the page-safety rules (CSP, no inline script or style). SQLite by default, PostgreSQL when
//! `TEST_DATABASE_URL` is set. One test binary (modules under `tests/inbox/`) keeps linking cheap.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod inbox {
    pub mod support;

    mod conversation;
    mod demo;
    mod list;
    mod live;
    mod page_safety;
    mod reply;
}
