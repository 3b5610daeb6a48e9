//! Provider emulators with the real wire formats, limits and signatures, for tests and the demo.
//! Strict on purpose: a payload the real provider would reject must fail here too.
pub mod line;
pub mod messenger;
mod page;
pub mod png;
mod serve;
pub mod twilio;
pub mod whatsapp;
