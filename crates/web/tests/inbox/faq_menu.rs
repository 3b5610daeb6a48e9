//! The FAQ menu (よくある質問メニュー): the API's GET/PUT and the settings tab, administrators
//! only, in Japanese, audited, items kept by id across saves.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::Role;
use tsunagu_testkit::TestApp;

use super::support::{app, App, Session, T0};

async fn api(app: &App, method: Method, body: Option<Value>) -> (StatusCode, Value) {
    let mut call = app
        .request(method, "/api/v1/automation/faq-menu")
        .bearer(app.api_token());
    if let Some(b) = &body {
        call = call.json(b);
    }
    let res = call.send().await;
    (res.status, res.json())
}

async fn form(app: &App, s: &Session, fields: &[(&str, &str)]) -> super::support::Res {
    let mut all = vec![("csrf_token", s.csrf.as_str())];
    all.extend_from_slice(fields);
    app.post_form("/app/settings/faq-menu", s, &all).await
}

#[tokio::test]
async fn the_api_replaces_the_menu_whole_and_keeps_item_ids() {
    let app = App {
        app: TestApp::builder()
            .clock_ms(T0)
            .sample_clinic()
            .start()
            .await,
    };
    let (status, empty) = api(&app, Method::GET, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(empty["items"], json!([]));
    assert_eq!(
        empty["channels"],
        json!(["line", "whatsapp", "messenger", "sms"])
    );

    let body = json!({"intro_text": "よくある質問", "channels": ["line", "sms"], "in_greeting": true,
        "items": [{"question": "駐車場", "answer": "裏に5台"}, {"question": "持ち物", "answer": "保険証"}]});
    let (status, saved) = api(&app, Method::PUT, Some(body)).await;
    assert_eq!(status, StatusCode::OK, "{saved}");
    let parking = saved["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(saved["in_greeting"], true);

    // Reordered, one changed, one removed: the kept item keeps its id.
    let body = json!({"intro_text": "よくある質問", "channels": ["line"], "in_greeting": false,
        "items": [{"question": "診療時間", "answer": "9時から"},
                  {"id": parking, "question": "駐車場", "answer": "裏に6台"}]});
    let (_, saved) = api(&app, Method::PUT, Some(body)).await;
    assert_eq!(saved["items"][1]["id"], parking.as_str());
    assert_eq!(saved["items"][1]["answer"], "裏に6台");
    let (_, got) = api(&app, Method::GET, None).await;
    assert_eq!(got["items"].as_array().unwrap().len(), 2);
    assert_eq!(got["items"][0]["question"], "診療時間");

    let bad = json!({"intro_text": "x", "channels": [], "in_greeting": false,
        "items": [{"question": "駐車場はどこにありますか、教えていただけますか", "answer": "裏"}]});
    let (status, err) = api(&app, Method::PUT, Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["code"], "invalid_faq_menu");
    assert_eq!(
        app.app
            .count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'api.automation.faq_menu.update'"
            )
            .await,
        2
    );
}

#[tokio::test]
async fn administrators_keep_the_faq_menu_on_its_settings_tab_in_japanese() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let admin = app.sign_in(&s.clinic, Role::Admin, "事務長 田中").await;
    let page = app.get("/app/settings/faq-menu", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(r#"data-testid="faq-empty""#));
    assert!(page.text.contains("まだ質問がありません"));

    let fields = [
        ("intro_text", "よくある質問です"),
        ("channel", "line"),
        ("channel", "sms"),
        ("id", ""),
        ("order", "2"),
        ("question", "駐車場"),
        ("answer", "裏に5台"),
        ("id", ""),
        ("order", "1"),
        ("question", "持ち物"),
        ("answer", ""),
    ];
    let res = form(&app, &admin, &fields).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text.contains("答えを1〜1000文字で入力してください"),
        "{}",
        res.text
    );
    assert!(res.text.contains("裏に5台"), "typed text kept");

    let mut ok = fields;
    ok[10] = ("answer", "保険証");
    let res = form(&app, &admin, &ok).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = app.get(res.location(), &admin).await.text;
    assert!(page.contains("よくある質問を保存しました。"));
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT question, position FROM automation_faq_items ORDER BY position")
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        rows,
        vec![("持ち物".to_string(), 0), ("駐車場".to_string(), 1)]
    );
    let (channels, greeting): (String, i64) =
        sqlx::query_as("SELECT channels, in_greeting FROM automation_faq_menus")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((channels.as_str(), greeting), ("line,sms", 0));

    let clerk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert_eq!(
        app.get("/app/settings/faq-menu", &clerk).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(form(&app, &clerk, &ok).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.app
            .count(
                "SELECT COUNT(*) FROM audit_events WHERE action = 'ui.automation.faq_menu.update'"
            )
            .await,
        1
    );
}
