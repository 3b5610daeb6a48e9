//! The flow builder pages as staff use them: the empty list offers the sample, owners create,
//! edit and publish it (a new version each time; a running dialogue keeps its own), the preview
//! replays answers without sending anything, receptionists read but change nothing, and every
//! change is audited.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use axum::http::{Method, StatusCode};
use tsunagu_core::Role;
use tsunagu_testkit::app::StaffSession;
use tsunagu_testkit::TestApp;

const PAGE: &str = "/app/settings/flows";

async fn post(
    app: &TestApp,
    s: &StaffSession,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut form: Vec<(&str, &str)> = vec![("csrf_token", s.csrf.as_str())];
    form.extend_from_slice(fields);
    let res = app
        .request(Method::POST, path)
        .session(s)
        .form(&form)
        .send()
        .await;
    let to = if res.status == StatusCode::SEE_OTHER || res.status == StatusCode::FOUND {
        res.location().to_string()
    } else {
        res.text()
    };
    (res.status, to)
}

async fn get(app: &TestApp, s: &StaffSession, path: &str) -> (StatusCode, String) {
    let res = app.request(Method::GET, path).session(s).send().await;
    (res.status, res.text())
}

#[tokio::test]
async fn owners_build_publish_and_preview_receptionists_only_read() {
    let app = TestApp::builder().sample_clinic().start().await;
    let owner = app.staff_session(app.clinic(), Role::Owner, "院長").await;
    let desk = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 佐藤")
        .await;

    let (s, html) = get(&app, &owner, PAGE).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        html.contains("data-testid=\"flows-empty\""),
        "an empty state"
    );
    assert!(html.contains("サンプル「初診問診」を作る"));

    let (s, to) = post(&app, &owner, &format!("{PAGE}/sample"), &[]).await;
    assert!(s.is_redirection(), "{s} {to}");
    assert!(to.ends_with("?saved=created"), "{to}");
    let flow_page = to.split('?').next().unwrap().to_string();
    let (_, html) = get(&app, &owner, &flow_page).await;
    assert_eq!(
        html.matches("data-testid=\"flow-card\"").count(),
        8,
        "no 看護 team here: no routing step"
    );
    assert!(html.contains("未公開"));
    assert!(
        !html.contains("symptom"),
        "no raw keys on the Japanese page"
    );

    // A step edited: the second step's question; then a tag step added.
    let (s, to) = post(
        &app,
        &owner,
        &format!("{flow_page}/steps/2"),
        &[
            ("text", "どの症状ですか？"),
            ("answer", "choice"),
            ("key", "症状"),
            ("options", "発熱 → 6\nせき\nその他"),
        ],
    )
    .await;
    assert!(to.ends_with("?saved=step"), "{s} {to}");
    let (_, to) = post(
        &app,
        &owner,
        &format!("{flow_page}/steps"),
        &[("kind", "tag")],
    )
    .await;
    assert!(to.ends_with("?saved=step_added"), "{to}");
    // An empty tag is a problem: publishing is refused and says so.
    let (_, to) = post(&app, &owner, &format!("{flow_page}/publish"), &[]).await;
    assert!(to.ends_with("?error=problems"), "{to}");
    let (_, html) = get(&app, &owner, &format!("{flow_page}?error=problems")).await;
    assert!(
        html.contains("ステップ9: タグを1〜50文字で入力してください。"),
        "{html}"
    );
    let (_, to) = post(&app, &owner, &format!("{flow_page}/steps/9/delete"), &[]).await;
    assert!(to.ends_with("?saved=step_deleted"), "{to}");

    let (_, to) = post(&app, &owner, &format!("{flow_page}/publish"), &[]).await;
    assert!(to.ends_with("?saved=published"), "{to}");
    let (_, to) = post(
        &app,
        &owner,
        &format!("{flow_page}/enabled"),
        &[("on", "1")],
    )
    .await;
    assert!(to.ends_with("?saved=enabled"), "{to}");
    let (_, html) = get(&app, &owner, PAGE).await;
    assert!(html.contains("公開中（第1版）") && html.contains("有効"));
    let (_, to) = post(&app, &owner, &format!("{flow_page}/publish"), &[]).await;
    assert!(to.ends_with("?saved=published"));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM automation_flow_versions")
            .await,
        2,
        "each publish a version"
    );

    // The preview replays the draft: nothing stored, nothing queued.
    let jobs = app.count("SELECT COUNT(*) FROM outbox_jobs").await;
    let (s, body) = post(
        &app,
        &desk,
        &format!("{flow_page}/preview"),
        &[("answers", r#"["1","38.5"]"#)],
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let texts: Vec<&str> = v["turns"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts[1], "どの症状ですか？");
    assert_eq!(v["turns"][1]["options"][0], "発熱");
    assert!(texts.contains(&"（タグ「発熱」を付けます）"), "{texts:?}");
    assert_eq!(v["running"], true);
    assert_eq!(v["state"], "回答を待っています");
    assert_eq!(app.count("SELECT COUNT(*) FROM outbox_jobs").await, jobs);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM automation_flow_runs").await,
        0
    );

    // Reception reads, changes nothing.
    let (s, html) = get(&app, &desk, &flow_page).await;
    assert_eq!(s, StatusCode::OK);
    assert!(html.contains("data-testid=\"flows-read-only\""));
    assert!(
        !html.contains("data-testid=\"flow-secret\""),
        "the signing key is for admins"
    );
    let (s, _) = post(&app, &desk, &format!("{flow_page}/publish"), &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (s, _) = post(&app, &desk, &format!("{flow_page}/delete"), &[]).await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    let audited = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'flow.%'")
        .await;
    assert_eq!(
        audited, 7,
        "create, 3 step changes, 2 publishes, enable: each audited"
    );
}
