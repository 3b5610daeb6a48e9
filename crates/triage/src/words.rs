//! Every word of every pattern, found in one pass over a message (Aho-Corasick, overlapping),
//! so a message costs one scan however many rules there are; each pattern part then names its
//! alternatives by id.

use std::collections::HashMap;

use aho_corasick::AhoCorasick;

use crate::normalize::Normalized;
use crate::rules::Rule;

/// The rules with their words numbered and the automaton over those words.
#[derive(Debug)]
pub(crate) struct Compiled {
    pub rules: Vec<Rule>,
    words: Vec<String>,
    /// `None` only if the automaton could not be built (a size limit): then each word is
    /// searched on its own, slower but the same answers.
    automaton: Option<AhoCorasick>,
}

impl Compiled {
    pub fn new(mut rules: Vec<Rule>) -> Compiled {
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut words: Vec<String> = Vec::new();
        for rule in &mut rules {
            for pattern in &mut rule.patterns {
                pattern.ids = pattern
                    .parts
                    .iter()
                    .map(|alts| {
                        alts.iter()
                            .map(|w| {
                                *ids.entry(w.clone()).or_insert_with(|| {
                                    words.push(w.clone());
                                    (words.len() - 1) as u32
                                })
                            })
                            .collect()
                    })
                    .collect();
            }
        }
        let automaton = AhoCorasick::new(&words).ok();
        Compiled {
            rules,
            words,
            automaton,
        }
    }

    /// Every occurrence of every word in `n.text`.
    pub fn find(&self, n: &Normalized) -> Found {
        let mut all: Vec<(u32, usize, usize)> = Vec::new();
        let mut push = |id: usize, b: usize, e: usize| {
            let english = self
                .words
                .get(id)
                .is_some_and(|w| w.starts_with(|c: char| c.is_ascii_alphanumeric()));
            // An English word starts at a word boundary (its end may run on: bleed, bleeding).
            if english
                && n.text[..b]
                    .chars()
                    .next_back()
                    .is_some_and(|c| c.is_ascii_alphanumeric() || c == '\'')
            {
                return;
            }
            all.push((id as u32, n.char_of(b), n.char_of(e)));
        };
        match &self.automaton {
            Some(ac) => {
                for m in ac.find_overlapping_iter(&n.text) {
                    push(m.pattern().as_usize(), m.start(), m.end());
                }
            }
            None => {
                for (id, w) in self.words.iter().enumerate() {
                    for (b, m) in n.text.match_indices(w.as_str()) {
                        push(id, b, b + m.len());
                    }
                }
            }
        }
        all.sort_unstable();
        Found { all }
    }
}

/// Occurrences as (word id, start char, end char), sorted.
pub(crate) struct Found {
    all: Vec<(u32, usize, usize)>,
}

impl Found {
    /// The occurrences of word `id`, in order.
    pub fn of(&self, id: u32) -> &[(u32, usize, usize)] {
        let a = self.all.partition_point(|o| o.0 < id);
        let b = self.all.partition_point(|o| o.0 <= id);
        self.all.get(a..b).unwrap_or(&[])
    }

    pub fn is_empty(&self) -> bool {
        self.all.is_empty()
    }
}
