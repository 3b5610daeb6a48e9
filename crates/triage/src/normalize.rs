//! The form triage matches in: `core::text::spaced_form_mapped` (width, kana as katakana, case,
//! white space squeezed but kept) plus triage's own casual-writing folds, with each char's byte
//! range in the original text so a hit can be highlighted where the patient wrote it.

use tsunagu_core::text::spaced_form_mapped;

pub(crate) struct Normalized {
    /// The folded text.
    pub text: String,
    /// Byte offset in `text` of each char, plus `text.len()` at the end.
    starts: Vec<usize>,
    /// For each char of `text`, its byte range in the original.
    origin: Vec<(usize, usize)>,
    /// Char indexes of the chars that end a sentence, in order: 。 ! ? a line break, or a full
    /// stop that is not a decimal point (38.5度).
    pub breaks: Vec<usize>,
}

impl Normalized {
    pub fn new(original: &str) -> Normalized {
        let (spaced, from) = spaced_form_mapped(original);
        // Char index → byte offset in the original.
        let mut orig_bytes: Vec<usize> = original.char_indices().map(|(b, _)| b).collect();
        orig_bytes.push(original.len());
        let mut text = String::with_capacity(spaced.len());
        let mut starts = Vec::with_capacity(from.len() + 1);
        let mut origin = Vec::with_capacity(from.len());
        for (c, (cs, ce)) in spaced.chars().zip(from) {
            let Some(c) = fold(c) else { continue };
            let span = (
                orig_bytes.get(cs).copied().unwrap_or(original.len()),
                orig_bytes.get(ce).copied().unwrap_or(original.len()),
            );
            starts.push(text.len());
            origin.push(span);
            text.push(c);
        }
        starts.push(text.len());
        let chars: Vec<char> = text.chars().collect();
        let digit = |i: Option<usize>| {
            i.and_then(|i| chars.get(i))
                .is_some_and(|c| c.is_ascii_digit())
        };
        let breaks = (0..chars.len())
            .filter(|&i| match chars.get(i) {
                Some('。' | '!' | '?' | '\n' | '．') => true,
                Some('.') => !(digit(i.checked_sub(1)) && digit(Some(i + 1))),
                _ => false,
            })
            .collect();
        Normalized {
            text,
            starts,
            origin,
            breaks,
        }
    }

    /// The number of chars in `text`.
    pub fn len_chars(&self) -> usize {
        self.origin.len()
    }

    /// The char index of a byte offset of `text` (a char boundary).
    pub fn char_of(&self, byte: usize) -> usize {
        self.starts.partition_point(|&s| s < byte)
    }

    /// The byte offset in `text` of char `i`.
    pub fn byte_of(&self, i: usize) -> usize {
        self.starts.get(i).copied().unwrap_or(self.text.len())
    }

    /// `text` from char `a` to char `b`.
    pub fn slice(&self, a: usize, b: usize) -> &str {
        let (a, b) = (self.byte_of(a), self.byte_of(b.max(a)));
        self.text.get(a..b).unwrap_or("")
    }

    /// The byte span in the original of chars `a..b` of `text`.
    pub fn original_span(&self, a: usize, b: usize) -> (usize, usize) {
        let start = self.origin.get(a).map(|r| r.0).unwrap_or(0);
        let end = b
            .checked_sub(1)
            .and_then(|l| self.origin.get(l))
            .map(|r| r.1)
            .unwrap_or(start);
        (start, end.max(start))
    }
}

/// Casual writing folded away: small vowels as full ones (痛ぃ, イタィ), the long vowel mark and
/// wave dash dropped (いたーい, いた〜い), emoji variation selectors dropped.
fn fold(c: char) -> Option<char> {
    Some(match c {
        'ァ' => 'ア',
        'ィ' => 'イ',
        'ゥ' => 'ウ',
        'ェ' => 'エ',
        'ォ' => 'オ',
        'ー' | '〜' | '～' | '\u{FE0F}' => return None,
        '’' | '‘' | '`' => '\'',
        '！' => '!',
        '？' => '?',
        _ => c,
    })
}

/// Folds a rule's phrase the same way as a message, without the spans.
pub(crate) fn fold_pattern(p: &str) -> String {
    Normalized::new(p).text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_width_and_casual_kana_fold_to_one_form() {
        for s in ["ﾑﾈｶﾞｲﾀｲ", "ムネがいたい", "むねがいたーい", "ﾑﾈｶﾞｲﾀｨ"]
        {
            assert_eq!(Normalized::new(s).text, "ムネガイタイ", "{s}");
        }
        assert_eq!(Normalized::new("胸が痛ぃ").text, "胸ガ痛イ");
    }

    #[test]
    fn spans_point_into_the_original_bytes() {
        let s = "ｱ ﾑﾈｶﾞ痛い";
        let n = Normalized::new(s);
        assert_eq!(n.text, "ア ムネガ痛イ");
        // ガ came from ｶﾞ: two half-width chars, three bytes each.
        let (a, b) = n.original_span(4, 5);
        assert_eq!(&s[a..b], "ｶﾞ");
        let (a, b) = n.original_span(2, 7);
        assert_eq!(&s[a..b], "ﾑﾈｶﾞ痛い");
    }
}
