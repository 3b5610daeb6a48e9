//! Sign-in throttling as the README states it: reserved before the check (parallel guesses
//! see the limit), per account-and-address pair with growing lock-outs, a higher ceiling per
//! address, and known devices that still get in while others are locked out.
use std::sync::Arc;

use axum::http::StatusCode;
use chrono::Duration;
use tsunagu_core::config::{SecuritySettings, Settings};
use tsunagu_core::Role;

use super::support::{app, app_with, App, Browser, PASSWORD};

fn with_security(sec: SecuritySettings) -> Settings {
    Settings {
        security: sec,
        ..Default::default()
    }
}

/// Fires `n` wrong passwords for one account at once from one browser; returns the statuses.
async fn parallel_guesses(app: Arc<App>, email: &str, n: usize) -> Vec<StatusCode> {
    let mut b = Browser::from_ip("198.51.100.7");
    let csrf = app.get(&mut b, "/login").await.csrf();
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let (app, mut b, csrf, email) = (app.clone(), b.clone(), csrf.clone(), email.to_string());
        tasks.spawn(async move {
            let pw = format!("wrong guess {i}");
            let form = [
                ("csrf_token", csrf.as_str()),
                ("email", &email),
                ("password", &pw),
            ];
            app.post(&mut b, "/login", &form).await.status
        });
    }
    tasks.join_all().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_password_guesses_are_checked_at_most_up_to_the_limit() {
    let app = Arc::new(app(false).await);
    app.staff("sato@example.jp", Role::Receptionist).await;
    let statuses = parallel_guesses(app.clone(), "sato@example.jp", 100).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let refused = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + refused, 100, "{statuses:?}");
    assert!(checked <= 5, "{checked} guesses were checked");
    assert!(checked >= 1);
    let failed = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'auth.sign_in_failed'")
        .await;
    assert_eq!(failed, checked as i64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_guesses_for_an_unknown_account_are_held_the_same_way() {
    let app = Arc::new(app(false).await);
    let statuses = parallel_guesses(app, "nobody@example.jp", 40).await;
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!((1..=5).contains(&checked), "{statuses:?}");
}

#[tokio::test]
async fn a_colleague_behind_the_same_address_is_not_locked_out() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    app.staff("suzuki@example.jp", Role::Receptionist).await;
    let mut guesser = Browser::from_ip("203.0.113.10");
    for _ in 0..6 {
        app.password_step(&mut guesser, "sato@example.jp", "wrong password!")
            .await;
    }
    let res = app
        .password_step(&mut guesser, "sato@example.jp", PASSWORD)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    // Same clinic, same NAT address, another account: unaffected.
    let mut colleague = Browser::from_ip("203.0.113.10");
    app.sign_in(&mut colleague, "suzuki@example.jp").await;
}

#[tokio::test]
async fn one_address_guessing_many_accounts_meets_the_address_ceiling() {
    let sec = SecuritySettings {
        login_max_failures_per_address: 12,
        ..Default::default()
    };
    let app = app_with(with_security(sec), false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut attacker = Browser::from_ip("198.51.100.4");
    for i in 0..12 {
        let res = app
            .password_step(
                &mut attacker,
                &format!("guess{i}@example.jp"),
                "whatever123",
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    }
    let res = app
        .password_step(&mut attacker, "sato@example.jp", PASSWORD)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    let mut elsewhere = Browser::from_ip("198.51.100.5");
    app.sign_in(&mut elsewhere, "sato@example.jp").await;
}

#[tokio::test]
async fn lock_outs_of_a_pair_grow() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    for round in 0..2 {
        for _ in 0..5 {
            let res = app
                .password_step(&mut b, "sato@example.jp", "wrong password!")
                .await;
            assert_eq!(res.status, StatusCode::UNAUTHORIZED, "round {round}");
        }
        let res = app.password_step(&mut b, "sato@example.jp", PASSWORD).await;
        assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
        let expected = if round == 0 { "15 分後" } else { "30 分後" };
        assert!(res.body.contains(expected), "round {round}: {}", res.body);
        app.clock
            .advance(Duration::minutes(if round == 0 { 16 } else { 20 }));
    }
    // 20 of the 30 minutes have passed: still held.
    let res = app.password_step(&mut b, "sato@example.jp", PASSWORD).await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS);
    app.clock.advance(Duration::minutes(11));
    app.sign_in(&mut b, "sato@example.jp").await;
}

#[tokio::test]
async fn a_known_device_still_signs_in_while_the_account_is_locked_elsewhere() {
    let sec = SecuritySettings {
        login_max_failures_per_account: 8,
        ..Default::default()
    };
    let app = app_with(with_security(sec), false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    // Sato's own reception PC signs in once and so becomes known.
    let mut desk = Browser::from_ip("203.0.113.10");
    app.sign_in(&mut desk, "sato@example.jp").await;
    assert!(desk.cookies.contains_key("tsunagu_device"));
    let csrf = app.get(&mut desk, "/app/account").await.csrf();
    app.post(&mut desk, "/logout", &[("csrf_token", &csrf)])
        .await;

    // Someone guesses from the clinic's own address and from two others: every unknown browser
    // is now held, the pair's lock-out and the account's ceiling both reached.
    for ip in ["203.0.113.10", "198.51.100.1", "198.51.100.2"] {
        let mut guesser = Browser::from_ip(ip);
        for _ in 0..5 {
            app.password_step(&mut guesser, "sato@example.jp", "wrong password!")
                .await;
        }
    }
    let mut new_browser = Browser::from_ip("192.0.2.50");
    let res = app
        .password_step(&mut new_browser, "sato@example.jp", PASSWORD)
        .await;
    assert_eq!(res.status, StatusCode::TOO_MANY_REQUESTS, "{}", res.body);

    app.sign_in(&mut desk, "sato@example.jp").await;
}

#[tokio::test]
async fn signing_out_everywhere_forgets_known_devices() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut desk = Browser::default();
    app.sign_in(&mut desk, "sato@example.jp").await;
    assert_eq!(app.count("SELECT COUNT(*) FROM known_devices").await, 1);
    let csrf = app.get(&mut desk, "/app/account").await.csrf();
    app.post(&mut desk, "/logout/everywhere", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM known_devices").await, 0);
}

#[tokio::test]
async fn the_device_cookie_is_http_only_strict_and_scoped_to_sign_in() {
    let app = app(false).await;
    app.staff("sato@example.jp", Role::Receptionist).await;
    let mut b = Browser::default();
    let res = app.password_step(&mut b, "sato@example.jp", PASSWORD).await;
    let cookie = res
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tsunagu_device="))
        .unwrap();
    for part in ["HttpOnly", "SameSite=Strict", "Path=/login", "Max-Age="] {
        assert!(cookie.contains(part), "{cookie}");
    }
    // Signing in again from the same browser keeps its token.
    let csrf = app.get(&mut b, "/app/account").await.csrf();
    app.post(&mut b, "/logout", &[("csrf_token", &csrf)]).await;
    let again = app.password_step(&mut b, "sato@example.jp", PASSWORD).await;
    assert!(!again
        .set_cookies()
        .iter()
        .any(|c| c.starts_with("tsunagu_device=")));
    assert_eq!(app.count("SELECT COUNT(*) FROM known_devices").await, 1);
}
