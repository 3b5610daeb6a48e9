//! Sessions after sign-in: idle timeout, the live stream, CSRF, signing out, switching clinic.
use axum::http::{Method, StatusCode};
use chrono::Duration;
use tsunagu_accounts::staff;
use tsunagu_core::Role;

use super::support::{app, clinic, Browser, T0};

#[tokio::test]
async fn an_idle_session_ends_and_live_requests_do_not_keep_it_alive() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    app.sign_in(&mut b, "sato@example.jp").await;

    // Activity at 20 minutes keeps the session for another 30.
    app.clock.advance(Duration::minutes(20));
    assert_eq!(app.get(&mut b, "/app/account").await.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(20));
    assert_eq!(app.get(&mut b, "/app/account").await.status, StatusCode::OK);

    // Only background refreshes from here: they work, but do not count as activity.
    app.clock.advance(Duration::minutes(20));
    let live = app
        .send(
            &mut b,
            Method::GET,
            "/app/account",
            None,
            &[("x-tsunagu-live", "1")],
        )
        .await;
    assert_eq!(live.status, StatusCode::OK);
    app.clock.advance(Duration::minutes(11));
    let res = app.get(&mut b, "/app/account").await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/login")
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn the_sse_path_does_not_refresh_the_session_either() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    app.sign_in(&mut b, "sato@example.jp").await;
    app.clock.advance(Duration::minutes(20));
    assert_eq!(app.status_of_stream(&b, "/app/live").await, StatusCode::OK);
    let last: i64 = sqlx::query_scalar("SELECT last_active_at FROM sessions")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(last, T0);
}

#[tokio::test]
async fn the_idle_clock_is_written_at_most_every_thirty_seconds() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    app.sign_in(&mut b, "sato@example.jp").await;
    app.clock.advance(Duration::seconds(10));
    app.get(&mut b, "/app/account").await;
    let last: i64 = sqlx::query_scalar("SELECT last_active_at FROM sessions")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(last, T0);
    app.clock.advance(Duration::seconds(25));
    app.get(&mut b, "/app/account").await;
    let last: i64 = sqlx::query_scalar("SELECT last_active_at FROM sessions")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(last, T0 + 35_000);
}

#[tokio::test]
async fn a_post_without_or_with_a_wrong_csrf_token_is_refused_and_changes_nothing() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    app.sign_in(&mut b, "sato@example.jp").await;
    let before = app.actions().await.len();
    for form in [
        vec![],
        vec![("csrf_token", "not-the-token")],
        vec![("csrf_token", "")],
    ] {
        let res = app.post(&mut b, "/logout/everywhere", &form).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(res.body.contains("フォームの有効期限"), "{}", res.body);
        let res = app.post(&mut b, "/logout", &form).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
    assert_eq!(app.actions().await.len(), before);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff WHERE sessions_valid_after = 0")
            .await,
        1
    );
    assert_eq!(app.get(&mut b, "/app/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn signing_out_ends_only_this_session() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let (mut a, mut b) = (Browser::default(), Browser::default());
    app.sign_in(&mut a, "sato@example.jp").await;
    app.sign_in(&mut b, "sato@example.jp").await;
    let csrf = app.get(&mut a, "/app/account").await.csrf();
    let res = app.post(&mut a, "/logout", &[("csrf_token", &csrf)]).await;
    assert_eq!(res.location(), "/login");
    assert!(a.session().is_none());
    assert_eq!(app.get(&mut b, "/app/account").await.status, StatusCode::OK);
    assert!(app.actions().await.contains(&"auth.sign_out".to_string()));
}

#[tokio::test]
async fn signing_out_everywhere_voids_the_other_sessions() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let (mut a, mut b) = (Browser::default(), Browser::default());
    app.sign_in(&mut a, "sato@example.jp").await;
    app.sign_in(&mut b, "sato@example.jp").await;
    let stolen = b.clone();
    let csrf = app.get(&mut a, "/app/account").await.csrf();
    let res = app
        .post(&mut a, "/logout/everywhere", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/login")
    );
    for mut browser in [a, b, stolen] {
        assert_eq!(
            app.get(&mut browser, "/app/account").await.location(),
            "/login"
        );
    }
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
    assert!(app
        .actions()
        .await
        .contains(&"auth.sign_out_everywhere".to_string()));
    // Signing in again afterwards works.
    let mut c = Browser::default();
    app.sign_in(&mut c, "sato@example.jp").await;
    assert_eq!(app.get(&mut c, "/app/account").await.status, StatusCode::OK);
}

#[tokio::test]
async fn switching_clinic_applies_the_role_there_and_only_among_memberships() {
    let app = app(false).await;
    let other = clinic(&app.db, "momiji", "もみじ皮膚科", false).await;
    let stranger = clinic(&app.db, "kaede", "かえで眼科", false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    staff::add_user(&app.db, "momiji", "sato@example.jp", Role::Admin, None, T0)
        .await
        .unwrap();
    let mut b = Browser::default();
    app.sign_in(&mut b, "sato@example.jp").await;
    assert_eq!(
        app.get(&mut b, "/app/audit").await.status,
        StatusCode::FORBIDDEN
    );

    let account = app.get(&mut b, "/app/account").await;
    assert!(account.body.contains("もみじ皮膚科"));
    let csrf = account.csrf();
    let res = app
        .post(
            &mut b,
            "/app/clinic",
            &[("csrf_token", &csrf), ("clinic_id", stranger.as_str())],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post(
            &mut b,
            "/app/clinic",
            &[("csrf_token", &csrf), ("clinic_id", other.as_str())],
        )
        .await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/app")
    );
    assert_eq!(app.get(&mut b, "/app/audit").await.status, StatusCode::OK);
    let n = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.clinic_switch'")
        .await;
    assert_eq!(n, 2);

    // A membership removed while signed in ends the session's access at once.
    sqlx::query("DELETE FROM memberships WHERE clinic_id = $1")
        .bind(other.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(app.get(&mut b, "/app/account").await.location(), "/login");
}
