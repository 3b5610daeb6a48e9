//! Channels of every kind over the real router: the settings page that connects them, WhatsApp
//! message templates (API and page), sending a template from a conversation, the service window
//! and reachability on the patient page and API, the webhooks' channel cache. SQLite by
//! default, PostgreSQL when `TEST_DATABASE_URL` is set. The API and inbox test helpers are
//! shared, not copied.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod channels {
    #[path = "../api/support.rs"]
    pub mod api_support;
    #[path = "../inbox/support.rs"]
    pub mod ui_support;

    pub mod seed;

    mod reachability;
    mod settings_page;
    mod template_send;
    mod templates_api;
    mod templates_page;
    mod webhook_cache;
}
