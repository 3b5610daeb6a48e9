//! Satisfaction surveys, 満足度アンケート (issue 12 item 8, purpose `care`): after a resolved
//! conversation, still resolved once the clinic's delay has passed, the patient is asked for a
//! score 1–5 (native choices per channel: LINE quick replies, a WhatsApp list, Messenger quick
//! replies, numbered SMS), then optionally for a comment. Tables from migration 0031.
//! - `settings`: on/off, delay, the words, how often a patient may be asked, which channels;
//! - `surveys`: one survey per resolve (claimed by its key), its answer and comment;
//! - `jobs`: `satisfaction.ask` (re-checks at send time, sends through consent and the outbox,
//!   or records why it was skipped);
//! - `results`: averages, distribution and response rate per month, staff member and team.
//!
//! The answer is taken by dispatch (`dispatch::satisfaction`), after a running flow.
pub mod jobs;
pub mod results;
pub mod settings;
pub mod surveys;

pub use settings::Settings;

use tsunagu_core::text::match_form;

/// The answers, worst first: the `n`th (from 1) is score `n`, so a typed digit, a number on
/// SMS and a WhatsApp row id all mean the score itself.
pub const ANSWERS: [&str; 5] = ["不満", "やや不満", "ふつう", "やや満足", "満足"];

/// A score is low from here down: the conversation stays open for staff with a line saying so.
pub const LOW: i64 = 2;

/// How long a comment may follow the score (the next text within it is the comment).
pub const COMMENT_MINUTES: i64 = 30;

/// How long a patient's score is awaited; later a digit means something else.
pub const ANSWER_HOURS: i64 = 72;

/// The score a patient's message gives, if it is one: 「5」, ５, "5", 5番, or an answer's label.
pub fn score(text: &str) -> Option<i64> {
    let typed = match_form(text);
    if typed.is_empty() {
        return None;
    }
    if let Some(i) = ANSWERS.iter().position(|a| match_form(a) == typed) {
        return Some(i as i64 + 1);
    }
    let digits = typed.trim_end_matches(['番', '点', '.']);
    let n: i64 = digits.parse().ok()?;
    (1..=5).contains(&n).then_some(n)
}

#[cfg(test)]
mod tests {
    use super::score;

    #[test]
    fn a_score_is_read_typed_full_width_bracketed_or_tapped() {
        assert_eq!(score("5"), Some(5));
        assert_eq!(score("５"), Some(5));
        assert_eq!(score("「5」"), Some(5));
        assert_eq!(score(" 3点"), Some(3));
        assert_eq!(score("満足"), Some(5));
        assert_eq!(score("やや不満"), Some(2));
        assert_eq!(score("ﾌﾂｳ"), Some(3), "half-width kana");
    }

    #[test]
    fn anything_else_is_not_a_score() {
        assert_eq!(score("6"), None);
        assert_eq!(score("0"), None);
        assert_eq!(score("3時に行けますか"), None);
        assert_eq!(score(""), None);
        assert_eq!(score("ありがとう"), None);
    }
}
