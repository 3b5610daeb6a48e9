//! Keeping health data safe: secret encryption, passwords and second factors, the audit trail.
pub mod audit;
pub mod consent;
pub mod crypto;
pub mod devices;
pub mod erasure;
pub mod export;
pub mod passwords;
pub mod retention;
pub mod sessions;
pub mod staff;
pub mod throttle;
pub mod tokens;
pub mod totp;
pub mod verification;

pub use audit::{Actor, AuditEntry};
pub use crypto::Cipher;
