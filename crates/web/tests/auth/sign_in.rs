//! The password step: failures, throttling, cookies, CSRF on the sign-in form, language.
use axum::http::StatusCode;
use tsunagu_core::config::Settings;
use tsunagu_core::Role;

use super::support::{app, app_with, Browser, PASSWORD};

#[tokio::test]
async fn a_wrong_password_gives_no_session_and_is_audited_without_the_email() {
    let app = app(false).await;
    let id = app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    let res = app
        .password_step(&mut b, "sato@example.jp", "wrong password!")
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.session_cookie().is_none());
    assert!(res.body.contains("data-testid=\"login-error\""));
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);

    let row: (String, Option<String>, String, Option<String>) = sqlx::query_as(
        "SELECT actor_kind, actor_id, subject_ids, clinic_id FROM audit_events WHERE action = 'auth.sign_in_failed'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(row.0, "anonymous");
    assert_eq!(row.1, None);
    assert_eq!(row.2, format!("[\"{id}\"]"));
    assert_eq!(row.3.as_deref(), Some(app.clinic.as_str()));
    let leaked = app.count("SELECT COUNT(*) FROM audit_events WHERE subject_ids LIKE '%@%' OR subject_ids LIKE '%wrong%'").await;
    assert_eq!(leaked, 0);
}

#[tokio::test]
async fn an_unknown_email_fails_the_same_way_with_a_clinic_less_audit_row() {
    let app = app(false).await;
    let mut b = Browser::default();
    let res = app
        .password_step(&mut b, "nobody@example.jp", PASSWORD)
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    let n = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.sign_in_failed' AND clinic_id IS NULL AND subject_ids = '[]'")
        .await;
    assert_eq!(n, 1);
}

#[tokio::test]
async fn after_too_many_failures_even_the_right_password_waits() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    for _ in 0..5 {
        let res = app
            .password_step(&mut b, "sato@example.jp", "wrong password!")
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = app.password_step(&mut b, "SATO@example.jp", PASSWORD).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(res.body.contains("15 分後"), "{}", res.body);
    assert!(res.session_cookie().is_none());
    assert_eq!(
        app.actions().await.last().map(String::as_str),
        Some("auth.sign_in_throttled")
    );

    app.clock.advance(chrono::Duration::minutes(16));
    app.sign_in(&mut b, "sato@example.jp").await;
}

#[tokio::test]
async fn the_session_cookie_is_http_only_and_lax_and_secure_only_over_https() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    let res = app.password_step(&mut b, "sato@example.jp", PASSWORD).await;
    let cookie = res.session_cookie().unwrap();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
    assert!(cookie.contains("Path=/"), "{cookie}");
    assert!(!cookie.contains("Secure"), "{cookie}");
    // The 32-byte token, URL-safe base64.
    let token = cookie
        .trim_start_matches("tsunagu_session=")
        .split(';')
        .next()
        .unwrap();
    assert_eq!(token.len(), 43);

    let settings = Settings {
        public_url: Some("https://tsunagu.example-clinic.jp".into()),
        ..Default::default()
    };
    let app = app_with(settings, false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    let form = app.get(&mut b, "/login").await;
    let login_cookie = form
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tsunagu_login_csrf="))
        .unwrap();
    assert!(
        login_cookie.contains("SameSite=Strict") && login_cookie.contains("Secure"),
        "{login_cookie}"
    );
    let res = app
        .post(
            &mut b,
            "/login",
            &[
                ("csrf_token", &form.csrf()),
                ("email", "sato@example.jp"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let cookie = res.session_cookie().unwrap();
    assert!(
        cookie.contains("Secure") && cookie.contains("HttpOnly"),
        "{cookie}"
    );
}

#[tokio::test]
async fn the_sign_in_form_needs_its_csrf_cookie() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    let form = app.get(&mut b, "/login").await;
    let csrf = form.csrf();
    assert!(!csrf.is_empty());
    // Another browser (no cookie) posting the same token is refused.
    let mut other = Browser::default();
    let res = app
        .post(
            &mut other,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", "sato@example.jp"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .post(
            &mut b,
            "/login",
            &[
                ("csrf_token", "forged"),
                ("email", "sato@example.jp"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn a_pre_login_session_id_is_never_kept() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    b.cookies
        .insert("tsunagu_session".into(), "planted-by-an-attacker".into());
    app.sign_in(&mut b, "sato@example.jp").await;
    assert_ne!(
        b.session().map(String::as_str),
        Some("planted-by-an-attacker")
    );
}

#[tokio::test]
async fn the_sign_in_page_is_japanese_unless_the_browser_prefers_english() {
    let app = app(false).await;
    let mut b = Browser::default();
    let res = app.get(&mut b, "/login").await;
    assert!(res.body.contains("lang=\"ja\"") && res.body.contains("サインイン"));
    let mut en = Browser {
        accept_language: Some("en-US,en;q=0.9,ja;q=0.5".into()),
        ..Default::default()
    };
    let res = app.get(&mut en, "/login").await;
    assert!(res.body.contains("lang=\"en\"") && res.body.contains("Sign in"));
}
