//! `/api/v1/automation/sequences`: step sequences written, read, switched and removed, their
//! enrollments listed and stopped; refusals change nothing; another clinic's are not found.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::{ClinicId, TokenScope};

use super::support::{app, App, Res, T0};

const URL: &str = "/api/v1/automation/sequences";

async fn call(app: &App, m: Method, path: &str, token: &str, body: Option<Value>) -> Res {
    app.call(m, path, Some(token), body.as_ref(), &[]).await
}

fn body() -> Value {
    json!({"name": "初診後のフォロー", "purpose": "care",
    "trigger": {"kind": "tag_added", "tag": "初診"},
    "steps": [
        {"delay_minutes": 1440, "send_at_minute": 600, "body": "{{patient.name}}様、昨日はありがとうございました。"},
        {"delay_minutes": 4320, "after_previous": true, "open_hours_only": true, "body": "その後いかがですか。"}
    ]})
}

/// Enrolls the clinic's patient `patient` in the sequence (as the trigger job would).
async fn enroll(app: &App, clinic: &ClinicId, seq: &str, patient: &str) -> String {
    use tsunagu_automation::sequences::{enrollments, store};
    let mut conn = app.db.pool().acquire().await.unwrap();
    let s = store::get(&mut conn, clinic, seq).await.unwrap().unwrap();
    let schedule = tsunagu_calendar::Schedule::japanese_clinic_default(chrono_tz::Asia::Tokyo);
    enrollments::enroll(&mut conn, clinic, &s, patient, None, &schedule, T0)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_sequence_is_written_read_switched_its_enrollment_stopped_and_removed() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let read = app.token(&a.clinic, &[TokenScope::Read]).await;

    assert_eq!(
        app.post(URL, &read, body()).await.status,
        StatusCode::FORBIDDEN
    );
    let made = app.post(URL, &admin, body()).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.body["enabled"], true);
    assert_eq!(made.body["steps"][1]["after_previous"], true);
    assert_eq!(
        made.body["trigger"],
        json!({"kind": "tag_added", "tag": "初診"})
    );
    let id = made.body["id"].as_str().unwrap().to_string();
    let one = format!("{URL}/{id}");

    let mut no_steps = body();
    no_steps["steps"] = json!([]);
    let mut bad_time = body();
    bad_time["steps"][0]["send_at_minute"] = json!(1440);
    let mut bad_purpose = body();
    bad_purpose["purpose"] = json!("spam");
    for (bad, what) in [
        (no_steps, "Enter at least one message."),
        (bad_time, "Enter the time like 10:00."),
        (bad_purpose, "Choose what starts it"),
    ] {
        let res = call(&app, Method::PUT, &one, &admin, Some(bad)).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, "invalid_sequence")
        );
        let message = res.body["error"]["message"].as_str().unwrap();
        assert!(
            message.starts_with("The step sequence cannot be saved: "),
            "{message}"
        );
        assert!(message.contains(what), "{message}");
    }
    assert_eq!(app.get(&one, &read).await.body, made.body, "unchanged");

    let mut changed = body();
    changed["name"] = json!("初診後のご案内");
    changed["steps"] = json!([{"delay_minutes": 60, "body": "ご来院ありがとうございました。"}]);
    let saved = call(&app, Method::PUT, &one, &admin, Some(changed)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["steps"].as_array().unwrap().len(), 1);

    let c = app.conversation(&a, "U1", "こんにちは", T0).await;
    let enrollment = enroll(&app, &a.clinic, &id, &c.patient_id).await;
    let listed = app.get(&format!("{one}/enrollments"), &read).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    assert_eq!(listed.body["items"][0]["id"], enrollment.as_str());
    assert_eq!(listed.body["items"][0]["state"], "active");
    assert_eq!(listed.body["items"][0]["patient_name"], "山田 太郎");
    assert_eq!(app.get(URL, &read).await.body["items"][0]["active"], 1);

    let stop = format!("{one}/enrollments/{enrollment}/stop");
    let stopped = app.post(&stop, &admin, json!({})).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    assert_eq!(
        (&stopped.body["state"], &stopped.body["stop_reason"]),
        (&json!("stopped"), &json!("staff"))
    );
    let again = app.post(&stop, &admin, json!({})).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "enrollment_not_active")
    );
    assert_eq!(
        app.audits("api.automation.sequence.enrollment_stop")
            .await
            .len(),
        1
    );

    // Off stops who is in it, as on the page.
    let second = app.conversation(&a, "U2", "こんにちは", T0).await;
    let e2 = enroll(&app, &a.clinic, &id, &second.patient_id).await;
    let off = call(
        &app,
        Method::PATCH,
        &one,
        &admin,
        Some(json!({"enabled": false})),
    )
    .await;
    assert_eq!(
        (off.status, &off.body["enabled"]),
        (StatusCode::OK, &json!(false))
    );
    let state = "SELECT COUNT(*) FROM sequence_enrollments WHERE id = $1 AND stop_reason = 'sequence_disabled'";
    assert_eq!(app.scalar(state, &e2).await, 1);
    assert_eq!(app.audits("sequence.disable").await.len(), 1);

    let gone = call(&app, Method::DELETE, &one, &admin, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&one, &read).await.status, StatusCode::NOT_FOUND);
    let left = "SELECT COUNT(*) FROM sequence_enrollments WHERE sequence_id = $1";
    assert_eq!(app.scalar(left, &id).await, 0);
    for action in ["create", "update", "delete"] {
        let action = format!("api.automation.sequence.{action}");
        assert_eq!(app.audits(&action).await.len(), 1, "{action}");
    }
}

#[tokio::test]
async fn another_clinics_sequence_enrollment_or_channel_is_not_found_and_unchanged() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let b = app.clinic("other").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let theirs = app.token(&b.clinic, &[TokenScope::Admin]).await;
    let made = app.post(URL, &theirs, body()).await;
    let b_id = made.body["id"].as_str().unwrap().to_string();
    let c = app.conversation(&b, "U9", "こんにちは", T0).await;
    let e = enroll(&app, &b.clinic, &b_id, &c.patient_id).await;
    let b_one = format!("{URL}/{b_id}");
    for (m, path, body) in [
        (Method::GET, b_one.clone(), None),
        (Method::PUT, b_one.clone(), Some(body())),
        (
            Method::PATCH,
            b_one.clone(),
            Some(json!({"enabled": false})),
        ),
        (Method::DELETE, b_one.clone(), None),
        (Method::GET, format!("{b_one}/enrollments"), None),
        (
            Method::POST,
            format!("{b_one}/enrollments/{e}/stop"),
            Some(json!({})),
        ),
    ] {
        let res = call(&app, m.clone(), &path, &admin, body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{m} {path}");
    }
    let still = app.get(&b_one, &theirs).await.body;
    assert_eq!(
        (&still["enabled"], &still["active"]),
        (&json!(true), &json!(1))
    );

    // A's own sequence may not name B's channel, nor stop B's enrollment through it.
    let mut on_b = body();
    on_b["trigger"] = json!({"kind": "friend_added", "channel_id": b.channel.as_str()});
    let res = app.post(URL, &admin, on_b).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    let mine = app.post(URL, &admin, body()).await;
    let path = format!(
        "{URL}/{}/enrollments/{e}/stop",
        mine.body["id"].as_str().unwrap()
    );
    assert_eq!(
        app.post(&path, &admin, json!({})).await.status,
        StatusCode::NOT_FOUND
    );
    let active = "SELECT COUNT(*) FROM sequence_enrollments WHERE id = $1 AND state = 'active'";
    assert_eq!(app.scalar(active, &e).await, 1);

    let key = [("idempotency-key", "sequence-create-1")];
    let first = app
        .call(Method::POST, URL, Some(&admin), Some(&body()), &key)
        .await;
    let second = app
        .call(Method::POST, URL, Some(&admin), Some(&body()), &key)
        .await;
    assert_eq!(first.body["id"], second.body["id"]);
    let count = "SELECT COUNT(*) FROM sequences WHERE clinic_id = $1";
    assert_eq!(app.scalar(count, a.clinic.as_str()).await, 2);
}
