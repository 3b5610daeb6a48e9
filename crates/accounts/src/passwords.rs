//! Staff passwords: argon2id in PHC strings. Verification compares in constant time (argon2's
//! own comparison), and an unknown e-mail still costs one full verification, so the response
//! time does not tell an attacker which accounts exist.
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use rand::{Rng, RngCore};
use std::sync::OnceLock;
use tsunagu_core::{Code, Refusal};

/// Shorter passwords are refused when set; long passphrases are welcome.
pub const MIN_LENGTH: usize = 10;
/// Beyond this a "password" is more likely a paste accident or a denial-of-service attempt.
pub const MAX_LENGTH: usize = 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum PasswordError {
    #[error("password_too_short")]
    TooShort,
    #[error("password_too_long")]
    TooLong,
}

impl PasswordError {
    pub fn code(&self) -> Code {
        match self {
            PasswordError::TooShort => Code::PasswordTooShort,
            PasswordError::TooLong => Code::PasswordTooLong,
        }
    }
}

impl From<PasswordError> for Refusal {
    fn from(e: PasswordError) -> Refusal {
        let why = format!("a password is {MIN_LENGTH} to {MAX_LENGTH} characters");
        Refusal::new(e.code()).detail(why)
    }
}

/// Checks a new password against the policy (length in characters, not bytes: Japanese
/// passphrases count by what the person typed).
pub fn check_policy(password: &str) -> Result<(), PasswordError> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        Err(PasswordError::TooShort)
    } else if n > MAX_LENGTH {
        Err(PasswordError::TooLong)
    } else {
        Ok(())
    }
}

/// Hashes a password that passed `check_policy` into an argon2id PHC string.
pub fn hash(password: &str) -> anyhow::Result<String> {
    check_policy(password)?;
    hash_unchecked(password)
}

fn hash_unchecked(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    rand::thread_rng().fill_bytes(&mut salt);
    let salt = SaltString::encode_b64(&salt)
        .map_err(|e| anyhow::anyhow!("encoding a password salt: {e}"))?;
    // Argon2::default() is argon2id v0x13 with the OWASP-recommended minimum (19 MiB, t=2, p=1).
    let phc = Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing a password: {e}"))?;
    Ok(phc.to_string())
}

/// True when `password` matches the stored PHC string. A malformed stored hash never matches.
pub fn verify(stored_phc: &str, password: &str) -> bool {
    if password.len() > MAX_LENGTH * 4 {
        return false;
    }
    match PasswordHash::new(stored_phc) {
        Ok(parsed) => Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok(),
        Err(_) => false,
    }
}

/// Spends the same effort as `verify` against a hash nobody owns, for unknown e-mails.
pub fn dummy_verify(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let stored = DUMMY.get_or_init(|| hash_unchecked(&generate(24)).unwrap_or_default());
    let _ = verify(stored, password);
}

/// A random password for `tsunagu user add` without one: letters and digits that cannot be
/// confused with each other when read aloud or copied from a terminal.
pub fn generate(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let mut rng = rand::thread_rng();
    (0..len.max(MIN_LENGTH))
        .map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_is_argon2id_and_verifies_only_the_right_password() {
        let h = hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(&h, "correct horse battery"));
        assert!(!verify(&h, "correct horse battery!"));
    }

    #[test]
    fn a_short_password_is_refused() {
        assert_eq!(check_policy("123456789"), Err(PasswordError::TooShort));
        assert!(hash("short").is_err());
        assert_eq!(check_policy("パスワードは十文字以上"), Ok(()));
    }

    #[test]
    fn a_malformed_stored_hash_never_matches() {
        assert!(!verify("not a hash", "anything at all"));
        dummy_verify("anything at all");
    }

    #[test]
    fn generated_passwords_are_long_enough_and_differ() {
        let (a, b) = (generate(16), generate(16));
        assert_eq!(a.chars().count(), 16);
        assert_ne!(a, b);
        assert!(check_policy(&a).is_ok());
    }
}
