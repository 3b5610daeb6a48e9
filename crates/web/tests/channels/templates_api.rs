//! `/api/v1/channels/{id}/templates`: create, list, record Meta's review state, refusals.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::TokenScope;

use super::api_support::{app, App};
use super::seed::whatsapp_channel;

fn reminder() -> Value {
    json!({
        "name": "appointment_reminder",
        "language": "ja",
        "category": "UTILITY",
        "body": "{{1}}様、{{2}}にご予約があります。",
    })
}

async fn patch(app: &App, path: &str, token: &str, body: Value) -> super::api_support::Res {
    app.call(Method::PATCH, path, Some(token), Some(&body), &[])
        .await
}

#[tokio::test]
async fn an_administrator_adds_a_template_records_its_approval_and_integrations_list_it() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let wa = whatsapp_channel(&app.db, &s.clinic).await;
    let admin = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let reply = app.token(&s.clinic, &[TokenScope::Reply]).await;
    let base = format!("/api/v1/channels/{wa}/templates");

    let res = app.post(&base, &admin, reminder()).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!(res.body["status"], "draft");
    assert_eq!(res.body["variables"], 2);
    let id = res.body["id"].as_str().unwrap().to_string();
    assert_eq!(app.audits("api.template.create").await.len(), 1);

    let path = format!("{base}/{id}");
    let body = json!({"status": "approved", "provider_template_id": "594425479261596"});
    let res = patch(&app, &path, &admin, body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["status"], "approved");
    assert_eq!(res.body["provider_template_id"], "594425479261596");
    let res = patch(
        &app,
        &path,
        &admin,
        json!({"status": "paused", "reason": "品質評価が低下しました"}),
    )
    .await;
    assert_eq!(res.body["status_reason"], "品質評価が低下しました");
    assert_eq!(res.body["provider_template_id"], "594425479261596");
    assert_eq!(app.audits("api.template.update").await.len(), 2);

    let list = app.get(&base, &reply).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_eq!(list.body["items"][0]["id"], id.as_str());
    assert_eq!(list.body["items"][0]["status"], "paused");
}

#[tokio::test]
async fn bad_templates_are_refused_with_stable_codes() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let wa = whatsapp_channel(&app.db, &s.clinic).await;
    let admin = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let base = format!("/api/v1/channels/{wa}/templates");
    let with = |k: &str, v: &str| {
        let mut b = reminder();
        b[k] = json!(v);
        b
    };
    let cases = [
        (
            with("name", "Appointment Reminder"),
            "invalid_template_name",
        ),
        (with("language", "japanese"), "invalid_template_language"),
        (
            with("category", "TRANSACTIONAL"),
            "invalid_template_category",
        ),
        (
            with("body", "{{1}}様 {{3}}"),
            "invalid_template_placeholders",
        ),
        (with("body", ""), "invalid_template_body"),
    ];
    for (body, code) in cases {
        let res = app.post(&base, &admin, body).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{code}");
        assert_eq!(res.code(), code);
    }
    app.post(&base, &admin, reminder()).await;
    let again = app.post(&base, &admin, reminder()).await;
    assert_eq!(
        (again.status, again.code()),
        (StatusCode::CONFLICT, "template_exists")
    );

    // Only WhatsApp channels have templates.
    let line = format!("/api/v1/channels/{}/templates", s.channel);
    let res = app.post(&line, &admin, reminder()).await;
    assert_eq!(res.code(), "templates_unsupported");

    let id = app.get(&base, &admin).await.body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let res = patch(
        &app,
        &format!("{base}/{id}"),
        &admin,
        json!({"status": "live"}),
    )
    .await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_template_status")
    );
    // A template is addressed through its own channel only.
    let res = patch(
        &app,
        &format!("{line}/{id}"),
        &admin,
        json!({"status": "approved"}),
    )
    .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn writing_needs_administer_and_other_clinics_see_nothing() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let wa = whatsapp_channel(&app.db, &s.clinic).await;
    let reply = app.token(&s.clinic, &[TokenScope::Reply]).await;
    let read = app.token(&s.clinic, &[TokenScope::Read]).await;
    let base = format!("/api/v1/channels/{wa}/templates");
    let res = app.post(&base, &reply, reminder()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&base, &read).await.status, StatusCode::FORBIDDEN);

    let other = app.clinic("momiji").await;
    let theirs = app.token(&other.clinic, &[TokenScope::Admin]).await;
    assert_eq!(app.get(&base, &theirs).await.status, StatusCode::NOT_FOUND);
    let res = app.post(&base, &theirs, reminder()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}
