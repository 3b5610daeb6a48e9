//! The provider contract suite: one set of checks, written once against the `Adapter` trait and
//! run for every provider in the registry (`ChannelKind::ALL`): signatures accepted and refused on
//! the provider's official samples, every sample parsed, sends against its emulator (sent,
//! throttled, Retry-After, a lost answer, no answer, a permanent refusal) and media fetched.
//!
//! What differs per provider lives in its kit (`contract/<kind>.rs`): credentials, official
//! samples, how the provider signs (the emulator's own code) and how to start its emulator with a
//! fault. A kind without a kit fails every check, so a new provider cannot skip the suite.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod contract {
    pub mod fixtures;
    pub mod hooks;
    pub mod kit;

    mod line;
    mod messenger;
    mod sms;
    mod whatsapp;

    mod media;
    mod parse;
    mod send;
    mod verify;
}
