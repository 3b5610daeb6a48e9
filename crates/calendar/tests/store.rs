//! The calendar in the database, on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use chrono::NaiveDate;
use tsunagu_calendar::store::{self, Added};
use tsunagu_calendar::{Interval, WeeklyHours};
use tsunagu_core::ClinicId;
use tsunagu_store::{clinics, Db};
use tsunagu_testkit::test_db;

async fn clinic(db: &Db, slug: &str) -> ClinicId {
    let mut tx = db.begin().await.unwrap();
    let org = clinics::create_organization(tx.conn(), slug, 1)
        .await
        .unwrap();
    let c = clinics::NewClinic {
        organization_id: &org,
        slug,
        name: "さくら内科",
        timezone: "Asia/Tokyo",
        locale: "ja",
    };
    let id = clinics::create_clinic(tx.conn(), c, 1).await.unwrap();
    tx.commit().await.unwrap();
    id
}

fn date(s: &str) -> NaiveDate {
    tsunagu_calendar::parse::parse_date(s).unwrap()
}

#[tokio::test]
async fn a_new_clinic_reads_the_default_hours_without_storing_them() {
    let t = test_db().await;
    let c = clinic(&t.db, "sakura").await;
    let mut conn = t.db.pool().acquire().await.unwrap();
    let cal = store::load(&mut conn, &c).await.unwrap().unwrap();
    assert!(!cal.configured);
    assert_eq!(cal.schedule.weekly, WeeklyHours::japanese_clinic_default());
    assert_eq!(cal.schedule.timezone, chrono_tz::Asia::Tokyo);
    assert!(cal.schedule.national_holidays_closed);
    let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM calendar_hours")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    assert_eq!(rows, 0);
    let missing = ClinicId::from_db(uuid::Uuid::now_v7().to_string());
    assert!(store::load(&mut conn, &missing).await.unwrap().is_none());
}

#[tokio::test]
async fn saved_hours_closures_and_holiday_settings_read_back() {
    let t = test_db().await;
    let c = clinic(&t.db, "sakura").await;
    let other = clinic(&t.db, "momiji").await;
    let evening = vec![
        Interval::parse("09:00", "12:00").unwrap(),
        Interval::parse("16:00", "24:00").unwrap(),
    ];
    let hours =
        WeeklyHours::new([evening, vec![], vec![], vec![], vec![], vec![], vec![]]).unwrap();

    let mut tx = t.db.begin().await.unwrap();
    store::save_hours(tx.conn(), &c, &hours, false, "staff:a", 10)
        .await
        .unwrap();
    store::set_timezone(tx.conn(), &c, chrono_tz::Europe::London)
        .await
        .unwrap();
    let days = [date("2026-12-29"), date("2026-12-30")];
    let added = store::add_closures(tx.conn(), &c, &days, "年末年始", "staff:a", 11)
        .await
        .unwrap();
    let Added::Closures(rows) = added else {
        panic!("{added:?}")
    };
    assert_eq!(rows.len(), 2);
    store::set_holiday_open(tx.conn(), &c, date("2027-01-11"), true, "staff:a", 12)
        .await
        .unwrap();
    store::set_holiday_open(tx.conn(), &c, date("2027-01-11"), false, "staff:b", 13)
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let mut conn = t.db.pool().acquire().await.unwrap();
    let cal = store::load(&mut conn, &c).await.unwrap().unwrap();
    assert!(cal.configured);
    assert_eq!(cal.schedule.weekly, hours);
    assert!(!cal.schedule.national_holidays_closed);
    assert_eq!(cal.schedule.timezone, chrono_tz::Europe::London);
    assert_eq!(
        cal.schedule
            .closures
            .get(&date("2026-12-30"))
            .map(String::as_str),
        Some("年末年始")
    );
    assert_eq!(
        cal.schedule.holiday_overrides.get(&date("2027-01-11")),
        Some(&false)
    );
    assert_eq!(cal.closures[0].created_by, "staff:a");

    // Another clinic sees none of it and cannot delete it.
    let theirs = store::load(&mut conn, &other).await.unwrap().unwrap();
    assert!(theirs.closures.is_empty() && theirs.schedule.holiday_overrides.is_empty());
    drop(conn);
    let mut tx = t.db.begin().await.unwrap();
    assert!(!store::delete_closure(tx.conn(), &other, &rows[0].id)
        .await
        .unwrap());
    assert!(store::delete_closure(tx.conn(), &c, &rows[0].id)
        .await
        .unwrap());
    tx.commit().await.unwrap();
    let mut conn = t.db.pool().acquire().await.unwrap();
    assert_eq!(
        store::load(&mut conn, &c)
            .await
            .unwrap()
            .unwrap()
            .closures
            .len(),
        1
    );
}

#[tokio::test]
async fn a_date_already_closed_is_reported_and_nothing_is_added() {
    let t = test_db().await;
    let c = clinic(&t.db, "sakura").await;
    let mut tx = t.db.begin().await.unwrap();
    store::add_closures(
        tx.conn(),
        &c,
        &[date("2027-01-04")],
        "臨時休診",
        "token:x",
        1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();

    let mut tx = t.db.begin().await.unwrap();
    let days = [date("2027-01-03"), date("2027-01-04")];
    let added = store::add_closures(tx.conn(), &c, &days, "年末年始", "token:x", 2)
        .await
        .unwrap();
    assert_eq!(added, Added::Exists(date("2027-01-04")));
    drop(tx); // rolled back
    let mut conn = t.db.pool().acquire().await.unwrap();
    let cal = store::load(&mut conn, &c).await.unwrap().unwrap();
    assert_eq!(cal.closures.len(), 1);
    assert_eq!(cal.closures[0].reason, "臨時休診");
}

#[tokio::test]
async fn saving_hours_again_replaces_them() {
    let t = test_db().await;
    let c = clinic(&t.db, "sakura").await;
    let mut tx = t.db.begin().await.unwrap();
    let default = WeeklyHours::japanese_clinic_default();
    store::save_hours(tx.conn(), &c, &default, true, "staff:a", 1)
        .await
        .unwrap();
    store::save_hours(tx.conn(), &c, &WeeklyHours::default(), true, "staff:a", 2)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let mut conn = t.db.pool().acquire().await.unwrap();
    let cal = store::load(&mut conn, &c).await.unwrap().unwrap();
    assert!(cal.configured, "an all-closed week is still a saved week");
    assert_eq!(cal.schedule.weekly, WeeklyHours::default());
}
