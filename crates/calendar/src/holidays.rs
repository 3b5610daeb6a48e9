//! Japan's national holidays, computed from the rules of 国民の祝日に関する法律 (the Act on
//! National Holidays) as amended, so no list needs updating each year.
//!
//! Exact for 1980–2099. The equinox days (春分の日, 秋分の日) are fixed by the Cabinet each
//! February for the next year from the National Astronomical Observatory's ephemeris; the
//! standard approximation used here agrees with every announcement in that span.
use chrono::{Datelike, Days, NaiveDate, Weekday};

/// `(date, Japanese name, English name)`.
pub type Holiday = (NaiveDate, &'static str, &'static str);

/// 振替休日 (Article 3-2): a national holiday on a Sunday moves to the next non-holiday.
pub const SUBSTITUTE: (&str, &str) = ("振替休日", "Substitute Holiday");
/// 国民の休日 (Article 3-3): a day between two national holidays.
pub const CITIZENS: (&str, &str) = ("国民の休日", "Citizens' Holiday");

/// Every holiday of `year`, in date order: the national holidays proper, substitute holidays
/// and sandwiched days.
pub fn japan(year: i32) -> Vec<Holiday> {
    let statutory = statutory(year);
    let is_statutory = |d: NaiveDate| statutory.iter().any(|h| h.0 == d);
    let next = |d: NaiveDate| d.checked_add_days(Days::new(1));
    let mut extra: Vec<Holiday> = Vec::new();

    for h in statutory.iter().filter(|h| h.0.weekday() == Weekday::Sun) {
        let mut day = next(h.0);
        // Until 2006 only the Monday could take it; since 2007 it moves past further holidays.
        while year >= 2007 && day.is_some_and(is_statutory) {
            day = day.and_then(next);
        }
        if let Some(d) = day.filter(|d| !is_statutory(*d) && d.year() == year) {
            extra.push((d, SUBSTITUTE.0, SUBSTITUTE.1));
        }
    }

    // The sandwich rule dates from the 1985 amendment; until 2006 it skipped Sundays.
    if year >= 1986 {
        for h in &statutory {
            let Some(d) = next(h.0) else { continue };
            let sandwiched = next(d).is_some_and(is_statutory) && !is_statutory(d);
            let free =
                !extra.iter().any(|e| e.0 == d) && (year >= 2007 || d.weekday() != Weekday::Sun);
            if sandwiched && free && d.year() == year {
                extra.push((d, CITIZENS.0, CITIZENS.1));
            }
        }
    }

    let mut all = statutory;
    all.extend(extra);
    all.sort_by_key(|h| h.0);
    all
}

/// The holiday on `date`, if any.
pub fn on(date: NaiveDate) -> Option<Holiday> {
    japan(date.year()).into_iter().find(|h| h.0 == date)
}

/// The 国民の祝日 proper (Article 2 and the special laws), without substitutes.
fn statutory(y: i32) -> Vec<Holiday> {
    let mut v: Vec<Holiday> = Vec::new();
    let mut add = |date: Option<NaiveDate>, ja: &'static str, en: &'static str| {
        if let Some(d) = date {
            v.push((d, ja, en));
        }
    };
    let ymd = |m: u32, d: u32| NaiveDate::from_ymd_opt(y, m, d);
    let monday = |m: u32, n: u8| NaiveDate::from_weekday_of_month_opt(y, m, Weekday::Mon, n);

    add(ymd(1, 1), "元日", "New Year's Day");
    // Happy Monday system (2000 for January and October, 2003 for July and September).
    let coming_of_age = if y >= 2000 { monday(1, 2) } else { ymd(1, 15) };
    add(coming_of_age, "成人の日", "Coming of Age Day");
    add(ymd(2, 11), "建国記念の日", "National Foundation Day");
    if y >= 2020 {
        add(ymd(2, 23), "天皇誕生日", "Emperor's Birthday");
    }
    add(ymd(3, spring_equinox(y)), "春分の日", "Vernal Equinox Day");
    match y {
        ..=1988 => add(ymd(4, 29), "天皇誕生日", "Emperor's Birthday"),
        1989..=2006 => add(ymd(4, 29), "みどりの日", "Greenery Day"),
        _ => add(ymd(4, 29), "昭和の日", "Shōwa Day"),
    }
    add(ymd(5, 3), "憲法記念日", "Constitution Memorial Day");
    if y >= 2007 {
        add(ymd(5, 4), "みどりの日", "Greenery Day");
    }
    add(ymd(5, 5), "こどもの日", "Children's Day");
    // The Tokyo Olympics moved three holidays in 2020 and again in 2021.
    let marine = match y {
        2020 => ymd(7, 23),
        2021 => ymd(7, 22),
        2003.. => monday(7, 3),
        1996..=2002 => ymd(7, 20),
        _ => None,
    };
    add(marine, "海の日", "Marine Day");
    let mountain = match y {
        2020 => ymd(8, 10),
        2021 => ymd(8, 8),
        2016.. => ymd(8, 11),
        _ => None,
    };
    add(mountain, "山の日", "Mountain Day");
    let aged = if y >= 2003 { monday(9, 3) } else { ymd(9, 15) };
    add(aged, "敬老の日", "Respect for the Aged Day");
    add(
        ymd(9, autumn_equinox(y)),
        "秋分の日",
        "Autumnal Equinox Day",
    );
    match y {
        2020 => add(ymd(7, 24), "スポーツの日", "Sports Day"),
        2021 => add(ymd(7, 23), "スポーツの日", "Sports Day"),
        2022.. => add(monday(10, 2), "スポーツの日", "Sports Day"),
        2000..=2019 => add(monday(10, 2), "体育の日", "Health and Sports Day"),
        _ => add(ymd(10, 10), "体育の日", "Health and Sports Day"),
    }
    add(ymd(11, 3), "文化の日", "Culture Day");
    add(ymd(11, 23), "勤労感謝の日", "Labour Thanksgiving Day");
    if (1989..=2018).contains(&y) {
        add(ymd(12, 23), "天皇誕生日", "Emperor's Birthday");
    }
    // One-off days set by their own laws.
    match y {
        1989 => add(
            ymd(2, 24),
            "昭和天皇の大喪の礼",
            "State Funeral of Emperor Shōwa",
        ),
        1990 => add(ymd(11, 12), "即位礼正殿の儀", "Enthronement Ceremony Day"),
        1993 => add(
            ymd(6, 9),
            "皇太子徳仁親王の結婚の儀",
            "Crown Prince's Wedding",
        ),
        2019 => {
            add(ymd(5, 1), "即位の日", "Enthronement Day");
            add(ymd(10, 22), "即位礼正殿の儀", "Enthronement Ceremony Day");
        }
        _ => {}
    }
    v.sort_by_key(|h| h.0);
    v
}

/// The standard approximation: floor(C + 0.242194 (Y − 1980) − floor((Y − L) / 4)), in
/// millionths so no floating point decides a day.
fn equinox_day(y: i32, c_1900: i64, c_1980: i64, c_2100: i64) -> u32 {
    let (c, leap_base) = match y {
        ..=1979 => (c_1900, 1983),
        1980..=2099 => (c_1980, 1980),
        _ => (c_2100, 1980),
    };
    let y = i64::from(y);
    let micro = c + 242_194 * (y - 1980) - (y - leap_base).div_euclid(4) * 1_000_000;
    u32::try_from(micro.div_euclid(1_000_000)).unwrap_or(20)
}

fn spring_equinox(y: i32) -> u32 {
    equinox_day(y, 20_835_700, 20_843_100, 21_851_000)
}

fn autumn_equinox(y: i32) -> u32 {
    equinox_day(y, 23_258_800, 23_248_800, 24_248_800)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_equinox_formula_matches_known_years() {
        assert_eq!(spring_equinox(2024), 20);
        assert_eq!(spring_equinox(2027), 21);
        assert_eq!(autumn_equinox(2024), 22);
        assert_eq!(autumn_equinox(2012), 22);
        assert_eq!(spring_equinox(1980), 20);
        assert_eq!(autumn_equinox(1980), 23);
    }
}
