//! Conversations carry `service_level` (the clinic's first-response and resolution clocks in
//! opening time) through the API: due instants, `ok` → `warning` → `breached` with the fake
//! clock, and null once resolved or for a clinic without targets.
use axum::http::Method;
use serde_json::{json, Value};
use tsunagu_core::TokenScope;
use tsunagu_inbox::sla::{targets, Targets};

use super::support::{app, App, T0};

async fn service_level(app: &App, token: &str) -> Value {
    let r = app.get("/api/v1/conversations", token).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.body["items"][0]["service_level"].clone()
}

#[tokio::test]
async fn a_conversation_shows_its_deadlines_and_state_until_resolved() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let t = Targets {
        first_response_minutes: Some(30),
        resolution_minutes: Some(480),
        warning_minutes: Some(10),
    };
    targets::save(&mut conn, &s.clinic, &t, T0).await.unwrap();
    drop(conn);
    // New Year's Day (a holiday, closed): both clocks start at Friday 2 January 09:00 in Tokyo.
    let c = app.conversation(&s, "U1", "予約の変更", T0).await;
    assert_eq!(
        service_level(&app, &token).await,
        json!({
            "first_response_due_at": "2026-01-02T00:30:00.000Z",
            "resolution_due_at": "2026-01-03T00:30:00.000Z",
            "state": "ok",
        })
    );
    let to = |ms: i64| {
        app.clock
            .advance(chrono::Duration::milliseconds(ms - app.now_ms()))
    };
    to(T0 + 24 * 3_600_000 + 21 * 60_000); // 09:21 in Tokyo
    assert_eq!(service_level(&app, &token).await["state"], "warning");
    to(T0 + 24 * 3_600_000 + 31 * 60_000);
    assert_eq!(service_level(&app, &token).await["state"], "breached");
    let path = format!("/api/v1/conversations/{}", c.id);
    let r = app
        .call(
            Method::PATCH,
            &path,
            Some(&token),
            Some(&json!({"status": "resolved"})),
            &[],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.body["service_level"], Value::Null);
}

#[tokio::test]
async fn a_clinic_without_targets_has_no_service_level() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Read]).await;
    app.conversation(&s, "U1", "予約の変更", T0).await;
    let r = app.get("/api/v1/conversations", &token).await;
    assert_eq!(
        r.body["items"][0]["service_level"],
        Value::Null,
        "{}",
        r.body
    );
}
