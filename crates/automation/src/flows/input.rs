//! Reading a patient's answer: a choice by its number, its label (width, kana and case folded,
//! as `core::text::match_form` compares) or a button's postback (the label comes back); a date
//! typed the Japanese way; a number with full-width digits and a unit after it.
use chrono::{Datelike, Duration, NaiveDate};
use tsunagu_core::text::{fold_width, match_form};

use super::definition::Opt;

/// The chosen option's index.
pub fn choice(options: &[Opt], answer: &str) -> Option<usize> {
    let typed = match_form(answer);
    if typed.is_empty() {
        return None;
    }
    if let Some(i) = options.iter().position(|o| match_form(&o.label) == typed) {
        return Some(i);
    }
    // 「1」「１」「1.」「①」「1番」
    let n = circled(&typed).or_else(|| {
        let digits = typed.trim_end_matches(['番', '.', ')']);
        digits.parse::<usize>().ok()
    })?;
    (1..=options.len()).contains(&n).then(|| n - 1)
}

fn circled(s: &str) -> Option<usize> {
    let mut it = s.chars();
    let c = it.next()?;
    if it.next().is_some() {
        return None;
    }
    let n = c as u32;
    (0x2460..=0x2473)
        .contains(&n)
        .then(|| (n - 0x2460 + 1) as usize)
}

/// A date the patient typed, in the clinic's calendar (`today` is the clinic's date): 12/8,
/// 12月8日, 2026-12-08, 2026/12/8, 2026年12月8日, 今日, 明日, 明後日, 昨日. A month and day
/// without a year is the one nearest to today.
pub fn date(answer: &str, today: NaiveDate) -> Option<NaiveDate> {
    let s: String = fold_width(answer)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let s = s
        .trim_end_matches("ごろ")
        .trim_end_matches(['。', '.', '頃']);
    let relative = match s {
        "今日" | "きょう" | "本日" => Some(0),
        "明日" | "あした" | "あす" => Some(1),
        "明後日" | "あさって" => Some(2),
        "昨日" | "きのう" => Some(-1),
        "一昨日" | "おととい" => Some(-2),
        _ => None,
    };
    if let Some(d) = relative {
        return Some(today + Duration::days(d));
    }
    let s = s
        .trim_end_matches('日')
        .replace(['年', '月', '-', '.'], "/");
    let parts: Vec<&str> = s.split('/').collect();
    let num = |p: &str| p.parse::<u32>().ok();
    match parts.as_slice() {
        [y, m, d] if y.len() == 4 => NaiveDate::from_ymd_opt(num(y)? as i32, num(m)?, num(d)?),
        [m, d] => nearest(today, num(m)?, num(d)?),
        _ => None,
    }
}

fn nearest(today: NaiveDate, m: u32, d: u32) -> Option<NaiveDate> {
    let y = today.year();
    [y - 1, y, y + 1]
        .into_iter()
        .filter_map(|y| NaiveDate::from_ymd_opt(y, m, d))
        .min_by_key(|c| (*c - today).num_days().abs())
}

/// A number: 38.5, ３８．５, 38.5度, 2,000.
pub fn number(answer: &str) -> Option<f64> {
    let s = fold_width(answer).replace([',', ' '], "");
    let end = s
        .char_indices()
        .find(|(i, c)| !(c.is_ascii_digit() || *c == '.' || (*i == 0 && *c == '-')))
        .map_or(s.len(), |(i, _)| i);
    let (digits, unit) = s.split_at(end);
    // A short unit may follow (度, ℃, 歳, 回, kg); anything longer is not a number.
    if unit.chars().count() > 3 || unit.chars().any(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse::<f64>().ok().filter(|n| n.is_finite())
}

/// How a number is stored and shown: no trailing `.0`.
pub fn number_text(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(labels: &[&str]) -> Vec<Opt> {
        labels
            .iter()
            .map(|l| Opt {
                label: l.to_string(),
                next: None,
            })
            .collect()
    }

    #[test]
    fn a_choice_is_read_by_number_label_or_postback_in_any_width_or_kana() {
        let o = opts(&["発熱", "せき", "ワクチン"]);
        assert_eq!(choice(&o, "1"), Some(0));
        assert_eq!(choice(&o, "２"), Some(1));
        assert_eq!(choice(&o, "3."), Some(2));
        assert_eq!(choice(&o, "②"), Some(1));
        assert_eq!(choice(&o, "2番"), Some(1));
        assert_eq!(choice(&o, "「発熱」"), Some(0));
        assert_eq!(choice(&o, "セキ"), Some(1));
        assert_eq!(choice(&o, "ﾜｸﾁﾝ"), Some(2));
        assert_eq!(choice(&o, "わくちん。"), Some(2));
        assert_eq!(choice(&o, "4"), None);
        assert_eq!(choice(&o, "0"), None);
        assert_eq!(choice(&o, "頭痛"), None);
        assert_eq!(choice(&o, ""), None);
    }

    #[test]
    fn dates_are_read_the_japanese_way_in_the_clinic_calendar() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 7).unwrap();
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd);
        assert_eq!(date("12/8", today), d(2026, 12, 8));
        assert_eq!(date("１２月８日", today), d(2026, 12, 8));
        assert_eq!(date("12月8日", today), d(2026, 12, 8));
        assert_eq!(date("2026-12-08", today), d(2026, 12, 8));
        assert_eq!(date("2026年12月8日", today), d(2026, 12, 8));
        assert_eq!(date("明日", today), d(2026, 12, 8));
        assert_eq!(date("あさって", today), d(2026, 12, 9));
        assert_eq!(date("昨日", today), d(2026, 12, 6));
        assert_eq!(
            date("1/5", today),
            d(2027, 1, 5),
            "early January is next year"
        );
        assert_eq!(date("11/30", today), d(2026, 11, 30));
        assert_eq!(date("2/30", today), None);
        assert_eq!(date("そのうち", today), None);
        assert_eq!(date("12/8/9/1", today), None);
    }

    #[test]
    fn numbers_accept_full_width_digits_and_a_unit() {
        assert_eq!(number("38.5"), Some(38.5));
        assert_eq!(number("３８．５"), Some(38.5));
        assert_eq!(number("38.5度"), Some(38.5));
        assert_eq!(number("37℃"), Some(37.0));
        assert_eq!(number("2,000"), Some(2000.0));
        assert_eq!(number("たぶん38"), None);
        assert_eq!(number("38度から39度"), None);
        assert_eq!(number(""), None);
        assert_eq!(number_text(38.0), "38");
        assert_eq!(number_text(38.5), "38.5");
    }
}
