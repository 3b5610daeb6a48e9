use std::collections::BTreeMap;

use tsunagu_contacts::fields::{self, NewField};
use tsunagu_contacts::patients::{self, PatientError};
use tsunagu_contacts::PatientInput;

use super::support::{env, named, today, T0};

fn field(key: &str, kind: &str, choices: &[&str], required: bool) -> NewField {
    NewField {
        key: key.into(),
        label_ja: format!("{key}の項目"),
        label_en: None,
        kind: kind.into(),
        choices: choices.iter().map(|c| c.to_string()).collect(),
        required,
        position: None,
    }
}

#[tokio::test]
async fn custom_values_are_checked_per_kind_and_required_fields_enforced() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let mut tx = e.db.begin().await.unwrap();
    for f in [
        field(
            "blood_type",
            "choice",
            &["A型", "B型", "O型", "AB型"],
            false,
        ),
        field("height_cm", "number", &[], false),
        field("first_visit", "date", &[], true),
    ] {
        fields::create(tx.conn(), &clinic, &f, T0)
            .await
            .unwrap()
            .unwrap();
    }
    let dup = fields::create(
        tx.conn(),
        &clinic,
        &field("blood_type", "text", &[], false),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(dup.unwrap_err()[0].code, "duplicate_field_key");

    let values = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect::<BTreeMap<_, _>>()
    };
    let bad = PatientInput {
        fields: values(&[("blood_type", "C型"), ("height_cm", "高い"), ("shoe", "26")]),
        ..named("山田")
    };
    let err = patients::create(tx.conn(), &clinic, &bad, today(), T0)
        .await
        .unwrap_err();
    let PatientError::Invalid(errs) = err else {
        panic!("{err:?}")
    };
    let codes: Vec<(&str, &str)> = errs
        .iter()
        .map(|f| (f.field.as_str(), f.code.as_str()))
        .collect();
    assert_eq!(
        codes,
        [
            ("shoe", "unknown_field"),
            ("blood_type", "invalid_choice"),
            ("height_cm", "invalid_number"),
            ("first_visit", "field_required")
        ]
    );

    let good = PatientInput {
        fields: values(&[
            ("blood_type", "Ａ型"),
            ("height_cm", "170.5"),
            ("first_visit", "R7.4.1"),
        ]),
        ..named("山田")
    };
    let id = patients::create(tx.conn(), &clinic, &good, today(), T0)
        .await
        .unwrap();
    let r = patients::get(tx.conn(), &clinic, &id)
        .await
        .unwrap()
        .unwrap();
    let got: Vec<(String, Option<String>)> = r
        .fields
        .into_iter()
        .map(|v| (v.field.key, v.value))
        .collect();
    assert_eq!(
        got,
        [
            ("blood_type".to_string(), Some("A型".to_string())),
            ("height_cm".to_string(), Some("170.5".to_string())),
            ("first_visit".to_string(), Some("2025-04-01".to_string())),
        ]
    );
    let clear_required = PatientInput {
        fields: values(&[("first_visit", "")]),
        ..Default::default()
    };
    let err = patients::update(tx.conn(), &clinic, &id, &clear_required, today(), T0)
        .await
        .unwrap_err();
    assert!(
        matches!(err, PatientError::Invalid(ref f) if f[0].code == "field_required"),
        "{err:?}"
    );
}
