//! Where patients come from (流入経路) end to end through the real LINE webhook: a message
//! carrying a source's code tags the patient once and is counted on the sources page, a
//! redelivered webhook counts once, the code's words set off no keyword rule, and the QR
//! poster's SVG exists once the channel has its basic id; a source's welcome (greeting and
//! flow) goes once or on every scan, instead of the channel greeting, never twice for a
//! redelivered webhook.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use axum::http::Method;
use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_automation::{greetings, rules, source_edits, sources};
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

fn texts(app: &TestApp) -> Vec<String> {
    app.sandbox
        .delivered_to(PATIENT)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

/// The sample intake, published and on; its id.
async fn published_flow(app: &TestApp) -> String {
    use tsunagu_automation::flows::{sample, store};
    let mut conn = app.db.pool().acquire().await.unwrap();
    let (clinic, now) = (&app.clinic, app.now_ms());
    let def = sample::intake(None);
    let cipher = &app.services.state.cipher;
    let id = store::create(&mut conn, clinic, sample::NAME, &def, cipher, now)
        .await
        .unwrap();
    store::publish(&mut conn, clinic, &id, None, now)
        .await
        .unwrap()
        .unwrap();
    store::set_enabled(&mut conn, clinic, &id, true, now)
        .await
        .unwrap();
    id
}

async fn welcome(
    app: &TestApp,
    source: &sources::Source,
    text: &str,
    flow: Option<&str>,
    every: bool,
) {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let w = source_edits::check_welcome(&mut conn, &app.clinic, text, flow, every)
        .await
        .unwrap()
        .unwrap();
    assert!(
        source_edits::set_welcome(&mut conn, &app.clinic, &source.id, &w)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_source_welcome_goes_once_instead_of_the_channel_greeting() {
    let app = spawn_app().await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let g = greetings::Draft {
        enabled: true,
        greeting_text: "友だち追加ありがとうございます。".into(),
        ask_consent: false,
        offer_verification: false,
    };
    let (clinic, channel) = (&app.clinic, app.channel.as_str());
    greetings::save(&mut conn, clinic, channel, &g, app.now_ms())
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    let source = poster_source(&app).await;
    let flow = published_flow(&app).await;
    welcome(
        &app,
        &source,
        "待合室からのご登録ありがとうございます。",
        Some(&flow),
        false,
    )
    .await;

    let event = app
        .sandbox
        .user_text(PATIENT, &sources::prefilled_text(&source.code));
    send(&app, event.clone()).await;
    assert_eq!(
        app.sandbox.redeliver(ACCESS_TOKEN, &event).await.unwrap(),
        200
    );
    app.run_jobs().await;
    let got = texts(&app);
    assert_eq!(
        got[0], "待合室からのご登録ありがとうございます。",
        "{got:?}"
    );
    assert!(got[1].starts_with("初診の問診を始めます。"), "{got:?}");
    assert!(
        !got.iter()
            .any(|t| t.contains("友だち追加ありがとうございます")),
        "the channel greeting stays away: {got:?}"
    );
    let sent = got.len();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM automation_flow_runs").await,
        1
    );

    // 初回のみ: a second scan of the same source is counted, and welcomed no more.
    let again = app
        .sandbox
        .user_text(PATIENT, &format!("もう一度 [{}]", source.code));
    send(&app, again).await;
    assert_eq!(app.count("SELECT COUNT(*) FROM inflow_scans").await, 2);
    assert_eq!(texts(&app).len(), sent, "{:?}", texts(&app));
}

#[tokio::test]
async fn a_source_welcoming_every_scan_answers_each_and_checks_its_flow() {
    let app = spawn_app().await;
    let source = poster_source(&app).await;
    // Only a published, enabled flow of the clinic is taken.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let refused =
        source_edits::check_welcome(&mut conn, &app.clinic, "", Some("no-such-flow"), true)
            .await
            .unwrap();
    assert!(refused.is_err());
    let long = "あ".repeat(501);
    let refused = source_edits::check_welcome(&mut conn, &app.clinic, &long, None, true)
        .await
        .unwrap();
    assert!(refused.is_err());
    drop(conn);
    welcome(&app, &source, "受付でお待ちください。", None, true).await;

    for n in 1..=2 {
        let text = format!("{} ({n})", sources::prefilled_text(&source.code));
        send(&app, app.sandbox.user_text(PATIENT, &text)).await;
        let got = texts(&app);
        assert_eq!(got.len(), n, "{got:?}");
        assert!(got.iter().all(|t| t == "受付でお待ちください。"), "{got:?}");
    }
}

#[tokio::test]
async fn the_page_makes_a_welcoming_source_and_refuses_a_flow_not_published() {
    let app = spawn_app().await;
    let admin = app
        .staff_session(&app.clinic, Role::Admin, "管理 高橋")
        .await;
    let flow = published_flow(&app).await;
    let post = |flow_id: String| {
        let fields = [
            ("csrf_token", admin.csrf.clone()),
            ("name", "受付カウンター".to_string()),
            ("channel_id", app.channel.to_string()),
            (
                "welcome_text",
                "受付からのご登録ありがとうございます。".to_string(),
            ),
            ("welcome_flow_id", flow_id),
            ("welcome_every", "1".to_string()),
        ];
        app.request(Method::POST, "/app/settings/sources")
            .session(&admin)
            .form(&fields)
            .send()
    };
    let bad = post("another-clinics-flow".into()).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("公開中のもの"), "{}", bad.text());
    assert_eq!(app.count("SELECT COUNT(*) FROM inflow_sources").await, 0);

    assert_eq!(post(flow.clone()).await.status, 303);
    let mut conn = app.db.pool().acquire().await.unwrap();
    let all = sources::list(&mut conn, &app.clinic).await.unwrap();
    drop(conn);
    assert_eq!(
        (all[0].welcome_flow_id.as_deref(), all[0].welcome_every),
        (Some(flow.as_str()), 1)
    );
    let page = app
        .request(Method::GET, "/app/settings/sources")
        .session(&admin)
        .send()
        .await;
    let html = page.text();
    assert!(
        html.contains("あいさつ・フロー『初診問診』（読み取るたび）"),
        "{html}"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'inflow_source.create'")
            .await,
        1
    );
}

#[tokio::test]
async fn the_edit_page_changes_a_source_or_removes_it_in_its_own_clinic_only() {
    use tsunagu_store::clinics::{self, NewClinic};
    let app = spawn_app().await;
    let source = poster_source(&app).await;
    let admin = app
        .staff_session(&app.clinic, Role::Admin, "管理 高橋")
        .await;
    let edit = format!("/app/settings/sources/{}/edit", source.id);
    let page = app.request(Method::GET, &edit).session(&admin).send().await;
    assert_eq!(page.status, 200);
    let html = page.text();
    assert!(html.contains("value=\"待合室ポスター\"") && html.contains(&source.code));
    assert!(
        html.contains("href=\"/app/settings/sources\""),
        "a way back"
    );

    let post = |name: &str, session: &tsunagu_testkit::app::StaffSession, path: &str| {
        let fields = [
            ("csrf_token", session.csrf.clone()),
            ("name", name.to_string()),
            ("tag", "流入:受付".to_string()),
            ("welcome_text", "受付からようこそ。".to_string()),
            ("welcome_flow_id", String::new()),
            ("welcome_every", "0".to_string()),
        ];
        app.request(Method::POST, path)
            .session(session)
            .form(&fields)
            .send()
    };
    // Bad input: a clear error, nothing changed.
    let bad = post("   ", &admin, &edit).await;
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("1〜30文字"), "{}", bad.text());
    let unchanged =
        "SELECT COUNT(*) FROM inflow_sources WHERE name = '待合室ポスター' AND tag = '流入:待合室'";
    assert_eq!(app.count(unchanged).await, 1);

    // Another clinic's administrator neither sees nor changes it.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let org = clinics::create_organization(&mut conn, "別法人", app.now_ms())
        .await
        .unwrap();
    let other = NewClinic {
        organization_id: &org,
        slug: "other-clinic",
        name: "別のクリニック",
        timezone: "Asia/Tokyo",
        locale: "ja",
    };
    let other = clinics::create_clinic(&mut conn, other, app.now_ms())
        .await
        .unwrap();
    drop(conn);
    let stranger = app.staff_session(&other, Role::Admin, "他院 管理").await;
    let peek = app
        .request(Method::GET, &edit)
        .session(&stranger)
        .send()
        .await;
    assert_eq!(peek.status, 404);
    assert_eq!(post("乗っ取り", &stranger, &edit).await.status, 404);
    let delete = format!("/app/settings/sources/{}/delete", source.id);
    let csrf = [("csrf_token", stranger.csrf.clone())];
    let gone = app
        .request(Method::POST, &delete)
        .session(&stranger)
        .form(&csrf)
        .send()
        .await;
    assert_eq!(gone.status, 404);
    assert_eq!(app.count(unchanged).await, 1);
    // Reception may not change sources.
    let reception = app
        .staff_session(&app.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert_eq!(post("受付", &reception, &edit).await.status, 403);

    assert_eq!(post("受付カウンター", &admin, &edit).await.status, 303);
    let mut conn = app.db.pool().acquire().await.unwrap();
    let now = sources::get(&mut conn, &app.clinic, &source.id)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    assert_eq!(
        (now.name.as_str(), now.tag.as_str(), now.code.as_str()),
        ("受付カウンター", "流入:受付", source.code.as_str())
    );
    assert_eq!(now.welcome_text, "受付からようこそ。");

    let csrf = [("csrf_token", admin.csrf.clone())];
    let removed = app
        .request(Method::POST, &delete)
        .session(&admin)
        .form(&csrf)
        .send()
        .await;
    assert_eq!(removed.status, 303);
    assert_eq!(app.count("SELECT COUNT(*) FROM inflow_sources").await, 0);
    let audited = "SELECT COUNT(*) FROM audit_events WHERE action IN ('inflow_source.update', 'inflow_source.delete')";
    assert_eq!(app.count(audited).await, 2);
    let again = app
        .request(Method::POST, &delete)
        .session(&admin)
        .form(&csrf)
        .send()
        .await;
    assert_eq!(again.status, 404);
}
