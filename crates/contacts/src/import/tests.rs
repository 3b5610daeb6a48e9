use super::*;

fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 1, 1).unwrap_or_default()
}

fn plan_of(csv: &str, cards: &[(&str, &str)]) -> ImportPlan {
    let cards = cards
        .iter()
        .map(|(c, id)| (c.to_string(), id.to_string()))
        .collect();
    plan_with(csv.as_bytes(), &[], &cards, today())
}

#[test]
fn every_bad_row_is_reported_with_its_line_and_column() {
    let p = plan_of(
        "氏名,フリガナ,生年月日,電話番号,診察券番号\n\
         山田 太郎,やまだ たろう,S50.4.1,090-1234-5678,001\n\
         佐藤 花子,サトウ ハナコ,1990-02-30,090-1234,002\n\
         鈴木 一郎,スズキ,1980-01-01,03-1234-5678,001\n",
        &[],
    );
    assert!(!p.is_valid());
    assert_eq!((p.summary.create, p.summary.error), (1, 2));
    let bad: Vec<(u64, Vec<(&str, &str)>)> = p
        .rows
        .iter()
        .filter(|r| r.action == "error")
        .map(|r| {
            (
                r.line,
                r.errors
                    .iter()
                    .map(|e| (e.column.as_str(), e.code.as_str()))
                    .collect(),
            )
        })
        .collect();
    assert_eq!(
        bad,
        vec![
            (
                3,
                vec![
                    ("生年月日", "invalid_birth_date"),
                    ("電話番号", "invalid_phone_number")
                ]
            ),
            (4, vec![("診察券番号", "duplicate_card_number_in_file")]),
        ]
    );
}

#[test]
fn a_known_card_number_makes_the_row_an_update() {
    let p = plan_of(
        "name,card_number,tags\n山田,00-1,糖尿病;定期\n",
        &[("001", "p-1")],
    );
    assert!(p.is_valid());
    assert_eq!(p.rows[0].action, "update");
    assert_eq!(p.rows[0].patient_id.as_deref(), Some("p-1"));
}

#[test]
fn unknown_or_missing_columns_refuse_the_whole_file() {
    let p = plan_of("電話番号,好きな色\n090-1234-5678,青\n", &[]);
    let codes: Vec<&str> = p.file_errors.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(codes, ["unknown_column", "missing_column"]);
    assert!(!p.is_valid());
}

#[test]
fn the_token_changes_when_the_file_or_the_records_change() {
    let a = plan_of("name,card_number\n山田,001\n", &[]);
    let b = plan_of("name,card_number\n山田,001\n", &[("001", "p-1")]);
    let c = plan_of("name,card_number\n山田,002\n", &[]);
    assert_eq!(a.token, plan_of("name,card_number\n山田,001\n", &[]).token);
    assert_ne!(a.token, b.token);
    assert_ne!(a.token, c.token);
}

#[test]
fn a_file_in_no_readable_encoding_is_refused() {
    let p = plan_with(b"\xFF\xFF\xFF", &[], &HashMap::new(), today());
    assert_eq!(p.file_errors[0].code, "unreadable_encoding");
}
