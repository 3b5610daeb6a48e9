//! The satisfaction results (満足度) and settings through the API and the pages: figures per
//! month, staff member and team from the clinic's own surveys only, filters, comments only for
//! staff who may read messages, settings checked, saved and audited.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use axum::http::Method;
use common::{spawn_app, TestApp};
use serde_json::{json, Value};
use tsunagu_core::{ClinicId, Role};
use tsunagu_inbox::routing::teams::{self, AssignMode};
use tsunagu_store::clinics::{self, NewClinic};

struct Seeded {
    staff_id: String,
}

#[allow(clippy::too_many_arguments)]
async fn survey(
    app: &TestApp,
    clinic: &ClinicId,
    month: &str,
    staff: Option<&str>,
    team: Option<&str>,
    state: &str,
    score: Option<i64>,
    comment: Option<&str>,
    skip: Option<&str>,
) {
    let n = app.count("SELECT COUNT(*) FROM satisfaction_surveys").await;
    let at = app.now_ms() - 1000 * n;
    sqlx::query(
        "INSERT INTO satisfaction_surveys (id, clinic_id, conversation_id, patient_id, channel_kind,
            staff_id, team_id, resolved_at, month, state, skip_reason, asked_at, score, answered_at,
            comment, created_at)
         VALUES ($1, $2, $3, NULL, 'line', $4, $5, $6, $7, $8, $9, $6, $10, $6, $11, $6)",
    )
    .bind(format!("s{n}"))
    .bind(clinic.as_str())
    .bind(format!("c{n}"))
    .bind(staff)
    .bind(team)
    .bind(at)
    .bind(month)
    .bind(state)
    .bind(skip)
    .bind(score)
    .bind(comment)
    .execute(app.db.pool())
    .await
    .unwrap();
}

async fn seed(app: &TestApp) -> Seeded {
    let sato = app
        .staff_session(&app.clinic, Role::Receptionist, "佐藤 花子")
        .await;
    let staff = sato.staff_id.as_str().to_string();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let team = teams::create(
        &mut conn,
        &app.clinic,
        "受付",
        AssignMode::Off,
        app.now_ms(),
    )
    .await
    .unwrap()
    .unwrap();
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
    let (c, s, t) = (&app.clinic, Some(staff.as_str()), Some(team.as_str()));
    survey(app, c, "2026-12", s, t, "done", Some(5), None, None).await;
    survey(
        app,
        c,
        "2026-12",
        s,
        t,
        "done",
        Some(4),
        Some("丁寧でした"),
        None,
    )
    .await;
    survey(app, c, "2026-12", None, None, "asked", None, None, None).await;
    survey(
        app,
        c,
        "2026-11",
        s,
        t,
        "done",
        Some(1),
        Some("待ち時間が長い"),
        None,
    )
    .await;
    survey(
        app,
        c,
        "2026-11",
        None,
        None,
        "skipped",
        None,
        None,
        Some("consent_withdrawn"),
    )
    .await;
    let o = &other;
    survey(
        app,
        o,
        "2026-12",
        None,
        None,
        "done",
        Some(1),
        Some("他院の声"),
        None,
    )
    .await;
    Seeded { staff_id: staff }
}

fn figures(v: &Value) -> (i64, i64, String, Vec<i64>) {
    (
        v["asked"].as_i64().unwrap(),
        v["answered"].as_i64().unwrap(),
        format!("{:.2}", v["average"].as_f64().unwrap_or(-1.0)),
        serde_json::from_value(v["distribution"].clone()).unwrap(),
    )
}

#[tokio::test]
async fn the_api_gives_the_clinics_own_figures_per_month_staff_and_team() {
    let app = spawn_app().await;
    let s = seed(&app).await;
    let (status, r) = app.api_get("/api/v1/satisfaction").await;
    assert_eq!(status, 200, "{r}");
    // The other clinic's survey is not counted; the skipped one only by its reason.
    assert_eq!(
        figures(&r["total"]),
        (4, 3, "3.33".into(), vec![1, 0, 0, 1, 1])
    );
    assert_eq!(r["total"]["response_rate"], 0.75);
    assert_eq!(r["skipped"], json!({"consent_withdrawn": 1}));
    let months: Vec<_> = r["by_month"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| (g["key"].clone(), figures(&g["figures"])))
        .collect();
    assert_eq!(
        months,
        vec![
            (json!("2026-12"), (3, 2, "4.50".into(), vec![0, 0, 0, 1, 1])),
            (json!("2026-11"), (1, 1, "1.00".into(), vec![1, 0, 0, 0, 0])),
        ]
    );
    let staff = &r["by_staff"][0];
    assert_eq!(
        (
            staff["key"].as_str().unwrap(),
            staff["name"].as_str().unwrap()
        ),
        (s.staff_id.as_str(), "佐藤 花子")
    );
    assert_eq!(figures(&staff["figures"]).0, 3);
    assert_eq!(r["by_staff"][1]["key"], Value::Null, "nobody assigned");
    assert_eq!(r["by_team"][0]["name"], "受付");

    let (_, dec) = app.api_get("/api/v1/satisfaction?month=2026-12").await;
    assert_eq!(figures(&dec["total"]).0, 3);
    let (_, one) = app
        .api_get(&format!("/api/v1/satisfaction?staff_id={}", s.staff_id))
        .await;
    assert_eq!(
        figures(&one["total"]),
        (3, 3, "3.33".into(), vec![1, 0, 0, 1, 1])
    );
    let (status, bad) = app.api_get("/api/v1/satisfaction?month=12-2026").await;
    assert_eq!(status, 422, "{bad}");
}

#[tokio::test]
async fn settings_through_the_api_are_checked_saved_and_audited() {
    let app = spawn_app().await;
    let (status, s) = app.api_get("/api/v1/satisfaction/settings").await;
    assert_eq!(status, 200);
    assert_eq!(s["enabled"], false, "off until a clinic turns it on");
    let mut body = s.clone();
    body["enabled"] = json!(true);
    body["delay_minutes"] = json!(60);
    body["channels"] = json!(["sms", "line"]);
    let put = |b: Value| {
        app.request(Method::PUT, "/api/v1/satisfaction/settings")
            .bearer(app.api_token())
            .json(&b)
            .send()
    };
    let r = put(body.clone()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["channels"], json!(["line", "sms"]));
    let (_, s) = app.api_get("/api/v1/satisfaction/settings").await;
    assert_eq!(
        (s["enabled"].clone(), s["delay_minutes"].clone()),
        (json!(true), json!(60))
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'api.satisfaction.settings.update'"
        )
        .await,
        1
    );
    body["delay_minutes"] = json!(-5);
    let r = put(body.clone()).await;
    assert_eq!(r.status, 422, "{}", r.text());
    body["delay_minutes"] = json!(10);
    body["channels"] = json!(["fax"]);
    assert_eq!(put(body).await.status, 422);
    let (_, s) = app.api_get("/api/v1/satisfaction/settings").await;
    assert_eq!(
        s["delay_minutes"], 60,
        "a refused change keeps the settings"
    );
}

#[tokio::test]
async fn the_results_page_shows_figures_and_comments_only_to_who_may_read_them() {
    let app = spawn_app().await;
    let empty = app.staff_session(&app.clinic, Role::Owner, "院長").await;
    let page = app
        .request(Method::GET, "/app/satisfaction")
        .session(&empty)
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(
        page.text().contains("まだアンケートの結果がありません"),
        "an empty state that says what to do"
    );

    seed(&app).await;
    let desk = app
        .staff_session(&app.clinic, Role::Receptionist, "受付 一郎")
        .await;
    let page = app
        .request(Method::GET, "/app/satisfaction")
        .session(&desk)
        .send()
        .await;
    assert_eq!(page.status, 200);
    let html = page.text();
    for shown in [
        "3.3",
        "75%",
        "佐藤 花子",
        "受付",
        "2026年12月",
        "丁寧でした",
        "同意が取り消されている",
    ] {
        assert!(html.contains(shown), "{shown} on the page");
    }
    assert!(
        !html.contains("他院の声"),
        "another clinic's comment is never shown"
    );
    let nov = app
        .request(Method::GET, "/app/satisfaction?month=2026-11")
        .session(&desk)
        .send()
        .await
        .text();
    assert!(nov.contains("待ち時間が長い") && !nov.contains("丁寧でした"));

    // Figures without message bodies: no comments.
    let figures_only = app
        .staff_session(&app.clinic, Role::Broadcaster, "配信 担当")
        .await;
    let html = app
        .request(Method::GET, "/app/satisfaction")
        .session(&figures_only)
        .send()
        .await
        .text();
    assert!(html.contains("3.3") && !html.contains("丁寧でした"));
}

#[tokio::test]
async fn the_settings_page_saves_for_administrators_and_says_what_is_wrong() {
    let app = spawn_app().await;
    let desk = app
        .staff_session(&app.clinic, Role::Receptionist, "受付 一郎")
        .await;
    let r = app
        .request(Method::GET, "/app/settings/satisfaction")
        .session(&desk)
        .send()
        .await;
    assert_eq!(r.status, 403);
    let owner = app.staff_session(&app.clinic, Role::Owner, "院長").await;
    let r = app
        .request(Method::GET, "/app/settings/satisfaction")
        .session(&owner)
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert!(r.text().contains("満足度アンケート"));
    let form = |delay: &str| {
        vec![
            ("csrf_token", owner.csrf.clone()),
            ("enabled", "on".into()),
            ("delay_minutes", delay.into()),
            ("question", "いかがでしたか？".into()),
            ("thanks", "ありがとうございました".into()),
            ("comment_prompt", String::new()),
            ("min_days", "14".into()),
            ("ch_line", "on".into()),
        ]
    };
    let bad = app
        .request(Method::POST, "/app/settings/satisfaction")
        .session(&owner)
        .form(&form("三十"))
        .send()
        .await;
    assert_eq!(bad.status, 422);
    assert!(
        bad.text().contains("0〜10080の数字"),
        "the error in Japanese"
    );
    let ok = app
        .request(Method::POST, "/app/settings/satisfaction")
        .session(&owner)
        .form(&form("45"))
        .send()
        .await;
    assert_eq!(ok.status, 303, "{}", ok.text());
    let mut conn = app.db.pool().acquire().await.unwrap();
    let s = tsunagu_automation::satisfaction::settings::load(&mut conn, &app.clinic)
        .await
        .unwrap();
    assert!(s.enabled);
    assert_eq!((s.delay_minutes, s.min_days), (45, 14));
    assert_eq!(s.channel_kinds, vec!["line"]);
    assert_eq!(s.comment_prompt, "", "an empty prompt: no comment asked");
    drop(conn);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'satisfaction.settings.update'"
        )
        .await,
        1
    );
}
