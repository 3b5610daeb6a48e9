//! 予約送信 through the API: schedule at a clinic-local time or an instant, change and cancel
//! while still scheduled, the job sends it at its time, a refusal then shows in the object;
//! another clinic's token gets 404 and changes nothing.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::TokenScope;
use tsunagu_store::patients;

use super::support::{app, App, Conv, Res, T0};

/// 09:00 in Tokyo on 2026-01-01 is T0.
const TEN_TOKYO: &str = "2026-01-01T10:00:00+09:00";

async fn setup() -> (App, Conv, String) {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U1", "明日の持ち物は？", T0).await;
    let token = app.token(&s.clinic, &[TokenScope::Reply]).await;
    (app, conv, token)
}

fn base(conv: &Conv) -> String {
    format!("/api/v1/conversations/{}/scheduled", conv.id)
}

async fn schedule(app: &App, conv: &Conv, token: &str, body: Value) -> Res {
    app.post(&base(conv), token, body).await
}

async fn patch(app: &App, path: &str, token: &str, body: Value) -> Res {
    app.call(Method::PATCH, path, Some(token), Some(&body), &[])
        .await
}

/// (state, body, send_at) of every scheduled row, whichever clinic.
async fn rows(app: &App) -> Vec<(String, String, i64)> {
    sqlx::query_as("SELECT state, body, send_at FROM scheduled_messages ORDER BY created_at, id")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

async fn sent_texts(app: &App, conv: &Conv) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT body FROM messages WHERE conversation_id = $1 AND direction = 'out' ORDER BY created_at, id",
    )
    .bind(conv.id.as_str())
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn a_scheduled_reply_is_listed_changed_and_sent_by_the_job_at_its_time() {
    let (app, conv, token) = setup().await;
    // Clinic-local date and time, as the conversation page takes it.
    let res = schedule(
        &app,
        &conv,
        &token,
        json!({"text": " 保険証をお持ちください。 ", "date": "2026-01-01", "time": "10:00"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let id = res.body["id"].as_str().unwrap().to_string();
    assert_eq!(res.body["state"], "scheduled");
    assert_eq!(res.body["text"], "保険証をお持ちください。");
    assert_eq!(res.body["send_at"], "2026-01-01T01:00:00.000Z");
    assert_eq!(res.body["purpose"], Value::Null);
    assert_eq!(res.body["author_staff_id"], Value::Null);
    assert_eq!(app.audits("api.message.schedule").await.len(), 1);

    // The same instant as RFC 3339, a second one.
    let res = schedule(
        &app,
        &conv,
        &token,
        json!({"text": "2通目", "send_at": "2026-01-02T09:00:00+09:00", "purpose": "care"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["purpose"], "care");
    let list = app.get(&base(&conv), &token).await;
    assert_eq!(list.status, StatusCode::OK, "{}", list.body);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert_eq!(items[0]["id"], id.as_str(), "soonest first");

    // A change of text and time while still scheduled.
    let one = format!("{}/{id}", base(&conv));
    let res = patch(
        &app,
        &one,
        &token,
        json!({"text": "保険証と診察券をお持ちください。", "send_at": TEN_TOKYO}),
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["text"], "保険証と診察券をお持ちください。");
    assert_eq!(app.audits("api.message.schedule_change").await.len(), 1);

    app.run_jobs().await;
    assert!(
        sent_texts(&app, &conv).await.is_empty(),
        "not before its time"
    );
    app.clock.advance(chrono::Duration::minutes(60));
    app.run_jobs().await;
    assert_eq!(
        sent_texts(&app, &conv).await,
        vec!["保険証と診察券をお持ちください。"]
    );
    let res = app.get(&one, &token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["state"], "sent");
    assert!(res.body["message_id"].is_string(), "{}", res.body);
    assert_eq!(res.body["refusal_code"], Value::Null);

    // Once sent, a change or a cancel is refused and nothing changes.
    let before = rows(&app).await;
    let res = patch(&app, &one, &token, json!({"text": "今さら"})).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.code(), "scheduled_not_editable");
    let res = app.post(&format!("{one}/cancel"), &token, json!({})).await;
    assert_eq!(res.code(), "scheduled_not_editable");
    assert_eq!(rows(&app).await, before);
    assert_eq!(sent_texts(&app, &conv).await.len(), 1);
}

#[tokio::test]
async fn a_refusal_at_its_time_shows_in_the_api_object() {
    let (app, conv, token) = setup().await;
    let res = schedule(
        &app,
        &conv,
        &token,
        json!({"text": "明日お待ちしております。", "send_at": TEN_TOKYO}),
    )
    .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let one = format!("{}/{}", base(&conv), res.body["id"].as_str().unwrap());
    // The patient blocks the account before it leaves.
    let mut conn = app.db.pool().acquire().await.unwrap();
    patients::set_follow_state(&mut conn, &conv.identity_id, "blocked", T0 + 1)
        .await
        .unwrap();
    drop(conn);
    app.clock.advance(chrono::Duration::minutes(60));
    app.run_jobs().await;
    assert!(sent_texts(&app, &conv).await.is_empty());
    let res = app.get(&one, &token).await;
    assert_eq!(res.body["state"], "refused", "{}", res.body);
    assert_eq!(res.body["refusal_code"], "recipient_blocked");
    assert!(res.body["refusal_message"].as_str().unwrap().len() > 3);
    assert_eq!(res.body["message_id"], Value::Null);
}

#[tokio::test]
async fn past_or_unreadable_times_and_forbidden_purposes_are_refused_with_stable_codes() {
    let (app, conv, token) = setup().await;
    let cases = [
        (
            json!({"text": "遅い", "send_at": "2026-01-01T08:59:00+09:00"}),
            "scheduled_time_past",
        ),
        (
            json!({"text": "遅い", "date": "2026-01-01", "time": "08:00"}),
            "scheduled_time_past",
        ),
        (
            json!({"text": "遠い", "send_at": "2027-06-01T09:00:00+09:00"}),
            "scheduled_too_far",
        ),
        (
            json!({"text": "x", "send_at": "来週"}),
            "invalid_schedule_time",
        ),
        (
            json!({"text": "x", "date": "2026-01-02"}),
            "invalid_schedule_time",
        ),
        (json!({"text": "x"}), "invalid_schedule_time"),
        (json!({"text": "  ", "send_at": TEN_TOKYO}), "empty_message"),
        (
            json!({"text": "x", "send_at": TEN_TOKYO, "purpose": "spam"}),
            "invalid_purpose",
        ),
        (
            json!({"text": "x", "send_at": TEN_TOKYO, "purpose": "marketing"}),
            "scope_forbids_purpose",
        ),
    ];
    for (body, code) in cases {
        let res = schedule(&app, &conv, &token, body.clone()).await;
        assert_eq!(res.code(), code, "{body}: {}", res.body);
        assert!(res.status.is_client_error());
    }
    assert!(rows(&app).await.is_empty(), "nothing stored");
    // A token that may only read cannot schedule or list.
    let clinic = tsunagu_core::ClinicId::from_db(
        sqlx::query_scalar::<_, String>("SELECT clinic_id FROM conversations WHERE id = $1")
            .bind(conv.id.as_str())
            .fetch_one(app.db.pool())
            .await
            .unwrap(),
    );
    let reader = app.token(&clinic, &[TokenScope::Read]).await;
    let res = schedule(
        &app,
        &conv,
        &reader,
        json!({"text": "x", "send_at": TEN_TOKYO}),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&base(&conv), &reader).await.status,
        StatusCode::FORBIDDEN
    );
    assert!(rows(&app).await.is_empty());
}

#[tokio::test]
async fn another_clinics_token_gets_404_and_nothing_changes() {
    let (app, conv, token) = setup().await;
    let res = schedule(
        &app,
        &conv,
        &token,
        json!({"text": "予約の確認です", "send_at": TEN_TOKYO}),
    )
    .await;
    let id = res.body["id"].as_str().unwrap().to_string();
    let b = app.clinic("kaede").await;
    let b_conv = app.conversation(&b, "U2", "こんにちは", T0).await;
    let intruder = app.token(&b.clinic, &[TokenScope::Admin]).await;
    let before = rows(&app).await;
    let one = format!("{}/{id}", base(&conv));
    // A's conversation with B's token.
    assert_eq!(
        app.get(&base(&conv), &intruder).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(&one, &intruder).await.status, StatusCode::NOT_FOUND);
    let res = schedule(
        &app,
        &conv,
        &intruder,
        json!({"text": "乗っ取り", "send_at": TEN_TOKYO}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = patch(&app, &one, &intruder, json!({"text": "乗っ取り"})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post(&format!("{one}/cancel"), &intruder, json!({}))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    // A's scheduled message through B's own conversation.
    let via_b = format!("{}/{id}", base(&b_conv));
    assert_eq!(
        app.get(&via_b, &intruder).await.status,
        StatusCode::NOT_FOUND
    );
    let res = patch(&app, &via_b, &intruder, json!({"text": "乗っ取り"})).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let res = app
        .post(&format!("{via_b}/cancel"), &intruder, json!({}))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(rows(&app).await, before, "nothing changed");
    assert!(app.audits("api.message.schedule_change").await.is_empty());
    assert!(app.audits("api.message.schedule_cancel").await.is_empty());

    // A's own token may cancel it, once; a repeated Idempotency-Key replays the answer.
    let cancel = format!("{one}/cancel");
    let key = [("idempotency-key", "cancel-1")];
    let first = app
        .call(Method::POST, &cancel, Some(&token), Some(&json!({})), &key)
        .await;
    assert_eq!(first.status, StatusCode::OK, "{}", first.body);
    assert_eq!(first.body["state"], "cancelled");
    let again = app
        .call(Method::POST, &cancel, Some(&token), Some(&json!({})), &key)
        .await;
    assert_eq!(again.bytes, first.bytes);
    assert_eq!(app.audits("api.message.schedule_cancel").await.len(), 1);
    app.clock.advance(chrono::Duration::hours(2));
    app.run_jobs().await;
    assert!(
        sent_texts(&app, &conv).await.is_empty(),
        "a cancelled one never leaves"
    );
}
