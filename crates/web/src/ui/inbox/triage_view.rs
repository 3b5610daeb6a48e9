//! The marks triage leaves on a patient's message: a red 「緊急の可能性」 with the categories in
//! the staff's words and the matched words highlighted in the text (from the hits' char spans),
//! and a small sentiment dot with its meaning as a title. Sentiment is never used for clinical
//! decisions; it only sorts and colours.
use serde::Serialize;
use tsunagu_safety::hits::Triage;

use crate::i18n;

#[derive(Clone, Debug, Serialize)]
pub struct TriageMark {
    pub urgent: bool,
    pub crisis: bool,
    /// The categories found, in words.
    pub categories: Vec<String>,
    /// The text in pieces, `hit` for those a rule matched (shown in `<mark>`).
    pub segments: Vec<Segment>,
    /// positive | neutral | negative, and its words.
    pub sentiment: String,
    pub sentiment_label: String,
}

#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

/// The mark for a message, or `None` when there is nothing worth showing (a neutral message
/// without a hit).
pub fn mark(lang: &str, t: &Triage, body: Option<&str>) -> Option<TriageMark> {
    if !t.urgent && t.sentiment == "neutral" {
        return None;
    }
    let categories = t
        .categories()
        .iter()
        .map(|c| i18n::text(lang, &format!("safety.category.{c}")))
        .collect();
    let spans: Vec<(usize, usize)> = t.hits.iter().map(|h| (h.start, h.end)).collect();
    let segments = match (t.urgent, body) {
        (true, Some(b)) => segments(b, &spans),
        _ => Vec::new(),
    };
    Some(TriageMark {
        urgent: t.urgent,
        crisis: t.crisis,
        categories,
        segments,
        sentiment_label: i18n::text(lang, &format!("safety.sentiment.{}", t.sentiment)),
        sentiment: t.sentiment.clone(),
    })
}

/// Splits `body` at the spans (bytes of the trimmed text triage saw); spans that do not fall on
/// the text's characters or overlap an earlier one are left out.
pub fn segments(body: &str, spans: &[(usize, usize)]) -> Vec<Segment> {
    let lead = body.len() - body.trim_start().len();
    let mut spans: Vec<(usize, usize)> = spans
        .iter()
        .map(|(s, e)| (s + lead, e + lead))
        .filter(|(s, e)| {
            s < e && *e <= body.len() && body.is_char_boundary(*s) && body.is_char_boundary(*e)
        })
        .collect();
    spans.sort();
    let mut out = Vec::new();
    let mut at = 0;
    for (s, e) in spans {
        if s < at {
            continue;
        }
        if s > at {
            out.push(Segment {
                text: body[at..s].to_string(),
                hit: false,
            });
        }
        out.push(Segment {
            text: body[s..e].to_string(),
            hit: true,
        });
        at = e;
    }
    if at < body.len() {
        out.push(Segment {
            text: body[at..].to_string(),
            hit: false,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shown(segs: &[Segment]) -> String {
        segs.iter()
            .map(|s| match s.hit {
                true => format!("[{}]", s.text),
                false => s.text.clone(),
            })
            .collect()
    }

    #[test]
    fn the_matched_words_are_marked_in_the_text_as_written() {
        // Byte spans of the trimmed text: 胸が痛く is 0..12, 息が苦しい 15..30.
        let segs = segments(" 胸が痛くて息が苦しい", &[(0, 12), (15, 30)]);
        assert_eq!(shown(&segs), " [胸が痛く]て[息が苦しい]");
    }

    #[test]
    fn spans_out_of_range_or_overlapping_are_left_out() {
        let segs = segments("胸が痛い", &[(0, 6), (3, 9), (1, 4), (9, 40)]);
        assert_eq!(shown(&segs), "[胸が]痛い");
    }
}
