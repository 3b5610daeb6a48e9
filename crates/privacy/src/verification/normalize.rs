//! What patients type in chat, read into the forms the records hold. The birth-date reader is
//! a small one of our own: `tsunagu_contacts::BirthDate::parse` reads the same spellings, but
//! contacts depends on privacy, so privacy cannot call it (an integration test compares both).
use chrono::NaiveDate;
use tsunagu_core::text::fold_width;

/// A card number as `tsunagu_contacts::CardNumber` stores it: ASCII, upper case, without
/// spaces or hyphens (long sound marks and dashes of any width count as hyphens).
pub fn card_number(text: &str) -> Option<String> {
    let mut out = String::new();
    for c in fold_width(text).chars() {
        match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' => out.push(c.to_ascii_uppercase()),
            ' ' | '-' | 'ー' | '\u{2010}'..='\u{2015}' | '\u{2212}' => {}
            _ => return None,
        }
    }
    (!out.is_empty() && out.len() <= 20).then_some(out)
}

/// (letter, name, first day) of the eras a living patient can be born in.
const ERAS: [(char, &str, (i32, u32, u32)); 5] = [
    ('M', "明治", (1868, 10, 23)),
    ('T', "大正", (1912, 7, 30)),
    ('S', "昭和", (1926, 12, 25)),
    ('H', "平成", (1989, 1, 8)),
    ('R', "令和", (2019, 5, 1)),
];

/// `1975-04-01`, `1975/4/1`, `19750401`, `1975年4月1日`, `昭和50年4月1日`, `S50.4.1`, in any
/// width, as `YYYY-MM-DD`; `None` when it is not a date.
pub fn birth_date(text: &str) -> Option<String> {
    let s: String = fold_width(text.trim()).to_ascii_uppercase();
    let s = s.trim();
    let date = match era_of(s) {
        Some((i, rest)) => era_date(i, rest)?,
        None => {
            let n = numbers(s)?;
            match n.as_slice() {
                [ymd] if ymd.len() == 8 => ymd_of(&ymd[..4], &ymd[4..6], &ymd[6..])?,
                [y, m, d] if y.len() == 4 => ymd_of(y, m, d)?,
                _ => return None,
            }
        }
    };
    (date >= era_start(0)).then(|| date.format("%Y-%m-%d").to_string())
}

fn era_start(i: usize) -> NaiveDate {
    let (_, _, (y, m, d)) = ERAS[i];
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

fn era_of(s: &str) -> Option<(usize, &str)> {
    ERAS.iter().enumerate().find_map(|(i, (letter, name, _))| {
        s.strip_prefix(*name)
            .or_else(|| s.strip_prefix(*letter))
            .map(|rest| (i, rest))
    })
}

fn era_date(i: usize, rest: &str) -> Option<NaiveDate> {
    let rest = rest.trim_start().replacen('元', "1", 1);
    let n = numbers(&rest)?;
    let [y, m, d] = n.as_slice() else { return None };
    let y: i32 = y.parse().ok().filter(|y| (1..=99).contains(y))?;
    let (_, _, (y1, _, _)) = ERAS[i];
    let date = ymd_of(&(y1 + y - 1).to_string(), m, d)?;
    let before_next = i + 1 >= ERAS.len() || date < era_start(i + 1);
    (date >= era_start(i) && before_next).then_some(date)
}

fn ymd_of(y: &str, m: &str, d: &str) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// The digit runs of `s` when only date separators lie between them.
fn numbers(s: &str) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
            continue;
        }
        if !matches!(c, '-' | '/' | '.' | ' ' | '年' | '月' | '日' | 'ー' | '－') {
            return None;
        }
        if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    (!out.is_empty() && out.iter().all(|n| n.len() <= 8)).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn birth_dates_are_read_in_gregorian_and_era_spellings_of_any_width() {
        for s in [
            "1975-04-01",
            "1975/4/1",
            "19750401",
            "1975年4月1日",
            "昭和50年4月1日",
            "S50.4.1",
            "s50.4.1",
            "１９７５／４／１",
            " 昭和５０年４月１日 ",
        ] {
            assert_eq!(birth_date(s).as_deref(), Some("1975-04-01"), "{s}");
        }
        assert_eq!(birth_date("令和元年5月1日").as_deref(), Some("2019-05-01"));
        assert_eq!(birth_date("H1.1.8").as_deref(), Some("1989-01-08"));
    }

    #[test]
    fn what_is_not_a_date_is_refused() {
        for s in [
            "",
            "1975-02-30",
            "S64.2.1",
            "昨日",
            "12345",
            "1975-04-01です",
        ] {
            assert_eq!(birth_date(s), None, "{s}");
        }
    }

    #[test]
    fn card_numbers_lose_width_spaces_and_hyphens() {
        assert_eq!(card_number("００１２－３４").as_deref(), Some("001234"));
        assert_eq!(card_number(" ab 12 ").as_deref(), Some("AB12"));
        assert_eq!(card_number("12#3"), None);
        assert_eq!(card_number(""), None);
    }
}
