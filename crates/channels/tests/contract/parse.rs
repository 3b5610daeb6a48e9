//! Parsing: every official sample reads, each item with a dedupe key that a redelivery (the same
//! bytes, later) gets again; malformed bodies are refused, and no body makes an adapter panic.
use std::panic::{catch_unwind, AssertUnwindSafe};

use tsunagu_channels::provider::inbound::Item;
use tsunagu_channels::Adapter;

use super::kit::{kits, Hook, Posted};

const NOW: i64 = 1_750_000_000_000;
const LATER: i64 = NOW + 3_600_000;

/// Bodies no provider sends: not JSON, not a form with its fields, not text.
const MALFORMED: [&[u8]; 5] = [b"", b"{", b"[1,", b"\xff\xfe\xfd", b"<Response/>"];

fn keys(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i.event.key.clone()).collect()
}

#[test]
fn every_official_sample_parses_into_items_a_redelivery_dedupes() {
    for (kit, adapter) in kits() {
        let mut items = 0;
        for sample in kit.samples() {
            let what = format!("{}: {}", kit.kind(), sample.name);
            let first = adapter
                .parse(&sample.request(), NOW)
                .unwrap_or_else(|e| panic!("{what}: {e}"));
            for item in &first {
                let e = &item.event;
                assert!(
                    !e.key.trim().is_empty(),
                    "{what}: an item without a dedupe key"
                );
                assert!(!e.kind.is_empty(), "{what}: an item without a kind");
                let body = serde_json::from_str::<serde_json::Value>(&e.body);
                assert!(body.is_ok(), "{what}: the stored event is not JSON");
            }
            // A redelivery arrives later with the same bytes: the same keys, so it is stored once.
            let again = adapter.parse(&sample.request(), LATER).unwrap();
            assert_eq!(keys(&first), keys(&again), "{what}");
            items += first.len();
        }
        assert!(items > 0, "{}: no sample gave an item", kit.kind());
    }
}

#[test]
fn malformed_bodies_are_refused_and_no_body_makes_an_adapter_panic() {
    for (kit, adapter) in kits() {
        let hooks = hooks_of(adapter);
        for body in MALFORMED {
            for hook in &hooks {
                let posted = Posted {
                    hook: hook.clone(),
                    ..Posted::unsigned(
                        "a malformed body",
                        "https://clinic.example/w",
                        body.to_vec(),
                    )
                };
                let parsed = no_panic(adapter, &posted);
                assert!(
                    parsed.is_err(),
                    "{}: {body:?} to {hook:?} parsed",
                    kit.kind()
                );
            }
        }
        // Cut short anywhere: an error or fewer items, never a panic.
        for sample in kit.samples() {
            let len = sample.body.len();
            for cut in [0, 1, len / 3, len / 2, len.saturating_sub(1)] {
                let cut = cut.min(len);
                let _either = no_panic(adapter, &sample.with_body(sample.body[..cut].to_vec()));
            }
        }
    }
}

/// The URLs the provider posts to: its events, and its status callbacks where it has them.
fn hooks_of(adapter: &dyn Adapter) -> Vec<Hook> {
    let mut hooks = vec![Hook::Events];
    if adapter.routes().status_callback {
        hooks.push(Hook::Status { message: None });
        hooks.push(Hook::Status {
            message: Some("m1".into()),
        });
    }
    hooks
}

fn no_panic(adapter: &dyn Adapter, posted: &Posted) -> Result<usize, String> {
    let run = catch_unwind(AssertUnwindSafe(|| adapter.parse(&posted.request(), NOW)));
    match run {
        Ok(parsed) => parsed.map(|items| items.len()).map_err(|e| e.to_string()),
        Err(_) => panic!("{}: parsing {} panicked", adapter.kind(), posted.name),
    }
}
