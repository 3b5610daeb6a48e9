//! Finding a rule's patterns in a normalized message, each match then weighed in its context.

use crate::context;
use crate::normalize::Normalized;
use crate::rules::{Pattern, Rule};
use crate::Hit;

/// How many chars before a match `unless_before` looks at, and after it `unless_after`.
const UNLESS_BEFORE: usize = 6;
const UNLESS_AFTER: usize = 12;

/// Appends `rule`'s hits in `n` (at most one per place) to `out`.
pub(crate) fn hits_of(rule: &Rule, n: &Normalized, out: &mut Vec<Hit>) {
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for pattern in &rule.patterns {
        for (start, end, gap) in candidates(pattern, n) {
            if kept.iter().any(|&(s, e)| start < e && s < end) {
                continue;
            }
            if excluded(rule, n, start, end) {
                continue;
            }
            let english = pattern
                .first
                .first()
                .and_then(|a| a.chars().next())
                .is_some_and(|c| c.is_ascii_alphanumeric());
            if context::cancelled(n, start, end, gap, english) {
                continue;
            }
            kept.push((start, end));
            let (bs, be) = n.original_span(start, end);
            out.push(Hit {
                rule_id: rule.info.id.clone(),
                category: rule.info.category,
                phrase: pattern.display.clone(),
                start: bs,
                end: be,
            });
        }
    }
}

/// A match: its char range in the folded text and, for `A…B`, the gap between A and B.
type Candidate = (usize, usize, Option<(usize, usize)>);

/// Matches of `p` in `n.text`.
fn candidates(p: &Pattern, n: &Normalized) -> Vec<Candidate> {
    let mut out = Vec::new();
    for alt in &p.first {
        for (a_s, a_e) in occurrences(n, alt, 0, n.text.len()) {
            let Some((then, within)) = &p.then else {
                out.push((a_s, a_e, None));
                continue;
            };
            let limit = context::sentence_end(n, a_e).min(a_e + within);
            let mut best: Option<(usize, usize)> = None;
            for b in then {
                let found = occurrences(n, b, n.byte_of(a_e), n.byte_of(limit))
                    .into_iter()
                    .next();
                if let Some((b_s, b_e)) = found {
                    if best.is_none_or(|(s, _)| b_s < s) {
                        best = Some((b_s, b_e));
                    }
                }
            }
            if let Some((b_s, b_e)) = best {
                out.push((a_s, b_e, Some((a_e, b_s))));
            }
        }
    }
    out.sort_unstable();
    out
}

/// Char ranges where `needle` occurs in `n.text[from..to]` (bytes); an English word must start
/// at a word boundary (its end may run on: `bleed` finds `bleeding`).
fn occurrences(n: &Normalized, needle: &str, from: usize, to: usize) -> Vec<(usize, usize)> {
    let Some(hay) = n.text.get(from..to) else {
        return Vec::new();
    };
    let word = needle.starts_with(|c: char| c.is_ascii_alphanumeric());
    let mut out = Vec::new();
    for (i, m) in hay.match_indices(needle) {
        let b = from + i;
        if word
            && n.text[..b]
                .chars()
                .next_back()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '\'')
        {
            continue;
        }
        out.push((n.char_of(b), n.char_of(b + m.len())));
    }
    out
}

/// `unless_before` / `unless_after` of the rule near the match.
fn excluded(rule: &Rule, n: &Normalized, start: usize, end: usize) -> bool {
    let before = n.slice(start.saturating_sub(UNLESS_BEFORE), start);
    let after = n.slice(end, (end + UNLESS_AFTER).min(n.len_chars()));
    rule.unless_before
        .iter()
        .any(|w| before.contains(w.as_str()))
        || rule.unless_after.iter().any(|w| after.contains(w.as_str()))
}
