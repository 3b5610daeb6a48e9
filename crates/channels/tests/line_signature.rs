//! `signature::verify` against every official vector (bodies read as bytes).
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::PathBuf;

use tsunagu_channels::line::signature;

fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/line/signature")
}

#[test]
fn every_official_signature_vector_verifies_as_expected() {
    let vectors: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir().join("vectors.json")).unwrap()).unwrap();
    let cases = vectors["cases"].as_array().unwrap();
    assert_eq!(cases.len(), 7);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let body = std::fs::read(dir().join(case["body_file"].as_str().unwrap())).unwrap();
        let secret = case["channel_secret"].as_str().unwrap();
        let header = case["x_line_signature"].as_str().unwrap();
        let expected = case["expect_valid"].as_bool().unwrap();
        assert_eq!(
            signature::verify(secret, &body, Some(header)),
            expected,
            "{name}"
        );
        if expected {
            assert_eq!(signature::sign(secret, &body), header, "{name}");
            // One byte more or a wrong secret must fail.
            let mut longer = body.clone();
            longer.push(b' ');
            assert!(!signature::verify(secret, &longer, Some(header)), "{name}");
            assert!(!signature::verify("wrong", &body, Some(header)), "{name}");
        }
    }
}

#[test]
fn the_emoji_body_is_verified_on_its_bytes_not_a_reserialisation() {
    let body = std::fs::read(dir().join("nodejs_sdk_middleware_group_text_emoji.json")).unwrap();
    let reserialised =
        serde_json::to_vec(&serde_json::from_slice::<serde_json::Value>(&body).unwrap()).unwrap();
    let header = "eRdWYcVCzZV3MVZ3M9/rHJCl/a3oSbsRb04cLovpVwM=";
    assert!(signature::verify(
        "test_channel_secret",
        &body,
        Some(header)
    ));
    assert_ne!(body, reserialised);
    assert!(!signature::verify(
        "test_channel_secret",
        &reserialised,
        Some(header)
    ));
}
