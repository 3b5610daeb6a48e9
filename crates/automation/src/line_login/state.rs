//! The OAuth `state` of a login started from a source's link: signed, not stored, so opening
//! `/s/{source}` (a public page anyone can load in a loop) writes nothing. It names the source
//! and carries its expiry and the ID token's nonce, signed HMAC-SHA256 with the linked Login
//! channel's secret: unguessable, short-lived and bound to the source; the callback records it
//! as used (`line_login_states`), so a replay counts once.
use hmac::{Hmac, Mac};
use sha2::Sha256;

const VERSION: &str = "v1";

/// What a checked state says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Signed {
    pub source_id: String,
    /// Milliseconds.
    pub expires_at: i64,
    pub nonce: String,
}

fn mac(secret: &str, body: &str) -> Option<Hmac<Sha256>> {
    let mut m = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).ok()?;
    m.update(body.as_bytes());
    Some(m)
}

/// `v1.{source}.{expiry}.{nonce}.{hex signature}`.
pub fn sign(secret: &str, s: &Signed) -> String {
    let body = format!("{VERSION}.{}.{}.{}", s.source_id, s.expires_at, s.nonce);
    let sig = mac(secret, &body)
        .map(|m| hex::encode(m.finalize().into_bytes()))
        .unwrap_or_default();
    format!("{body}.{sig}")
}

/// The source a state names, before its signature is checked (the source says which secret).
pub fn source_of(state: &str) -> Option<&str> {
    let mut parts = state.split('.');
    (parts.next() == Some(VERSION))
        .then(|| parts.next())
        .flatten()
        .filter(|s| !s.is_empty())
}

/// The state's contents if `secret` signed it (constant-time comparison); expiry not checked.
pub fn verify(secret: &str, state: &str) -> Option<Signed> {
    let (body, sig) = state.rsplit_once('.')?;
    let sig = hex::decode(sig).ok()?;
    if secret.is_empty() {
        return None;
    }
    mac(secret, body)?.verify_slice(&sig).ok()?;
    let mut parts = body.split('.');
    let (Some(VERSION), Some(source_id), Some(exp), Some(nonce), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return None;
    };
    Some(Signed {
        source_id: source_id.to_string(),
        expires_at: exp.parse().ok()?,
        nonce: nonce.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Signed {
        Signed {
            source_id: "01a25142-ae9e-7725-a5bc-9f2c39e429da".into(),
            expires_at: 1_700_000_600_000,
            nonce: "abc123".into(),
        }
    }

    #[test]
    fn a_state_signed_with_the_channel_secret_reads_back() {
        let st = sign("secret", &sample());
        assert_eq!(source_of(&st), Some(sample().source_id.as_str()));
        assert_eq!(verify("secret", &st), Some(sample()));
    }

    #[test]
    fn a_changed_source_expiry_or_another_secret_is_refused() {
        let st = sign("secret", &sample());
        assert_eq!(verify("other", &st), None);
        let later = st.replace("1700000600000", "1800000600000");
        assert_eq!(verify("secret", &later), None);
        let other = st.replace("01a25142-ae9e", "01a25142-ffff");
        assert_eq!(verify("secret", &other), None);
        assert_eq!(verify("secret", "v1.x.1.n.zz"), None);
        assert_eq!(verify("", &sign("", &sample())), None);
        assert_eq!(source_of("nonsense"), None);
    }
}
