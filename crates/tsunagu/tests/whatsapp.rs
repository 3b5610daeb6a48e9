//! WhatsApp Cloud API end to end: the whole app against the WhatsApp sandbox, the channel
//! connected through the API, workers driven step by step on a fake clock.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

#[path = "whatsapp/harness.rs"]
mod harness;

#[path = "whatsapp/bounce.rs"]
mod bounce;
#[path = "whatsapp/early_status.rs"]
mod early_status;
#[path = "whatsapp/edits.rs"]
mod edits;
#[path = "whatsapp/media.rs"]
mod media;
#[path = "whatsapp/reliability.rs"]
mod reliability;
#[path = "whatsapp/rich.rs"]
mod rich;
#[path = "whatsapp/round_trip.rs"]
mod round_trip;
#[path = "whatsapp/webhooks.rs"]
mod webhooks;
#[path = "whatsapp/window.rs"]
mod window;
