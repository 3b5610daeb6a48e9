//! Safety settings (緊急対応) and the on-call rota (オンコール当番): administrators only, in
//! Japanese, refusals shown with what was typed, every change audited; the detector uses the
//! clinic's phrases and switches.
use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, App, Session};

async fn form(app: &App, s: &Session, path: &str, fields: &[(&str, &str)]) -> super::support::Res {
    let mut all = vec![("csrf_token", s.csrf.as_str())];
    all.extend_from_slice(fields);
    app.post_form(path, s, &all).await
}

async fn audits(app: &App, like: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action LIKE $1")
        .bind(like)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn administrators_set_the_guidance_rules_and_phrases_in_japanese() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let admin = app.sign_in(&s.clinic, Role::Admin, "事務長 田中").await;
    let nurse = app.sign_in(&s.clinic, Role::Clinician, "看護師 高橋").await;
    assert_eq!(
        app.get("/app/settings/safety", &nurse).await.status,
        StatusCode::FORBIDDEN
    );
    let page = app.get("/app/settings/safety", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains("119番") && page.text.contains("胸の痛み"));
    assert!(page.text.contains(r#"data-testid="safety-phrases-empty""#));

    let bad = [
        ("guidance_text", "119番へ {{clinic.tel}}"),
        ("crisis_text", "相談窓口"),
        ("escalate_minutes", "5"),
    ];
    let res = form(&app, &admin, "/app/settings/safety", &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text.contains("使えない差し込み項目があります"),
        "{}",
        res.text
    );
    assert!(
        res.text.contains("119番へ {{clinic.tel}}"),
        "typed text kept"
    );
    let minutes = [
        ("guidance_text", "119番へ"),
        ("crisis_text", "相談窓口"),
        ("escalate_minutes", "０"),
    ];
    let res = form(&app, &admin, "/app/settings/safety", &minutes).await;
    assert!(res.text.contains("1〜120分の数字で"), "{}", res.text);
    let good = [
        ("guidance_text", "すぐに119番へ。{{clinic.phone}}"),
        ("crisis_text", "よりそいホットライン 0120-279-338"),
        ("escalate_minutes", "１５"),
    ];
    let res = form(&app, &admin, "/app/settings/safety", &good).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let mut conn = app.db.pool().acquire().await.unwrap();
    let saved = tsunagu_safety::settings::load(&mut conn, &s.clinic)
        .await
        .unwrap();
    assert_eq!(saved.escalate_minutes, 15);

    // A built-in rule switched off, then on; the detector follows.
    let rule = tsunagu_safety::triage::builtin_rules()[0].id.clone();
    let path = format!("/app/settings/safety/rules/{rule}");
    let res = form(&app, &admin, &path, &[("enabled", "0")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let (_, s1) = tsunagu_safety::settings::detector(&mut conn, &s.clinic)
        .await
        .unwrap();
    assert_eq!(s1.disabled_rules, vec![rule.clone()]);
    let res = form(&app, &admin, &path, &[("enabled", "1")]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let unknown = form(
        &app,
        &admin,
        "/app/settings/safety/rules/nope",
        &[("enabled", "0")],
    )
    .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);

    // The clinic's own phrase: refused without letters, then used by the detector.
    let add = "/app/settings/safety/phrases";
    let res = form(
        &app,
        &admin,
        add,
        &[("phrase", "。。"), ("category", "other")],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text.contains("この言葉は判定に使えません"),
        "{}",
        res.text
    );
    let res = form(
        &app,
        &admin,
        add,
        &[("phrase", "意識がもうろう"), ("category", "unconscious")],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let res = form(
        &app,
        &admin,
        add,
        &[("phrase", "意識がもうろう"), ("category", "unconscious")],
    )
    .await;
    assert!(res.text.contains("すでに追加されています"));
    let (d, _) = tsunagu_safety::settings::detector(&mut conn, &s.clinic)
        .await
        .unwrap();
    assert!(d.assess("祖母の意識がもうろうとしています").urgent);
    let id: String = sqlx::query_scalar("SELECT id FROM triage_phrases")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let res = form(&app, &admin, &format!("{add}/{id}/delete"), &[]).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(audits(&app, "ui.safety.%").await, 5);
}

#[tokio::test]
async fn the_rota_takes_members_who_may_reply_in_clinic_time() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let admin = app.sign_in(&s.clinic, Role::Admin, "事務長 田中").await;
    let nurse = app.sign_in(&s.clinic, Role::Clinician, "看護師 高橋").await;
    let analyst = app.sign_in(&s.clinic, Role::Analyst, "分析 佐藤").await;
    let page = app.get("/app/settings/on-call", &admin).await;
    assert!(page.text.contains(r#"data-testid="oncall-empty""#));
    let entry = |who: &str, end: &str| {
        vec![
            ("staff_id", who.to_string()),
            ("start_date", "2026-12-07".to_string()),
            ("start_time", "18:00".to_string()),
            ("end_date", "2026-12-08".to_string()),
            ("end_time", end.to_string()),
        ]
    };
    let send = |f: Vec<(&'static str, String)>| {
        let (app, admin) = (&app, &admin);
        async move {
            let fields: Vec<(&str, &str)> = f.iter().map(|(k, v)| (*k, v.as_str())).collect();
            form(app, admin, "/app/settings/on-call", &fields).await
        }
    };
    let res = send(entry(analyst.staff_id.as_str(), "09:00")).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("返信できるスタッフを選んでください"));
    let res = send(entry(nurse.staff_id.as_str(), "")).await;
    assert!(res
        .text
        .contains("開始と終了の日付と時刻を入力してください"));
    let res = send(entry(nurse.staff_id.as_str(), "09:00")).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = app.get("/app/settings/on-call", &admin).await.text;
    let page = page.replace("&#x2f;", "/");
    assert!(
        page.contains("2026/12/07(月) 18:00") && page.contains("2026/12/08(火) 09:00"),
        "{page}"
    );
    // 18:00 in Tokyo is 09:00 UTC.
    let starts: i64 = sqlx::query_scalar("SELECT starts_at FROM on_call_rota")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        starts,
        chrono::DateTime::parse_from_rfc3339("2026-12-07T09:00:00Z")
            .unwrap()
            .timestamp_millis()
    );
    let id: String = sqlx::query_scalar("SELECT id FROM on_call_rota")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let res = form(
        &app,
        &admin,
        &format!("/app/settings/on-call/{id}/delete"),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(audits(&app, "ui.oncall.%").await, 2);
}
