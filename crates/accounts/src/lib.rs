//! Staff sign-in: accounts and memberships, argon2id passwords, TOTP and recovery codes,
//! sessions, API tokens, sign-in throttling and known devices. Patient privacy (audit trail,
//! consent, verification, data requests) is `tsunagu-privacy`, which this crate uses for the
//! trail and encryption.
pub mod devices;
pub mod passwords;
pub mod sessions;
pub mod staff;
pub mod throttle;
pub mod tokens;
pub mod totp;
