//! Replying through the API: one queued job per reply, Idempotency-Key, refusals.
use axum::http::StatusCode;
use tsunagu_core::TokenScope;
use tsunagu_store::patients;

use super::support::{app, App, Conv, T0};

async fn setup() -> (App, Conv, String) {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U1", "予約をお願いします", T0).await;
    let token = app.token(&s.clinic, &[TokenScope::Reply]).await;
    (app, conv, token)
}

#[tokio::test]
async fn a_reply_is_queued_once_with_its_send_job_and_announced() {
    let (app, conv, token) = setup().await;
    let mut live = app.live.subscribe();
    let res = app
        .reply(&conv.id, &token, "  明日10時にどうぞ。 ", None)
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["text"], "明日10時にどうぞ。");
    assert_eq!(res.body["direction"], "out");
    assert_eq!(res.body["status"], "queued");
    assert_eq!(res.body["unsent"], false);
    assert_eq!(res.body["attachments"], serde_json::json!([]));
    assert_eq!(app.jobs().await, 1);
    let job_payload: String = sqlx::query_scalar("SELECT payload FROM outbox_jobs")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(job_payload.contains(res.body["id"].as_str().unwrap()));

    let event = live.try_recv().unwrap();
    assert_eq!(event.kind, "message.created");
    assert_eq!(event.conversation_id, conv.id.to_string());

    let audits = app.audits("api.message.reply").await;
    assert_eq!(audits.len(), 1);
    assert!(audits[0].1.contains(res.body["id"].as_str().unwrap()));
}

#[tokio::test]
async fn a_repeated_idempotency_key_returns_the_first_response_without_sending_again() {
    let (app, conv, token) = setup().await;
    let first = app.reply(&conv.id, &token, "お大事に", Some("key-1")).await;
    assert_eq!(first.status, StatusCode::CREATED);
    app.clock.advance(chrono::Duration::hours(23));
    let again = app.reply(&conv.id, &token, "お大事に", Some("key-1")).await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.bytes, first.bytes, "the same body, byte for byte");
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(app.jobs().await, 1);

    let other = app.reply(&conv.id, &token, "別の内容", Some("key-1")).await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(other.code(), "idempotency_key_reused");
    assert_eq!(app.jobs().await, 1);

    // Another key, or the same key after 24 hours, is a new request.
    assert_eq!(
        app.reply(&conv.id, &token, "お大事に", Some("key-2"))
            .await
            .status,
        StatusCode::CREATED
    );
    assert_eq!(app.jobs().await, 2);
    app.clock.advance(chrono::Duration::hours(2));
    let later = app.reply(&conv.id, &token, "お大事に", Some("key-1")).await;
    assert_eq!(later.status, StatusCode::CREATED);
    assert!(later.headers.get("idempotent-replayed").is_none());
    assert_ne!(later.body["id"], first.body["id"]);
    assert_eq!(app.jobs().await, 3);
}

#[tokio::test]
async fn keys_belong_to_one_token() {
    let (app, conv, token) = setup().await;
    let clinic: String = sqlx::query_scalar("SELECT clinic_id FROM api_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let other = app
        .token(
            &tsunagu_core::ClinicId::from_db(clinic),
            &[TokenScope::Reply],
        )
        .await;
    assert_eq!(
        app.reply(&conv.id, &token, "a", Some("k")).await.status,
        StatusCode::CREATED
    );
    let res = app.reply(&conv.id, &other, "a", Some("k")).await;
    assert_eq!(res.status, StatusCode::CREATED);
    assert!(res.headers.get("idempotent-replayed").is_none());
    assert_eq!(app.jobs().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_repeats_of_one_key_send_once() {
    let (app, conv, token) = setup().await;
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (app, conv_id, token) = (app.clone(), conv.id.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            app.reply(&conv_id, &token, "一度だけ", Some("race")).await
        }));
    }
    let mut bodies = Vec::new();
    for t in tasks {
        let res = t.await.unwrap();
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        bodies.push(res.bytes);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every repeat got the first response"
    );
    assert_eq!(app.jobs().await, 1);
    let out: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(out, 1);
}

#[tokio::test]
async fn empty_text_is_refused_and_frees_the_key() {
    let (app, conv, token) = setup().await;
    let res = app.reply(&conv.id, &token, "   ", Some("k")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.code(), "empty_message");
    assert_eq!(app.jobs().await, 0);
    let res = app.reply(&conv.id, &token, "改めて", Some("k")).await;
    assert_eq!(
        res.status,
        StatusCode::CREATED,
        "a refused attempt does not hold its key"
    );

    let res = app
        .post(
            &format!("/api/v1/conversations/{}/messages", conv.id),
            &token,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.code(), "invalid_request");
    let res = app
        .reply(&conv.id, &token, "x", Some("bad key with spaces"))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.code(), "invalid_idempotency_key");
}

#[tokio::test]
async fn a_patient_who_blocked_the_account_is_not_sent_to() {
    let (app, conv, token) = setup().await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    patients::set_follow_state(&mut conn, &conv.identity_id, "blocked", T0 + 1)
        .await
        .unwrap();
    drop(conn);
    let res = app.reply(&conv.id, &token, "届きません", None).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(res.code(), "recipient_blocked");
    assert_eq!(app.jobs().await, 0);
}
