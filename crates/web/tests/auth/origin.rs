//! A second line behind the CSRF token: a browser's state-changing request from another site
//! is refused even when it carries a valid token.
use axum::http::{Method, StatusCode};
use tsunagu_core::Role;

use super::support::{app, Browser, PASSWORD};

#[tokio::test]
async fn a_cross_site_post_with_a_valid_token_is_refused_and_changes_nothing() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    app.sign_in(&mut b, "sato@example.jp").await;
    let csrf = app.get(&mut b, "/app/account").await.csrf();
    let form: &[(&str, &str)] = &[("csrf_token", &csrf)];
    for extra in [
        &[("sec-fetch-site", "cross-site")][..],
        &[("sec-fetch-site", "same-site")][..],
        &[
            ("origin", "https://evil.example"),
            ("host", "127.0.0.1:8080"),
        ][..],
        &[("origin", "null"), ("host", "127.0.0.1:8080")][..],
    ] {
        let res = app
            .send(&mut b, Method::POST, "/logout", Some(form), extra)
            .await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{extra:?}");
        assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 1);
    }
    let same = [
        ("sec-fetch-site", "same-origin"),
        ("origin", "http://127.0.0.1:8080"),
    ];
    let res = app
        .send(&mut b, Method::POST, "/logout", Some(form), &same)
        .await;
    assert_eq!(res.location(), "/login");
    assert_eq!(app.count("SELECT COUNT(*) FROM sessions").await, 0);
}

#[tokio::test]
async fn a_cross_site_sign_in_is_refused() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    let csrf = app.get(&mut b, "/login").await.csrf();
    let form: &[(&str, &str)] = &[
        ("csrf_token", &csrf),
        ("email", "sato@example.jp"),
        ("password", PASSWORD),
    ];
    let evil = [
        ("origin", "https://evil.example"),
        ("host", "127.0.0.1:8080"),
    ];
    let res = app
        .send(&mut b, Method::POST, "/login", Some(form), &evil)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.session_cookie().is_none());
    let here = [
        ("origin", "http://127.0.0.1:8080"),
        ("host", "127.0.0.1:8080"),
    ];
    let res = app
        .send(&mut b, Method::POST, "/login", Some(form), &here)
        .await;
    assert_eq!(res.location(), "/app");
}
