//! Staff accounts, sessions and sign-in throttling against a real database (SQLite, or
//! PostgreSQL with TEST_DATABASE_URL).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tsunagu_accounts::sessions::{self, Resolved};
use tsunagu_accounts::staff::{self, AddUserError};
use tsunagu_accounts::{passwords, throttle};
use tsunagu_core::config::SecuritySettings;
use tsunagu_core::Role;
use tsunagu_store::{clinics, Db};
use tsunagu_testkit::test_db;

const T0: i64 = 1_767_600_000_000;
const IDLE: i64 = 30 * 60_000;

async fn two_clinics(db: &Db) {
    let mut tx = db.begin().await.unwrap();
    let org = clinics::create_organization(tx.conn(), "医療法人テスト会", T0)
        .await
        .unwrap();
    for (slug, name) in [("sakura", "さくら内科"), ("momiji", "もみじ皮膚科")] {
        let c = clinics::NewClinic {
            organization_id: &org,
            slug,
            name,
            timezone: "Asia/Tokyo",
            locale: "ja",
        };
        clinics::create_clinic(tx.conn(), c, T0).await.unwrap();
    }
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn an_existing_email_gains_a_membership_in_the_new_clinic() {
    let t = test_db().await;
    two_clinics(&t.db).await;
    let first = staff::add_user(
        &t.db,
        "sakura",
        " Sato@Example.JP ",
        Role::Receptionist,
        None,
        T0,
    )
    .await
    .unwrap();
    assert!(!first.existed);
    let generated = first.generated_password.clone().unwrap();
    assert!(generated.chars().count() >= 16);

    let second = staff::add_user(
        &t.db,
        "momiji",
        "sato@example.jp",
        Role::Admin,
        None,
        T0 + 1,
    )
    .await
    .unwrap();
    assert!(second.existed);
    assert_eq!(second.staff_id, first.staff_id);
    assert!(second.generated_password.is_none());

    let mut c = t.db.pool().acquire().await.unwrap();
    let row = staff::by_email(&mut c, "SATO@example.jp")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.email, "sato@example.jp");
    assert!(passwords::verify(&row.password_hash, &generated));
    let ms = staff::memberships(&mut c, &first.staff_id).await.unwrap();
    let names: Vec<_> = ms
        .iter()
        .map(|m| (m.clinic_name.as_str(), m.role.as_str()))
        .collect();
    assert_eq!(
        names,
        [("さくら内科", "receptionist"), ("もみじ皮膚科", "admin")]
    );
}

#[tokio::test]
async fn add_user_refuses_a_short_password_and_an_unknown_clinic() {
    let t = test_db().await;
    two_clinics(&t.db).await;
    let short = staff::add_user(
        &t.db,
        "sakura",
        "a@example.jp",
        Role::Owner,
        Some("short"),
        T0,
    )
    .await;
    assert!(matches!(
        short.unwrap_err().downcast_ref(),
        Some(AddUserError::WeakPassword)
    ));
    let unknown = staff::add_user(
        &t.db,
        "nowhere",
        "a@example.jp",
        Role::Owner,
        Some("long enough pw"),
        T0,
    )
    .await;
    assert!(matches!(
        unknown.unwrap_err().downcast_ref(),
        Some(AddUserError::UnknownClinic(_))
    ));
}

async fn signed_in(db: &Db) -> (tsunagu_core::StaffId, String) {
    two_clinics(db).await;
    let added = staff::add_user(
        db,
        "sakura",
        "ito@example.jp",
        Role::Clinician,
        Some("a long password"),
        T0,
    )
    .await
    .unwrap();
    let mut c = db.pool().acquire().await.unwrap();
    let clinic = clinics::by_slug(&mut c, "sakura")
        .await
        .unwrap()
        .unwrap()
        .clinic_id();
    let s = sessions::create(&mut c, &added.staff_id, Some(&clinic), true, None, T0)
        .await
        .unwrap();
    (added.staff_id, s.token)
}

#[tokio::test]
async fn only_the_hash_of_the_session_token_is_stored() {
    let t = test_db().await;
    let (_, token) = signed_in(&t.db).await;
    let stored: Vec<String> = sqlx::query_scalar("SELECT id_hash FROM sessions")
        .fetch_all(t.db.pool())
        .await
        .unwrap();
    assert_eq!(stored, [sessions::token_hash(&token)]);
    assert_ne!(stored[0], token);
}

#[tokio::test]
async fn a_session_idle_longer_than_the_timeout_is_void_and_removed() {
    let t = test_db().await;
    let (_, token) = signed_in(&t.db).await;
    let r = sessions::resolve(&t.db, &token, T0 + 20 * 60_000, IDLE, false)
        .await
        .unwrap();
    assert!(matches!(r, Resolved::Active(ref a) if a.role == Role::Clinician));
    // Refreshed at 20 minutes, so still alive at 45.
    assert!(matches!(
        sessions::resolve(&t.db, &token, T0 + 45 * 60_000, IDLE, true)
            .await
            .unwrap(),
        Resolved::Active(_)
    ));
    // The live request at 45 did not refresh it: 31 minutes after 20 it is over.
    assert!(matches!(
        sessions::resolve(&t.db, &token, T0 + 51 * 60_000, IDLE, false)
            .await
            .unwrap(),
        Resolved::Idle
    ));
    assert!(matches!(
        sessions::resolve(&t.db, &token, T0 + 51 * 60_000, IDLE, false)
            .await
            .unwrap(),
        Resolved::Missing
    ));
}

#[tokio::test]
async fn signing_out_everywhere_voids_every_session() {
    let t = test_db().await;
    let (staff_id, token) = signed_in(&t.db).await;
    let mut tx = t.db.begin().await.unwrap();
    sessions::sign_out_everywhere(tx.conn(), &staff_id, T0 + 1000)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(matches!(
        sessions::resolve(&t.db, &token, T0 + 2000, IDLE, false)
            .await
            .unwrap(),
        Resolved::Missing
    ));
}

#[tokio::test]
async fn a_session_whose_membership_is_gone_is_void() {
    let t = test_db().await;
    let (staff_id, token) = signed_in(&t.db).await;
    sqlx::query("DELETE FROM memberships WHERE staff_id = $1")
        .bind(staff_id.as_str())
        .execute(t.db.pool())
        .await
        .unwrap();
    assert!(matches!(
        sessions::resolve(&t.db, &token, T0 + 1, IDLE, false)
            .await
            .unwrap(),
        Resolved::Void
    ));
}

/// Reserves an attempt and settles it as a failure; true when it was allowed to be checked.
async fn fail_once(db: &Db, sec: &SecuritySettings, keys: &throttle::Keys, now: i64) -> bool {
    match throttle::reserve(db, sec, keys, now).await.unwrap() {
        throttle::Reserved::Granted(t) => {
            let mut tx = db.begin().await.unwrap();
            throttle::failed(tx.conn(), sec, t, now).await.unwrap();
            tx.commit().await.unwrap();
            true
        }
        throttle::Reserved::Refused { .. } => false,
    }
}

async fn wait_of(db: &Db, sec: &SecuritySettings, keys: &throttle::Keys, now: i64) -> Option<u32> {
    match throttle::reserve(db, sec, keys, now).await.unwrap() {
        throttle::Reserved::Granted(t) => {
            // Give the place back: this was only a look.
            let mut tx = db.begin().await.unwrap();
            throttle::succeeded(tx.conn(), t).await.unwrap();
            tx.commit().await.unwrap();
            None
        }
        throttle::Reserved::Refused { minutes } => Some(minutes),
    }
}

#[tokio::test]
async fn a_pair_is_locked_out_after_its_failures_and_the_address_only_at_its_ceiling() {
    let t = test_db().await;
    let sec = SecuritySettings {
        login_max_failures: 3,
        login_window_minutes: 15,
        login_max_failures_per_address: 5,
        ..Default::default()
    };
    let a = throttle::email_hash("A@example.jp");
    assert_eq!(a, throttle::email_hash("a@example.jp "));
    let a_here = throttle::Keys::password(&a, Some("192.0.2.1"), None);
    for i in 0..3 {
        assert!(fail_once(&t.db, &sec, &a_here, T0 + i * 60_000).await);
    }
    // Locked out for one window from the third failure.
    let now = T0 + 2 * 60_000 + 1;
    assert_eq!(wait_of(&t.db, &sec, &a_here, now).await, Some(15));
    // Another account from the same address is not held (the address has 3 of its 5)...
    let b = throttle::email_hash("b@example.jp");
    let b_here = throttle::Keys::password(&b, Some("192.0.2.1"), None);
    assert!(fail_once(&t.db, &sec, &b_here, now).await);
    assert!(fail_once(&t.db, &sec, &b_here, now).await);
    // ...until the address reaches its ceiling, for every account behind it.
    assert!(wait_of(&t.db, &sec, &b_here, now).await.is_some());
    let c_here = throttle::Keys::password(&throttle::email_hash("c@x.jp"), Some("192.0.2.1"), None);
    assert!(wait_of(&t.db, &sec, &c_here, now).await.is_some());
    let b_elsewhere = throttle::Keys::password(&b, Some("192.0.2.9"), None);
    assert_eq!(wait_of(&t.db, &sec, &b_elsewhere, now).await, None);
    // After the lock-out, the pair may try again.
    assert_eq!(
        wait_of(&t.db, &sec, &a_here, T0 + 17 * 60_000 + 2).await,
        None
    );
}

#[tokio::test]
async fn a_success_clears_the_pair_and_gives_back_the_shared_places() {
    let t = test_db().await;
    let sec = SecuritySettings {
        login_max_failures: 2,
        login_window_minutes: 15,
        ..Default::default()
    };
    let a = throttle::email_hash("a@example.jp");
    let keys = throttle::Keys::password(&a, None, None);
    assert!(fail_once(&t.db, &sec, &keys, T0).await);
    assert_eq!(wait_of(&t.db, &sec, &keys, T0 + 1).await, None);
    assert!(fail_once(&t.db, &sec, &keys, T0 + 2).await);
    assert_eq!(wait_of(&t.db, &sec, &keys, T0 + 3).await, None);
    let failures: i64 = sqlx::query_scalar("SELECT failures FROM sign_in_throttle WHERE key = $1")
        .bind(format!("acct:{a}"))
        .fetch_one(t.db.pool())
        .await
        .unwrap();
    assert_eq!(failures, 2, "the account keeps its failures, not the looks");
}
