//! A channel's secrets as stored (encrypted) with it, typed by its provider. The enum itself is
//! generated from the registry (`providers!`: each provider's secrets type, in its
//! `<kind>/setup.rs` with its accessor); the addresses a channel serves (phone number ids,
//! pages, numbers) are kept in clear beside them, not here.
pub use super::registry::Credentials;

/// Stored credentials that do not read as their provider's: names the provider, never a value.
#[derive(Debug, thiserror::Error)]
#[error("the stored {provider} credentials are incomplete or malformed")]
pub struct BadCredentials {
    pub provider: &'static str,
}

impl Credentials {
    /// Reads stored credentials as `T`, or says which provider's did not read.
    pub fn read<T: serde::de::DeserializeOwned>(
        provider: &'static str,
        stored: &serde_json::Value,
    ) -> Result<T, BadCredentials> {
        T::deserialize(stored).map_err(|_| BadCredentials { provider })
    }
}
