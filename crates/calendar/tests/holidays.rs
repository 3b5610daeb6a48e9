//! The computed holidays against the Cabinet Office's published lists (内閣府「国民の祝日」),
//! typed in by hand. The Cabinet Office writes both 振替休日 and 国民の休日 as 「休日」; here they
//! carry their own names.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use tsunagu_calendar::holidays::{self, japan};

fn names(year: i32) -> Vec<(String, &'static str)> {
    japan(year)
        .into_iter()
        .map(|(d, ja, _)| (d.format("%m-%d").to_string(), ja))
        .collect()
}

fn check(year: i32, expected: &[(&str, &str)]) {
    let got = names(year);
    let want: Vec<(String, &str)> = expected.iter().map(|(d, n)| (d.to_string(), *n)).collect();
    assert_eq!(got, want, "{year}");
}

#[test]
fn the_2024_list_matches_the_cabinet_office() {
    check(
        2024,
        &[
            ("01-01", "元日"),
            ("01-08", "成人の日"),
            ("02-11", "建国記念の日"),
            ("02-12", "振替休日"),
            ("02-23", "天皇誕生日"),
            ("03-20", "春分の日"),
            ("04-29", "昭和の日"),
            ("05-03", "憲法記念日"),
            ("05-04", "みどりの日"),
            ("05-05", "こどもの日"),
            ("05-06", "振替休日"),
            ("07-15", "海の日"),
            ("08-11", "山の日"),
            ("08-12", "振替休日"),
            ("09-16", "敬老の日"),
            ("09-22", "秋分の日"),
            ("09-23", "振替休日"),
            ("10-14", "スポーツの日"),
            ("11-03", "文化の日"),
            ("11-04", "振替休日"),
            ("11-23", "勤労感謝の日"),
        ],
    );
}

#[test]
fn the_2025_list_matches_the_cabinet_office() {
    check(
        2025,
        &[
            ("01-01", "元日"),
            ("01-13", "成人の日"),
            ("02-11", "建国記念の日"),
            ("02-23", "天皇誕生日"),
            ("02-24", "振替休日"),
            ("03-20", "春分の日"),
            ("04-29", "昭和の日"),
            ("05-03", "憲法記念日"),
            ("05-04", "みどりの日"),
            ("05-05", "こどもの日"),
            // みどりの日 fell on a Sunday: its substitute skips こどもの日.
            ("05-06", "振替休日"),
            ("07-21", "海の日"),
            ("08-11", "山の日"),
            ("09-15", "敬老の日"),
            ("09-23", "秋分の日"),
            ("10-13", "スポーツの日"),
            ("11-03", "文化の日"),
            ("11-23", "勤労感謝の日"),
            ("11-24", "振替休日"),
        ],
    );
}

#[test]
fn the_2026_list_matches_the_cabinet_office() {
    check(
        2026,
        &[
            ("01-01", "元日"),
            ("01-12", "成人の日"),
            ("02-11", "建国記念の日"),
            ("02-23", "天皇誕生日"),
            ("03-20", "春分の日"),
            ("04-29", "昭和の日"),
            ("05-03", "憲法記念日"),
            ("05-04", "みどりの日"),
            ("05-05", "こどもの日"),
            ("05-06", "振替休日"),
            ("07-20", "海の日"),
            ("08-11", "山の日"),
            ("09-21", "敬老の日"),
            ("09-22", "国民の休日"),
            ("09-23", "秋分の日"),
            ("10-12", "スポーツの日"),
            ("11-03", "文化の日"),
            ("11-23", "勤労感謝の日"),
        ],
    );
}

#[test]
fn the_2027_list_matches_the_cabinet_office() {
    check(
        2027,
        &[
            ("01-01", "元日"),
            ("01-11", "成人の日"),
            ("02-11", "建国記念の日"),
            ("02-23", "天皇誕生日"),
            ("03-21", "春分の日"),
            ("03-22", "振替休日"),
            ("04-29", "昭和の日"),
            ("05-03", "憲法記念日"),
            ("05-04", "みどりの日"),
            ("05-05", "こどもの日"),
            ("07-19", "海の日"),
            ("08-11", "山の日"),
            ("09-20", "敬老の日"),
            ("09-23", "秋分の日"),
            ("10-11", "スポーツの日"),
            ("11-03", "文化の日"),
            ("11-23", "勤労感謝の日"),
        ],
    );
}

#[test]
fn the_enthronement_year_2019_has_its_special_days_and_the_ten_day_golden_week() {
    check(
        2019,
        &[
            ("01-01", "元日"),
            ("01-14", "成人の日"),
            ("02-11", "建国記念の日"),
            ("03-21", "春分の日"),
            ("04-29", "昭和の日"),
            ("04-30", "国民の休日"),
            ("05-01", "即位の日"),
            ("05-02", "国民の休日"),
            ("05-03", "憲法記念日"),
            ("05-04", "みどりの日"),
            ("05-05", "こどもの日"),
            ("05-06", "振替休日"),
            ("07-15", "海の日"),
            ("08-11", "山の日"),
            ("08-12", "振替休日"),
            ("09-16", "敬老の日"),
            ("09-23", "秋分の日"),
            ("10-14", "体育の日"),
            ("10-22", "即位礼正殿の儀"),
            ("11-03", "文化の日"),
            ("11-04", "振替休日"),
            ("11-23", "勤労感謝の日"),
        ],
    );
}

#[test]
fn the_olympic_years_move_marine_sports_and_mountain_day() {
    let summer = |y: i32| -> Vec<(String, &str)> {
        names(y)
            .into_iter()
            .filter(|(d, _)| d.starts_with("07") || d.starts_with("08") || d.starts_with("10"))
            .collect()
    };
    let s = |v: &[(&str, &'static str)]| -> Vec<(String, &'static str)> {
        v.iter().map(|(d, n)| (d.to_string(), *n)).collect()
    };
    assert_eq!(
        summer(2020),
        s(&[
            ("07-23", "海の日"),
            ("07-24", "スポーツの日"),
            ("08-10", "山の日")
        ])
    );
    assert_eq!(
        summer(2021),
        s(&[
            ("07-22", "海の日"),
            ("07-23", "スポーツの日"),
            ("08-08", "山の日"),
            ("08-09", "振替休日"),
        ])
    );
    assert_eq!(names(2020).len(), 18);
    assert_eq!(names(2021).len(), 17);
}

#[test]
fn older_rules_apply_to_older_years() {
    let has = |y: i32, md: &str, name: &str| names(y).contains(&(md.to_string(), name));
    // Before 2007 a Sunday holiday moved only to the Monday, and 5/4 was a sandwiched day.
    assert!(has(2006, "05-04", "国民の休日"));
    assert!(has(2003, "07-21", "海の日") && has(1999, "10-10", "体育の日"));
    assert!(has(2015, "09-22", "国民の休日") && has(2009, "09-22", "国民の休日"));
    assert!(has(2018, "12-23", "天皇誕生日") && has(2018, "12-24", "振替休日"));
    assert!(has(1989, "02-24", "昭和天皇の大喪の礼") && has(1988, "04-29", "天皇誕生日"));
    assert!(!names(2019).iter().any(|(_, n)| *n == "天皇誕生日"));
}

#[test]
fn a_lookup_by_date_names_the_day_in_both_languages() {
    let d = chrono::NaiveDate::from_ymd_opt(2027, 1, 11).unwrap();
    assert_eq!(holidays::on(d), Some((d, "成人の日", "Coming of Age Day")));
    assert_eq!(holidays::on(d.succ_opt().unwrap()), None);
}

#[test]
fn every_year_from_1980_to_2099_is_sorted_and_named() {
    for y in 1980..=2099 {
        let list = japan(y);
        assert!((12..=22).contains(&list.len()), "{y}: {}", list.len());
        assert!(
            list.windows(2).all(|w| w[0].0 < w[1].0),
            "{y} sorted, no duplicates"
        );
        assert!(list.iter().all(|h| !h.1.is_empty() && !h.2.is_empty()));
    }
}
