//! `cargo run -p tsunagu-triage --release --bin triage-eval`: precision and recall of the
//! built-in detector on both halves of the labelled set, per language, the tuning half's
//! misclassified messages (never the held-out half's), and a rough cost per message.

use std::hint::black_box;
use std::time::Instant;

use tsunagu_triage::evaluation::{normalize_only, parse_jsonl, score, Counts, Example};
use tsunagu_triage::Detector;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/eval");

fn main() -> Result<(), String> {
    let tuning = load("tuning.jsonl")?;
    let heldout = load("heldout.jsonl")?;
    let detector = Detector::builtin();

    for (name, set) in [("tuning", &tuning), ("held-out", &heldout)] {
        println!("== {name} half ==");
        for lang in [Some("ja"), Some("en"), None] {
            let s = score(&detector, set, lang);
            let label = lang.unwrap_or("all");
            line(label, "urgent", &s.urgent);
            line(label, "crisis", &s.crisis);
        }
        println!();
    }

    let wrong = score(&detector, &tuning, None).wrong;
    println!("== tuning half: misclassified ({}) ==", wrong.len());
    for i in wrong {
        let Some(e) = tuning.get(i) else { continue };
        let a = detector.assess(&e.text);
        let said = if a.urgent { "urgent" } else { "not urgent" };
        let rules: Vec<&str> = a.hits.iter().map(|h| h.rule_id.as_str()).collect();
        let truth = e.category.map_or(e.note.clone().unwrap_or_default(), |c| {
            c.as_str().to_string()
        });
        println!(
            "  [{}] said {said} {rules:?}, labelled {truth}: {}",
            e.lang, e.text
        );
    }
    println!();

    let all: Vec<&Example> = tuning.iter().chain(heldout.iter()).collect();
    let rounds = 200;
    let per_sec = |f: &dyn Fn(&str)| {
        let t = Instant::now();
        for _ in 0..rounds {
            for e in &all {
                f(&e.text);
            }
        }
        (all.len() * rounds) as f64 / t.elapsed().as_secs_f64()
    };
    let assess = per_sec(&|t| {
        black_box(detector.assess(black_box(t)));
    });
    let floor = per_sec(&|t| {
        black_box(normalize_only(black_box(t)));
    });
    println!(
        "== cost == assess: {:.0} messages/s ({:.1} µs each); normalization alone: {:.0} messages/s ({:.1} µs each); {} messages × {rounds}",
        assess,
        1e6 / assess,
        floor,
        1e6 / floor,
        all.len()
    );
    Ok(())
}

fn load(name: &str) -> Result<Vec<Example>, String> {
    let path = format!("{DIR}/{name}");
    let src = std::fs::read_to_string(&path).map_err(|e| format!("reading {path}: {e}"))?;
    parse_jsonl(&src).map_err(|e| format!("{path}: {e}"))
}

fn line(lang: &str, what: &str, c: &Counts) {
    println!(
        "  {lang:>3} {what:<6} n={:<4} positives={:<4} tp={:<4} fp={:<3} fn={:<3} precision={:.3} recall={:.3}",
        c.examples,
        c.positives,
        c.true_pos,
        c.false_pos,
        c.false_neg,
        c.precision(),
        c.recall()
    );
}
