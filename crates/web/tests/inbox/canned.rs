//! Canned responses (定型文): the API, the settings page, and the reply box's `/` picker that
//! fills a body in for the conversation.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::{ClinicId, Role};
use tsunagu_inbox::canned::{self, Draft};
use tsunagu_testkit::TestApp;

use super::support::{app, App, Session, T0};

async fn seed(app: &App, clinic: &ClinicId, shortcut: &str, title: &str, body: &str) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let d = Draft {
        shortcut,
        title,
        body,
    };
    canned::create(&mut conn, clinic, d, T0)
        .await
        .unwrap()
        .unwrap()
        .id
}

async fn row(app: &App, id: &str) -> Option<(String, String, String)> {
    sqlx::query_as("SELECT shortcut, title, body FROM canned_responses WHERE id = $1")
        .bind(id)
        .fetch_optional(app.db.pool())
        .await
        .unwrap()
}

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

#[tokio::test]
async fn the_api_writes_reads_and_removes_canned_responses_of_its_own_clinic_only() {
    let app = App {
        app: TestApp::builder()
            .clock_ms(T0)
            .sample_clinic()
            .start()
            .await,
    };
    let url = "/api/v1/canned-responses";
    let body = json!({"shortcut": "parking", "title": "駐車場のご案内",
        "body": "{{patient.name}}様、駐車場は建物の裏です。{{clinic.phone}}"});
    let (status, made) = api(&app, Method::POST, url, Some(body)).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_str().unwrap().to_string();

    // The same shortcut in other widths and case is the same shortcut.
    let again = json!({"shortcut": "ＰＡＲＫＩＮＧ", "title": "別", "body": "本文"});
    let (status, err) = api(&app, Method::POST, url, Some(again)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(err["error"]["code"], "canned_shortcut_exists");

    let typo = json!({"shortcut": "hours", "title": "受付時間", "body": "{{patient.nmae}}様"});
    let (status, err) = api(&app, Method::POST, url, Some(typo)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(err["error"]["code"], "unknown_canned_variable");
    assert_eq!(
        app.app.count("SELECT COUNT(*) FROM canned_responses").await,
        1
    );

    let (status, list) = api(&app, Method::GET, url, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(list["items"][0]["shortcut"], "parking");

    let one = format!("{url}/{id}");
    let (status, changed) = api(&app, Method::PATCH, &one, Some(json!({"title": "駐車場"}))).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["title"], "駐車場");
    assert_eq!(changed["shortcut"], "parking", "fields left out are kept");
    let bad = json!({"body": "{{appointment.last}}"});
    let (status, _) = api(&app, Method::PATCH, &one, Some(bad)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let kept = row(&app, &id).await.unwrap();
    assert!(kept.2.starts_with("{{patient.name}}様"), "{kept:?}");

    // Another clinic's canned response: 404, and it stays as it was.
    let other = app.clinic("other", "別のクリニック").await;
    let theirs = seed(&app, &other.clinic, "parking", "駐車場", "裏です").await;
    let path = format!("{url}/{theirs}");
    let (status, _) = api(&app, Method::PATCH, &path, Some(json!({"title": "x"}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = api(&app, Method::DELETE, &path, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let expected = ("parking".into(), "駐車場".into(), "裏です".into());
    assert_eq!(row(&app, &theirs).await, Some(expected));
    let (_, list) = api(&app, Method::GET, url, None).await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1), "{list}");

    let (status, _) = api(&app, Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(row(&app, &id).await, None);
    let (status, _) = api(&app, Method::DELETE, &one, None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

async fn form(app: &App, s: &Session, path: &str, fields: &[(&str, &str)]) -> super::support::Res {
    let mut all = vec![("csrf_token", s.csrf.as_str())];
    all.extend_from_slice(fields);
    app.post_form(path, s, &all).await
}

#[tokio::test]
async fn administrators_keep_canned_responses_on_the_settings_page_in_japanese() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let admin = app.sign_in(&s.clinic, Role::Admin, "事務長 田中").await;
    let page = app.get("/app/settings/canned", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(r#"data-testid="canned-empty""#));
    assert!(page.text.contains("まだ定型文がありません"));
    assert!(page.text.contains("予約機能ができるまでは空欄"));

    let typo = [
        ("shortcut", "駐車場"),
        ("title", "駐車場のご案内"),
        ("body", "{{patient.nmae}}様、建物の裏です。"),
    ];
    let res = form(&app, &admin, "/app/settings/canned", &typo).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text
            .contains("本文の {{patient.nmae}} は使えない差し込み項目です"),
        "{}",
        res.text
    );
    assert!(
        res.text.contains("{{patient.nmae}}様、建物の裏です。"),
        "typed text kept"
    );

    let good = [
        ("shortcut", "/駐車場"),
        ("title", "駐車場のご案内"),
        ("body", "{{patient.name}}様、建物の裏です。"),
    ];
    let res = form(&app, &admin, "/app/settings/canned", &good).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = app.get(res.location(), &admin).await.text;
    assert!(page.contains("定型文を登録しました。"));
    assert!(
        page.contains("/駐車場"),
        "shown with its slash, stored without"
    );
    let id: String = sqlx::query_scalar("SELECT id FROM canned_responses WHERE shortcut = $1")
        .bind("駐車場")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let changed = [
        ("shortcut", "駐車場"),
        ("title", "駐車場"),
        ("body", "裏です。"),
    ];
    let path = format!("/app/settings/canned/{id}");
    let res = form(&app, &admin, &path, &changed).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(row(&app, &id).await.map(|r| r.2), Some("裏です。".into()));

    let res = form(
        &app,
        &admin,
        "/app/settings/canned/phone",
        &[("phone", "電話")],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let phone = [("phone", " 03-1234-5678 ")];
    let res = form(&app, &admin, "/app/settings/canned/phone", &phone).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let mut conn = app.db.pool().acquire().await.unwrap();
    let stored = tsunagu_store::clinics::phone(&mut conn, &s.clinic)
        .await
        .unwrap();
    assert_eq!(stored.as_deref(), Some("03-1234-5678"));
    drop(conn);

    let clerk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert_eq!(
        app.get("/app/settings/canned", &clerk).await.status,
        StatusCode::FORBIDDEN
    );
    let res = form(&app, &clerk, &format!("{path}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(row(&app, &id).await.is_some());

    let res = form(&app, &admin, &format!("{path}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(row(&app, &id).await, None);
    assert_eq!(app.audits("ui.canned.delete").await.len(), 1);
}

#[tokio::test]
async fn the_picker_fills_in_the_conversation_s_patient_clinic_and_staff() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    tsunagu_store::clinics::set_phone(&mut conn, &s.clinic, Some("03-1234-5678"))
        .await
        .unwrap();
    drop(conn);
    let body = "{{patient.name}}様 {{clinic.name}}({{clinic.phone}})の{{staff.name}}です。{{appointment.next}}";
    seed(&app, &s.clinic, "parking", "駐車場のご案内", body).await;
    seed(&app, &s.clinic, "hours", "受付時間", "午前9時からです。").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "駐車場はありますか", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let id = c.id.to_string();

    let page = app.get(&format!("/app/conversations/{id}"), &me).await;
    assert!(page
        .urls()
        .contains(&format!(r#"data-url="/app/conversations/{id}/canned""#)));

    let offers = |q: &str| {
        let path = format!("/app/conversations/{id}/canned?q={}", urlencode(q));
        let (app, me) = (&app, &me);
        async move {
            let res = app.get(&path, me).await;
            assert_eq!(res.status, StatusCode::OK, "{}", res.text);
            let v: Value = serde_json::from_str(&res.text).unwrap();
            v["items"].as_array().cloned().unwrap_or_default()
        }
    };
    // Full-width letters find the shortcut; a word of the title finds it too.
    let found = offers("ＰＡＲ").await;
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0]["body"],
        "山田 花子様 さくら内科(03-1234-5678)の受付 佐藤です。"
    );
    assert_eq!(offers("駐車").await[0]["shortcut"], "parking");
    assert_eq!(offers("").await.len(), 2);
    assert!(offers("歯石").await.is_empty());

    // Another clinic's conversation is not found; a role that may not read messages is refused.
    let other = app.clinic("other", "別のクリニック").await;
    let theirs = app
        .conversation(&other, "U2", "他院 患者", "こんにちは", T0)
        .await;
    let res = app
        .get(&format!("/app/conversations/{}/canned?q=", theirs.id), &me)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let analyst = app.sign_in(&s.clinic, Role::Analyst, "分析 鈴木").await;
    let res = app
        .get(&format!("/app/conversations/{id}/canned?q="), &analyst)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}
