//! The rule files (`rules/ja.toml`, `rules/en.toml`), parsed once, and the pattern notation:
//! `{a|b|}` alternatives (an empty one: may be left out), `A…B` (or `A…B…C`) for "A, then B
//! starting within `within` chars of A's end, in one sentence". Every alternative is folded like
//! a message before matching.

use serde::{Deserialize, Serialize};

use crate::normalize::fold_pattern;
use crate::{Category, ExtraPhrase};

const JA: &str = include_str!("../rules/ja.toml");
const EN: &str = include_str!("../rules/en.toml");

/// Default distance, in chars of the folded text, between the two halves of `A…B`.
const WITHIN: usize = 10;

/// A built-in rule as the settings page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleInfo {
    pub id: String,
    pub category: Category,
    pub description_ja: String,
    pub description_en: String,
    /// Its patterns as written in the rule file.
    pub patterns: Vec<String>,
}

#[derive(Deserialize)]
struct File {
    rule: Vec<RuleDef>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleDef {
    id: String,
    category: Category,
    ja: String,
    en: String,
    #[serde(default)]
    within: Option<usize>,
    patterns: Vec<String>,
    /// Words that, just before a match, make it something else (まぶたの痙攣).
    #[serde(default)]
    unless_before: Vec<String>,
    /// Words that, just after a match, make it something else (seizure medication).
    #[serde(default)]
    unless_after: Vec<String>,
    /// Words that, between the parts of an `A…B` match, make it something else (胸やけ…痛).
    #[serde(default)]
    unless_between: Vec<String>,
    /// Words of which one must be in the message too (急に for one-sided numbness).
    #[serde(default)]
    with_any: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Rule {
    pub info: RuleInfo,
    pub patterns: Vec<Pattern>,
    pub unless_before: Vec<String>,
    pub unless_after: Vec<String>,
    pub unless_between: Vec<String>,
    pub with_any: Vec<String>,
}

#[derive(Clone, Debug)]
pub(crate) struct Pattern {
    /// As staff read it: the first alternative of each group (`胸…痛`).
    pub display: String,
    /// Each part's folded alternatives, in order (one part for a literal).
    pub parts: Vec<Vec<String>>,
    /// The same as word ids of `words::Compiled` (filled in when compiled).
    pub ids: Vec<Vec<u32>>,
    /// The most chars between one part's end and the next part's start.
    pub within: usize,
}

pub(crate) fn builtin() -> Vec<Rule> {
    let mut out = Vec::new();
    for (name, src) in [("ja", JA), ("en", EN)] {
        let file: File = toml::from_str(src)
            .unwrap_or_else(|e| panic!("the built-in triage rules {name}.toml do not parse: {e}"));
        for def in file.rule {
            let within = def.within.unwrap_or(WITHIN);
            let patterns = def
                .patterns
                .iter()
                .filter_map(|p| Pattern::parse(p, within))
                .collect();
            out.push(Rule {
                info: RuleInfo {
                    id: def.id,
                    category: def.category,
                    description_ja: def.ja,
                    description_en: def.en,
                    patterns: def.patterns,
                },
                patterns,
                unless_before: def.unless_before.iter().map(|w| fold_pattern(w)).collect(),
                unless_after: def.unless_after.iter().map(|w| fold_pattern(w)).collect(),
                unless_between: def.unless_between.iter().map(|w| fold_pattern(w)).collect(),
                with_any: def.with_any.iter().map(|w| fold_pattern(w)).collect(),
            });
        }
    }
    out
}

impl Rule {
    /// A clinic's own phrase as a rule of its own.
    pub fn clinic(n: usize, extra: &ExtraPhrase) -> Option<Rule> {
        let pattern = Pattern::parse(&extra.phrase, WITHIN)?;
        Some(Rule {
            info: RuleInfo {
                id: format!("clinic.{n}"),
                category: extra.category,
                description_ja: extra.phrase.clone(),
                description_en: extra.phrase.clone(),
                patterns: vec![extra.phrase.clone()],
            },
            patterns: vec![pattern],
            unless_before: Vec::new(),
            unless_after: Vec::new(),
            unless_between: Vec::new(),
            with_any: Vec::new(),
        })
    }
}

impl Pattern {
    /// `None` when a part folds to nothing.
    fn parse(src: &str, within: usize) -> Option<Pattern> {
        let src = src.replace("...", "…");
        let mut parts = Vec::new();
        let mut display = Vec::new();
        for part in src.split('…') {
            let alts = expand(part);
            if alts.is_empty() {
                return None;
            }
            parts.push(alts);
            display.push(display_of(part));
        }
        Some(Pattern {
            display: display.join("…"),
            parts,
            ids: Vec::new(),
            within,
        })
    }

    /// The pattern is English: its words must start at a word boundary.
    pub fn english(&self) -> bool {
        self.parts
            .first()
            .and_then(|p| p.first())
            .and_then(|a| a.chars().next())
            .is_some_and(|c| c.is_ascii_alphanumeric())
    }
}

/// Every spelling of a part (the product of its groups), folded, without empty or repeated ones.
fn expand(part: &str) -> Vec<String> {
    let mut acc = vec![String::new()];
    let mut rest = part;
    while !rest.is_empty() {
        let (alts, next): (Vec<&str>, &str) = match rest.find('{') {
            Some(0) => match rest.find('}') {
                Some(close) => (rest[1..close].split('|').collect(), &rest[close + 1..]),
                None => (vec![rest], ""),
            },
            Some(open) => (vec![&rest[..open]], &rest[open..]),
            None => (vec![rest], ""),
        };
        acc = acc
            .iter()
            .flat_map(|p| alts.iter().map(move |a| format!("{p}{a}")))
            .collect();
        rest = next;
    }
    let mut out: Vec<String> = Vec::new();
    for a in acc {
        let f = fold_pattern(&a);
        if !f.is_empty() && !out.contains(&f) {
            out.push(f);
        }
    }
    out
}

fn display_of(part: &str) -> String {
    let mut out = String::new();
    let mut rest = part;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('}').map(|c| c + open) else {
            break;
        };
        out.push_str(rest[open + 1..close].split('|').next().unwrap_or(""));
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    out.trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_rule_files_parse_with_unique_ids_and_every_category() {
        let rules = builtin();
        let mut ids: Vec<&str> = rules.iter().map(|r| r.info.id.as_str()).collect();
        ids.sort_unstable();
        let n = ids.len();
        ids.dedup();
        assert_eq!(ids.len(), n, "rule ids repeat");
        for c in Category::ALL {
            assert!(rules.iter().any(|r| r.info.category == c), "{c:?}");
        }
        for r in &rules {
            assert_eq!(r.patterns.len(), r.info.patterns.len(), "{}", r.info.id);
        }
    }

    #[test]
    fn alternatives_expand_and_fold() {
        let p = Pattern::parse("{胸|むね}{が|}痛…{い|む}", 8).unwrap();
        assert_eq!(p.parts[0], ["胸ガ痛", "胸痛", "ムネガ痛", "ムネ痛"]);
        assert_eq!(p.parts[1], ["イ", "ム"]);
        assert_eq!(p.within, 8);
        assert_eq!(p.display, "胸が痛…い");
        assert_eq!(
            Pattern::parse("薬…{全部|大量}…飲", 8).unwrap().parts.len(),
            3
        );
        assert!(Pattern::parse("{|}", 8).is_none());
    }
}
