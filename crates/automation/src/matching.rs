//! Whether a patient's text matches a keyword rule. Spellings are compared in
//! `core::text::match_form` (the one normalization: full-/half-width, hiragana/katakana, case,
//! spaces and surrounding punctuation folded), so ﾁｭｳｼｬｼﾞｮｳ, ちゅうしゃじょう and
//! 「チュウシャジョウ」？ are one word. A pattern is a regular expression run on that same form
//! (case-insensitive), compiled with a size limit and matched in linear time.
use regex::{Regex, RegexBuilder};
use serde::{Deserialize, Serialize};
use tsunagu_core::text::{fold_width, match_form, to_katakana};

/// The compiled size a pattern may take (the regex crate's default is 10 MB).
pub const PATTERN_SIZE_LIMIT: usize = 64 * 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    /// The whole message is one of the spellings.
    Exact,
    /// The message contains one of the spellings.
    Contains,
    /// One of the patterns (regular expressions) finds a match.
    Pattern,
}

impl MatchMode {
    pub fn parse(s: &str) -> Option<MatchMode> {
        Some(match s {
            "exact" => MatchMode::Exact,
            "contains" => MatchMode::Contains,
            "pattern" => MatchMode::Pattern,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            MatchMode::Exact => "exact",
            MatchMode::Contains => "contains",
            MatchMode::Pattern => "pattern",
        }
    }
}

/// A rule's spellings, ready to compare.
#[derive(Debug)]
pub enum Matcher {
    Words { mode: MatchMode, forms: Vec<String> },
    Patterns(Vec<Regex>),
}

/// A pattern as it runs: width folded and hiragana as katakana, like the text it meets.
fn pattern_form(p: &str) -> String {
    to_katakana(&fold_width(p))
}

/// Compiles one pattern; the error is the regex crate's explanation (for the staff form).
pub fn compile_pattern(p: &str) -> Result<Regex, String> {
    RegexBuilder::new(&pattern_form(p))
        .case_insensitive(true)
        .size_limit(PATTERN_SIZE_LIMIT)
        .dfa_size_limit(PATTERN_SIZE_LIMIT * 4)
        .build()
        .map_err(|e| match e {
            regex::Error::CompiledTooBig(_) => "too large".to_string(),
            other => other
                .to_string()
                .lines()
                .last()
                .unwrap_or("")
                .trim()
                .to_string(),
        })
}

/// A pattern that does not compile: as typed, and why (the regex crate's words, English).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadPattern {
    pub pattern: String,
    pub why: String,
}

impl Matcher {
    /// `Err` names the first pattern that does not compile, with why.
    pub fn new(mode: MatchMode, keywords: &[String]) -> Result<Matcher, BadPattern> {
        match mode {
            MatchMode::Pattern => keywords
                .iter()
                .map(|k| {
                    compile_pattern(k).map_err(|why| BadPattern {
                        pattern: k.clone(),
                        why,
                    })
                })
                .collect::<Result<Vec<_>, _>>()
                .map(Matcher::Patterns),
            _ => Ok(Matcher::Words {
                mode,
                forms: keywords
                    .iter()
                    .map(|k| match_form(k))
                    .filter(|f| !f.is_empty())
                    .collect(),
            }),
        }
    }

    pub fn is_match(&self, text: &str) -> bool {
        let form = match_form(text);
        if form.is_empty() {
            return false;
        }
        match self {
            Matcher::Words { mode, forms } => forms.iter().any(|f| match mode {
                MatchMode::Exact => form == *f,
                _ => form.contains(f.as_str()),
            }),
            Matcher::Patterns(res) => res.iter().any(|r| r.is_match(&form)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(mode: MatchMode, k: &[&str]) -> Matcher {
        let k: Vec<String> = k.iter().map(|s| s.to_string()).collect();
        Matcher::new(mode, &k).unwrap()
    }

    #[test]
    fn half_width_katakana_matches_hiragana_and_katakana_spellings() {
        let m = words(MatchMode::Exact, &["駐車場", "ちゅうしゃじょう"]);
        for t in [
            "ﾁｭｳｼｬｼﾞｮｳ",
            "チュウシャジョウ",
            "ちゅうしゃじょう",
            "駐車場",
            "駐車場？",
            "「駐車場」",
            " 駐車場。 ",
        ] {
            assert!(m.is_match(t), "{t}");
        }
        for t in ["駐車場はありますか", "駐輪場", ""] {
            assert!(!m.is_match(t), "{t}");
        }
    }

    #[test]
    fn contains_finds_a_spelling_inside_a_sentence_in_any_width_or_case() {
        let m = words(MatchMode::Contains, &["診療時間", "ｼﾝﾘｮｳｼﾞｶﾝ", "hours"]);
        for t in [
            "診療時間を教えてください",
            "しんりょうじかんは？",
            "Opening HOURS?",
            "ＨＯＵＲＳ",
        ] {
            assert!(m.is_match(t), "{t}");
        }
        assert!(!m.is_match("予約したいです"));
    }

    #[test]
    fn a_pattern_runs_on_the_folded_text_case_insensitively() {
        let k = vec!["^(駐車|ちゅうしゃ)".to_string()];
        let m = Matcher::new(MatchMode::Pattern, &k).unwrap();
        assert!(m.is_match("ﾁｭｳｼｬできますか"));
        assert!(m.is_match("駐車場"));
        assert!(!m.is_match("車で行きます"));
        let k = vec!["park(ing)?".to_string()];
        assert!(Matcher::new(MatchMode::Pattern, &k)
            .unwrap()
            .is_match("ＰＡＲＫＩＮＧ?"));
    }

    #[test]
    fn a_pattern_that_does_not_compile_or_is_too_large_is_refused() {
        let bad = vec!["(駐車".to_string()];
        assert!(Matcher::new(MatchMode::Pattern, &bad).is_err());
        let huge = vec!["\\w{1000}\\w{1000}\\w{1000}".to_string()];
        let err = Matcher::new(MatchMode::Pattern, &huge).unwrap_err();
        assert_eq!(err.why, "too large");
        assert_eq!(err.pattern, huge[0]);
    }

    #[test]
    fn match_modes_read_back_from_their_names() {
        for m in [MatchMode::Exact, MatchMode::Contains, MatchMode::Pattern] {
            assert_eq!(MatchMode::parse(m.as_str()), Some(m));
        }
        assert_eq!(MatchMode::parse("regex"), None);
    }
}
