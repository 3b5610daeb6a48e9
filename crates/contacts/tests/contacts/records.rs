use tsunagu_contacts::patients::{self, ListQuery, PatientError};
use tsunagu_contacts::PatientInput;
use tsunagu_core::PatientId;

use super::support::{env, named, today, T0};

#[tokio::test]
async fn a_record_is_created_with_parsed_fields_and_read_back_with_its_tags() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let input = PatientInput {
        name: Some("山田　太郎".into()),
        kana: Some("やまだ たろう".into()),
        birth_date: Some("S50.4.1".into()),
        sex: Some("男性".into()),
        phone: Some("０９０-1234-5678".into()),
        email: Some("taro@Example.JP".into()),
        card_number: Some("00-123".into()),
        preferred_channel: Some("LINE".into()),
        tags: Some(vec!["糖尿病、定期検診".into()]),
        ..Default::default()
    };
    let id = e.create(&clinic, input).await;
    let mut conn = e.db.pool().acquire().await.unwrap();
    let r = patients::get(&mut conn, &clinic, &id)
        .await
        .unwrap()
        .unwrap();
    let p = &r.patient;
    assert_eq!(p.display_name, "山田 太郎");
    assert_eq!(p.kana.as_deref(), Some("ヤマダ タロウ"));
    assert_eq!(p.birth_date.as_deref(), Some("1975-04-01"));
    assert_eq!(p.sex, "male");
    assert_eq!(p.phone.as_deref(), Some("+819012345678"));
    assert_eq!(p.email.as_deref(), Some("taro@example.jp"));
    assert_eq!(p.card_number.as_deref(), Some("00123"));
    assert_eq!(p.preferred_channel.as_deref(), Some("line"));
    assert_eq!(
        p.provisional, 0,
        "staff-entered records are not provisional"
    );
    assert_eq!(r.tags, ["定期検診", "糖尿病"]);
}

#[tokio::test]
async fn every_bad_field_is_reported_at_once_and_nothing_is_written() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let input = PatientInput {
        name: Some(" ".into()),
        phone: Some("123".into()),
        birth_date: Some("2030-01-01".into()),
        email: Some("nope".into()),
        ..Default::default()
    };
    let mut tx = e.db.begin().await.unwrap();
    let err = patients::create(tx.conn(), &clinic, &input, today(), T0)
        .await
        .unwrap_err();
    drop(tx);
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
            ("name", "name_required"),
            ("birth_date", "invalid_birth_date"),
            ("phone", "invalid_phone_number"),
            ("email", "invalid_email")
        ]
    );
    assert_eq!(e.count("SELECT COUNT(*) FROM patients").await, 0);
}

#[tokio::test]
async fn an_update_changes_only_what_it_names_and_blank_clears() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let id = e
        .create(
            &clinic,
            PatientInput {
                phone: Some("09012345678".into()),
                email: Some("a@b.jp".into()),
                ..named("山田")
            },
        )
        .await;
    let patch = PatientInput {
        email: Some(String::new()),
        kana: Some("ﾔﾏﾀﾞ".into()),
        ..Default::default()
    };
    let mut tx = e.db.begin().await.unwrap();
    patients::update(tx.conn(), &clinic, &id, &patch, today(), T0 + 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut conn = e.db.pool().acquire().await.unwrap();
    let p = patients::get(&mut conn, &clinic, &id)
        .await
        .unwrap()
        .unwrap()
        .patient;
    assert_eq!(
        (p.display_name.as_str(), p.phone.as_deref()),
        ("山田", Some("+819012345678"))
    );
    assert_eq!((p.email, p.kana.as_deref()), (None, Some("ヤマダ")));
    assert_eq!(p.updated_at, T0 + 1);
}

#[tokio::test]
async fn another_clinics_patient_is_not_found_for_reading_or_writing() {
    let e = env().await;
    let (a, _) = e.clinic("a").await;
    let (b, _) = e.clinic("b").await;
    let theirs = e.create(&b, named("他院 患者")).await;
    let mut tx = e.db.begin().await.unwrap();
    assert!(patients::get(tx.conn(), &a, &theirs)
        .await
        .unwrap()
        .is_none());
    let err = patients::update(tx.conn(), &a, &theirs, &named("乗っ取り"), today(), T0)
        .await
        .unwrap_err();
    assert!(matches!(err, PatientError::NotFound), "{err:?}");
    let listed = patients::list(
        tx.conn(),
        &a,
        &ListQuery {
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(listed.is_empty());
}

#[tokio::test]
async fn a_card_number_names_one_patient_per_clinic() {
    let e = env().await;
    let (a, _) = e.clinic("a").await;
    let (b, _) = e.clinic("b").await;
    e.create(
        &a,
        PatientInput {
            card_number: Some("001".into()),
            ..named("一人目")
        },
    )
    .await;
    e.create(
        &b,
        PatientInput {
            card_number: Some("001".into()),
            ..named("他院の同じ番号")
        },
    )
    .await;
    let mut tx = e.db.begin().await.unwrap();
    let err = patients::create(
        tx.conn(),
        &a,
        &PatientInput {
            card_number: Some("００１".into()),
            ..named("二人目")
        },
        today(),
        T0,
    )
    .await
    .unwrap_err();
    let PatientError::Invalid(errs) = err else {
        panic!("{err:?}")
    };
    assert_eq!(
        (errs[0].field.as_str(), errs[0].code.as_str()),
        ("card_number", "duplicate_card_number")
    );
}

#[tokio::test]
async fn search_finds_a_patient_by_kanji_katakana_hiragana_or_half_width() {
    let e = env().await;
    let (clinic, channel) = e.clinic("sakura").await;
    let yamada = e
        .create(
            &clinic,
            PatientInput {
                kana: Some("ヤマダ タロウ".into()),
                ..named("山田 太郎")
            },
        )
        .await;
    e.create(
        &clinic,
        PatientInput {
            kana: Some("サトウ".into()),
            phone: Some("03-1234-5678".into()),
            ..named("佐藤")
        },
    )
    .await;
    let line = e
        .provisional(&clinic, &channel, "U1", "やまだ はなこ")
        .await;
    let mut conn = e.db.pool().acquire().await.unwrap();
    let find = |q: &str| ListQuery {
        q: Some(q.into()),
        limit: 50,
        ..Default::default()
    };
    for q in ["山田", "ヤマダ", "やまだ", "ﾔﾏﾀﾞ", "山田太郎"] {
        let ids: Vec<String> = patients::list(&mut conn, &clinic, &find(q))
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect();
        assert!(ids.contains(&yamada.to_string()), "{q}: {ids:?}");
    }
    let kana: Vec<String> = patients::list(&mut conn, &clinic, &find("ヤマダ"))
        .await
        .unwrap()
        .into_iter()
        .map(|p| p.id)
        .collect();
    assert_eq!(
        kana,
        [line.to_string(), yamada.to_string()],
        "a LINE name in hiragana is found by katakana too"
    );
    let by_phone = patients::list(&mut conn, &clinic, &find("03-1234"))
        .await
        .unwrap();
    assert_eq!(by_phone.len(), 1);
    assert!(
        patients::list(&mut conn, &clinic, &find("%"))
            .await
            .unwrap()
            .is_empty(),
        "LIKE wildcards are literal"
    );
}

#[tokio::test]
async fn the_list_filters_by_tag_and_pages_newest_first() {
    let e = env().await;
    let (clinic, _) = e.clinic("sakura").await;
    let mut ids: Vec<PatientId> = Vec::new();
    for i in 0..5 {
        let tags = (i % 2 == 0).then(|| vec!["定期".to_string()]);
        ids.push(
            e.create(
                &clinic,
                PatientInput {
                    tags,
                    ..named(&format!("患者{i}"))
                },
            )
            .await,
        );
    }
    let mut conn = e.db.pool().acquire().await.unwrap();
    let tagged = patients::list(
        &mut conn,
        &clinic,
        &ListQuery {
            tag: Some("定期".into()),
            limit: 50,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        tagged.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        [&ids[4], &ids[2], &ids[0]].map(|i| i.to_string())
    );
    let page1 = patients::list(
        &mut conn,
        &clinic,
        &ListQuery {
            limit: 2,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    let before = page1.last().map(|p| p.id.clone());
    let page2 = patients::list(
        &mut conn,
        &clinic,
        &ListQuery {
            limit: 2,
            before_id: before,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(
        page2.iter().map(|p| p.id.clone()).collect::<Vec<_>>(),
        [&ids[2], &ids[1]].map(|i| i.to_string())
    );
    assert_eq!(
        patients::clinic_tags(&mut conn, &clinic).await.unwrap(),
        [("定期".to_string(), 3)]
    );
}
