//! Whether a match counts where it stands: negated (痛くない, no chest pain), hypothetical
//! (息苦しくなったら, what should I do if), past (先週倒れました, used to), or resolved later in
//! the message (昨日は胸が痛かったけど今は大丈夫, it went away). All words are in the folded
//! form (katakana, lower case), as the message is.

use crate::normalize::Normalized;

/// Whether the match `start..end` (chars of `n.text`) should not count. `gap` is the stretch
/// between the two halves of an `A…B` pattern.
pub(crate) fn cancelled(
    n: &Normalized,
    start: usize,
    end: usize,
    gap: Option<(usize, usize)>,
    english: bool,
) -> bool {
    if english {
        crate::context_en::cancelled(n, start, end, gap)
    } else {
        crate::context_ja::cancelled(n, start, end)
    }
}

/// Whether char `i` ends a sentence (see `Normalized::breaks`).
pub(crate) fn is_boundary(n: &Normalized, i: usize) -> bool {
    n.breaks.binary_search(&i).is_ok()
}

/// The char index of the first sentence boundary at or after `i` (or the end).
pub(crate) fn sentence_end(n: &Normalized, i: usize) -> usize {
    let k = n.breaks.partition_point(|&b| b < i);
    n.breaks.get(k).copied().unwrap_or(n.len_chars())
}

/// The char index just after the last sentence boundary before `i` (or 0).
pub(crate) fn sentence_start(n: &Normalized, i: usize) -> usize {
    let k = n.breaks.partition_point(|&b| b < i);
    k.checked_sub(1)
        .and_then(|k| n.breaks.get(k))
        .map_or(0, |&b| b + 1)
}

/// From `end` to the end of the sentence after the one holding `end`: where a resolution
/// ("…but it's fine now", 「…今は大丈夫です」) may be told.
pub(crate) fn resolution_scope(n: &Normalized, end: usize) -> &str {
    let first = sentence_end(n, end);
    let mut next = first + 1;
    // Boundaries in a row (「！！」, "?!") end one sentence.
    while next < n.len_chars() && is_boundary(n, next) {
        next += 1;
    }
    let second = if first >= n.len_chars() {
        first
    } else {
        sentence_end(n, next)
    };
    n.slice(end, second)
}

/// Whether `s` contains any of `words`, giving the byte offset after the first found.
pub(crate) fn find_any(s: &str, words: &[&str]) -> Option<(usize, usize)> {
    words
        .iter()
        .filter_map(|w| s.find(w).map(|i| (i, i + w.len())))
        .min()
}
