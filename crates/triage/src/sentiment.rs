//! Sentiment of a message (issue 13 item 5): a small ja/en lexicon (`rules/sentiment.toml`)
//! with negation (良くない, not happy), explainable by the words that decided it. A marker and a
//! sort option for staff, never a clinical decision.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use crate::normalize::{fold_pattern, Normalized};

const LEXICON: &str = include_str!("../rules/sentiment.toml");

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Sentiment {
    Positive,
    Neutral,
    Negative,
}

impl Sentiment {
    pub fn as_str(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Neutral => "neutral",
            Sentiment::Negative => "negative",
        }
    }
}

#[derive(Deserialize)]
struct LexiconFile {
    positive: Vec<String>,
    negative: Vec<String>,
}

struct Lexicon {
    /// Folded word and its weight (+1 / −1), longest first so 不安 wins over 安.
    words: Vec<(String, i32)>,
}

fn lexicon() -> &'static Lexicon {
    static LEX: OnceLock<Lexicon> = OnceLock::new();
    LEX.get_or_init(|| {
        let file: LexiconFile = toml::from_str(LEXICON)
            .unwrap_or_else(|e| panic!("the built-in sentiment lexicon does not parse: {e}"));
        let mut words: Vec<(String, i32)> = file
            .positive
            .iter()
            .map(|w| (fold_pattern(w), 1))
            .chain(file.negative.iter().map(|w| (fold_pattern(w), -1)))
            .filter(|(w, _)| !w.is_empty())
            .collect();
        words.sort_by_key(|w| std::cmp::Reverse(w.0.chars().count()));
        Lexicon { words }
    })
}

/// Positive, neutral or negative, with the words (as the patient wrote them, with their
/// negation) that decided it; none for neutral.
pub fn sentiment(text: &str) -> (Sentiment, Vec<String>) {
    let n = Normalized::new(text);
    let mut taken: Vec<(usize, usize)> = Vec::new();
    let mut found: Vec<(usize, usize, i32)> = Vec::new();
    for (word, weight) in &lexicon().words {
        let english = word.starts_with(|c: char| c.is_ascii_alphanumeric());
        for (b, m) in n.text.match_indices(word.as_str()) {
            if english && !word_bounded(&n.text, b, b + m.len()) {
                continue;
            }
            let (s, e) = (n.char_of(b), n.char_of(b + m.len()));
            if taken.iter().any(|&(ts, te)| s < te && ts < e) {
                continue;
            }
            taken.push((s, e));
            let (s2, e2, negated) = if english {
                english_negation(&n, s, e)
            } else {
                japanese_negation(&n, s, e)
            };
            found.push((s2, e2, if negated { -weight } else { *weight }));
        }
    }
    let score: i32 = found.iter().map(|f| f.2).sum();
    let verdict = match score {
        s if s > 0 => Sentiment::Positive,
        s if s < 0 => Sentiment::Negative,
        _ => Sentiment::Neutral,
    };
    found.sort_unstable();
    let words = found
        .iter()
        .filter(|f| verdict != Sentiment::Neutral && (f.2 > 0) == (verdict == Sentiment::Positive))
        .map(|&(s, e, _)| {
            let (a, b) = n.original_span(s, e);
            text.get(a..b).unwrap_or("").to_string()
        })
        .collect();
    (verdict, words)
}

fn word_bounded(text: &str, a: usize, b: usize) -> bool {
    let before = text[..a].chars().next_back();
    let after = text[b..].chars().next();
    !before.is_some_and(|c| c.is_ascii_alphanumeric())
        && !after.is_some_and(|c| c.is_ascii_alphabetic())
}

/// 良く|ない, 助かり|ません: okurigana then a negation right after the word.
fn japanese_negation(n: &Normalized, s: usize, e: usize) -> (usize, usize, bool) {
    let tail = n.slice(e, (e + 8).min(n.len_chars()));
    let rest = tail.trim_start_matches(['イ', 'ク', 'ハ', 'モ', 'ガ', 'ジ', 'デ', 'ャ']);
    for neg in ["ナイ", "ナカッタ", "ナク", "マセン", "アリマセン"] {
        if rest.starts_with(neg) {
            let used = tail.chars().count() - rest.chars().count() + neg.chars().count();
            return (s, e + used, true);
        }
    }
    (s, e, false)
}

/// not good, never helpful, wasn't happy: a negation up to three words before, in the same
/// clause.
fn english_negation(n: &Normalized, s: usize, e: usize) -> (usize, usize, bool) {
    let from = crate::context::sentence_start(n, s);
    let before = n.slice(from, s);
    let clause = before.rfind([',', ';']).map_or(0, |i| i + 1);
    // The last three words of the clause with their char offsets from `from`.
    let mut words: Vec<(usize, &str)> = Vec::new();
    let mut offset = 0;
    for (i, part) in before.split(' ').enumerate() {
        if i > 0 {
            offset += 1;
        }
        let byte = before.len().min(offset_bytes(before, offset));
        if byte >= clause && !part.is_empty() {
            words.push((offset, part));
        }
        offset += part.chars().count();
    }
    let last = &words[words.len().saturating_sub(3)..];
    match last.iter().find(|(_, w)| is_negator(w)) {
        Some(&(at, _)) => (from + at, e, true),
        None => (s, e, false),
    }
}

fn offset_bytes(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

fn is_negator(w: &str) -> bool {
    matches!(
        w,
        "not" | "never" | "no" | "dont" | "didnt" | "isnt" | "wasnt" | "werent" | "arent"
    ) || w.ends_with("n't")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thanks_are_positive_and_say_which_word() {
        let (s, words) = sentiment("先生、本当にありがとうございました！助かりました😊");
        assert_eq!(s, Sentiment::Positive);
        assert!(words.contains(&"ありがとう".to_string()), "{words:?}");
    }

    #[test]
    fn complaints_are_negative() {
        assert_eq!(
            sentiment("2時間も待たされて最悪でした").0,
            Sentiment::Negative
        );
        assert_eq!(
            sentiment("I'm really disappointed, the wait was terrible").0,
            Sentiment::Negative
        );
    }

    #[test]
    fn negation_turns_a_word_around() {
        let (s, words) = sentiment("説明が分かりやすくなかったし、対応も良くないです");
        assert_eq!(s, Sentiment::Negative, "{words:?}");
        assert!(words.iter().any(|w| w.contains("良くない")), "{words:?}");
        let (s, words) = sentiment("The staff were not helpful");
        assert_eq!(s, Sentiment::Negative);
        assert_eq!(words, ["not helpful"]);
    }

    #[test]
    fn a_negation_reaches_only_its_own_sentence() {
        let (s, words) = sentiment("The wait was not bad. Thank you!");
        assert_eq!(s, Sentiment::Positive, "{words:?}");
        assert_eq!(words, ["not bad", "Thank you"]);
    }

    #[test]
    fn plain_questions_are_neutral_with_no_words() {
        assert_eq!(sentiment("駐車場はありますか").0, Sentiment::Neutral);
        assert_eq!(
            sentiment("What time do you open on Saturday?"),
            (Sentiment::Neutral, vec![])
        );
    }

    #[test]
    fn half_width_words_count_and_are_quoted_as_written() {
        let (s, words) = sentiment("ｱﾘｶﾞﾄｳ");
        assert_eq!(s, Sentiment::Positive);
        assert_eq!(words, ["ｱﾘｶﾞﾄｳ"]);
    }
}
