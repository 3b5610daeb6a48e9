//! Context of an English match: negation comes before it ("no chest pain", "doesn't hurt" in
//! the gap of `chest…hurt`), hypotheticals and history are told around it, a resolution after.

use crate::context::{find_any, resolution_scope, sentence_start};
use crate::normalize::Normalized;

/// How many words before a match a negation may stand.
const LOOKBACK_WORDS: usize = 5;

pub(crate) fn cancelled(
    n: &Normalized,
    start: usize,
    end: usize,
    gap: Option<(usize, usize)>,
) -> bool {
    let before = clause_before(n, start);
    let gap_text = gap.map_or("", |(a, b)| n.slice(a, b));
    negated(before)
        || has_negator(gap_text)
        || hypothetical(n, start)
        || past(n, start, end)
        || resolved(n, end)
}

/// The words before `start` in its clause (a comma, "but" or "and" starts a new one).
fn clause_before(n: &Normalized, start: usize) -> &str {
    let s = n.slice(sentence_start(n, start), start);
    let cut = [",", ";", ":", " but ", " and ", " so ", " because "]
        .iter()
        .filter_map(|w| s.rfind(w).map(|i| i + w.len()))
        .max()
        .unwrap_or(0);
    &s[cut..]
}

fn is_negator(word: &str) -> bool {
    let w = word.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '\'');
    matches!(
        w,
        "no" | "not"
            | "never"
            | "without"
            | "nor"
            | "none"
            | "denies"
            | "deny"
            | "dont"
            | "doesnt"
            | "didnt"
            | "isnt"
            | "wasnt"
            | "arent"
            | "havent"
            | "hasnt"
            | "hadnt"
    ) || (w.ends_with("n't")
        && !matches!(w, "can't" | "won't" | "couldn't" | "wouldn't" | "shouldn't"))
}

fn negated(before: &str) -> bool {
    let words: Vec<&str> = before.split_whitespace().collect();
    words
        .iter()
        .rev()
        .take(LOOKBACK_WORDS)
        .any(|w| is_negator(w))
}

fn has_negator(s: &str) -> bool {
    s.split_whitespace().any(is_negator)
}

/// Asking what to do in a case, or about a leaflet: "what should I do if…", "signs of a stroke".
const HYPOTHETICAL: &[&str] = &[
    "if ",
    "in case",
    "what to do when",
    "what should i do when",
    "signs of",
    "symptoms of",
    "information about",
    "info about",
    "leaflet",
    "how do i know",
    "how can i tell",
];

fn hypothetical(n: &Normalized, start: usize) -> bool {
    let before = format!(" {}", n.slice(sentence_start(n, start), start));
    HYPOTHETICAL
        .iter()
        .any(|w| before.contains(&format!(" {w}")))
}

/// History, not now: "used to", "years ago", "history of".
const PAST: &[&str] = &[
    "used to",
    "years ago",
    "year ago",
    "months ago",
    "month ago",
    "weeks ago",
    "last year",
    "last month",
    "last week",
    "the other day",
    "days ago",
    "history of",
    "as a child",
    "as a kid",
    "when i was young",
    "when i was",
    "in the past",
    "previously",
];

const STILL: &[&str] = &["still", "again", "right now", "since"];

fn past(n: &Normalized, start: usize, end: usize) -> bool {
    let s0 = sentence_start(n, start);
    let s1 = crate::context::sentence_end(n, end);
    let sentence = n.slice(s0, s1);
    find_any(sentence, PAST).is_some() && find_any(sentence, STILL).is_none()
}

/// Told later: it is over ("it went away", "bleeding has stopped", "fine now").
const RESOLVED: &[&str] = &[
    "went away",
    "gone away",
    "is gone",
    "has gone",
    "has passed",
    "it passed",
    "passed now",
    "resolved",
    "stopped",
    "settled",
    "subsided",
    "eased",
    "calmed down",
    "better now",
    "fine now",
    "ok now",
    "okay now",
    "all good now",
    "feel fine",
    "feeling fine",
    "feels fine",
    "feeling better",
    "feel better",
    "back to normal",
    "came round",
    "came around",
    "came to",
    "woke up",
    "recovered",
];

fn resolved(n: &Normalized, end: usize) -> bool {
    let scope = resolution_scope(n, end);
    let mut from = 0;
    while let Some((a, b)) = scope.get(from..).and_then(|s| find_any(s, RESOLVED)) {
        let (a, b) = (from + a, from + b);
        let before: Vec<&str> = scope[..a].split_whitespace().collect();
        let negated =
            before.iter().rev().take(2).any(|w| {
                is_negator(w) || matches!(*w, "won't" | "wont" | "can't" | "cant" | "cannot")
            });
        let asked = scope[b..].trim_start().starts_with('?');
        let again = scope[b..].contains("again") || scope[b..].contains("came back");
        if !negated && !asked && !again {
            return true;
        }
        from = b;
    }
    false
}
