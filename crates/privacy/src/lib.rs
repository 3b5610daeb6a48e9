//! Keeping health data safe: secret encryption, passwords and second factors, the audit trail.
pub mod audit;
pub mod consent;
pub mod crypto;
pub mod erasure;
pub mod export;
pub mod retention;
pub mod verification;

pub use audit::{Actor, AuditEntry};
pub use crypto::Cipher;
