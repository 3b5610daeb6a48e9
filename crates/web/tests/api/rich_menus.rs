//! `/api/v1/automation/rich-menus` and `…/rich-menu-rules`: a LINE rich menu drafted with its
//! areas and image (base64, LINE's limits), published and made default through queued jobs, a
//! tag rule; refusals change nothing; another clinic's menu or channel is not found.
use axum::http::{Method, StatusCode};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Value};
use tsunagu_core::TokenScope;
use tsunagu_sandbox::png::png_sized;

use super::support::{app, App, Res};

const URL: &str = "/api/v1/automation/rich-menus";
const RULES: &str = "/api/v1/automation/rich-menu-rules";

async fn call(app: &App, m: Method, path: &str, token: &str, body: Option<Value>) -> Res {
    app.call(m, path, Some(token), body.as_ref(), &[]).await
}

fn areas() -> Value {
    json!([{"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
            "action": {"type": "message", "text": "予約"}},
           {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
            "action": {"type": "uri", "uri": "https://sakura-clinic.example/"}}])
}

#[tokio::test]
async fn a_rich_menu_is_drafted_with_its_image_published_made_default_and_ruled() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let read = app.token(&a.clinic, &[TokenScope::Read]).await;
    let body = json!({"channel_id": a.channel.as_str(), "name": "初診の方へ",
        "chat_bar_text": "メニュー", "width": 2500, "height": 843, "areas": areas(),
        "image_base64": B64.encode(png_sized(2500, 843))});

    assert_eq!(
        app.post(URL, &read, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    let mut wrong_size = body.clone();
    wrong_size["image_base64"] = json!(B64.encode(png_sized(2500, 1686)));
    let mut bad_uri = body.clone();
    bad_uri["areas"][1]["action"]["uri"] = json!("http://sakura-clinic.example/");
    let mut bad_bar = body.clone();
    bad_bar["chat_bar_text"] = json!("");
    let mut not_base64 = body.clone();
    not_base64["image_base64"] = json!("@@@");
    for (bad, code) in [
        (wrong_size, "rich_menu_image_size_mismatch"),
        (bad_uri, "rich_menu_action_invalid"),
        (bad_bar, "rich_menu_text_invalid"),
        (not_base64, "rich_menu_image_type"),
    ] {
        let res = app.post(URL, &admin, bad).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code),
            "{}",
            res.body
        );
    }
    assert_eq!(
        app.get(URL, &read).await.body["items"],
        json!([]),
        "nothing stored"
    );

    let made = app.post(URL, &admin, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(
        (&made.body["state"], &made.body["image_type"]),
        (&json!("draft"), &json!("image/png"))
    );
    assert_eq!(made.body["areas"][0]["action"]["text"], "予約");
    let id = made.body["id"].as_str().unwrap().to_string();
    let one = format!("{URL}/{id}");

    let not_yet = call(
        &app,
        Method::PUT,
        &format!("{one}/default"),
        &admin,
        Some(json!({"default": true})),
    )
    .await;
    assert_eq!(
        not_yet.code(),
        "rich_menu_not_published",
        "{}",
        not_yet.body
    );
    let jobs = app.jobs().await;
    let queued = app.post(&format!("{one}/publish"), &admin, json!({})).await;
    assert_eq!(queued.status, StatusCode::ACCEPTED, "{}", queued.body);
    assert_eq!(queued.body["state"], "publishing");
    assert_eq!(app.jobs().await, jobs + 1, "LINE is called from its job");

    let renamed = call(
        &app,
        Method::PATCH,
        &one,
        &admin,
        Some(json!({"chat_bar_text": "診療案内"})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(renamed.body["chat_bar_text"], "診療案内");

    let rule = app
        .post(RULES, &admin, json!({"tag": "初診", "rich_menu_id": id}))
        .await;
    assert_eq!(rule.status, StatusCode::CREATED, "{}", rule.body);
    let again = app
        .post(RULES, &admin, json!({"tag": "初診", "rich_menu_id": id}))
        .await;
    assert_eq!(again.code(), "rich_menu_rule_exists");
    assert_eq!(app.get(RULES, &read).await.body["items"][0]["tag"], "初診");
    let res = call(&app, Method::DELETE, &one, &admin, None).await;
    assert_eq!(
        res.status,
        StatusCode::NOT_FOUND,
        "a rule names it: it stays"
    );
    let rule_one = format!("{RULES}/{}", rule.body["id"].as_str().unwrap());
    assert_eq!(
        call(&app, Method::DELETE, &rule_one, &admin, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );

    let draft = app
        .post(
            URL,
            &admin,
            json!({"channel_id": a.channel.as_str(), "name": "下書き",
            "chat_bar_text": "メニュー", "width": 2500, "height": 843}),
        )
        .await;
    let draft_one = format!("{URL}/{}", draft.body["id"].as_str().unwrap());
    assert_eq!(
        call(&app, Method::DELETE, &draft_one, &admin, None)
            .await
            .status,
        StatusCode::NO_CONTENT
    );
    for action in [
        "create",
        "update",
        "publish",
        "delete",
        "rule_create",
        "rule_delete",
    ] {
        let action = format!("api.automation.rich_menu.{action}");
        assert!(!app.audits(&action).await.is_empty(), "{action}");
    }
}

#[tokio::test]
async fn another_clinics_rich_menu_or_channel_is_not_found_and_unchanged() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let b = app.clinic("other").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let theirs = app.token(&b.clinic, &[TokenScope::Admin]).await;
    let made = app
        .post(
            URL,
            &theirs,
            json!({"channel_id": b.channel.as_str(), "name": "B",
            "chat_bar_text": "メニュー", "width": 2500, "height": 843}),
        )
        .await;
    let b_id = made.body["id"].as_str().unwrap().to_string();
    let b_one = format!("{URL}/{b_id}");
    for (m, path, body) in [
        (Method::GET, b_one.clone(), None),
        (
            Method::PATCH,
            b_one.clone(),
            Some(json!({"name": "乗っ取り"})),
        ),
        (Method::POST, format!("{b_one}/publish"), Some(json!({}))),
        (
            Method::PUT,
            format!("{b_one}/default"),
            Some(json!({"default": true})),
        ),
        (Method::DELETE, b_one.clone(), None),
        (
            Method::POST,
            RULES.to_string(),
            Some(json!({"tag": "初診", "rich_menu_id": b_id})),
        ),
    ] {
        let res = call(&app, m.clone(), &path, &admin, body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{m} {path} {}", res.body);
    }
    assert_eq!(app.get(&b_one, &theirs).await.body["name"], "B");
    let on_b = json!({"channel_id": b.channel.as_str(), "name": "乗っ取り",
        "chat_bar_text": "メニュー", "width": 2500, "height": 843});
    assert_eq!(
        app.post(URL, &admin, on_b).await.status,
        StatusCode::NOT_FOUND
    );

    let key = [("idempotency-key", "rich-menu-1")];
    let body = json!({"channel_id": a.channel.as_str(), "name": "A",
        "chat_bar_text": "メニュー", "width": 2500, "height": 843});
    let first = app
        .call(Method::POST, URL, Some(&admin), Some(&body), &key)
        .await;
    let second = app
        .call(Method::POST, URL, Some(&admin), Some(&body), &key)
        .await;
    assert_eq!(first.body["id"], second.body["id"]);
    let count = "SELECT COUNT(*) FROM rich_menus WHERE clinic_id = $1";
    assert_eq!(app.scalar(count, a.clinic.as_str()).await, 1);
}
