//! The GET subscription handshake (`hub.mode`, `hub.verify_token`, `hub.challenge`).
use subtle::ConstantTimeEq;

/// Meta doc: Graph API › Webhooks › Getting started › "Verification Requests".
///
/// Answers the `hub.challenge` to echo when `hub.mode` is `subscribe` and `hub.verify_token`
/// equals `expected_token` (constant time); anything else is refused (the endpoint answers 403).
/// An empty expected token or challenge is refused.
#[allow(clippy::result_unit_err)]
pub fn handshake(
    mode: Option<&str>,
    token: Option<&str>,
    challenge: Option<&str>,
    expected_token: &str,
) -> Result<String, ()> {
    let (Some("subscribe"), Some(token), Some(challenge)) = (mode, token, challenge) else {
        return Err(());
    };
    if expected_token.is_empty() || challenge.is_empty() {
        return Err(());
    }
    if bool::from(token.as_bytes().ct_eq(expected_token.as_bytes())) {
        Ok(challenge.to_owned())
    } else {
        Err(())
    }
}

#[cfg(test)]
mod tests {
    use super::handshake;

    #[test]
    fn only_a_subscribe_with_the_right_token_echoes_the_challenge() {
        let ok = handshake(Some("subscribe"), Some("tok"), Some("1158201444"), "tok");
        assert_eq!(ok, Ok("1158201444".to_owned()));
        assert!(handshake(Some("subscribe"), Some("bad"), Some("1"), "tok").is_err());
        assert!(handshake(Some("unsubscribe"), Some("tok"), Some("1"), "tok").is_err());
        assert!(handshake(None, Some("tok"), Some("1"), "tok").is_err());
        assert!(handshake(Some("subscribe"), None, Some("1"), "tok").is_err());
        assert!(handshake(Some("subscribe"), Some("tok"), None, "tok").is_err());
        assert!(handshake(Some("subscribe"), Some(""), Some("1"), "").is_err());
    }
}
