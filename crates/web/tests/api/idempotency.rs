//! `Idempotency-Key` on every `POST`, not only replies: one patient per key, the first response
//! replayed, a different body refused, racing repeats acting once.
use std::sync::Arc;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::TokenScope;

use super::support::{app, App, Res};

async fn create_patient(app: &App, token: &str, body: &Value, key: &str) -> Res {
    let headers = [("idempotency-key", key)];
    app.call(
        Method::POST,
        "/api/v1/patients",
        Some(token),
        Some(body),
        &headers,
    )
    .await
}

async fn patients(app: &App) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM patients")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn setup() -> (App, String) {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Reply]).await;
    (app, token)
}

#[tokio::test]
async fn two_creations_with_one_key_make_one_patient_and_the_same_response() {
    let (app, token) = setup().await;
    let body = json!({"name": "山田 花子", "phone": "090-1234-5678"});
    let first = create_patient(&app, &token, &body, "new-patient-1").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert!(first.headers.get("idempotent-replayed").is_none());

    // The same request, written differently (key order, spacing), is the same request.
    let reordered = json!({"phone": "090-1234-5678", "name": "山田 花子"});
    let again = create_patient(&app, &token, &reordered, "new-patient-1").await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(
        again.bytes, first.bytes,
        "the first response, byte for byte"
    );
    assert_eq!(again.headers["idempotent-replayed"], "true");
    assert_eq!(patients(&app).await, 1);
    assert_eq!(app.audits("api.patient.create").await.len(), 1);

    let other = create_patient(&app, &token, &body, "new-patient-2").await;
    assert_eq!(other.status, StatusCode::CREATED);
    assert_ne!(other.body["id"], first.body["id"]);
    assert_eq!(patients(&app).await, 2);
}

#[tokio::test]
async fn one_key_with_a_different_body_is_refused_and_creates_nothing() {
    let (app, token) = setup().await;
    let first = create_patient(&app, &token, &json!({"name": "山田 花子"}), "k").await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    let other = create_patient(&app, &token, &json!({"name": "佐藤 一郎"}), "k").await;
    assert_eq!(
        (other.status, other.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "idempotency_key_reused")
    );
    assert_eq!(patients(&app).await, 1);
}

#[tokio::test]
async fn a_refused_creation_does_not_use_up_its_key() {
    let (app, token) = setup().await;
    let bad = create_patient(&app, &token, &json!({"name": ""}), "k").await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", bad.body);
    let good = create_patient(&app, &token, &json!({"name": "山田 花子"}), "k").await;
    assert_eq!(good.status, StatusCode::CREATED, "{}", good.body);
    assert_eq!(patients(&app).await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_creations_with_one_key_make_one_patient() {
    let (app, token) = setup().await;
    let app = Arc::new(app);
    let mut tasks = Vec::new();
    for _ in 0..6 {
        let (app, token) = (app.clone(), token.clone());
        tasks.push(tokio::spawn(async move {
            let body = json!({"name": "山田 花子"});
            create_patient(&app, &token, &body, "race").await
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
    assert_eq!(patients(&app).await, 1);
}

/// The wrapper is on every mounted `POST`: each one reads and checks the header before
/// anything else (a malformed key is refused), so no new operation can miss it.
#[tokio::test]
async fn every_post_route_reads_the_idempotency_key() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let admin = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let id = uuid::Uuid::now_v7().to_string();
    let posts = tsunagu_web::api::routes()
        .into_iter()
        .filter(|(m, _)| *m == "POST");
    for (_, path) in posts {
        let path = path.replace("{id}", &id).replace("{template_id}", &id);
        let headers = [("idempotency-key", "not a valid key")];
        let res = app
            .call(
                Method::POST,
                &path,
                Some(&admin),
                Some(&json!({})),
                &headers,
            )
            .await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::BAD_REQUEST, "invalid_idempotency_key"),
            "POST {path}"
        );
    }
}
