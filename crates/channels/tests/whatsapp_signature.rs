//! `whatsapp::signature::verify` against a real signed Cloud API delivery (bodies read as bytes).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::PathBuf;

use tsunagu_channels::whatsapp::signature;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/whatsapp/signature")
}

#[test]
fn the_real_signed_delivery_verifies_and_the_wrong_secret_does_not() {
    let vectors: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir().join("vectors.json")).unwrap()).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 2);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let body = std::fs::read(dir().join(case["body_file"].as_str().unwrap())).unwrap();
        let secret = case["app_secret"].as_str().unwrap();
        let header = case["x_hub_signature_256"].as_str().unwrap();
        let expected = case["expect_valid"].as_bool().unwrap();
        assert_eq!(
            signature::verify(secret, &body, Some(header)),
            expected,
            "{name}"
        );
        if expected {
            assert_eq!(signature::sign(secret, &body), header, "{name}");
            let mut longer = body.clone();
            longer.push(b' ');
            assert!(!signature::verify(secret, &longer, Some(header)), "{name}");
            assert!(!signature::verify(secret, &body, None), "{name}");
            let hex = header.strip_prefix("sha256=").unwrap();
            assert!(!signature::verify(secret, &body, Some(hex)), "{name}");
            let mut flipped = header.to_owned();
            let last = if header.ends_with('1') { "0" } else { "1" };
            flipped.replace_range(header.len() - 1.., last);
            assert!(!signature::verify(secret, &body, Some(&flipped)), "{name}");
        }
    }
}
