//! Birth dates. Japanese forms and CSV exports use the era calendar (和暦): `S50.4.1`,
//! `昭和50年4月1日`, `H2.1.8`, `R1.5.1`, `令和元年5月1日`; the rest use `YYYY-MM-DD`.
use chrono::{Datelike, NaiveDate};
use serde::Serialize;
use tsunagu_core::text::fold_width;
use tsunagu_core::Code;

use crate::Invalid;

const INVALID: Invalid = Invalid(Code::InvalidBirthDate);

/// (letter, name, first day). An era's year 1 is the Gregorian year of its first day.
const ERAS: [(char, &str, (i32, u32, u32)); 5] = [
    ('M', "明治", (1868, 10, 23)),
    ('T', "大正", (1912, 7, 30)),
    ('S', "昭和", (1926, 12, 25)),
    ('H', "平成", (1989, 1, 8)),
    ('R', "令和", (2019, 5, 1)),
];

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct BirthDate(NaiveDate);

impl BirthDate {
    /// Reads `YYYY-MM-DD` (also `/`, `.`, `年月日` or 8 digits) or an era date. Dates before
    /// Meiji are refused; whether a date is in the future is the caller's check (it has a clock).
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = fold_width(s.trim()).to_ascii_uppercase();
        if let Some((era, rest)) = split_era(&s) {
            return era_date(era, rest);
        }
        let nums = numbers(&s).ok_or(INVALID)?;
        let (y, m, d) = match nums.as_slice() {
            [ymd] if ymd.len() == 8 => (&ymd[..4], &ymd[4..6], &ymd[6..]),
            [y, m, d] if y.len() == 4 => (y.as_str(), m.as_str(), d.as_str()),
            _ => return Err(INVALID),
        };
        let date = ymd(y, m, d)?;
        if date < era_start(0) {
            return Err(INVALID);
        }
        Ok(BirthDate(date))
    }

    pub fn date(&self) -> NaiveDate {
        self.0
    }

    /// `1975-04-01`.
    pub fn iso(&self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }

    /// `昭和50年4月1日` (元年 for an era's first year).
    pub fn wareki(&self) -> String {
        let i = (0..ERAS.len())
            .rev()
            .find(|i| self.0 >= era_start(*i))
            .unwrap_or(0);
        let (_, name, (y1, _, _)) = ERAS[i];
        let n = self.0.year() - y1 + 1;
        let year = if n == 1 {
            "元".to_string()
        } else {
            n.to_string()
        };
        format!("{name}{year}年{}月{}日", self.0.month(), self.0.day())
    }
}

fn era_start(i: usize) -> NaiveDate {
    let (_, _, (y, m, d)) = ERAS[i];
    NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN)
}

/// The era index and what follows its letter or name (`S50.4.1` → (2, "50.4.1")).
fn split_era(s: &str) -> Option<(usize, &str)> {
    ERAS.iter().enumerate().find_map(|(i, (letter, name, _))| {
        let short = name.chars().next()?;
        s.strip_prefix(*name)
            .or_else(|| s.strip_prefix(*letter))
            .or_else(|| s.strip_prefix(short))
            .map(|rest| (i, rest))
    })
}

fn era_date(era: usize, rest: &str) -> Result<BirthDate, Invalid> {
    let rest = rest.trim_start().replacen('元', "1", 1);
    let nums = numbers(&rest).ok_or(INVALID)?;
    let [n, m, d] = nums.as_slice() else {
        return Err(INVALID);
    };
    let n: i32 = n.parse().map_err(|_| INVALID)?;
    if !(1..=99).contains(&n) {
        return Err(INVALID);
    }
    let (_, _, (y1, _, _)) = ERAS[era];
    let date = ymd(&(y1 + n - 1).to_string(), m, d)?;
    let before_next = era + 1 >= ERAS.len() || date < era_start(era + 1);
    if date < era_start(era) || !before_next {
        return Err(INVALID);
    }
    Ok(BirthDate(date))
}

fn ymd(y: &str, m: &str, d: &str) -> Result<NaiveDate, Invalid> {
    let y: i32 = y.parse().map_err(|_| INVALID)?;
    let m: u32 = m.parse().map_err(|_| INVALID)?;
    let d: u32 = d.parse().map_err(|_| INVALID)?;
    NaiveDate::from_ymd_opt(y, m, d).ok_or(INVALID)
}

/// The digit runs of `s` when everything between them is a date separator; `None` otherwise.
fn numbers(s: &str) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut cur = String::new();
    for c in s.chars() {
        if c.is_ascii_digit() {
            cur.push(c);
            continue;
        }
        if !matches!(c, '-' | '/' | '.' | ' ' | '年' | '月' | '日') {
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

    fn iso(s: &str) -> Option<String> {
        BirthDate::parse(s).ok().map(|d| d.iso())
    }

    #[test]
    fn iso_and_common_gregorian_spellings_are_read() {
        for s in [
            "1975-04-01",
            "1975/4/1",
            "1975.04.01",
            "1975年4月1日",
            "19750401",
            "１９７５－０４－０１",
        ] {
            assert_eq!(iso(s).as_deref(), Some("1975-04-01"), "{s}");
        }
    }

    #[test]
    fn era_dates_are_read_as_japanese_forms_write_them() {
        assert_eq!(iso("S50.4.1").as_deref(), Some("1975-04-01"));
        assert_eq!(iso("昭和50年4月1日").as_deref(), Some("1975-04-01"));
        assert_eq!(iso("H2.1.8").as_deref(), Some("1990-01-08"));
        assert_eq!(iso("R1.5.1").as_deref(), Some("2019-05-01"));
        assert_eq!(iso("令和元年5月1日").as_deref(), Some("2019-05-01"));
        assert_eq!(iso("ｓ５０．４．１").as_deref(), Some("1975-04-01"));
        assert_eq!(iso("平成 2年 1月 8日").as_deref(), Some("1990-01-08"));
        assert_eq!(iso("昭50/4/1").as_deref(), Some("1975-04-01"));
    }

    #[test]
    fn a_date_outside_its_era_is_refused() {
        // Shōwa ended on 7 January 1989 and Heisei began the next day.
        assert!(iso("S64.1.7").is_some());
        assert!(iso("S64.1.8").is_none());
        assert!(iso("H1.1.7").is_none());
        assert!(iso("R1.4.30").is_none());
    }

    #[test]
    fn impossible_or_malformed_dates_are_refused() {
        for s in [
            "",
            "1975-02-30",
            "1975-13-01",
            "75-4-1",
            "S50.4",
            "X50.4.1",
            "1850-01-01",
            "2025-01-01T00:00",
            "昭和五十年",
        ] {
            assert_eq!(
                BirthDate::parse(s),
                Err(Invalid(Code::InvalidBirthDate)),
                "{s}"
            );
        }
    }

    #[test]
    fn a_date_is_shown_in_the_era_calendar() {
        let show = |s: &str| BirthDate::parse(s).map(|d| d.wareki()).unwrap_or_default();
        assert_eq!(show("1975-04-01"), "昭和50年4月1日");
        assert_eq!(show("2019-05-01"), "令和元年5月1日");
        assert_eq!(show("1989-01-07"), "昭和64年1月7日");
    }
}
