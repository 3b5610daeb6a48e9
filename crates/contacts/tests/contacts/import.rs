use tsunagu_contacts::import::{self, ApplyError, Author};
use tsunagu_contacts::patients::{self, ListQuery};
use tsunagu_contacts::PatientInput;
use tsunagu_privacy::Actor;

use super::support::{env, named, today, T0};

const BAD: &str = "氏名,フリガナ,生年月日,電話番号,診察券番号,タグ\n\
    山田 太郎,やまだ たろう,S50.4.1,090-1234-5678,001,糖尿病\n\
    佐藤 花子,サトウ ハナコ,1990-02-30,03-1234-5678,002,\n\
    鈴木 一郎,スズキ イチロウ,1980-01-01,0120-12,003,\n\
    田中 次郎,タナカ ジロウ,H2.1.8,,001,\n";

fn by(actor: &Actor) -> Author<'_> {
    Author {
        actor,
        source_ip: Some("203.0.113.5"),
    }
}

#[tokio::test]
async fn a_dry_run_reports_every_bad_row_and_writes_nothing() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let mut conn = e.db.pool().acquire().await.unwrap();
    let plan = import::plan(&mut conn, &clinic, BAD.as_bytes(), today())
        .await
        .unwrap();
    drop(conn);
    let errors: Vec<(u64, &str, &str)> = plan
        .rows
        .iter()
        .flat_map(|r| {
            r.errors
                .iter()
                .map(move |x| (r.line, x.column.as_str(), x.code.as_str()))
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "生年月日", "invalid_birth_date"),
            (4, "電話番号", "invalid_phone_number"),
            (5, "診察券番号", "duplicate_card_number_in_file"),
        ]
    );
    assert_eq!(
        (plan.summary.rows, plan.summary.create, plan.summary.error),
        (4, 1, 3)
    );
    assert_eq!(e.count("SELECT COUNT(*) FROM patients").await, 0);
    assert_eq!(e.count("SELECT COUNT(*) FROM patient_tags").await, 0);
}

#[tokio::test]
async fn apply_refuses_while_any_row_is_refused() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let actor = Actor::System;
    let err = import::apply(
        &e.db,
        &clinic,
        BAD.as_bytes(),
        None,
        by(&actor),
        today(),
        T0,
    )
    .await
    .unwrap_err();
    let ApplyError::Invalid(plan) = err else {
        panic!("{err:?}")
    };
    assert_eq!(plan.summary.error, 3);
    assert_eq!(e.count("SELECT COUNT(*) FROM patients").await, 0);
    assert_eq!(
        e.count("SELECT COUNT(*) FROM audit_events WHERE action = 'patient.import'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_clean_shift_jis_file_creates_and_updates_by_card_number_in_one_go() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let known = e
        .create(
            &clinic,
            PatientInput {
                card_number: Some("002".into()),
                tags: Some(vec!["既存".into()]),
                ..named("佐藤 花子")
            },
        )
        .await;
    let text = "氏名,ﾌﾘｶﾞﾅ,性別,電話番号,診察券番号,タグ\r\n山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,男,０９０１２３４５６７８,001,糖尿病;定期\r\n,,女,03-1234-5678,002,定期\r\n";
    let (sjis, _, unmappable) = encoding_rs::SHIFT_JIS.encode(text);
    assert!(!unmappable);
    let mut conn = e.db.pool().acquire().await.unwrap();
    let plan = import::plan(&mut conn, &clinic, &sjis, today())
        .await
        .unwrap();
    drop(conn);
    assert!(plan.is_valid(), "{:?}", plan.rows);
    assert_eq!(plan.encoding, Some("Shift_JIS"));
    let actions: Vec<&str> = plan.rows.iter().map(|r| r.action).collect();
    assert_eq!(actions, ["create", "update"]);

    let actor = Actor::Staff("s-1".into());
    let done = import::apply(
        &e.db,
        &clinic,
        &sjis,
        Some(&plan.token),
        by(&actor),
        today(),
        T0,
    )
    .await
    .unwrap();
    assert_eq!(
        (
            done.created.len(),
            done.updated,
            e.count("SELECT COUNT(*) FROM patients").await
        ),
        (1, vec![known.to_string()], 2)
    );
    let mut conn = e.db.pool().acquire().await.unwrap();
    let sato = patients::get(&mut conn, &clinic, &known)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            sato.patient.display_name.as_str(),
            sato.patient.sex.as_str()
        ),
        ("佐藤 花子", "female")
    );
    assert_eq!(sato.patient.phone.as_deref(), Some("+81312345678"));
    assert_eq!(
        sato.tags,
        ["定期", "既存"],
        "imported tags are added, not replacing"
    );
    let found = patients::list(
        &mut conn,
        &clinic,
        &ListQuery {
            q: Some("やまだ".into()),
            limit: 10,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(found[0].phone.as_deref(), Some("+819012345678"));
    assert_eq!(
        e.count("SELECT COUNT(*) FROM audit_events WHERE action = 'patient.import'")
            .await,
        1
    );
}

#[tokio::test]
async fn apply_with_a_stale_token_changes_nothing() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let csv = "name,card_number\n山田,001\n";
    let mut conn = e.db.pool().acquire().await.unwrap();
    let plan = import::plan(&mut conn, &clinic, csv.as_bytes(), today())
        .await
        .unwrap();
    drop(conn);
    // Someone registers card 001 after the dry run: the row would now update, not create.
    e.create(
        &clinic,
        PatientInput {
            card_number: Some("001".into()),
            ..named("先客")
        },
    )
    .await;
    let actor = Actor::System;
    let err = import::apply(
        &e.db,
        &clinic,
        csv.as_bytes(),
        Some(&plan.token),
        by(&actor),
        today(),
        T0,
    )
    .await
    .unwrap_err();
    assert!(matches!(err, ApplyError::Changed(_)), "{err:?}");
    assert_eq!(e.count("SELECT COUNT(*) FROM patients").await, 1);
}
