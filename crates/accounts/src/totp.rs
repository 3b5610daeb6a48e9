//! The second factor: TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, one step of drift either
//! way) and single-use recovery codes. Seeds are stored encrypted with the configured key; the
//! last accepted step is stored so a code seen over someone's shoulder cannot be replayed.
use subtle::ConstantTimeEq;
use totp_rs::{Algorithm, TOTP};

use tsunagu_privacy::crypto::{sha256_hex, Cipher};

pub const ISSUER: &str = "tsunagu";
const STEP_SECONDS: u64 = 30;
const SKEW_STEPS: u64 = 1;
pub const RECOVERY_CODES: usize = 10;

/// What the enrolment page shows once: the QR code and the same secret as text.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Enrolment {
    pub secret_base32: String,
    pub otpauth_uri: String,
    /// `data:image/png;base64,…` for an `<img src>` (the CSP allows data: images).
    pub qr_data_url: String,
}

/// A fresh 160-bit seed (the RFC 4226 recommended length).
pub fn new_secret() -> Vec<u8> {
    let mut s = vec![0u8; 20];
    rand::RngCore::fill_bytes(&mut rand::thread_rng(), &mut s);
    s
}

pub fn encrypt_secret(cipher: &Cipher, secret: &[u8]) -> String {
    cipher.encrypt(secret)
}

pub fn decrypt_secret(cipher: &Cipher, stored: &str) -> anyhow::Result<Vec<u8>> {
    Ok(cipher.decrypt(stored)?)
}

fn totp(secret: &[u8], account: &str) -> anyhow::Result<TOTP> {
    // The otpauth label may not contain ':' (it separates issuer and account).
    let account = account.replace(':', "_");
    TOTP::new(
        Algorithm::SHA1,
        6,
        SKEW_STEPS as u8,
        STEP_SECONDS,
        secret.to_vec(),
        Some(ISSUER.into()),
        account,
    )
    .map_err(|e| anyhow::anyhow!("building the TOTP generator: {e}"))
}

/// The otpauth URI and QR code for an authenticator app.
pub fn enrolment(secret: &[u8], account: &str) -> anyhow::Result<Enrolment> {
    let t = totp(secret, account)?;
    let png = t
        .get_qr_base64()
        .map_err(|e| anyhow::anyhow!("drawing the TOTP QR code: {e}"))?;
    Ok(Enrolment {
        secret_base32: t.get_secret_base32(),
        otpauth_uri: t.get_url(),
        qr_data_url: format!("data:image/png;base64,{png}"),
    })
}

/// The current code (for tests and the demo).
pub fn code_at(secret: &[u8], now_ms: i64) -> anyhow::Result<String> {
    Ok(totp(secret, "x")?.generate(seconds(now_ms)))
}

fn seconds(now_ms: i64) -> u64 {
    u64::try_from(now_ms.max(0) / 1000).unwrap_or(0)
}

/// Checks `code` at `now_ms`, accepting only steps after `last_step`. Returns the matching step,
/// which the caller stores as the new `last_step` in the same transaction.
pub fn verify(
    secret: &[u8],
    code: &str,
    now_ms: i64,
    last_step: i64,
) -> anyhow::Result<Option<i64>> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let t = totp(secret, "x")?;
    let current = seconds(now_ms) / STEP_SECONDS;
    let mut found = None;
    // Every candidate is computed and compared, so timing does not reveal which step matched.
    for step in current.saturating_sub(SKEW_STEPS)..=current + SKEW_STEPS {
        let expected = t.generate(step * STEP_SECONDS);
        let hit: bool = expected.as_bytes().ct_eq(code.as_bytes()).into();
        let step = i64::try_from(step).unwrap_or(i64::MAX);
        if hit && step > last_step && found.is_none() {
            found = Some(step);
        }
    }
    Ok(found)
}

/// Ten fresh recovery codes: the plain codes (shown once) and the JSON array of their hashes
/// (stored in `staff.recovery_codes`).
pub fn new_recovery_codes() -> (Vec<String>, String) {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    let plain: Vec<String> = (0..RECOVERY_CODES)
        .map(|_| {
            let raw: String = (0..10)
                .map(|_| ALPHABET[rand::Rng::gen_range(&mut rng, 0..ALPHABET.len())] as char)
                .collect();
            format!("{}-{}", &raw[..5], &raw[5..])
        })
        .collect();
    let hashes: Vec<String> = plain.iter().map(|c| hash_recovery_code(c)).collect();
    (
        plain,
        serde_json::to_string(&hashes).unwrap_or_else(|_| "[]".into()),
    )
}

/// Case, spaces and hyphens do not matter when a code is typed back.
fn hash_recovery_code(code: &str) -> String {
    let norm: String = code
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    sha256_hex(norm.as_bytes())
}

/// Looks for `code` among the stored hashes. On a match returns the remaining hashes (the code
/// is spent), to be stored in the same transaction that signs the person in.
pub fn use_recovery_code(stored_json: &str, code: &str) -> Option<String> {
    let hashes: Vec<String> = serde_json::from_str(stored_json).unwrap_or_default();
    let wanted = hash_recovery_code(code);
    if wanted == hash_recovery_code("") {
        return None;
    }
    let mut hit = None;
    for (i, h) in hashes.iter().enumerate() {
        if bool::from(h.as_bytes().ct_eq(wanted.as_bytes())) && hit.is_none() {
            hit = Some(i);
        }
    }
    let i = hit?;
    let rest: Vec<&String> = hashes
        .iter()
        .enumerate()
        .filter(|(j, _)| *j != i)
        .map(|(_, h)| h)
        .collect();
    Some(serde_json::to_string(&rest).unwrap_or_else(|_| "[]".into()))
}

/// How many unused recovery codes remain (for the account page).
pub fn recovery_codes_left(stored_json: &str) -> usize {
    serde_json::from_str::<Vec<String>>(stored_json)
        .map(|v| v.len())
        .unwrap_or(0)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const T0: i64 = 1_700_000_000_000;

    #[test]
    fn a_code_from_the_previous_or_next_step_is_accepted_but_not_older() {
        let s = new_secret();
        let now_code = code_at(&s, T0).unwrap();
        assert!(verify(&s, &now_code, T0, 0).unwrap().is_some());
        assert!(verify(&s, &code_at(&s, T0 - 30_000).unwrap(), T0, 0)
            .unwrap()
            .is_some());
        assert!(verify(&s, &code_at(&s, T0 + 30_000).unwrap(), T0, 0)
            .unwrap()
            .is_some());
        let old = code_at(&s, T0 - 120_000).unwrap();
        assert!(verify(&s, &old, T0, 0).unwrap().is_none() || old == now_code);
    }

    #[test]
    fn a_code_is_not_accepted_again_once_its_step_is_used() {
        let s = new_secret();
        let code = code_at(&s, T0).unwrap();
        let step = verify(&s, &code, T0, 0).unwrap().unwrap();
        assert_eq!(verify(&s, &code, T0 + 5_000, step).unwrap(), None);
    }

    #[test]
    fn enrolment_gives_an_otpauth_uri_and_a_png_data_url() {
        let e = enrolment(&new_secret(), "sato@example.jp").unwrap();
        assert!(e
            .otpauth_uri
            .starts_with("otpauth://totp/tsunagu:sato%40example.jp?secret="));
        assert!(e.qr_data_url.starts_with("data:image/png;base64,"));
        assert_eq!(e.secret_base32.len(), 32);
    }

    #[test]
    fn a_recovery_code_works_once_whatever_its_case_and_hyphens() {
        let (plain, stored) = new_recovery_codes();
        assert_eq!(plain.len(), 10);
        assert!(!stored.contains(&plain[0]));
        let typed = plain[3].to_uppercase().replace('-', " ");
        let rest = use_recovery_code(&stored, &typed).unwrap();
        assert_eq!(recovery_codes_left(&rest), 9);
        assert!(use_recovery_code(&rest, &plain[3]).is_none());
        assert!(use_recovery_code(&rest, "").is_none());
    }
}
