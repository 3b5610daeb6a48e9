//! The second factor: enrolment, codes, replays, recovery codes.
use axum::http::StatusCode;
use chrono::Duration;
use tsunagu_accounts::totp;
use tsunagu_core::{Clock, Role};

use super::support::{app, App, Browser, PASSWORD};

/// Password step for an account with TOTP on: lands on the code form.
async fn to_code_form(app: &App, b: &mut Browser, email: &str) -> String {
    let res = app.password_step(b, email, PASSWORD).await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/login/2fa")
    );
    let form = app.get(b, "/login/2fa").await;
    assert_eq!(form.status, StatusCode::OK);
    form.csrf()
}

/// A fresh account in a 2FA clinic, enrolled; the browser is signed out again afterwards.
async fn enrolled(app: &App, email: &str) -> (Vec<u8>, Vec<String>) {
    app.staff(email, Role::Receptionist).await;
    let mut b = Browser::default();
    let res = app.password_step(&mut b, email, PASSWORD).await;
    assert_eq!(res.location(), "/login/2fa/setup");
    let enrolment = app.enrol(&mut b).await;
    let account = app.get(&mut b, "/app/account").await;
    let csrf = account.csrf();
    assert_eq!(
        app.post(&mut b, "/logout", &[("csrf_token", &csrf)])
            .await
            .location(),
        "/login"
    );
    enrolment
}

#[tokio::test]
async fn a_session_without_the_second_factor_cannot_reach_the_app() {
    let app = app(true).await;
    app.staff("sato@example.jp", Role::Owner).await;
    let mut b = Browser::default();
    let res = app.password_step(&mut b, "sato@example.jp", PASSWORD).await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/login/2fa/setup")
    );
    assert!(b.session().is_some());
    for path in ["/app/account", "/app/audit"] {
        let res = app.get(&mut b, path).await;
        assert_eq!(
            (res.status, res.location()),
            (StatusCode::SEE_OTHER, "/login"),
            "{path}"
        );
    }
    let res = app
        .post(&mut b, "/app/clinic", &[("clinic_id", app.clinic.as_str())])
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(!app.actions().await.contains(&"auth.sign_in".to_string()));
}

#[tokio::test]
async fn enrolment_shows_recovery_codes_once_and_then_codes_sign_in() {
    let app = app(true).await;
    let (secret, codes) = enrolled(&app, "sato@example.jp").await;
    assert_eq!(codes.len(), 10);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM staff WHERE totp_enabled = 1 AND totp_secret_enc LIKE 'v1:%'"
        )
        .await,
        1
    );
    let stored: String = sqlx::query_scalar("SELECT recovery_codes FROM staff")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(!stored.contains(&codes[0]));
    let actions = app.actions().await;
    assert!(
        actions.contains(&"auth.2fa_enrolled".to_string())
            && actions.contains(&"auth.sign_in".to_string())
    );

    app.clock.advance(Duration::seconds(60));
    let mut b = Browser::default();
    let csrf = to_code_form(&app, &mut b, "sato@example.jp").await;
    let pending = b.session().cloned();
    let code = totp::code_at(&secret, app.clock.now_ms()).unwrap();
    let res = app
        .post(
            &mut b,
            "/login/2fa",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(
        (res.status, res.location()),
        (StatusCode::SEE_OTHER, "/app"),
        "{}",
        res.body
    );
    // The elevated session has a new id.
    assert_ne!(b.session().cloned(), pending);
    let account = app.get(&mut b, "/app/account").await;
    assert_eq!(account.status, StatusCode::OK);
    assert!(account.body.contains("data-testid=\"account-2fa\""));
    assert!(
        account.body.contains("残りのリカバリーコード: 10") || account.body.contains(": 10"),
        "{}",
        account.body
    );
}

#[tokio::test]
async fn a_used_totp_code_is_refused_within_its_window() {
    let app = app(true).await;
    let (secret, _) = enrolled(&app, "sato@example.jp").await;
    // Still within the enrolment code's 30 seconds: the same code again is a replay.
    let mut b = Browser::default();
    let csrf = to_code_form(&app, &mut b, "sato@example.jp").await;
    let code = totp::code_at(&secret, app.clock.now_ms()).unwrap();
    let res = app
        .post(
            &mut b,
            "/login/2fa",
            &[("csrf_token", &csrf), ("code", &code)],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.get(&mut b, "/app/account").await.location(), "/login");
    assert_eq!(
        app.actions().await.last().map(String::as_str),
        Some("auth.sign_in_failed")
    );

    app.clock.advance(Duration::seconds(30));
    let fresh = totp::code_at(&secret, app.clock.now_ms()).unwrap();
    let res = app
        .post(
            &mut b,
            "/login/2fa",
            &[("csrf_token", &csrf), ("code", &fresh)],
        )
        .await;
    assert_eq!(res.location(), "/app");
    // ...and that one cannot be used by a second browser either.
    let mut other = Browser::default();
    let csrf = to_code_form(&app, &mut other, "sato@example.jp").await;
    let res = app
        .post(
            &mut other,
            "/login/2fa",
            &[("csrf_token", &csrf), ("code", &fresh)],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_recovery_code_works_once() {
    let app = app(true).await;
    let (_, codes) = enrolled(&app, "sato@example.jp").await;
    let mut b = Browser::default();
    let csrf = to_code_form(&app, &mut b, "sato@example.jp").await;
    let typed = codes[2].to_uppercase();
    let res = app
        .post(
            &mut b,
            "/login/2fa",
            &[("csrf_token", &csrf), ("code", &typed)],
        )
        .await;
    assert_eq!(res.location(), "/app");
    assert_eq!(
        app.actions().await.last().map(String::as_str),
        Some("auth.recovery_code_used")
    );
    assert_eq!(app.get(&mut b, "/app/account").await.status, StatusCode::OK);

    let mut again = Browser::default();
    let csrf = to_code_form(&app, &mut again, "sato@example.jp").await;
    let res = app
        .post(
            &mut again,
            "/login/2fa",
            &[("csrf_token", &csrf), ("code", &codes[2])],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let res = app
        .post(
            &mut again,
            "/login/2fa",
            &[("csrf_token", &csrf), ("code", &codes[3])],
        )
        .await;
    assert_eq!(res.location(), "/app");
}

#[tokio::test]
async fn a_wrong_enrolment_code_does_not_turn_2fa_on() {
    let app = app(true).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    app.password_step(&mut b, "sato@example.jp", PASSWORD).await;
    let page = app.get(&mut b, "/login/2fa/setup").await;
    let res = app
        .post(
            &mut b,
            "/login/2fa/setup",
            &[("csrf_token", &page.csrf()), ("code", "000000")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM staff WHERE totp_enabled = 1")
            .await,
        0
    );
    assert_eq!(app.get(&mut b, "/app/account").await.location(), "/login");
}

#[tokio::test]
async fn code_guesses_are_throttled_like_password_guesses() {
    let app = app(true).await;
    enrolled(&app, "sato@example.jp").await;
    let mut b = Browser::default();
    let csrf = to_code_form(&app, &mut b, "sato@example.jp").await;
    for _ in 0..5 {
        let res = app
            .post(
                &mut b,
                "/login/2fa",
                &[("csrf_token", &csrf), ("code", "123456")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = app
        .post(
            &mut b,
            "/login/2fa",
            &[("csrf_token", &csrf), ("code", "654321")],
        )
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_code_guesses_are_checked_at_most_up_to_the_limit() {
    let app = std::sync::Arc::new(app(true).await);
    let (secret, _) = enrolled(&app, "sato@example.jp").await;
    let now = app.clock.now_ms();
    let valid: Vec<String> = [now - 30_000, now, now + 30_000]
        .iter()
        .map(|t| totp::code_at(&secret, *t).unwrap())
        .collect();
    let mut b = Browser::default();
    let csrf = to_code_form(&app, &mut b, "sato@example.jp").await;
    let mut tasks = tokio::task::JoinSet::new();
    let wrong = (100_000..)
        .map(|i: u32| format!("{i:06}"))
        .filter(|c| !valid.contains(c));
    for code in wrong.take(60) {
        let (app, mut b, csrf) = (app.clone(), b.clone(), csrf.clone());
        tasks.spawn(async move {
            let form = [("csrf_token", csrf.as_str()), ("code", code.as_str())];
            app.post(&mut b, "/login/2fa", &form).await.status
        });
    }
    let statuses = tasks.join_all().await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(checked <= 5, "{checked} codes were checked: {statuses:?}");
    assert!(refused >= 54, "{statuses:?}");
}
