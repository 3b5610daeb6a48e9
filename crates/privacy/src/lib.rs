//! Keeping health data safe: secret encryption, passwords and second factors, the audit trail.
pub mod audit;
pub mod crypto;

pub use audit::{Actor, AuditEntry};
pub use crypto::Cipher;
