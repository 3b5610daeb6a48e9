//! Webhook payload signature check. Messenger uses the same scheme as WhatsApp.
//!
//! Meta still sends the legacy `X-Hub-Signature: sha1=…` next to the SHA-256 one for older
//! setups; SHA-1 alone is refused here on purpose, so a caller passes only the
//! `X-Hub-Signature-256` header value.

/// Meta doc: Messenger Platform › Webhooks › "Validate payloads"
/// (`X-Hub-Signature-256: sha256=<hex HMAC-SHA256(app secret, raw body)>`).
///
/// `raw_body` must be the bytes as received (Meta escapes non-ASCII as `\uXXXX` before signing).
/// A missing header, a `sha1=` value or an empty secret never verifies.
pub fn verify(app_secret: &str, raw_body: &[u8], header_256: Option<&str>) -> bool {
    crate::whatsapp::signature::verify(app_secret, raw_body, header_256)
}

/// The `X-Hub-Signature-256` value Meta would send for `raw_body` (tests and tools).
pub fn sign(app_secret: &str, raw_body: &[u8]) -> String {
    crate::whatsapp::signature::sign(app_secret, raw_body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hmac::{Hmac, Mac};
    use sha1::Sha1;

    #[test]
    fn a_body_signed_only_with_the_legacy_sha1_header_is_refused() {
        let body = br#"{"object":"page","entry":[]}"#;
        let mut mac = Hmac::<Sha1>::new_from_slice(b"secret").unwrap_or_else(|_| unreachable!());
        mac.update(body);
        let sha1 = format!("sha1={}", hex::encode(mac.finalize().into_bytes()));
        assert!(!verify("secret", body, Some(&sha1)));
        assert!(!verify("secret", body, None));
        assert!(verify("secret", body, Some(&sign("secret", body))));
        assert!(!verify("other", body, Some(&sign("secret", body))));
    }
}
