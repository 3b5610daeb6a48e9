//! AES-256-GCM for secrets at rest (channel credentials, TOTP seeds). The stored form is
//! `v1:<base64 nonce||ciphertext>`, so the scheme can change without ambiguity.
use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};

#[derive(Clone)]
pub struct Cipher {
    aead: Aes256Gcm,
}

impl std::fmt::Debug for Cipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Cipher(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    #[error("the stored secret is not in a known format")]
    Format,
    #[error("the stored secret could not be decrypted: wrong TSUNAGU_ENCRYPTION_KEY?")]
    Decrypt,
}

impl Cipher {
    pub fn new(key: &[u8; 32]) -> Self {
        Self {
            aead: Aes256Gcm::new(key.into()),
        }
    }

    pub fn encrypt(&self, plaintext: &[u8]) -> String {
        let mut nonce = [0u8; 12];
        rand::thread_rng().fill_bytes(&mut nonce);
        // Encryption with a valid key and a 12-byte nonce cannot fail.
        let ct = self
            .aead
            .encrypt(Nonce::from_slice(&nonce), plaintext)
            .unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        format!("v1:{}", B64.encode(out))
    }

    pub fn decrypt(&self, stored: &str) -> Result<Vec<u8>, CryptoError> {
        let b = stored.strip_prefix("v1:").ok_or(CryptoError::Format)?;
        let raw = B64.decode(b).map_err(|_| CryptoError::Format)?;
        if raw.len() < 12 + 16 {
            return Err(CryptoError::Format);
        }
        let (nonce, ct) = raw.split_at(12);
        self.aead
            .decrypt(Nonce::from_slice(nonce), ct)
            .map_err(|_| CryptoError::Decrypt)
    }

    pub fn encrypt_json(&self, v: &serde_json::Value) -> String {
        self.encrypt(v.to_string().as_bytes())
    }

    pub fn decrypt_json(&self, stored: &str) -> Result<serde_json::Value, CryptoError> {
        let b = self.decrypt(stored)?;
        serde_json::from_slice(&b).map_err(|_| CryptoError::Format)
    }
}

/// Hex SHA-256, for tokens and other values we look up but never need back.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// A random token of `bytes` bytes, URL-safe base64 without padding.
pub fn random_token(bytes: usize) -> String {
    let mut b = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut b);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_round_trips_and_is_not_stored_in_clear() {
        let c = Cipher::new(&[7u8; 32]);
        let s = c.encrypt(b"channel-secret-123");
        assert!(!s.contains("channel-secret"));
        assert_eq!(
            c.decrypt(&s).ok().as_deref(),
            Some(&b"channel-secret-123"[..])
        );
    }

    #[test]
    fn the_wrong_key_cannot_decrypt() {
        let s = Cipher::new(&[7u8; 32]).encrypt(b"x");
        assert!(matches!(
            Cipher::new(&[8u8; 32]).decrypt(&s),
            Err(CryptoError::Decrypt)
        ));
    }
}
