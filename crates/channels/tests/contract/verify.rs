//! Signatures: every official delivery, signed as the provider signs, is accepted; the same
//! delivery with a wrong, missing or foreign signature, or a body changed by one byte, is refused.
use http::{HeaderMap, HeaderValue};
use tsunagu_channels::{Adapter, Credentials};

use super::kit::{kits, Kit, Posted};

const SECRET: &str = "contract-signing-secret";
const OTHER_SECRET: &str = "another-signing-secret";

fn creds(kit: &dyn Kit, adapter: &dyn Adapter, secret: &str) -> Credentials {
    let stored = kit.credentials(secret);
    match adapter.credentials(&stored) {
        Ok(c) => c,
        Err(e) => panic!("{}: the kit's credentials do not read: {e}", kit.kind()),
    }
}

#[test]
fn every_official_vector_is_accepted_or_refused_as_published() {
    for (kit, adapter) in kits() {
        for v in kit.vectors() {
            let what = format!("{}: {}", kit.kind(), v.posted.name);
            let creds = creds(kit, adapter, &v.secret);
            assert_eq!(
                adapter.verify(&creds, &v.posted.request()),
                v.valid,
                "{what}"
            );
            if v.valid {
                refuses_every_alteration(kit, adapter, &v.secret, &v.posted);
            }
        }
    }
}

#[test]
fn every_official_sample_signed_the_providers_way_is_accepted_and_nothing_else() {
    for (kit, adapter) in kits() {
        let samples = kit.samples();
        assert!(!samples.is_empty(), "{}: no official samples", kit.kind());
        for sample in samples {
            let signed = sample.with_headers(kit.sign(SECRET, &sample));
            let creds = creds(kit, adapter, SECRET);
            assert!(
                adapter.verify(&creds, &signed.request()),
                "{}: {} signed by its emulator's code was refused",
                kit.kind(),
                signed.name
            );
            refuses_every_alteration(kit, adapter, SECRET, &signed);
        }
    }
}

/// `signed` verifies with `secret`; nothing derived from it may.
fn refuses_every_alteration(kit: &dyn Kit, adapter: &dyn Adapter, secret: &str, signed: &Posted) {
    let creds = creds(kit, adapter, secret);
    let refused = |what: &str, posted: &Posted| {
        assert!(
            !adapter.verify(&creds, &posted.request()),
            "{}: {} with {what} was accepted",
            kit.kind(),
            signed.name
        );
    };
    refused(
        "a wrong signature",
        &signed.with_headers(altered(&signed.headers)),
    );
    refused("no signature", &signed.with_headers(HeaderMap::new()));
    refused(
        "a body changed by one byte",
        &signed.with_body(one_byte_changed(&signed.body)),
    );
    let other = signed.with_headers(kit.sign(OTHER_SECRET, signed));
    refused("a signature made with another secret", &other);
    for (what, forged) in kit.forgeries(secret, signed) {
        refused(what, &forged);
    }
    // Another provider's credentials with the same secret never verify this provider's delivery.
    for (other_kit, other_adapter) in kits() {
        if other_kit.kind() != kit.kind() {
            let foreign = self::creds(other_kit, other_adapter, secret);
            assert!(
                !adapter.verify(&foreign, &signed.request()),
                "{}: {} verified with {} credentials",
                kit.kind(),
                signed.name,
                other_kit.kind()
            );
        }
    }
}

/// Every signature header with one character changed ('0' ↔ '1': valid in base64 and in hex).
fn altered(headers: &HeaderMap) -> HeaderMap {
    assert!(!headers.is_empty(), "the kit signed with no header");
    let mut out = HeaderMap::new();
    for (name, value) in headers {
        let mut s = value.to_str().unwrap().to_owned();
        let at = s.len() / 2;
        let c = if &s[at..=at] == "0" { "1" } else { "0" };
        s.replace_range(at..=at, c);
        out.append(name, HeaderValue::from_str(&s).unwrap());
    }
    out
}

/// One ASCII letter or digit near the middle replaced by another (never inside a `%XX` escape,
/// so a form's decoded value changes too); a body without one gets its first byte flipped.
fn one_byte_changed(body: &[u8]) -> Vec<u8> {
    let mut out = body.to_vec();
    let escaped = |i: usize| (1..=2).any(|d| i >= d && body[i - d] == b'%');
    let mid = body.len() / 2;
    let at = (mid..body.len())
        .chain(0..mid)
        .find(|&i| body[i].is_ascii_alphanumeric() && !escaped(i));
    match at {
        Some(i) => {
            out[i] = match body[i] {
                b'9' => b'0',
                b'z' => b'a',
                b'Z' => b'A',
                b => b + 1,
            }
        }
        None if !out.is_empty() => out[0] ^= 1,
        None => out.push(b'x'),
    }
    assert_ne!(out, body);
    out
}
