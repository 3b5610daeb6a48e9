//! LINE rich menus through the whole app and the LINE emulator, on SQLite and (with
//! TEST_DATABASE_URL) PostgreSQL: staff make a menu on the settings pages, upload its image
//! (a wrong one is refused and changes nothing), draw its areas, publish it (a job, retried on
//! LINE's 429/500), make it the default, and a tag rule links it to a tagged patient; a custom
//! field rule (来院区分 = 再診) links it when the patient's field changes.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use axum::http::{Method, StatusCode};
use serde_json::json;
use tsunagu_channels::ChannelKind;
use tsunagu_core::Role;
use tsunagu_sandbox::png::png_sized;
use tsunagu_testkit::app::line::{ACCESS_TOKEN, PATIENT};
use tsunagu_testkit::app::StaffSession;
use tsunagu_testkit::TestApp;

const PAGE: &str = "/app/settings/rich-menus";

async fn app() -> (TestApp, StaffSession) {
    let app = TestApp::builder()
        .with_channels(&[ChannelKind::Line])
        .start()
        .await;
    let owner = app
        .staff_session(app.clinic(), Role::Owner, "院長 森")
        .await;
    (app, owner)
}

async fn post(app: &TestApp, s: &StaffSession, path: &str, fields: &[(&str, &str)]) -> String {
    let mut all = vec![("csrf_token", s.csrf.as_str())];
    all.extend_from_slice(fields);
    let res = app
        .request(Method::POST, path)
        .session(s)
        .form(&all)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}: {}", res.text());
    res.location().to_owned()
}

async fn upload(app: &TestApp, s: &StaffSession, menu: &str, image: Vec<u8>) -> String {
    let boundary = "----tsunagu-test";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"menu.png\"\r\nContent-Type: image/png\r\n\r\n",
        s.csrf
    )
    .into_bytes();
    body.extend_from_slice(&image);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let res = app
        .request(Method::POST, &format!("{PAGE}/{menu}/image"))
        .session(s)
        .header(
            "content-type",
            format!("multipart/form-data; boundary={boundary}"),
        )
        .body(body)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    res.location().to_owned()
}

async fn menu_state(app: &TestApp, id: &str) -> (String, Option<String>, Option<String>) {
    sqlx::query_as("SELECT state, failure_code, line_rich_menu_id FROM rich_menus WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// A drafted menu with its image and two areas; its id.
async fn ready_menu(app: &TestApp, owner: &StaffSession) -> String {
    let channel = app.line().channel.as_str().to_owned();
    let to = post(
        app,
        owner,
        PAGE,
        &[
            ("channel_id", &channel),
            ("name", "初診の方向け"),
            ("chat_bar_text", "メニュー"),
            ("size", "2500x843"),
            ("alias_id", "first-visit"),
        ],
    )
    .await;
    let id = to
        .trim_start_matches(&format!("{PAGE}/"))
        .split('?')
        .next()
        .unwrap()
        .to_owned();

    // The wrong size is refused with its code and changes nothing.
    let refused = upload(app, owner, &id, png_sized(2500, 1686)).await;
    assert!(
        refused.ends_with("?error=rich_menu_image_size_mismatch"),
        "{refused}"
    );
    let page = app
        .request(Method::GET, &refused)
        .session(owner)
        .send()
        .await;
    assert!(page
        .text()
        .contains("画像の大きさがリッチメニューの大きさと違います"));
    let none: i64 = app
        .count(&format!(
            "SELECT COUNT(*) FROM rich_menus WHERE id = '{id}' AND image IS NOT NULL"
        ))
        .await;
    assert_eq!(none, 0);

    assert!(upload(app, owner, &id, png_sized(2500, 843))
        .await
        .ends_with("saved=image"));
    let areas = json!([
        {"bounds": {"x": 0, "y": 0, "width": 1250, "height": 843},
         "action": {"type": "message", "label": "予約", "text": "予約したい"}},
        {"bounds": {"x": 1250, "y": 0, "width": 1250, "height": 843},
         "action": {"type": "uri", "label": "アクセス", "uri": "https://example.jp/access"}}
    ])
    .to_string();
    let saved = post(
        app,
        owner,
        &format!("{PAGE}/{id}/areas"),
        &[("areas", &areas)],
    )
    .await;
    assert!(saved.ends_with("saved=areas"), "{saved}");
    // A plain-http link is refused (https only).
    let http = areas.replace("https://", "http://");
    let refused = post(
        app,
        owner,
        &format!("{PAGE}/{id}/areas"),
        &[("areas", &http)],
    )
    .await;
    assert!(
        refused.ends_with("error=rich_menu_action_invalid"),
        "{refused}"
    );
    id
}

#[tokio::test]
async fn a_published_default_menu_and_a_tag_rule_reach_line() {
    let (app, owner) = app().await;
    let line = app.line();
    // The patient writes first, so tsunagu knows their LINE identity.
    let hello = line.sandbox.user_text(PATIENT, "こんにちは");
    assert_eq!(
        line.sandbox.send_event(ACCESS_TOKEN, hello).await.unwrap(),
        200
    );
    app.run_jobs().await;

    let id = ready_menu(&app, &owner).await;
    // Not the default before it is on LINE.
    let early = post(
        &app,
        &owner,
        &format!("{PAGE}/{id}/default"),
        &[("on", "1")],
    )
    .await;
    assert!(early.ends_with("error=rich_menu_not_published"), "{early}");

    post(&app, &owner, &format!("{PAGE}/{id}/publish"), &[]).await;
    app.run_jobs().await;
    let (state, failure, line_id) = menu_state(&app, &id).await;
    assert_eq!((state.as_str(), failure), ("published", None));
    let line_id = line_id.unwrap();
    assert_eq!(
        line.sandbox.rich_menu_ids(ACCESS_TOKEN),
        vec![line_id.clone()]
    );
    assert_eq!(
        line.sandbox.rich_menu_alias(ACCESS_TOKEN, "first-visit"),
        Some(line_id.clone())
    );

    post(
        &app,
        &owner,
        &format!("{PAGE}/{id}/default"),
        &[("on", "1")],
    )
    .await;
    app.run_jobs().await;
    assert_eq!(
        line.sandbox.default_rich_menu(ACCESS_TOKEN),
        Some(line_id.clone())
    );
    assert!(
        line.sandbox
            .linked_menu(ACCESS_TOKEN, PATIENT)
            .unwrap()
            .is_default
    );

    // A rule for tag 初診, then the patient is tagged: LINE links the menu to them.
    post(
        &app,
        &owner,
        &format!("{PAGE}/rules"),
        &[("tag", "初診"), ("rich_menu_id", &id)],
    )
    .await;
    app.run_jobs().await;
    assert_eq!(
        line.sandbox
            .calls_to(&format!("/user/{PATIENT}/richmenu/{line_id}")),
        0
    );
    let patient: String =
        sqlx::query_scalar("SELECT patient_id FROM channel_identities WHERE external_id = $1")
            .bind(PATIENT)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let res = app
        .request(Method::PATCH, &format!("/api/v1/patients/{patient}"))
        .bearer(app.api_token())
        .json(&json!({"tags": ["初診"]}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    app.run_jobs().await;
    let seen = line.sandbox.linked_menu(ACCESS_TOKEN, PATIENT).unwrap();
    assert!(!seen.is_default, "linked to the patient, not the default");
    assert_eq!(seen.rich_menu_id, line_id);
    assert_eq!(
        line.sandbox
            .calls_to(&format!("/user/{PATIENT}/richmenu/{line_id}")),
        1
    );

    // The tag removed: unlinked, the default shows again.
    app.request(Method::PATCH, &format!("/api/v1/patients/{patient}"))
        .bearer(app.api_token())
        .json(&json!({"tags": []}))
        .send()
        .await;
    app.run_jobs().await;
    assert!(
        line.sandbox
            .linked_menu(ACCESS_TOKEN, PATIENT)
            .unwrap()
            .is_default
    );
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'rich_menu.%'")
            .await
            >= 4
    );
}

#[tokio::test]
async fn a_field_rule_switches_the_menu_when_the_patients_field_changes() {
    let (app, owner) = app().await;
    let line = app.line();
    let hello = line.sandbox.user_text(PATIENT, "こんにちは");
    assert_eq!(
        line.sandbox.send_event(ACCESS_TOKEN, hello).await.unwrap(),
        200
    );
    app.run_jobs().await;
    let field = json!({"key": "visit", "label_ja": "来院区分", "label_en": "Visit", "kind": "choice",
        "choices": ["初診", "再診"]});
    let res = app
        .request(Method::POST, "/api/v1/custom-fields")
        .bearer(app.api_token())
        .json(&field)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.text());
    let id = ready_menu(&app, &owner).await;
    post(&app, &owner, &format!("{PAGE}/{id}/publish"), &[]).await;
    app.run_jobs().await;
    let line_id = menu_state(&app, &id).await.2.unwrap();

    // A field the clinic does not have is refused; 来院区分 = 再診 is kept and listed.
    let refused = post(
        &app,
        &owner,
        &format!("{PAGE}/field-rules"),
        &[
            ("field_key", "blood"),
            ("value", "A"),
            ("rich_menu_id", &id),
        ],
    )
    .await;
    assert!(refused.ends_with("error=unknown_field"), "{refused}");
    post(
        &app,
        &owner,
        &format!("{PAGE}/field-rules"),
        &[
            ("field_key", "visit"),
            ("value", "再診"),
            ("rich_menu_id", &id),
        ],
    )
    .await;
    let page = app.request(Method::GET, PAGE).session(&owner).send().await;
    assert!(
        page.text()
            .contains("「来院区分」が「再診」の患者さん → 初診の方向け"),
        "{}",
        page.text()
    );
    app.run_jobs().await;
    assert!(line
        .sandbox
        .linked_menu(ACCESS_TOKEN, PATIENT)
        .is_none_or(|m| m.is_default));

    let patient: String =
        sqlx::query_scalar("SELECT patient_id FROM channel_identities WHERE external_id = $1")
            .bind(PATIENT)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let set = |v: &'static str| {
        app.request(Method::PATCH, &format!("/api/v1/patients/{patient}"))
            .bearer(app.api_token())
            .json(&json!({"custom_fields": {"visit": v}}))
            .send()
    };
    assert_eq!(set("初診").await.status, StatusCode::OK);
    app.run_jobs().await;
    assert!(
        line.sandbox
            .linked_menu(ACCESS_TOKEN, PATIENT)
            .is_none_or(|m| m.is_default),
        "初診 matches no rule"
    );
    assert_eq!(set("再診").await.status, StatusCode::OK);
    app.run_jobs().await;
    let seen = line.sandbox.linked_menu(ACCESS_TOKEN, PATIENT).unwrap();
    assert!(!seen.is_default);
    assert_eq!(seen.rich_menu_id, line_id);

    // The rule removed: the channel is relinked and the patient sees the default again.
    let rule: String = sqlx::query_scalar("SELECT id FROM rich_menu_field_rules")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    post(
        &app,
        &owner,
        &format!("{PAGE}/field-rules/{rule}/delete"),
        &[],
    )
    .await;
    app.run_jobs().await;
    assert!(line
        .sandbox
        .linked_menu(ACCESS_TOKEN, PATIENT)
        .is_none_or(|m| m.is_default));
}

#[tokio::test]
async fn publishing_retries_after_lines_429_and_500() {
    let (app, owner) = app().await;
    let line = app.line();
    let id = ready_menu(&app, &owner).await;
    line.sandbox.fail_next("/v2/bot/richmenu", 429, 1);
    line.sandbox.fail_next_before_accept("/content", 1);
    post(&app, &owner, &format!("{PAGE}/{id}/publish"), &[]).await;
    for _ in 0..6 {
        app.run_jobs().await;
        app.clock.advance(chrono::Duration::minutes(10));
    }
    let (state, _, line_id) = menu_state(&app, &id).await;
    assert_eq!(state, "published");
    // One menu on LINE: the retry after the lost upload kept the one created before.
    assert_eq!(
        line.sandbox.rich_menu_ids(ACCESS_TOKEN),
        vec![line_id.unwrap()]
    );
    assert_eq!(line.sandbox.calls_to("/v2/bot/richmenu"), 2);
}

#[tokio::test]
async fn a_receptionist_cannot_open_rich_menus() {
    let (app, _) = app().await;
    let desk = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 佐藤")
        .await;
    let res = app.request(Method::GET, PAGE).session(&desk).send().await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}
