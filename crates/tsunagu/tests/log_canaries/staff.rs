//! Sign-ins over HTTP with canary e-mails and passwords: one that works, one that does not.
use reqwest::redirect::Policy;
use reqwest::StatusCode;
use tsunagu_core::{Clock, Role};

use crate::canary;
use crate::common::TestApp;

/// GET /login, then POST the form with the cookies and CSRF token it gave: (status, Location).
async fn sign_in(app: &TestApp, email: &str, password: &str) -> (StatusCode, String) {
    let http = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    let form = http
        .get(format!("{}/login", app.base))
        .send()
        .await
        .unwrap();
    let cookies: Vec<String> = form
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .map(|c| c.split(';').next().unwrap_or("").to_string())
        .collect();
    let html = form.text().await.unwrap();
    let marker = "name=\"csrf_token\" value=\"";
    let from = html.find(marker).expect("a CSRF field") + marker.len();
    let csrf = &html[from..from + html[from..].find('"').unwrap()];
    let res = http
        .post(format!("{}/login", app.base))
        .header("cookie", cookies.join("; "))
        .form(&[
            ("csrf_token", csrf),
            ("email", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (res.status(), location)
}

pub async fn sign_ins(app: &TestApp) {
    tsunagu_accounts::staff::add_user(
        &app.db,
        "sakura",
        canary::STAFF_EMAIL,
        Role::Receptionist,
        Some(canary::STAFF_PASSWORD),
        app.clock.now_ms(),
    )
    .await
    .unwrap();
    let ok = sign_in(app, canary::STAFF_EMAIL, canary::STAFF_PASSWORD).await;
    // The password is accepted: on to the app, or to the second factor the clinic requires.
    assert_eq!(ok.0, StatusCode::SEE_OTHER, "{ok:?}");
    assert!(ok.1 == "/app" || ok.1.starts_with("/login/2fa"), "{ok:?}");
    let wrong = sign_in(app, canary::STAFF_EMAIL, canary::WRONG_PASSWORD).await;
    assert_ne!(wrong.0, StatusCode::SEE_OTHER, "{wrong:?}");
    let unknown = sign_in(app, canary::WRONG_EMAIL, canary::WRONG_PASSWORD).await;
    assert_ne!(unknown.0, StatusCode::SEE_OTHER, "{unknown:?}");
}
