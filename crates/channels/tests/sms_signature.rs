//! `sms::signature` against every official Twilio request-validator vector.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::PathBuf;

use serde_json::Value;
use tsunagu_channels::sms::signature;

fn cases(file: &str) -> Vec<Value> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/twilio")
        .join(file);
    let v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    v["cases"].as_array().unwrap().clone()
}

fn params(case: &Value) -> Vec<(String, String)> {
    case["form_params"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_str().unwrap().to_owned(),
                p[1].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

fn all_cases() -> Vec<Value> {
    let mut all = cases("request_validator_vectors.twilio-node.json");
    all.extend(cases("request_validator_vectors.twilio-python.json"));
    assert_eq!(all.len(), 14);
    all
}

/// The one vector we deliberately read differently: twilio-python's (and twilio-node's) helper
/// drops an exact duplicate field before hashing, so a field nobody signed still verifies. We
/// hash the fields exactly as received: that vector's form, which carries one extra
/// `Digits=1234`, is refused, and the form Twilio's test signed (without it) verifies.
const DEDUPLICATING_VECTOR: &str = "duplicate_params_sorted_deduplicated";

/// The vector's params as its signature covers them: for the deduplicating vector, without the
/// extra exact duplicate.
fn signed_params(case: &Value) -> Vec<(String, String)> {
    let mut params = params(case);
    if case["name"] == DEDUPLICATING_VECTOR {
        let mut seen = Vec::new();
        params.retain(|p| {
            let new = !seen.contains(p);
            seen.push(p.clone());
            new
        });
    }
    params
}

#[test]
fn every_official_vector_verifies_as_expected() {
    for case in all_cases() {
        let name = case["name"].as_str().unwrap();
        let token = case["auth_token"].as_str().unwrap();
        let url = case["request_url"].as_str().unwrap();
        let signed_url = case["string_signed_url"].as_str().unwrap();
        let header = case["x_twilio_signature"].as_str().unwrap();
        let expected = case["expect_valid"].as_bool().unwrap();
        if name == DEDUPLICATING_VECTOR {
            let as_received = params(&case);
            assert!(
                !signature::verify(token, url, &as_received, Some(header)),
                "{name}: an exact duplicate outside the signature must not verify"
            );
        }
        let params = signed_params(&case);
        assert_eq!(
            signature::verify(token, url, &params, Some(header)),
            expected,
            "{name}"
        );
        if !expected {
            continue;
        }
        // The signature is exactly ours over the URL form Twilio signed.
        assert_eq!(
            signature::sign(token, signed_url, &params),
            header,
            "{name}"
        );
        assert!(
            signature::candidate_urls(url)
                .iter()
                .any(|u| u == signed_url),
            "{name}"
        );
        // Wrong token, missing header, wrong signature: refused.
        assert!(
            !signature::verify("54321", url, &params, Some(header)),
            "{name}"
        );
        assert!(!signature::verify(token, url, &params, None), "{name}");
        let other = signature::sign(token, "https://evil.example/", &params);
        assert!(
            !signature::verify(token, url, &params, Some(&other)),
            "{name}"
        );
        // A changed, added or removed param: refused.
        let mut added = params.clone();
        added.push(("Body".into(), "injected".into()));
        assert!(
            !signature::verify(token, url, &added, Some(header)),
            "{name}"
        );
        if let Some(((k, v), rest)) = params.split_first() {
            let mut changed = vec![(k.clone(), format!("{v}0"))];
            changed.extend_from_slice(rest);
            assert!(
                !signature::verify(token, url, &changed, Some(header)),
                "{name}"
            );
            assert!(!signature::verify(token, url, rest, Some(header)), "{name}");
        }
        // A changed URL: refused.
        let moved = url.replace("myapp.php", "other.php");
        assert!(
            !signature::verify(token, &moved, &params, Some(header)),
            "{name}"
        );
        // Raw JSON bodies: the bodySHA256 query param matches the body, and only that body.
        if let Some(body) = case["raw_body"].as_str() {
            assert!(
                signature::body_sha256_matches(url, body.as_bytes()),
                "{name}"
            );
            let tampered = format!("{body} ");
            assert!(
                !signature::body_sha256_matches(url, tampered.as_bytes()),
                "{name}"
            );
        }
    }
}

#[test]
fn param_order_on_arrival_does_not_matter() {
    for case in all_cases() {
        let mut params = signed_params(&case);
        params.reverse();
        let header = case["x_twilio_signature"].as_str().unwrap();
        let url = case["request_url"].as_str().unwrap();
        assert!(signature::verify("12345", url, &params, Some(header)));
    }
}

#[test]
fn candidate_urls_cover_with_and_without_the_default_port() {
    let c = signature::candidate_urls("https://example.com/sms?x=1");
    assert!(c.contains(&"https://example.com/sms?x=1".to_owned()));
    assert!(c.contains(&"https://example.com:443/sms?x=1".to_owned()));
    let c = signature::candidate_urls("https://example.com:443/sms");
    assert!(c.contains(&"https://example.com/sms".to_owned()));
    assert!(c.contains(&"https://example.com:443/sms".to_owned()));
    let c = signature::candidate_urls("http://user:pw@example.com/sms");
    assert!(c.contains(&"http://user:pw@example.com:80/sms".to_owned()));
    // A non-default port is kept in one form and dropped in the other.
    let c = signature::candidate_urls("http://example.com:8080/sms");
    assert!(c.contains(&"http://example.com:8080/sms".to_owned()));
    assert!(c.contains(&"http://example.com/sms".to_owned()));
    assert!(!c.iter().any(|u| u.contains(":80/")));
    // Unparseable: only the string as given.
    assert_eq!(signature::candidate_urls("not a url"), vec!["not a url"]);
}

#[test]
fn a_signature_over_one_port_form_verifies_for_the_other() {
    let params = vec![("Body".to_owned(), "hi".to_owned())];
    let with = signature::sign("tok", "https://example.com:443/sms", &params);
    let without = signature::sign("tok", "https://example.com/sms", &params);
    for url in ["https://example.com/sms", "https://example.com:443/sms"] {
        assert!(signature::verify("tok", url, &params, Some(&with)), "{url}");
        assert!(
            signature::verify("tok", url, &params, Some(&without)),
            "{url}"
        );
    }
    // But http and https are different URLs.
    assert!(!signature::verify(
        "tok",
        "http://example.com/sms",
        &params,
        Some(&with)
    ));
}

/// Twilio's string to sign over the fields exactly as given: the URL, then every field sorted by
/// name and, for one name, by value, each as name then value; nothing dropped.
fn reference_signature(token: &str, url: &str, params: &[(&str, &str)]) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = url.to_owned();
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

fn owned(params: &[(&str, &str)]) -> Vec<(String, String)> {
    params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

const URL: &str = "https://clinic.example.jp/webhooks/sms/0190a1b2-c3d4";
const MMS: [(&str, &str); 7] = [
    ("MessageSid", "MM0123456789abcdef0123456789abcdef"),
    ("From", "+819012345678"),
    ("To", "+815012345678"),
    ("Body", "写真を送ります"),
    ("NumMedia", "1"),
    (
        "MediaUrl0",
        "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages/MM1/Media/ME1",
    ),
    ("MediaContentType0", "image/jpeg"),
];

#[test]
fn an_extra_exact_duplicate_of_a_signed_field_is_refused() {
    let header = reference_signature("tok", URL, &MMS);
    assert!(signature::verify("tok", URL, &owned(&MMS), Some(&header)));
    assert_eq!(signature::sign("tok", URL, &owned(&MMS)), header);
    for dup in ["MediaUrl0", "Body", "MessageSid"] {
        let extra = MMS.iter().find(|(k, _)| *k == dup).copied().unwrap();
        // Appended, or next to the original: the same unsigned field either way.
        let mut appended = owned(&MMS);
        appended.push((extra.0.to_owned(), extra.1.to_owned()));
        assert!(
            !signature::verify("tok", URL, &appended, Some(&header)),
            "an unsigned second {dup} verified"
        );
        let mut doubled = Vec::new();
        for (k, v) in owned(&MMS) {
            if k == dup {
                doubled.push((k.clone(), v.clone()));
            }
            doubled.push((k, v));
        }
        assert!(
            !signature::verify("tok", URL, &doubled, Some(&header)),
            "an unsigned second {dup} verified"
        );
    }
}

#[test]
fn fields_signed_with_their_duplicates_verify_with_them_only() {
    let mut fields = MMS.to_vec();
    fields.push(("Body", "写真を送ります"));
    fields.push(("MediaUrl0", MMS[5].1));
    let header = reference_signature("tok", URL, &fields);
    assert!(signature::verify(
        "tok",
        URL,
        &owned(&fields),
        Some(&header)
    ));
    // Any order on arrival.
    let mut shuffled = owned(&fields);
    shuffled.reverse();
    assert!(signature::verify("tok", URL, &shuffled, Some(&header)));
    // Without one of the signed duplicates, or with a third copy: refused.
    assert!(!signature::verify("tok", URL, &owned(&MMS), Some(&header)));
    let mut third = owned(&fields);
    third.push(("Body".into(), "写真を送ります".into()));
    assert!(!signature::verify("tok", URL, &third, Some(&header)));
    // Values of one name are sorted, so "a","b" and "b","a" sign the same.
    let ab = reference_signature("tok", URL, &[("K", "a"), ("K", "b")]);
    assert!(signature::verify(
        "tok",
        URL,
        &owned(&[("K", "b"), ("K", "a")]),
        Some(&ab)
    ));
}
