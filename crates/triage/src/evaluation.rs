//! Scoring the detector on the labelled set (`eval/*.jsonl`, issue 13 item 4), shared by the
//! `triage-eval` command and the evaluation test so both measure the same thing.

use serde::Deserialize;

use crate::{Category, Detector};

/// One labelled message.
#[derive(Clone, Debug, Deserialize)]
pub struct Example {
    pub text: String,
    pub lang: String,
    pub urgent: bool,
    pub category: Option<Category>,
    #[serde(default)]
    pub note: Option<String>,
}

/// Reads a JSONL file's contents; the error names the line.
pub fn parse_jsonl(src: &str) -> Result<Vec<Example>, String> {
    src.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| serde_json::from_str(l).map_err(|e| format!("line {}: {e}", i + 1)))
        .collect()
}

/// Counts for one yes/no question (urgent, or crisis).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub examples: usize,
    pub positives: usize,
    pub true_pos: usize,
    pub false_pos: usize,
    pub false_neg: usize,
}

impl Counts {
    fn add(&mut self, truth: bool, said: bool) {
        self.examples += 1;
        self.positives += usize::from(truth);
        match (truth, said) {
            (true, true) => self.true_pos += 1,
            (false, true) => self.false_pos += 1,
            (true, false) => self.false_neg += 1,
            (false, false) => {}
        }
    }

    /// Of what was flagged, the share that should have been (1 when nothing was flagged).
    pub fn precision(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_pos)
    }

    /// Of what should have been flagged, the share that was (1 when nothing should have been).
    pub fn recall(&self) -> f64 {
        ratio(self.true_pos, self.true_pos + self.false_neg)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// Figures for a set of examples, and the ones it got wrong.
#[derive(Clone, Debug, Default)]
pub struct Score {
    pub urgent: Counts,
    /// Crisis (suicidal intent) against the examples labelled `suicidal`.
    pub crisis: Counts,
    /// Indexes of the examples whose `urgent` or crisis verdict was wrong.
    pub wrong: Vec<usize>,
}

/// Scores `detector` on `examples` (all of them, or those of `lang`).
pub fn score(detector: &Detector, examples: &[Example], lang: Option<&str>) -> Score {
    let mut s = Score::default();
    for (i, e) in examples.iter().enumerate() {
        if lang.is_some_and(|l| l != e.lang) {
            continue;
        }
        let a = detector.assess(&e.text);
        let crisis_truth = e.category == Some(Category::Suicidal);
        s.urgent.add(e.urgent, a.urgent);
        s.crisis.add(crisis_truth, a.crisis);
        if a.urgent != e.urgent || a.crisis != crisis_truth {
            s.wrong.push(i);
        }
    }
    s
}

/// Only the normalization `assess` starts with: the floor its cost is measured against.
pub fn normalize_only(text: &str) -> usize {
    crate::normalize::Normalized::new(text).len_chars()
}
