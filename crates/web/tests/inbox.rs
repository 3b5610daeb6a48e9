//! The staff inbox over the real router: list, conversation, reply, retry, assignment,
//! attachments, live stream, and the page-safety rules (CSP, no inline script or style). SQLite
//! by default, PostgreSQL when `TEST_DATABASE_URL` is set. One test binary (modules under
//! `tests/inbox/`) keeps linking cheap. A seeded server to look at: `examples/seeded_inbox.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod inbox {
    pub mod support;

    mod assign;
    mod automation;
    mod bulk;
    mod canned;
    mod conversation;
    mod error_pages;
    mod event_rules;
    mod faq_menu;
    mod list;
    mod live;
    mod notes;
    mod page_safety;
    mod presence;
    mod reply;
    mod retry;
    mod routing;
    mod routing_auto;
    mod safety;
    mod scheduled;
    mod side_panel;
    mod sla;
    mod states;
    mod views;
}
