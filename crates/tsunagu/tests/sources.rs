//! Where patients come from (流入経路) end to end through the real LINE webhook: a message
//! carrying a source's code tags the patient once and is counted on the sources page, a
//! redelivered webhook counts once, the code's words set off no keyword rule, and the QR
//! poster's SVG exists once the channel has its basic id.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use axum::http::Method;
use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_automation::{rules, sources};
use tsunagu_core::Role;

async fn send(app: &TestApp, event: Value) {
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
}

async fn poster_source(app: &TestApp) -> sources::Source {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let id = sources::create(
        &mut conn,
        &app.clinic,
        app.channel.as_str(),
        "待合室ポスター",
        "流入:待合室",
        app.now_ms(),
    )
    .await
    .unwrap();
    sources::get(&mut conn, &app.clinic, &id)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_message_with_the_code_tags_the_patient_once_and_is_counted_once() {
    let app = spawn_app().await;
    let source = poster_source(&app).await;
    // A keyword rule the prefilled words would otherwise set off.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = rules::Draft {
        name: "登録".into(),
        keywords: vec!["登録".into()],
        match_mode: "contains".into(),
        reply_text: "ご登録ありがとうございます。".into(),
        channel_id: None,
        active_hours: "always".into(),
        team_id: None,
        flow_id: None,
        enabled: true,
    };
    rules::create(&mut conn, &app.clinic, &draft, app.now_ms())
        .await
        .unwrap()
        .unwrap();
    drop(conn);

    let event = app
        .sandbox
        .user_text(PATIENT, &sources::prefilled_text(&source.code));
    send(&app, event.clone()).await;
    assert_eq!(
        app.sandbox.redeliver(ACCESS_TOKEN, &event).await.unwrap(),
        200
    );
    app.run_jobs().await;

    let tags = app
        .count("SELECT COUNT(*) FROM patient_tags WHERE tag = '流入:待合室'")
        .await;
    assert_eq!(tags, 1);
    assert_eq!(app.count("SELECT COUNT(*) FROM inflow_scans").await, 1);
    assert!(
        app.sandbox.delivered_to(PATIENT).is_empty(),
        "the keyword rule kept quiet: {:?}",
        app.sandbox.delivered_to(PATIENT)
    );
    let lines = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'system' AND payload LIKE '%\"source\"%'")
        .await;
    assert_eq!(lines, 1, "staff see where the patient came from");

    // A later scan (lower case this time) is a message more, never a second patient added.
    send(
        &app,
        app.sandbox.user_text(
            PATIENT,
            &format!("もう一度 [{}]", source.code.to_lowercase()),
        ),
    )
    .await;
    assert_eq!(app.count("SELECT COUNT(*) FROM inflow_scans").await, 2);

    let mut conn = app.db.pool().acquire().await.unwrap();
    let counted = sources::counted(&mut conn, &app.clinic).await.unwrap();
    assert_eq!(
        (counted[0].added, counted[0].messages, counted[0].following),
        (1, 2, 1)
    );
    drop(conn);

    let admin = app
        .staff_session(&app.clinic, Role::Admin, "管理 高橋")
        .await;
    let page = app
        .request(Method::GET, "/app/settings/sources")
        .session(&admin)
        .send()
        .await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("待合室ポスター") && html.contains(&source.code));
    assert!(html.contains("data-testid=\"source-added\">1<"), "{html}");

    let csv = app
        .request(Method::GET, "/app/settings/sources/sources.csv")
        .session(&admin)
        .send()
        .await;
    assert_eq!(csv.header("content-type"), "text/csv; charset=utf-8");
    let row = format!("\"待合室ポスター\",{},1,2\r\n", source.code);
    assert!(csv.text().contains(&row), "{}", csv.text());
}

#[tokio::test]
async fn the_poster_qr_code_needs_the_channels_basic_id() {
    let app = spawn_app().await;
    let source = poster_source(&app).await;
    let admin = app
        .staff_session(&app.clinic, Role::Admin, "管理 高橋")
        .await;
    let qr = format!("/app/settings/sources/{}/qr.svg", source.id);
    let before = app.request(Method::GET, &qr).session(&admin).send().await;
    assert_eq!(before.status, 404);

    let path = format!("/app/settings/sources/channels/{}/address", app.channel);
    let bad = app
        .request(Method::POST, &path)
        .session(&admin)
        .form(&[("csrf_token", admin.csrf.as_str()), ("address", "sakura")])
        .send()
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("ベーシックID"));
    let ok = app
        .request(Method::POST, &path)
        .session(&admin)
        .form(&[
            ("csrf_token", admin.csrf.as_str()),
            ("address", "@sakura-clinic"),
        ])
        .send()
        .await;
    assert_eq!(ok.status, 303);

    let svg = app.request(Method::GET, &qr).session(&admin).send().await;
    assert_eq!(svg.status, 200);
    assert_eq!(svg.header("content-type"), "image/svg+xml");
    assert!(svg.text().starts_with("<svg"));
    let print = app
        .request(
            Method::GET,
            &format!("/app/settings/sources/{}/print", source.id),
        )
        .session(&admin)
        .send()
        .await;
    let html = print.text();
    assert!(html.contains("LINEで友だち追加・ご登録はこちら"));
    assert!(html.contains("/app/settings/sources\""), "a way back");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'inflow_source.address'")
            .await,
        1
    );
}
