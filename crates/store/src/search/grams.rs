//! The index terms of a text and of a query, computed once here for both dialects: each char
//! of the search form (`tsunagu_core::text::search_form`) as its code point in hex, each pair
//! of neighbouring chars as the two joined by `g` (not a hex digit, so the two kinds never
//! meet). Terms are plain ASCII letters and digits: no tokenizer or parser splits them further.
//! A space separates fields (a patient's name, kana, phone…; a search form has none): no pair
//! spans it, and a placeholder keeps a phrase from running from one field into the next.
use std::collections::BTreeMap;
use std::fmt::Write;

/// PostgreSQL keeps positions up to 16383 and 256 positions per lexeme; text past either is
/// not indexed there (messages are far shorter: LINE allows 5,000 chars).
const PG_MAX_POS: usize = 16383;
const PG_MAX_POSITIONS: usize = 256;
/// Stands in the bigram column where a pair would span a space (never a query's term).
const GAP: &str = "z";

fn uni(c: char) -> String {
    format!("{:x}", c as u32)
}

fn bi(a: char, b: char) -> String {
    format!("{:x}g{:x}", a as u32, b as u32)
}

/// The `bi` and `uni` columns of SQLite's FTS5 row for `form` (a search form, or several
/// joined by spaces): its bigrams in order, and its distinct chars.
pub fn fts_columns(form: &str) -> (String, String) {
    let chars: Vec<char> = form.chars().collect();
    let mut bigrams = String::with_capacity(chars.len() * 10);
    for w in chars.windows(2) {
        if !bigrams.is_empty() {
            bigrams.push(' ');
        }
        if w[0] == ' ' || w[1] == ' ' {
            bigrams.push_str(GAP);
        } else {
            bigrams.push_str(&bi(w[0], w[1]));
        }
    }
    let mut seen: Vec<char> = chars.into_iter().filter(|c| *c != ' ').collect();
    seen.sort_unstable();
    seen.dedup();
    let unigrams: Vec<String> = seen.into_iter().map(uni).collect();
    (bigrams, unigrams.join(" "))
}

/// PostgreSQL's `tsvector` for `form`, written as its literal (`'4e88g7d04':1 '4e88':1`): each
/// bigram at its position (so phrases match in order; none spans a space), each char at its
/// first position.
pub fn tsvector(form: &str) -> String {
    let chars: Vec<char> = form.chars().collect();
    let mut lexemes: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for (i, c) in chars.iter().enumerate().take(PG_MAX_POS) {
        if *c == ' ' {
            continue;
        }
        let pos = i + 1;
        let u = lexemes.entry(uni(*c)).or_default();
        if u.is_empty() {
            u.push(pos);
        }
        if let Some(next) = chars.get(i + 1).filter(|n| **n != ' ') {
            let b = lexemes.entry(bi(*c, *next)).or_default();
            if b.len() < PG_MAX_POSITIONS {
                b.push(pos);
            }
        }
    }
    let mut out = String::with_capacity(lexemes.len() * 14);
    for (lex, positions) in lexemes {
        if !out.is_empty() {
            out.push(' ');
        }
        let _ = write!(out, "'{lex}':");
        for (k, p) in positions.iter().enumerate() {
            if k > 0 {
                out.push(',');
            }
            let _ = write!(out, "{p}");
        }
    }
    out
}

/// What a query looks for: one char, or the bigrams of two or more in order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Needle {
    Char(String),
    Phrase(Vec<String>),
}

impl Needle {
    /// The needle of `form` (a search form); `None` when it is empty.
    pub fn of(form: &str) -> Option<Needle> {
        let chars: Vec<char> = form.chars().collect();
        match chars.as_slice() {
            [] => None,
            [c] => Some(Needle::Char(uni(*c))),
            _ => Some(Needle::Phrase(
                chars.windows(2).map(|w| bi(w[0], w[1])).collect(),
            )),
        }
    }

    /// The query text for the dialect (`sqlite`: FTS5's, else PostgreSQL's `tsquery`).
    pub fn query_for(&self, sqlite: bool) -> String {
        if sqlite {
            self.fts_match()
        } else {
            self.tsquery()
        }
    }

    /// SQLite's FTS5 query: `uni : "4e88"` or `bi : "a b c"` (a phrase: in order, adjacent).
    pub fn fts_match(&self) -> String {
        match self {
            Needle::Char(t) => format!("uni : \"{t}\""),
            Needle::Phrase(ts) => format!("bi : \"{}\"", ts.join(" ")),
        }
    }

    /// PostgreSQL's `tsquery` literal: `'4e88'` or `'a' <-> 'b' <-> 'c'`.
    pub fn tsquery(&self) -> String {
        match self {
            Needle::Char(t) => format!("'{t}'"),
            Needle::Phrase(ts) => ts
                .iter()
                .map(|t| format!("'{t}'"))
                .collect::<Vec<_>>()
                .join(" <-> "),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_indexed_as_its_bigrams_in_order_and_its_distinct_chars() {
        let (b, u) = fts_columns("予約予");
        assert_eq!(b, "4e88g7d04 7d04g4e88");
        assert_eq!(u, "4e88 7d04");
        assert_eq!(
            tsvector("予約予"),
            "'4e88':1 '4e88g7d04':1 '7d04':2 '7d04g4e88':2"
        );
    }

    #[test]
    fn no_pair_spans_the_space_between_fields() {
        let (b, u) = fts_columns("ab cd");
        assert_eq!(b, "61g62 z z 63g64");
        assert_eq!(u, "61 62 63 64");
        assert_eq!(tsvector("ab c"), "'61':1 '61g62':1 '62':2 '63':4");
    }

    #[test]
    fn one_char_is_looked_up_alone_and_longer_queries_as_a_phrase() {
        assert_eq!(Needle::of(""), None);
        let one = Needle::of("熱").unwrap();
        assert_eq!(one.fts_match(), "uni : \"71b1\"");
        let three = Needle::of("abc").unwrap();
        assert_eq!(three.fts_match(), "bi : \"61g62 62g63\"");
        assert_eq!(three.tsquery(), "'61g62' <-> '62g63'");
    }
}
