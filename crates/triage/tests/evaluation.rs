//! Issue 13's targets on the labelled set: on the held-out half (never used for tuning) and on
//! the tuning half, recall of urgent messages ≥ 0.95 with precision ≥ 0.8. The figures
//! themselves: `cargo run -p tsunagu-triage --release --bin triage-eval`.

use tsunagu_triage::evaluation::{parse_jsonl, score, Example};
use tsunagu_triage::{Category, Detector};

fn load(name: &str) -> Vec<Example> {
    let path = format!("{}/eval/{name}", env!("CARGO_MANIFEST_DIR"));
    let src = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    parse_jsonl(&src).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn meets_targets(name: &str) {
    let set = load(name);
    let s = score(&Detector::builtin(), &set, None);
    assert!(
        s.urgent.recall() >= 0.95,
        "{name}: urgent recall {:.3} < 0.95 ({:?})",
        s.urgent.recall(),
        s.urgent
    );
    assert!(
        s.urgent.precision() >= 0.8,
        "{name}: urgent precision {:.3} < 0.8 ({:?})",
        s.urgent.precision(),
        s.urgent
    );
    assert!(
        s.crisis.recall() >= 0.95,
        "{name}: crisis recall {:.3} ({:?})",
        s.crisis.recall(),
        s.crisis
    );
}

#[test]
fn the_held_out_half_meets_the_targets() {
    meets_targets("heldout.jsonl");
}

#[test]
fn the_tuning_half_meets_the_targets() {
    meets_targets("tuning.jsonl");
}

#[test]
fn the_set_is_as_large_and_balanced_as_the_issue_asks() {
    let all: Vec<Example> = [load("tuning.jsonl"), load("heldout.jsonl")].concat();
    for (lang, at_least) in [("ja", 300), ("en", 100)] {
        let of: Vec<&Example> = all.iter().filter(|e| e.lang == lang).collect();
        assert!(of.len() >= at_least, "{lang}: {}", of.len());
        let urgent = of.iter().filter(|e| e.urgent).count();
        let share = urgent as f64 / of.len() as f64;
        assert!(
            (0.45..=0.55).contains(&share),
            "{lang}: {urgent} of {}",
            of.len()
        );
        for c in Category::ALL {
            assert!(
                of.iter().any(|e| e.urgent && e.category == Some(c)),
                "{lang} has no urgent {c:?}"
            );
        }
    }
    for e in &all {
        assert_eq!(e.urgent, e.category.is_some(), "{}", e.text);
    }
}
