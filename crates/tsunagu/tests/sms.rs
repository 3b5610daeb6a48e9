//! SMS through Twilio end to end, against the Twilio sandbox on the app's fake clock: inbound
//! messages and MMS signed exactly like Twilio, staff replies out through the Messages API,
//! status callbacks, signatures, STOP/START, unrouted numbers and delivery failures.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;
#[path = "sms/support.rs"]
mod support;

#[path = "sms/callbacks.rs"]
mod callbacks;
#[path = "sms/codes.rs"]
mod codes;
#[path = "sms/reliability.rs"]
mod reliability;
#[path = "sms/rich.rs"]
mod rich;
#[path = "sms/round_trip.rs"]
mod round_trip;
#[path = "sms/signatures.rs"]
mod signatures;
#[path = "sms/stop.rs"]
mod stop;
