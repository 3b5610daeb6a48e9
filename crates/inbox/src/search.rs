//! Searching the clinic's messages and private notes as staff and integrators do (issue 11 item 6): what they
//! typed is checked, brought to its search form (`tsunagu_core::text::search_form`, the one
//! normalization), looked up in the store's n-gram index (`store::search`), and each hit's
//! matches are mapped back onto the original text to be highlighted.
use chrono::{NaiveDate, TimeZone};
use sqlx::AnyConnection;
use tsunagu_core::text::{search_form, search_form_mapped};
use tsunagu_core::{ClinicId, Code, Refusal};
use tsunagu_store::search::find::{self, Facets, MessageHit, NoteHit};
use tsunagu_store::search::grams::Needle;

/// The longest search, in chars as typed.
pub const MAX_QUERY_CHARS: usize = 100;
/// Chars of context shown before the first match in a snippet, and a snippet's length.
const BEFORE: usize = 30;
const SNIPPET: usize = 140;

/// A search as typed, checked: its search form and what the index looks for.
#[derive(Clone, Debug)]
pub struct Query {
    pub form: String,
    needle: Needle,
}

impl Query {
    pub fn parse(q: &str) -> Result<Query, Refusal> {
        if q.chars().count() > MAX_QUERY_CHARS {
            return Err(Refusal::new(Code::SearchQueryTooLong)
                .arg("max", MAX_QUERY_CHARS)
                .detail(format!("q may be at most {MAX_QUERY_CHARS} characters.")));
        }
        let form = search_form(q);
        match Needle::of(&form) {
            Some(needle) => Ok(Query { form, needle }),
            None => Err(Refusal::new(Code::SearchQueryEmpty).detail("q is empty.")),
        }
    }
}

/// A message found: the row, and a snippet of its text with the matches as char ranges.
#[derive(Clone, Debug)]
pub struct Hit {
    pub row: MessageHit,
    pub snippet: String,
    pub highlights: Vec<(usize, usize)>,
}

/// The clinic's messages containing `query`, newest first, after `before` (a hit's `seq`).
pub async fn messages(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    query: &Query,
    facets: &Facets,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<Hit>> {
    let rows = find::messages(conn, clinic, &query.needle, facets, before, limit).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let body = row.body.clone().unwrap_or_default();
            let (snippet, highlights) = snippet(&body, &query.form);
            Hit {
                row,
                snippet,
                highlights,
            }
        })
        .collect())
}

/// A private note found: the row, and a snippet of its text with the matches as char ranges.
#[derive(Clone, Debug)]
pub struct NoteFound {
    pub row: NoteHit,
    pub snippet: String,
    pub highlights: Vec<(usize, usize)>,
}

/// The clinic's notes containing `query`, newest first, after `before` (a hit's `seq`, shared
/// with messages). Staff-only: callers show them only to who may read messages.
pub async fn notes(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    query: &Query,
    facets: &Facets,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<NoteFound>> {
    let rows = find::notes(conn, clinic, &query.needle, facets, before, limit).await?;
    Ok(rows
        .into_iter()
        .map(|row| {
            let (snippet, highlights) = snippet(&row.body, &query.form);
            NoteFound {
                row,
                snippet,
                highlights,
            }
        })
        .collect())
}

/// One page of messages and notes together, newest first: at most `limit` of both, and the
/// `seq` to pass as `before` for the next page (`None`: the last page). Each list is complete
/// down to that `seq`, so the next page neither repeats nor skips a hit.
pub async fn page(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    query: &Query,
    facets: &Facets,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<(Vec<Hit>, Vec<NoteFound>, Option<i64>)> {
    let limit = limit.max(1);
    let mut hits = messages(conn, clinic, query, facets, before, limit + 1).await?;
    let mut notes = notes(conn, clinic, query, facets, before, limit + 1).await?;
    let mut seqs: Vec<i64> = hits
        .iter()
        .map(|h| h.row.seq)
        .chain(notes.iter().map(|n| n.row.seq))
        .collect();
    seqs.sort_unstable_by_key(|s| std::cmp::Reverse(*s));
    let Some(&floor) = seqs.get(limit as usize - 1) else {
        return Ok((hits, notes, None));
    };
    // More than a page: keep the newest `limit`, which end at `floor`.
    let more = seqs.len() as i64 > limit;
    hits.retain(|h| h.row.seq >= floor);
    notes.retain(|n| n.row.seq >= floor);
    Ok((hits, notes, more.then_some(floor)))
}

/// Where `form` (a search form) occurs in `text`, as char ranges of `text` (not overlapping).
pub fn highlights(text: &str, form: &str) -> Vec<(usize, usize)> {
    let (t, from) = search_form_mapped(text);
    let t: Vec<char> = t.chars().collect();
    let f: Vec<char> = form.chars().collect();
    let mut out: Vec<(usize, usize)> = Vec::new();
    if f.is_empty() || f.len() > t.len() {
        return out;
    }
    let mut i = 0;
    while i + f.len() <= t.len() {
        if t[i..i + f.len()] == f[..] {
            let (start, end) = (from[i].0, from[i + f.len() - 1].1);
            match out.last_mut() {
                Some(last) if last.1 >= start => last.1 = last.1.max(end),
                _ => out.push((start, end)),
            }
            i += f.len();
        } else {
            i += 1;
        }
    }
    out
}

/// A window of `text` around its first match (the whole text when short), with the matches
/// inside it as char ranges of the window.
pub fn snippet(text: &str, form: &str) -> (String, Vec<(usize, usize)>) {
    let marks = highlights(text, form);
    let len = text.chars().count();
    let start = match marks.first() {
        Some(&(s, _)) if len > SNIPPET => s.saturating_sub(BEFORE).min(len - SNIPPET),
        _ => 0,
    };
    let end = (start + SNIPPET).min(len);
    let window: String = text.chars().skip(start).take(end - start).collect();
    let inside = marks
        .into_iter()
        .filter(|&(s, e)| s < end && e > start)
        .map(|(s, e)| (s.max(start) - start, e.min(end) - start))
        .collect();
    (window, inside)
}

/// `text` cut into pieces, each marked or not, for a template to wrap marked ones in `<mark>`
/// (escaped like any other text).
pub fn pieces(text: &str, ranges: &[(usize, usize)]) -> Vec<(String, bool)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut at = 0;
    for &(s, e) in ranges {
        if s > at {
            out.push((chars[at..s].iter().collect(), false));
        }
        out.push((chars[s..e.min(chars.len())].iter().collect(), true));
        at = e;
    }
    if at < chars.len() {
        out.push((chars[at..].iter().collect(), false));
    }
    out
}

/// The start of clinic-local `date` in `timezone`, as ms (`None`: an unknown zone).
pub fn day_start_ms(date: NaiveDate, timezone: &str) -> Option<i64> {
    let tz: chrono_tz::Tz = timezone.parse().ok()?;
    let midnight = date.and_hms_opt(0, 0, 0)?;
    tz.from_local_datetime(&midnight)
        .earliest()
        .map(|t| t.timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_match_in_the_search_form_is_highlighted_on_the_original_text() {
        let form = search_form("やまだ");
        assert_eq!(highlights("ﾔﾏﾀﾞさん と ヤマダ", &form), [(0, 4), (9, 12)]);
        assert_eq!(highlights("発熱と熱", "熱"), [(1, 2), (3, 4)]);
        assert_eq!(
            pieces("発熱と熱", &[(1, 2), (3, 4)]),
            [
                ("発".to_string(), false),
                ("熱".to_string(), true),
                ("と".to_string(), false),
                ("熱".to_string(), true)
            ]
        );
    }

    #[test]
    fn a_long_text_is_cut_around_its_first_match() {
        let text = format!("{}予約{}", "あ".repeat(300), "い".repeat(300));
        let (s, h) = snippet(&text, "予約");
        assert_eq!(s.chars().count(), SNIPPET);
        assert_eq!(h, [(BEFORE, BEFORE + 2)]);
    }

    #[test]
    fn empty_and_overlong_queries_are_refused_with_their_codes() {
        assert_eq!(
            Query::parse(" 　").unwrap_err().code,
            Code::SearchQueryEmpty
        );
        let long = "あ".repeat(MAX_QUERY_CHARS + 1);
        assert_eq!(
            Query::parse(&long).unwrap_err().code,
            Code::SearchQueryTooLong
        );
        assert_eq!(Query::parse("ﾖﾔｸ").unwrap().form, "ヨヤク");
    }
}
