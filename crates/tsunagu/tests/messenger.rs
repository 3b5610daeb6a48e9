//! Facebook Messenger and Instagram messaging end to end: the Messenger sandbox plays Meta
//! (signed webhooks, the Send API with its windows and faults) against the whole app.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

#[path = "messenger/support.rs"]
mod support;

#[path = "messenger/instagram.rs"]
mod instagram;
#[path = "messenger/reliability.rs"]
mod reliability;
#[path = "messenger/rich.rs"]
mod rich;
#[path = "messenger/round_trip.rs"]
mod round_trip;
#[path = "messenger/sources.rs"]
mod sources;
#[path = "messenger/webhooks.rs"]
mod webhooks;
#[path = "messenger/windows.rs"]
mod windows;
