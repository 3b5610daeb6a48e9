//! Automation (自動応答): the keyword-rules API and the settings tab, administrators only, in
//! Japanese, audited.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::Role;
use tsunagu_testkit::TestApp;

use super::support::{app, App, Session, T0};

async fn api(app: &App, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
    let mut call = app.request(method, path).bearer(app.api_token());
    if let Some(b) = &body {
        call = call.json(b);
    }
    let res = call.send().await;
    let v = if res.text().is_empty() {
        Value::Null
    } else {
        res.json()
    };
    (res.status, v)
}

async fn form(app: &App, s: &Session, path: &str, fields: &[(&str, &str)]) -> super::support::Res {
    let mut all = vec![("csrf_token", s.csrf.as_str())];
    all.extend_from_slice(fields);
    app.post_form(path, s, &all).await
}

#[tokio::test]
async fn the_api_writes_reads_and_removes_keyword_rules_with_japanese_refusals() {
    let app = App {
        app: TestApp::builder()
            .clock_ms(T0)
            .sample_clinic()
            .start()
            .await,
    };
    let url = "/api/v1/automation/keyword-rules";
    let body = json!({"name": "駐車場", "keywords": ["駐車場", "ちゅうしゃじょう"],
        "match_mode": "exact", "reply_text": "{{patient.name}}様、駐車場は建物の裏です。"});
    let (status, made) = api(&app, Method::POST, url, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(made["active_hours"], "always");
    assert_eq!(made["enabled"], true);
    let id = made["id"].as_str().unwrap().to_string();

    let bad =
        json!({"name": "x", "keywords": ["(駐車"], "match_mode": "pattern", "reply_text": "本文"});
    let (status, err) = api(&app, Method::POST, url, Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["code"], "invalid_keyword_pattern");
    let none = json!({"name": "x", "keywords": [" "], "match_mode": "exact", "reply_text": "本文"});
    let (_, err) = api(&app, Method::POST, url, Some(none)).await;
    assert_eq!(err["error"]["code"], "keyword_rule_keywords_required");

    let one = format!("{url}/{id}");
    let (status, changed) = api(&app, Method::PATCH, &one, Some(json!({"enabled": false}))).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["enabled"], false);
    assert_eq!(
        changed["keywords"],
        json!(["駐車場", "ちゅうしゃじょう"]),
        "kept"
    );
    let (status, got) = api(&app, Method::GET, &one, None).await;
    assert_eq!(
        (status, got["name"].as_str()),
        (StatusCode::OK, Some("駐車場"))
    );
    let (_, list) = api(&app, Method::GET, url, None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    let (status, _) = api(&app, Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api(&app, Method::GET, &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.app
            .count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'api.automation.rule.%'")
            .await,
        3
    );
}

#[tokio::test]
async fn administrators_keep_automation_on_the_settings_tab_in_japanese() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let admin = app.sign_in(&s.clinic, Role::Admin, "事務長 田中").await;
    let page = app.get("/app/settings/automation", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(r#"data-testid="rule-empty""#));
    assert!(page.text.contains("まだキーワード自動応答がありません"));
    assert!(
        page.text.contains("スタッフ\n人と話したい"),
        "default escape words"
    );

    let typo = [
        ("name", "駐車場"),
        ("keywords", "駐車場\nちゅうしゃじょう"),
        ("match_mode", "exact"),
        ("reply_text", "{{clinic.adress}}の裏です"),
        ("active_hours", "always"),
        ("enabled", "on"),
    ];
    let res = form(&app, &admin, "/app/settings/automation/rules", &typo).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text.contains("使えない差し込み項目です"),
        "{}",
        res.text
    );
    assert!(
        res.text.contains("{{clinic.adress}}の裏です"),
        "typed text kept"
    );

    let good = [
        ("name", "駐車場"),
        ("keywords", "駐車場\nちゅうしゃじょう"),
        ("match_mode", "exact"),
        ("reply_text", "{{clinic.name}}の駐車場は裏です"),
        ("active_hours", "always"),
        ("enabled", "on"),
    ];
    let res = form(&app, &admin, "/app/settings/automation/rules", &good).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = app.get(res.location(), &admin).await.text;
    assert!(page.contains("キーワード自動応答を登録しました。"));
    assert!(page.contains("ちゅうしゃじょう"));
    let id: String = sqlx::query_scalar("SELECT id FROM automation_keyword_rules")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let res = form(
        &app,
        &admin,
        &format!("/app/settings/automation/rules/{id}/enabled"),
        &[("enabled", "0")],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let on: i64 = sqlx::query_scalar("SELECT enabled FROM automation_keyword_rules")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(on, 0);

    let quiet = [
        ("away_enabled", "on"),
        ("away_text", "時間外です"),
        ("away_every_hours", "12"),
        ("escape_words", ""),
        ("quiet_minutes", "30"),
    ];
    let res = form(&app, &admin, "/app/settings/automation/settings", &quiet).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("空にはできません"), "{}", res.text);
    let ok = [
        ("away_enabled", "on"),
        ("away_text", "時間外です"),
        ("away_every_hours", "１２"),
        ("escape_words", "スタッフ\n受付"),
        ("quiet_minutes", "15"),
    ];
    let res = form(&app, &admin, "/app/settings/automation/settings", &ok).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let (enabled, words, minutes): (i64, String, i64) =
        sqlx::query_as("SELECT away_enabled, escape_words, quiet_minutes FROM automation_settings")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        (enabled, words.as_str(), minutes),
        (1, r#"["スタッフ","受付"]"#, 15)
    );

    let clerk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert_eq!(
        app.get("/app/settings/automation", &clerk).await.status,
        StatusCode::FORBIDDEN
    );
    let res = form(
        &app,
        &clerk,
        &format!("/app/settings/automation/rules/{id}/delete"),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = form(
        &app,
        &admin,
        &format!("/app/settings/automation/rules/{id}/delete"),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.audits("ui.automation.rule.delete").await.len(), 1);
    assert_eq!(app.audits("ui.automation.settings.update").await.len(), 1);
}
