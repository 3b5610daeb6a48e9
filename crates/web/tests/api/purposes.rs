//! Which token scope may start a message for which purpose: a `broadcast` token never sends
//! `care` (implied once the patient wrote, so it would reach anyone who ever wrote in), a
//! `reply` token never sends a campaign.
use axum::http::StatusCode;
use serde_json::json;
use tsunagu_core::TokenScope;

use super::support::{app, App, Conv, Res, T0};

async fn send(app: &App, conv: &Conv, token: &str, purpose: &str) -> Res {
    let path = format!("/api/v1/patients/{}/messages", conv.patient_id);
    let body = json!({"text": "ご来院ありがとうございました。", "purpose": purpose});
    app.post(&path, token, body).await
}

async fn outgoing(app: &App) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_broadcast_token_cannot_send_care_and_nothing_is_queued() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U1", "先日はどうも", T0).await;
    let broadcast = app.token(&s.clinic, &[TokenScope::Broadcast]).await;

    let res = send(&app, &conv, &broadcast, "care").await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::FORBIDDEN, "scope_forbids_purpose"),
        "{}",
        res.body
    );
    assert_eq!(outgoing(&app).await, 0);
    assert_eq!(app.jobs().await, 0);
    assert!(app.audits("api.message.send").await.is_empty());

    // Its own purposes reach the consent check (no grant on record here).
    for purpose in ["marketing", "health_information", "reminders"] {
        let res = send(&app, &conv, &broadcast, purpose).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "consent_required"),
            "{purpose}: {}",
            res.body
        );
    }
    assert_eq!(app.jobs().await, 0);
}

#[tokio::test]
async fn a_reply_token_sends_care_but_not_campaigns() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U1", "先日はどうも", T0).await;
    let reply = app.token(&s.clinic, &[TokenScope::Reply]).await;

    for purpose in ["marketing", "health_information", "photo_publication"] {
        let res = send(&app, &conv, &reply, purpose).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::FORBIDDEN, "scope_forbids_purpose"),
            "{purpose}"
        );
    }
    assert_eq!(app.jobs().await, 0);
    let res = send(&app, &conv, &reply, "care").await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(app.jobs().await, 1);
}

#[tokio::test]
async fn an_admin_token_and_a_token_with_both_scopes_send_every_purpose() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U1", "先日はどうも", T0).await;
    for scopes in [
        vec![TokenScope::Admin],
        vec![TokenScope::Reply, TokenScope::Broadcast],
    ] {
        let token = app.token(&s.clinic, &scopes).await;
        for purpose in ["care", "reminders", "marketing", "photo_publication"] {
            let res = send(&app, &conv, &token, purpose).await;
            assert_ne!(res.status, StatusCode::FORBIDDEN, "{scopes:?} {purpose}");
        }
    }
}
