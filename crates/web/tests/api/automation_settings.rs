//! `/api/v1/automation/settings`: the away message, escape words, quiet window and greetings,
//! all or nothing, audited, another clinic's channel not found.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::TokenScope;

use super::support::{app, App, Res};

const URL: &str = "/api/v1/automation/settings";

async fn put(app: &App, token: &str, body: Value) -> Res {
    app.call(Method::PUT, URL, Some(token), Some(&body), &[])
        .await
}

#[tokio::test]
async fn settings_and_greetings_are_read_and_replaced_together_or_not_at_all() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let b = app.clinic("other").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let read = app.token(&a.clinic, &[TokenScope::Read]).await;

    let got = app.get(URL, &read).await;
    assert_eq!(got.status, StatusCode::OK, "{}", got.body);
    assert_eq!(got.body["away"]["enabled"], false);
    assert_eq!(got.body["quiet_minutes"], 30);
    assert_eq!(got.body["escape_words"][0], "スタッフ");
    let g = &got.body["greetings"][0];
    assert_eq!(
        (g["channel_id"].as_str(), &g["enabled"], &g["ask_consent"]),
        (Some(a.channel.as_str()), &json!(false), &json!(true)),
        "a channel never saved shows the page's default, off"
    );

    let body = json!({
        "away": {"enabled": true, "text": "時間外です。{{clinic.phone}}までお電話ください。", "every_hours": 6},
        "escape_words": ["スタッフ", "受付"],
        "quiet_minutes": 15,
        "greetings": [{"channel_id": a.channel.as_str(), "enabled": true,
            "text": "{{clinic.name}}です。友だち追加ありがとうございます。", "ask_consent": true,
            "offer_verification": false}]
    });
    assert_eq!(
        put(&app, &read, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let saved = put(&app, &admin, body.clone()).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["away"]["every_hours"], 6);
    assert_eq!(saved.body["escape_words"], json!(["スタッフ", "受付"]));
    assert_eq!(saved.body["greetings"][0]["enabled"], true);
    assert_eq!(saved.body["greetings"][0]["offer_verification"], false);
    assert_eq!(
        app.get(URL, &read).await.body,
        saved.body,
        "read back as saved"
    );
    assert_eq!(app.audits("api.automation.settings.update").await.len(), 1);
    assert_eq!(app.audits("api.automation.greeting.update").await.len(), 1);

    // Each refusal leaves everything as it was, the settings included.
    let mut bad_words = body.clone();
    bad_words["quiet_minutes"] = json!(20);
    bad_words["escape_words"] = json!([]);
    let mut bad_number = body.clone();
    bad_number["away"]["every_hours"] = json!(0);
    let mut bad_text = body.clone();
    bad_text["quiet_minutes"] = json!(20);
    bad_text["greetings"][0]["text"] = json!("{{patient.nmae}}様");
    let mut theirs = body.clone();
    theirs["quiet_minutes"] = json!(20);
    theirs["greetings"][0]["channel_id"] = json!(b.channel.as_str());
    for (bad, status, code) in [
        (
            bad_words,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_escape_words",
        ),
        (
            bad_number,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_automation_number",
        ),
        (
            bad_text,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_canned_variable",
        ),
        (theirs, StatusCode::NOT_FOUND, "not_found"),
    ] {
        let res = put(&app, &admin, bad).await;
        assert_eq!((res.status, res.code()), (status, code), "{}", res.body);
        assert!(!res.body["error"]["message"].as_str().unwrap().is_empty());
    }
    assert_eq!(
        app.get(URL, &read).await.body,
        saved.body,
        "nothing changed"
    );
    assert_eq!(app.audits("api.automation.settings.update").await.len(), 1);
    let other = app.token(&b.clinic, &[TokenScope::Read]).await;
    let theirs = app.get(URL, &other).await;
    assert_eq!(
        theirs.body["quiet_minutes"], 30,
        "the other clinic's are its own"
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM automation_greetings WHERE channel_id = $1",
            b.channel.as_str()
        )
        .await,
        0
    );
}
