//! Step (drip) sequences end to end through the real LINE webhook, with the sandbox as the
//! patient's phone and a fake clock: friend-add enrolls, each step goes at its clinic-local
//! time (Asia/Tokyo), a retried step job sends nothing twice, and blocking or withdrawing
//! consent stops the sequence with its reason.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use chrono::{DateTime, Duration, Utc};
use common::{builder, start, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_automation::sequences::store::{self, Draft, SequenceStep};
use tsunagu_automation::sequences::timing::Timing;
use tsunagu_automation::sequences::Trigger;
use tsunagu_core::PatientId;
use tsunagu_privacy::consent::{self, ConsentActor, NewConsent, Purpose, Source};

const PARKING: &str = "駐車場とアクセスのご案内です。";
const VACCINE: &str = "予防接種のご案内です。";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

/// Monday 2026-12-07 15:30 in Tokyo.
async fn app() -> TestApp {
    let app = start(builder().clock_ms(at("2026-12-07T06:30:00Z").timestamp_millis())).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let step = |delay_minutes, after_previous, body: &str| SequenceStep {
        timing: Timing {
            delay_minutes,
            after_previous,
            send_at_minute: Some(600),
            open_hours_only: false,
        },
        body: body.into(),
    };
    let draft = Draft {
        name: "新しい友だちへのご案内".into(),
        purpose: Purpose::HealthInformation,
        trigger: Trigger::FriendAdded { channel_id: None },
        goal_tag: Some("来院済み".into()),
        reenroll: false,
        enabled: true,
        steps: vec![
            step(24 * 60, false, PARKING),
            step(3 * 24 * 60, true, VACCINE),
        ],
    }
    .check()
    .unwrap();
    store::create(&mut conn, &app.clinic, &draft, app.now_ms())
        .await
        .unwrap();
    drop(conn);
    app
}

async fn send(app: &TestApp, event: Value) {
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
}

fn texts(app: &TestApp) -> Vec<String> {
    app.sandbox
        .delivered_to(PATIENT)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

async fn patient(app: &TestApp) -> PatientId {
    let id: String =
        sqlx::query_scalar("SELECT patient_id FROM channel_identities WHERE external_id = $1")
            .bind(PATIENT)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    PatientId::from_db(id)
}

async fn consent_to_health_information(app: &TestApp, granted: bool) {
    let p = patient(app).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let entry = NewConsent {
        clinic: &app.clinic,
        patient: &p,
        purpose: Purpose::HealthInformation,
        channel: Some(&app.channel),
        granted,
        source: Source::WebForm,
        wording: "健康情報のお知らせを受け取りますか？",
        reason: None,
        actor: ConsentActor::System,
        source_ip: None,
    };
    consent::record(&mut conn, app.db.backend(), entry, app.now_ms())
        .await
        .unwrap()
        .unwrap();
}

/// Moves the clock to `to` and runs what is due.
async fn at_time(app: &TestApp, to: &str) {
    app.clock.set(at(to));
    app.run_jobs().await;
}

async fn enrollment_state(app: &TestApp) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, stop_reason FROM sequence_enrollments")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn friend_add_enrolls_and_each_step_goes_at_ten_tokyo_time_once() {
    let app = app().await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    assert_eq!(enrollment_state(&app).await, ("active".into(), None));
    consent_to_health_information(&app, true).await;
    assert!(texts(&app).is_empty());

    // The next day, 09:59 Tokyo: not yet; 10:00: the first step.
    at_time(&app, "2026-12-08T00:59:00Z").await;
    assert!(texts(&app).is_empty(), "{:?}", texts(&app));
    at_time(&app, "2026-12-08T01:00:00Z").await;
    assert_eq!(texts(&app), vec![PARKING.to_string()]);

    // The step's job run again (a retry, a second worker): nothing is sent twice.
    sqlx::query("UPDATE outbox_jobs SET state = 'queued', run_at = $1 WHERE kind = 'sequence.step' AND idempotency_key LIKE '%:0'")
        .bind(app.now_ms())
        .execute(app.db.pool())
        .await
        .unwrap();
    app.run_jobs().await;
    assert_eq!(texts(&app).len(), 1);

    // Three days after the first step, at 10:00 again: the second, and the sequence is done.
    at_time(&app, "2026-12-11T00:59:00Z").await;
    assert_eq!(texts(&app).len(), 1);
    at_time(&app, "2026-12-11T01:00:00Z").await;
    assert_eq!(texts(&app), vec![PARKING.to_string(), VACCINE.to_string()]);
    assert_eq!(enrollment_state(&app).await, ("completed".into(), None));
    let lines = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'system' AND payload LIKE '%\"sequence\"%'")
        .await;
    assert_eq!(lines, 2, "a line for staff per step");

    // Added again later: enrolled once only.
    send(&app, app.sandbox.unfollow(PATIENT)).await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    assert_eq!(
        app.count("SELECT COUNT(*) FROM sequence_enrollments").await,
        1
    );
}

#[tokio::test]
async fn a_patient_who_blocks_gets_nothing_more() {
    let app = app().await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    consent_to_health_information(&app, true).await;
    at_time(&app, "2026-12-08T01:00:00Z").await;
    assert_eq!(texts(&app).len(), 1);

    send(&app, app.sandbox.unfollow(PATIENT)).await;
    app.clock.advance(Duration::days(10));
    app.run_jobs().await;
    assert_eq!(texts(&app).len(), 1, "{:?}", texts(&app));
    assert_eq!(
        enrollment_state(&app).await,
        ("stopped".into(), Some("blocked".into()))
    );
}

#[tokio::test]
async fn consent_withdrawn_stops_the_sequence_with_its_reason() {
    let app = app().await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    consent_to_health_information(&app, true).await;
    // Withdrawn at the desk (the ledger alone): checked when the step is due.
    consent_to_health_information(&app, false).await;
    at_time(&app, "2026-12-08T01:00:00Z").await;
    assert!(texts(&app).is_empty(), "{:?}", texts(&app));
    assert_eq!(
        enrollment_state(&app).await,
        ("stopped".into(), Some("consent_withdrawn".into()))
    );
}

#[tokio::test]
async fn no_consent_for_the_purpose_sends_nothing_and_says_why() {
    let app = app().await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    at_time(&app, "2026-12-08T01:00:00Z").await;
    assert!(texts(&app).is_empty());
    assert_eq!(
        enrollment_state(&app).await,
        ("stopped".into(), Some("consent_required".into()))
    );
}

#[tokio::test]
async fn the_goal_tag_stops_the_sequence() {
    let app = app().await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    consent_to_health_information(&app, true).await;
    let p = patient(&app).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let change = tsunagu_contacts::input::Changes {
        tags: Some(vec!["来院済み".into()]),
        tags_add_only: true,
        ..Default::default()
    };
    tsunagu_contacts::patients::apply(&mut conn, &app.clinic, &p, &change, app.now_ms())
        .await
        .unwrap();
    drop(conn);
    app.run_jobs().await;
    assert_eq!(
        enrollment_state(&app).await,
        ("stopped".into(), Some("goal".into()))
    );
    at_time(&app, "2026-12-08T01:00:00Z").await;
    assert!(texts(&app).is_empty());
}

#[tokio::test]
async fn staff_create_a_sequence_on_the_settings_page_see_who_is_in_it_and_stop_one() {
    use axum::http::Method;
    use tsunagu_core::Role;
    let app = start(builder().clock_ms(at("2026-12-07T06:30:00Z").timestamp_millis())).await;
    let admin = app
        .staff_session(&app.clinic, Role::Admin, "管理 高橋")
        .await;
    let page = app
        .request(Method::GET, "/app/settings/sequences")
        .session(&admin)
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text().contains("まだステップ配信がありません"));

    let form = |csrf: &str, body: &str| {
        vec![
            ("csrf_token", csrf.to_string()),
            ("name", "新しい友だちへのご案内".to_string()),
            ("purpose", "health_information".to_string()),
            ("trigger_kind", "friend_added".to_string()),
            ("enabled", "1".to_string()),
            ("step_body_0", body.to_string()),
            ("step_delay_0", "1".to_string()),
            ("step_unit_0", "days".to_string()),
            ("step_after_0", "enrollment".to_string()),
            ("step_time_0", "10:00".to_string()),
        ]
    };
    // Without the CSRF token nothing is created.
    let refused = app
        .request(Method::POST, "/app/settings/sequences")
        .session(&admin)
        .form(&form("wrong", PARKING))
        .send()
        .await;
    assert_eq!(refused.status, 403);
    let bad = app
        .request(Method::POST, "/app/settings/sequences")
        .session(&admin)
        .form(&form(&admin.csrf, ""))
        .send()
        .await;
    assert_eq!(bad.status, 422);
    assert!(bad.text().contains("メッセージを1通以上入力してください。"));
    let made = app
        .request(Method::POST, "/app/settings/sequences")
        .session(&admin)
        .form(&form(&admin.csrf, PARKING))
        .send()
        .await;
    assert_eq!(made.status, 303, "{}", made.text());
    let id = made
        .location()
        .split('/')
        .next_back()
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();

    send(&app, app.sandbox.follow(PATIENT)).await;
    let page = app
        .request(Method::GET, &format!("/app/settings/sequences/{id}"))
        .session(&admin)
        .send()
        .await;
    assert!(page.text().contains("配信中"), "{}", page.text());
    // Due the next day at 10:00 in Tokyo (the page escapes the slashes).
    assert!(page.text().contains("2026&#x2f;12&#x2f;08 10:00"));

    let (enrollment,): (String,) = sqlx::query_as("SELECT id FROM sequence_enrollments")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let stopped = app
        .request(
            Method::POST,
            &format!("/app/settings/sequences/{id}/enrollments/{enrollment}/stop"),
        )
        .session(&admin)
        .form(&[("csrf_token", admin.csrf.as_str())])
        .send()
        .await;
    assert_eq!(stopped.status, 303);
    assert_eq!(
        enrollment_state(&app).await,
        ("stopped".into(), Some("staff".into()))
    );
    let page = app
        .request(Method::GET, &format!("/app/settings/sequences/{id}"))
        .session(&admin)
        .send()
        .await;
    assert!(page.text().contains("スタッフが止めたため"));
    let audited = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action IN ('sequence.create', 'sequence.enrollment_stop')")
        .await;
    assert_eq!(audited, 2);
    consent_to_health_information(&app, true).await;
    at_time(&app, "2026-12-08T01:00:00Z").await;
    assert!(texts(&app).is_empty(), "a stopped enrollment sends nothing");
}

#[tokio::test]
async fn haishin_teishi_in_chat_stops_the_sequence_at_once() {
    let app = app().await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    consent_to_health_information(&app, true).await;
    send(&app, app.sandbox.user_text(PATIENT, "配信停止")).await;
    assert_eq!(
        enrollment_state(&app).await,
        ("stopped".into(), Some("consent_withdrawn".into()))
    );
    let before = texts(&app).len();
    at_time(&app, "2026-12-08T01:00:00Z").await;
    assert_eq!(texts(&app).len(), before, "{:?}", texts(&app));
}

#[tokio::test]
async fn a_tag_added_enrolls_the_patient_in_its_sequence_once() {
    let app = app().await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = Draft {
        name: "初診の方へ".into(),
        purpose: Purpose::HealthInformation,
        trigger: Trigger::TagAdded {
            tag: "初診".into()
        },
        goal_tag: None,
        reenroll: false,
        enabled: true,
        steps: vec![SequenceStep {
            timing: Timing {
                delay_minutes: 60,
                after_previous: false,
                send_at_minute: None,
                open_hours_only: false,
            },
            body: "初診の流れのご案内です。".into(),
        }],
    }
    .check()
    .unwrap();
    store::create(&mut conn, &app.clinic, &draft, app.now_ms())
        .await
        .unwrap();
    drop(conn);
    send(&app, app.sandbox.user_text(PATIENT, "こんにちは")).await;
    consent_to_health_information(&app, true).await;
    let p = patient(&app).await;
    for _ in 0..2 {
        let mut conn = app.db.pool().acquire().await.unwrap();
        let change = tsunagu_contacts::input::Changes {
            tags: Some(vec!["初診".into()]),
            tags_add_only: true,
            ..Default::default()
        };
        tsunagu_contacts::patients::apply(&mut conn, &app.clinic, &p, &change, app.now_ms())
            .await
            .unwrap();
        drop(conn);
        app.run_jobs().await;
    }
    let n = app
        .count("SELECT COUNT(*) FROM sequence_enrollments e JOIN sequences s ON s.id = e.sequence_id WHERE s.name = '初診の方へ'")
        .await;
    assert_eq!(n, 1);
    app.clock.advance(Duration::minutes(60));
    app.run_jobs().await;
    assert!(
        texts(&app).contains(&"初診の流れのご案内です。".to_string()),
        "{:?}",
        texts(&app)
    );
}
