//! Retention with a fake clock: the daily `privacy.retention` job (enqueued once per day by its
//! idempotency key, run by the worker) blanks raw bodies past the clinic's days, deletes
//! conversations past its years with their messages and attachments, and drops bodiless event
//! rows after the 8-day dedupe window.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::json;
use tsunagu_core::Clock;

async fn daily_pass(app: &TestApp) -> bool {
    let mut tx = app.db.begin().await.unwrap();
    let fresh = tsunagu_privacy::retention::enqueue_daily(tx.conn(), app.clock.now_ms())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    // Due at 18:00 UTC of its day.
    app.clock.advance(chrono::Duration::hours(19));
    app.run_jobs().await;
    fresh
}

#[tokio::test]
async fn the_daily_job_applies_the_clinic_settings_by_the_fake_clock() {
    let app = spawn_app().await;
    let (s, body) = app.api_get("/api/v1/settings/retention").await;
    assert_eq!(
        (s.as_u16(), body.clone()),
        (
            200,
            json!({"raw_webhook_body_days": 30, "conversation_years": 5})
        )
    );
    let r = app
        .http
        .put(format!("{}/api/v1/settings/retention", app.base))
        .bearer_auth(&app.api_token)
        .json(&json!({"raw_webhook_body_days": 10, "conversation_years": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let r = app
        .http
        .put(format!("{}/api/v1/settings/retention", app.base))
        .bearer_auth(&app.api_token)
        .json(&json!({"raw_webhook_body_days": 0, "conversation_years": 1}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);

    let ev = app.sandbox.user_text(PATIENT, "保存期間のテストです");
    assert_eq!(app.sandbox.send_event(ACCESS_TOKEN, ev).await.unwrap(), 200);
    assert_eq!(
        app.sandbox
            .send_event(ACCESS_TOKEN, app.sandbox.user_image(PATIENT))
            .await
            .unwrap(),
        200
    );
    app.run_jobs().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM attachments").await, 1);

    // Day 1: nothing is old enough; a second enqueue the same day is a no-op.
    assert!(daily_pass(&app).await);
    let mut tx = app.db.begin().await.unwrap();
    let again =
        tsunagu_privacy::retention::enqueue_daily(tx.conn(), app.clock.now_ms() - 3_600_000)
            .await
            .unwrap();
    tx.commit().await.unwrap();
    assert!(!again, "one job per day");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events WHERE body IS NULL")
            .await,
        0
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'privacy.retention' AND state = 'done'"
        )
        .await,
        1
    );

    // 11 days on: raw bodies are blanked (the rows stay while their dedupe window lasts,
    // then go); the conversation stays.
    app.clock.advance(chrono::Duration::days(10));
    daily_pass(&app).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events WHERE body IS NOT NULL")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events").await,
        0,
        "blanked rows older than 8 days go"
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations").await, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 2);

    // A year and a day after the last message: the conversation goes with its messages and
    // attachments and the jobs that named them; the patient record stays.
    app.clock.advance(chrono::Duration::days(366));
    daily_pass(&app).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM conversations").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM attachments").await, 0);
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, 1);
    let applied = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'retention.applied'")
        .await;
    assert_eq!(applied, 2);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'privacy.retention' AND state = 'done'"
        )
        .await,
        3
    );
}
