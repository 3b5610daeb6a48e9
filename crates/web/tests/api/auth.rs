//! Bearer tokens, scopes and the error envelope.
use axum::http::{Method, StatusCode};
use serde_json::json;
use tsunagu_accounts::tokens;
use tsunagu_core::{TokenId, TokenScope};

use super::support::{app, T0};

#[tokio::test]
async fn a_request_without_a_token_is_refused_with_the_error_envelope() {
    let app = app().await;
    let res = app
        .call(Method::GET, "/api/v1/conversations", None, None, &[])
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert_eq!(res.code(), "unauthorized");
    assert!(res.body["error"]["message"].is_string());
    assert!(res.headers.get("www-authenticate").is_some());
}

#[tokio::test]
async fn unknown_malformed_and_revoked_tokens_are_refused() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Read]).await;
    assert_eq!(
        app.get("/api/v1/conversations", &token).await.status,
        StatusCode::OK
    );

    for bad in ["tsu_doesnotexist", "not-a-token", "tsu_", "tsu_has space"] {
        let res = app.get("/api/v1/conversations", bad).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{bad}");
    }
    let basic = app
        .call(
            Method::GET,
            "/api/v1/conversations",
            None,
            None,
            &[("authorization", "Basic dXNlcjpwdw==")],
        )
        .await;
    assert_eq!(basic.status, StatusCode::UNAUTHORIZED);

    let id: String = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let mut conn = app.db.pool().acquire().await.unwrap();
    assert!(
        tokens::revoke(&mut conn, &s.clinic, &TokenId::from_db(id.clone()), T0 + 1)
            .await
            .unwrap()
    );
    drop(conn);
    let res = app.get("/api/v1/conversations", &token).await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn only_the_hash_of_a_token_is_stored() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    assert!(token.starts_with("tsu_"));
    assert_eq!(token.len(), 4 + 43, "32 random bytes in unpadded base64url");
    let stored: String = sqlx::query_scalar("SELECT token_hash FROM api_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_ne!(stored, token);
    assert_eq!(
        stored,
        tsunagu_privacy::crypto::sha256_hex(token.as_bytes())
    );
}

#[tokio::test]
async fn last_use_is_recorded_at_most_once_a_minute() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Read]).await;
    let last_used = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT last_used_at FROM api_tokens")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
    };
    assert_eq!(last_used().await, None);
    app.get("/api/v1/conversations", &token).await;
    assert_eq!(last_used().await, Some(T0));
    app.clock.advance(chrono::Duration::seconds(30));
    app.get("/api/v1/conversations", &token).await;
    assert_eq!(
        last_used().await,
        Some(T0),
        "not rewritten within the minute"
    );
    app.clock.advance(chrono::Duration::seconds(31));
    app.get("/api/v1/conversations", &token).await;
    assert_eq!(last_used().await, Some(T0 + 61_000));
}

#[tokio::test]
async fn a_read_token_can_neither_reply_nor_create_channels() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U1", "こんにちは", T0).await;
    let read = app.token(&s.clinic, &[TokenScope::Read]).await;

    let res = app.reply(&conv.id, &read, "はい", None).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(res.code(), "forbidden");

    let body = json!({"kind": "line", "name": "x", "credentials": {"channel_secret": "s", "channel_access_token": "t"}});
    let res = app.post("/api/v1/channels", &read, body).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/api/v1/channels", &read).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(app.jobs().await, 0);
}

#[tokio::test]
async fn a_broadcast_token_lists_conversations_without_message_previews_or_bodies() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U1", "胸が痛いです", T0).await;
    let broadcast = app.token(&s.clinic, &[TokenScope::Broadcast]).await;
    let read = app.token(&s.clinic, &[TokenScope::Read]).await;

    let res = app.get("/api/v1/conversations", &broadcast).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.body["items"][0].get("last_message_preview").is_none());
    let res = app
        .get(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            &broadcast,
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let res = app.get("/api/v1/conversations", &read).await;
    assert_eq!(res.body["items"][0]["last_message_preview"], "胸が痛いです");
}

#[tokio::test]
async fn unknown_api_paths_and_methods_answer_in_the_envelope() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let res = app.get("/api/v1/nothing-here", &token).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(res.code(), "not_found");
    let res = app
        .call(
            Method::DELETE,
            "/api/v1/conversations",
            Some(&token),
            None,
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(res.code(), "method_not_allowed");
    let res = app
        .call(Method::POST, "/api/v1/channels", Some(&token), None, &[])
        .await;
    assert!(res.status.is_client_error());
    assert!(
        !res.code().is_empty(),
        "a missing JSON body is enveloped too"
    );
}
