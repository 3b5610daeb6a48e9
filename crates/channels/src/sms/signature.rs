//! `X-Twilio-Signature` check.
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};
use url::{Position, Url};

type HmacSha1 = Hmac<Sha1>;

/// Twilio doc: Security › Validating requests — the string signed is the full URL followed by
/// the POST params sorted by name (values of a repeated name sorted), each as name then value,
/// no separators. Every field counts exactly as received, duplicates included: the helper
/// libraries that drop an exact duplicate first (twilio-node, recent twilio-python) let a
/// copy of a signed field through unsigned, so here it must be signed to verify.
pub fn string_to_sign(url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut out = String::from(url);
    for (name, value) in sorted {
        out.push_str(name);
        out.push_str(value);
    }
    out
}

/// Twilio doc: Security › Validating requests — Base64(HMAC-SHA1(auth token, string to sign)).
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    match HmacSha1::new_from_slice(auth_token.as_bytes()) {
        Ok(mut mac) => {
            mac.update(string_to_sign(url, params).as_bytes());
            BASE64.encode(mac.finalize().into_bytes())
        }
        // HMAC accepts keys of any length; unreachable in practice.
        Err(_) => String::new(),
    }
}

/// Twilio doc: Security › Validating requests — the URL forms a signature may have been made
/// over. Like the official validators: the URL as received, then (WHATWG-normalised) with the
/// port removed and with the port kept or the scheme's default (:443 / :80) added.
pub fn candidate_urls(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    if let Ok(parsed) = Url::parse(url) {
        let head = &parsed[..Position::AfterHost];
        let tail = &parsed[Position::AfterPort..];
        let without_port = format!("{head}{tail}");
        let with_port = parsed
            .port_or_known_default()
            .map(|port| format!("{head}:{port}{tail}"));
        for candidate in [Some(without_port), with_port].into_iter().flatten() {
            if !out.contains(&candidate) {
                out.push(candidate);
            }
        }
    }
    out
}

/// Twilio doc: Security › Validating requests — true when `header` is the signature of `url`
/// (in any of its `candidate_urls` forms) and `params`. Constant-time compare
/// (`verify_slice`); a missing header or empty auth token never verifies.
pub fn verify(
    auth_token: &str,
    url: &str,
    params: &[(String, String)],
    header: Option<&str>,
) -> bool {
    let Some(header) = header else {
        return false;
    };
    if auth_token.is_empty() {
        return false;
    }
    let Ok(expected) = BASE64.decode(header.trim()) else {
        return false;
    };
    let mut ok = false;
    for candidate in candidate_urls(url) {
        let Ok(mut mac) = HmacSha1::new_from_slice(auth_token.as_bytes()) else {
            return false;
        };
        mac.update(string_to_sign(&candidate, params).as_bytes());
        // No early exit: every candidate costs the same.
        ok |= mac.verify_slice(&expected).is_ok();
    }
    ok
}

/// Twilio doc: Security › Validating requests › "JSON bodies" — for a non-form body the URL's
/// `bodySHA256` query param must be the hex SHA-256 of the raw body (the signature itself
/// is checked with `verify` and no params). False when the param is absent.
pub fn body_sha256_matches(url: &str, raw_body: &[u8]) -> bool {
    let Ok(parsed) = Url::parse(url) else {
        return false;
    };
    let Some((_, claimed)) = parsed.query_pairs().find(|(k, _)| k == "bodySHA256") else {
        return false;
    };
    let Ok(claimed) = hex::decode(claimed.as_bytes()) else {
        return false;
    };
    let actual = Sha256::digest(raw_body);
    subtle::ConstantTimeEq::ct_eq(actual.as_slice(), claimed.as_slice()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn params_are_sorted_by_name_then_value_and_concatenated() {
        let s = string_to_sign("https://x/y", &p(&[("b", "2"), ("a", "9"), ("a", "1")]));
        assert_eq!(s, "https://x/ya1a9b2");
    }

    #[test]
    fn an_exact_duplicate_is_kept() {
        let s = string_to_sign("https://x/y", &p(&[("a", "1"), ("b", "2"), ("a", "1")]));
        assert_eq!(s, "https://x/ya1a1b2");
    }

    #[test]
    fn garbled_header_or_empty_token_never_verifies() {
        let sig = sign("", "https://x/", &[]);
        assert!(!verify("", "https://x/", &[], Some(&sig)));
        assert!(!verify("t", "https://x/", &[], Some("not base64!")));
        assert!(!verify("t", "https://x/", &[], Some("")));
    }
}
