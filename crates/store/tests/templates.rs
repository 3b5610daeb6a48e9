//! WhatsApp message templates on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_store::templates::{self, Invalid, NewTemplate, StatusUpdate};
use tsunagu_store::{channels, clinics};
use tsunagu_testkit::test_db;

async fn clinic_with_whatsapp(db: &tsunagu_store::Db, slug: &str) -> (ClinicId, ChannelId) {
    let mut tx = db.begin().await.unwrap();
    let org = clinics::create_organization(tx.conn(), "医療法人テスト会", 1)
        .await
        .unwrap();
    let clinic = clinics::create_clinic(
        tx.conn(),
        clinics::NewClinic {
            organization_id: &org,
            slug,
            name: "さくら内科",
            timezone: "Asia/Tokyo",
            locale: "ja",
        },
        1,
    )
    .await
    .unwrap();
    let ch = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: &clinic,
            kind: "whatsapp",
            name: "WhatsApp",
            credentials_enc: "x",
            api_base_url: "http://127.0.0.1:1",
            api_data_base_url: None,
            settings: "{}",
        },
        1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (clinic, ch)
}

fn reminder<'a>(clinic: &'a ClinicId, ch: &'a ChannelId) -> NewTemplate<'a> {
    NewTemplate {
        clinic_id: clinic,
        channel_id: ch,
        name: "appointment_reminder",
        language: "ja",
        category: "UTILITY",
        body: "{{1}}様、{{2}}にご予約があります。",
    }
}

#[tokio::test]
async fn a_template_is_stored_as_a_draft_with_its_variable_count_and_listed_by_channel() {
    let t = test_db().await;
    let (clinic, ch) = clinic_with_whatsapp(&t.db, "sakura").await;
    let mut c = t.db.pool().acquire().await.unwrap();
    let made = templates::create(&mut c, reminder(&clinic, &ch), 5)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((made.status.as_str(), made.variables), ("draft", 2));
    let en = NewTemplate {
        language: "en_US",
        body: "Dear {{1}}, see you on {{2}}.",
        ..reminder(&clinic, &ch)
    };
    templates::create(&mut c, en, 6).await.unwrap().unwrap();
    let list = templates::list_by_channel(&mut c, &clinic, &ch)
        .await
        .unwrap();
    let langs: Vec<&str> = list.iter().map(|t| t.language.as_str()).collect();
    assert_eq!(langs, ["en_US", "ja"]);
}

#[tokio::test]
async fn a_second_template_with_the_same_name_and_language_is_refused() {
    let t = test_db().await;
    let (clinic, ch) = clinic_with_whatsapp(&t.db, "sakura").await;
    // Inside a transaction, so PostgreSQL shows the conflict does not abort it.
    let mut tx = t.db.begin().await.unwrap();
    templates::create(tx.conn(), reminder(&clinic, &ch), 5)
        .await
        .unwrap()
        .unwrap();
    let again = templates::create(tx.conn(), reminder(&clinic, &ch), 6)
        .await
        .unwrap();
    assert_eq!(again.err(), Some(Invalid::Exists));
    assert_eq!(
        templates::list_by_channel(tx.conn(), &clinic, &ch)
            .await
            .unwrap()
            .len(),
        1
    );
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn bad_names_languages_categories_and_placeholders_are_refused_with_their_codes() {
    let t = test_db().await;
    let (clinic, ch) = clinic_with_whatsapp(&t.db, "sakura").await;
    let mut c = t.db.pool().acquire().await.unwrap();
    let cases = [
        (
            NewTemplate {
                name: "Reminder",
                ..reminder(&clinic, &ch)
            },
            "invalid_template_name",
        ),
        (
            NewTemplate {
                language: "ja-JP",
                ..reminder(&clinic, &ch)
            },
            "invalid_template_language",
        ),
        (
            NewTemplate {
                category: "utility",
                ..reminder(&clinic, &ch)
            },
            "invalid_template_category",
        ),
        (
            NewTemplate {
                body: "{{1}}様 {{3}}",
                ..reminder(&clinic, &ch)
            },
            "invalid_template_placeholders",
        ),
        (
            NewTemplate {
                body: "  ",
                ..reminder(&clinic, &ch)
            },
            "invalid_template_body",
        ),
    ];
    for (new, code) in cases {
        let got = templates::create(&mut c, new, 5).await.unwrap();
        assert_eq!(got.err().map(|e| e.code()), Some(code));
    }
    assert!(templates::list_by_channel(&mut c, &clinic, &ch)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn status_changes_are_recorded_and_scoped_to_the_clinic() {
    let t = test_db().await;
    let (clinic, ch) = clinic_with_whatsapp(&t.db, "sakura").await;
    let (other, _) = clinic_with_whatsapp(&t.db, "momiji").await;
    let mut c = t.db.pool().acquire().await.unwrap();
    let made = templates::create(&mut c, reminder(&clinic, &ch), 5)
        .await
        .unwrap()
        .unwrap();
    let pending = StatusUpdate {
        status: "pending",
        provider_template_id: Some("594425479261596"),
        reason: None,
    };
    let row = templates::set_status(&mut c, &clinic, &made.id, pending, 6)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(row.provider_template_id.as_deref(), Some("594425479261596"));
    let rejected = StatusUpdate {
        status: "rejected",
        provider_template_id: None,
        reason: Some("INVALID_FORMAT"),
    };
    let row = templates::set_status(&mut c, &clinic, &made.id, rejected, 7)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(
        (
            row.status.as_str(),
            row.status_reason.as_deref(),
            row.provider_template_id.as_deref(),
            row.updated_at
        ),
        (
            "rejected",
            Some("INVALID_FORMAT"),
            Some("594425479261596"),
            7
        )
    );
    let bogus = StatusUpdate {
        status: "live",
        provider_template_id: None,
        reason: None,
    };
    let got = templates::set_status(&mut c, &clinic, &made.id, bogus, 8)
        .await
        .unwrap();
    assert_eq!(got.err(), Some(Invalid::Status));

    // Another clinic sees nothing and changes nothing.
    assert!(templates::by_id(&mut c, &other, &made.id)
        .await
        .unwrap()
        .is_none());
    let approved = || StatusUpdate {
        status: "approved",
        provider_template_id: None,
        reason: None,
    };
    let foreign = templates::set_status(&mut c, &other, &made.id, approved(), 9)
        .await
        .unwrap()
        .unwrap();
    assert!(foreign.is_none());
    assert!(!templates::delete(&mut c, &other, &made.id).await.unwrap());
    assert!(templates::delete(&mut c, &clinic, &made.id).await.unwrap());
    assert!(templates::by_id(&mut c, &clinic, &made.id)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn only_an_approved_template_with_one_value_per_variable_may_be_sent() {
    let t = test_db().await;
    let (clinic, ch) = clinic_with_whatsapp(&t.db, "sakura").await;
    let mut c = t.db.pool().acquire().await.unwrap();
    let made = templates::create(&mut c, reminder(&clinic, &ch), 5)
        .await
        .unwrap()
        .unwrap();
    let params = vec!["山田".to_string(), "3月1日 10時".to_string()];
    assert_eq!(
        templates::check_send(&made, &params),
        Err(Invalid::NotApproved)
    );
    let approved = StatusUpdate {
        status: "approved",
        provider_template_id: None,
        reason: None,
    };
    let made = templates::set_status(&mut c, &clinic, &made.id, approved, 6)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert_eq!(templates::check_send(&made, &params), Ok(()));
    assert_eq!(
        templates::check_send(&made, &params[..1]),
        Err(Invalid::ParamCount {
            expected: 2,
            given: 1
        })
    );
    let multiline = vec!["山田".to_string(), "3月1日\n10時".to_string()];
    assert_eq!(
        templates::check_send(&made, &multiline),
        Err(Invalid::Param)
    );
    assert_eq!(
        templates::render(&made.body, &params),
        "山田様、3月1日 10時にご予約があります。"
    );
}
