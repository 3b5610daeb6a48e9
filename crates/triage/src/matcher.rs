//! Finding a rule's patterns in a normalized message, each match then weighed in its context.

use crate::context;
use crate::normalize::Normalized;
use crate::rules::{Pattern, Rule};
use crate::words::Found;
use crate::Hit;

/// How many chars may stand between an `unless_before` word and a match, and how far after a
/// match `unless_after` looks.
const UNLESS_BEFORE: usize = 6;
const UNLESS_AFTER: usize = 12;

/// Appends `rule`'s hits in `n` (at most one per place) to `out`.
pub(crate) fn hits_of(rule: &Rule, n: &Normalized, found: &Found, out: &mut Vec<Hit>) {
    if !rule.with_any.is_empty() && !rule.with_any.iter().any(|w| n.text.contains(w.as_str())) {
        return;
    }
    let mut kept: Vec<(usize, usize)> = Vec::new();
    for pattern in &rule.patterns {
        for (start, end, gap) in candidates(pattern, n, found) {
            if kept.iter().any(|&(s, e)| start < e && s < end) {
                continue;
            }
            if excluded(rule, n, start, end, gap) {
                continue;
            }
            if context::cancelled(n, start, end, gap, pattern.english()) {
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

/// A match: its char range in the folded text and, for `A…B`, the stretch between the first
/// part's end and the last part's start.
type Candidate = (usize, usize, Option<(usize, usize)>);

/// Matches of `p` in `n.text`: each occurrence of the first part, followed by the earliest
/// occurrence of each next part starting within `p.within` chars, in the same sentence.
fn candidates(p: &Pattern, n: &Normalized, found: &Found) -> Vec<Candidate> {
    let mut out = Vec::new();
    let Some((first, rest)) = p.ids.split_first() else {
        return out;
    };
    for &alt in first {
        'occurrence: for &(_, a_s, a_e) in found.of(alt) {
            let mut end = a_e;
            let mut last_start = a_s;
            for part in rest {
                let limit = context::sentence_end(n, end).min(end + p.within);
                let next = part
                    .iter()
                    .filter_map(|&b| {
                        found
                            .of(b)
                            .iter()
                            .find(|o| o.1 >= end && o.1 <= limit)
                            .map(|o| (o.1, o.2))
                    })
                    // The earliest, and of those the longest (止まらな over 止まら).
                    .min_by_key(|&(s, e)| (s, std::cmp::Reverse(e)));
                match next {
                    Some((b_s, b_e)) => {
                        last_start = b_s;
                        end = b_e;
                    }
                    None => continue 'occurrence,
                }
            }
            let gap = (!rest.is_empty()).then_some((a_e, last_start));
            out.push((a_s, end, gap));
        }
    }
    out.sort_unstable();
    out
}

/// `unless_before` / `unless_after` / `unless_between` of the rule near or inside the match.
fn excluded(
    rule: &Rule,
    n: &Normalized,
    start: usize,
    end: usize,
    gap: Option<(usize, usize)>,
) -> bool {
    let between = gap.map_or("", |(a, b)| n.slice(a, b));
    if rule
        .unless_between
        .iter()
        .any(|w| between.contains(w.as_str()))
    {
        return true;
    }
    let before = |w: &String| {
        let from = start.saturating_sub(w.chars().count() + UNLESS_BEFORE);
        n.slice(from, start).contains(w.as_str())
    };
    let after = n.slice(end, (end + UNLESS_AFTER).min(n.len_chars()));
    rule.unless_before.iter().any(before)
        || rule.unless_after.iter().any(|w| after.contains(w.as_str()))
}
