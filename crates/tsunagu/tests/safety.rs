//! Safety end to end (issue 13), at 02:00 in Tokyo on a fake clock, through the real LINE
//! webhook with the sandbox as the patient's phone: a red flag gets the emergency guidance in
//! the job run, the conversation turns urgent and comes first, the on-call person is told
//! without the patient's words and the next one after the delay unless someone opened the
//! conversation; negated and past mentions set off nothing; the guidance goes once an hour, also
//! when two messages are dispatched at once; a standby message alerts staff and answers nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use axum::http::Method;
use chrono::DateTime;
use common::smtp::{smtp, start_sink};
use common::{builder, start, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_core::config::Settings;
use tsunagu_core::{Clock, Role};
use tsunagu_sandbox::line::UserProfile;
use tsunagu_testkit::app::StaffSession;

const URGENT: &str = "胸が痛くて息が苦しい";
const OTHER: &str = "U7d17213952d4e5f60718293a4b5c6d7e";
const THIRD: &str = "U8e28324a63e5f60718293a4b5c6d7e8f";

/// 2026-12-08 02:00 in Tokyo.
fn two_am() -> i64 {
    DateTime::parse_from_rfc3339("2026-12-08T02:00:00+09:00")
        .unwrap()
        .timestamp_millis()
}

struct Clinic {
    app: TestApp,
    nurse: StaffSession,
    owner: StaffSession,
}

/// The app at 02:00 with a rota for the night: the nurse first, then the owner.
async fn clinic() -> Clinic {
    clinic_with(|_| {}).await
}

async fn clinic_with(change: impl FnOnce(&mut Settings)) -> Clinic {
    let app = start(builder().clock_ms(two_am()).settings(change)).await;
    let nurse = app
        .staff_session(&app.clinic, Role::Clinician, "看護師 田中")
        .await;
    let owner = app
        .staff_session(&app.clinic, Role::Owner, "院長 佐藤")
        .await;
    let now = app.clock.now_ms();
    let night = (now - 3_600_000, now + 6 * 3_600_000);
    let mut conn = app.db.pool().acquire().await.unwrap();
    for s in [&nurse, &owner] {
        tsunagu_safety::rota::add(&mut conn, &app.clinic, s.staff_id.as_str(), night, now)
            .await
            .unwrap()
            .unwrap();
    }
    drop(conn);
    Clinic { app, nurse, owner }
}

async fn says(app: &TestApp, user: &str, text: &str) {
    let event = app.sandbox.user_text(user, text);
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
}

/// The texts the patient's phone received, in order.
fn texts(app: &TestApp, user: &str) -> Vec<String> {
    app.sandbox
        .delivered_to(user)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

async fn conversation_of(app: &TestApp, user: &str) -> String {
    sqlx::query_scalar("SELECT id FROM conversations WHERE thread_key = $1")
        .bind(user)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn priority(app: &TestApp, conv: &str) -> i64 {
    sqlx::query_scalar("SELECT priority FROM conversations WHERE id = $1")
        .bind(conv)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// Who was told, by step: (step, staff id).
async fn told(app: &TestApp) -> Vec<(i64, String)> {
    sqlx::query_as("SELECT step, staff_id FROM triage_notified ORDER BY step, staff_id")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

/// `/app/oncall/alerts` as `who` sees it.
async fn alerts_for(app: &TestApp, who: &StaffSession) -> Value {
    let r = app
        .request(Method::GET, "/app/oncall/alerts")
        .session(who)
        .send()
        .await;
    assert_eq!(r.status, 200);
    r.json()
}

async fn audits(app: &TestApp, action: &str) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = $1")
        .bind(action)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

fn minutes(app: &TestApp, n: i64) {
    app.clock.advance(chrono::Duration::minutes(n));
}

#[tokio::test]
async fn a_red_flag_at_2am_gets_the_guidance_goes_first_and_calls_the_rota_in_turn() {
    let Clinic { app, nurse, owner } = clinic().await;
    app.sandbox.add_user(
        ACCESS_TOKEN,
        UserProfile {
            user_id: OTHER.into(),
            display_name: "鈴木 一郎".into(),
            picture_url: None,
            status_message: None,
            language: Some("ja".into()),
        },
    );
    says(&app, PATIENT, URGENT).await;
    minutes(&app, 1);
    says(&app, OTHER, "駐車場はありますか").await;
    app.run_jobs().await;

    // The guidance reached the phone in this job run; the other patient got nothing.
    let got = texts(&app, PATIENT);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(
        got[0].contains("119") && got[0].contains("#7119"),
        "{got:?}"
    );
    assert!(texts(&app, OTHER).is_empty());

    // Urgent, and first in the default view though the other conversation is newer.
    let conv = conversation_of(&app, PATIENT).await;
    assert_eq!(priority(&app, &conv).await, 2);
    let (status, list) = app.api_get("/api/v1/conversations").await;
    assert_eq!(status, 200);
    assert_eq!(list["items"][0]["id"], conv.as_str(), "{list}");
    assert_eq!(list["items"][0]["priority"], "urgent");
    // The message says why, in the API and on the page.
    let (_, messages) = app
        .api_get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    let inbound = messages["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["direction"] == "in")
        .unwrap()
        .clone();
    assert_eq!(inbound["triage"]["urgent"], true, "{inbound}");
    assert!(inbound["triage"]["categories"]
        .as_array()
        .unwrap()
        .contains(&Value::from("chest_pain")));
    let page = app
        .request(Method::GET, &format!("/app/conversations/{conv}"))
        .session(&owner)
        .send()
        .await
        .text();
    assert!(page.contains("緊急の可能性"), "the red marker");
    assert!(
        page.contains("class=\"triage-hit\""),
        "the words highlighted"
    );
    assert!(
        page.contains("自動で優先度を「緊急」にしました"),
        "the line says why"
    );

    // The owner opened it above, so the test starts again with a fresh alert below; first,
    // what the nurse was told: a count and a link, nothing the patient wrote.
    assert_eq!(told(&app).await, vec![(0, nurse.staff_id.to_string())]);
    let mine = alerts_for(&app, &nurse).await;
    assert_eq!(mine["count"], 0, "opened by the owner: answered");
    assert!(!mine.to_string().contains("胸"));
}

#[tokio::test]
async fn nobody_opens_it_so_the_next_person_is_called_then_everyone() {
    let Clinic { app, nurse, owner } = clinic().await;
    says(&app, PATIENT, URGENT).await;
    app.run_jobs().await;
    let conv = conversation_of(&app, PATIENT).await;
    assert_eq!(told(&app).await, vec![(0, nurse.staff_id.to_string())]);
    let mine = alerts_for(&app, &nurse).await;
    assert_eq!(mine["count"], 1);
    assert_eq!(mine["href"], format!("/app/conversations/{conv}"));
    assert!(!mine.to_string().contains("胸") && !mine.to_string().contains("苦"));
    assert_eq!(alerts_for(&app, &owner).await["count"], 0, "not called yet");

    minutes(&app, 9);
    app.run_jobs().await;
    assert_eq!(told(&app).await.len(), 1, "not before the delay");
    minutes(&app, 1);
    app.run_jobs().await;
    assert_eq!(
        told(&app).await,
        vec![
            (0, nurse.staff_id.to_string()),
            (1, owner.staff_id.to_string())
        ]
    );
    assert_eq!(alerts_for(&app, &owner).await["count"], 1);
    minutes(&app, 10);
    app.run_jobs().await;
    assert_eq!(told(&app).await.len(), 4, "then everyone on the rota");
    minutes(&app, 60);
    app.run_jobs().await;
    assert_eq!(told(&app).await.len(), 4, "and nothing after that");
    assert_eq!(audits(&app, "triage.notify").await, 1);
    assert_eq!(audits(&app, "triage.escalate").await, 2);
}

#[tokio::test]
async fn someone_opening_the_conversation_stops_the_escalation() {
    let Clinic { app, nurse, owner } = clinic().await;
    says(&app, PATIENT, URGENT).await;
    app.run_jobs().await;
    let conv = conversation_of(&app, PATIENT).await;
    minutes(&app, 3);
    let r = app
        .request(Method::GET, &format!("/app/conversations/{conv}"))
        .session(&nurse)
        .send()
        .await;
    assert_eq!(r.status, 200);
    minutes(&app, 12);
    app.run_jobs().await;
    assert_eq!(told(&app).await, vec![(0, nurse.staff_id.to_string())]);
    assert_eq!(alerts_for(&app, &nurse).await["count"], 0);
    assert_eq!(alerts_for(&app, &owner).await["count"], 0);
}

#[tokio::test]
async fn negated_and_past_mentions_set_off_nothing() {
    let Clinic { app, .. } = clinic().await;
    for text in [
        "胸は痛くないです",
        "昨日は胸が痛かったけど今は大丈夫",
        "救急外来の場所を教えて",
    ] {
        says(&app, PATIENT, text).await;
        app.run_jobs().await;
    }
    assert!(
        texts(&app, PATIENT).is_empty(),
        "{:?}",
        texts(&app, PATIENT)
    );
    let conv = conversation_of(&app, PATIENT).await;
    assert_eq!(priority(&app, &conv).await, 0);
    assert!(told(&app).await.is_empty());
    assert_eq!(app.count("SELECT COUNT(*) FROM triage_alerts").await, 0);
    // Each text was still assessed (its sentiment is kept).
    assert_eq!(app.count("SELECT COUNT(*) FROM message_triage").await, 3);
}

#[tokio::test]
async fn the_guidance_goes_once_an_hour_even_for_two_messages_dispatched_at_once() {
    let Clinic { app, .. } = clinic().await;
    says(&app, PATIENT, URGENT).await;
    says(&app, PATIENT, "胸が痛くて苦しいです、助けて").await;
    // Two workers take the two dispatch jobs at the same moment.
    let w = app.services.worker.clone();
    let (a, b) = tokio::join!(w.run_once(), app.services.worker.run_once());
    assert_eq!(a.unwrap() + b.unwrap(), 2);
    app.run_jobs().await;
    assert_eq!(texts(&app, PATIENT).len(), 1, "{:?}", texts(&app, PATIENT));
    assert_eq!(app.count("SELECT COUNT(*) FROM triage_alerts").await, 2);

    minutes(&app, 30);
    says(&app, PATIENT, URGENT).await;
    app.run_jobs().await;
    assert_eq!(texts(&app, PATIENT).len(), 1, "not again within the hour");
    minutes(&app, 31);
    says(&app, PATIENT, URGENT).await;
    app.run_jobs().await;
    assert_eq!(texts(&app, PATIENT).len(), 2, "again after it");
}

#[tokio::test]
async fn a_standby_message_alerts_staff_and_answers_nothing() {
    let Clinic { app, nurse, .. } = clinic().await;
    let mut event = app.sandbox.user_text(PATIENT, URGENT);
    event["mode"] = "standby".into();
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
    assert!(
        texts(&app, PATIENT).is_empty(),
        "another system answers in standby"
    );
    let conv = conversation_of(&app, PATIENT).await;
    assert_eq!(priority(&app, &conv).await, 2);
    assert_eq!(told(&app).await, vec![(0, nurse.staff_id.to_string())]);
}

#[tokio::test]
async fn suicidal_words_get_the_crisis_lines_instead_of_the_guidance() {
    let Clinic { app, .. } = clinic().await;
    says(&app, PATIENT, "もう死にたい").await;
    app.run_jobs().await;
    let got = texts(&app, PATIENT);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("0120-279-338"), "{got:?}");
    assert!(!got[0].contains("#7119"), "{got:?}");
    let crisis: i64 = sqlx::query_scalar("SELECT crisis FROM message_triage")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(crisis, 1);
}

#[tokio::test]
async fn the_on_call_email_carries_the_clinic_and_a_link_but_none_of_the_patients_words() {
    let Some(sink) = start_sink() else {
        return;
    };
    let port = sink.port;
    let Clinic { app, nurse, .. } = clinic_with(|s| s.smtp = Some(smtp(port))).await;
    says(&app, PATIENT, URGENT).await;
    app.run_jobs().await;
    let conv = conversation_of(&app, PATIENT).await;
    let email: String = sqlx::query_scalar("SELECT email FROM staff WHERE id = $1")
        .bind(nurse.staff_id.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let mail = sink.mail(1);
    assert_eq!(mail["rcpt_tos"][0], email.as_str(), "{mail}");
    let body = mail["body"].as_str().unwrap();
    assert!(
        body.contains(&format!("/app/conversations/{conv}")),
        "{body}"
    );
    assert!(
        mail["subject"].as_str().unwrap().contains("さくら内科"),
        "{mail}"
    );
    for words in ["胸", "苦し", "山田", "Emily"] {
        assert!(!mail.to_string().contains(words), "{words} in {mail}");
    }
    assert_eq!(sink.mails().len(), 1, "the owner is not called yet");
}

#[tokio::test]
async fn the_guidance_goes_while_automation_keeps_quiet_for_a_person() {
    let Clinic { app, .. } = clinic().await;
    says(&app, PATIENT, "スタッフと話したいです").await;
    app.run_jobs().await;
    assert_eq!(texts(&app, PATIENT).len(), 1, "handed to a person: quiet");
    says(&app, PATIENT, URGENT).await;
    app.run_jobs().await;
    let got = texts(&app, PATIENT);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[1].contains("119"), "{got:?}");
}

#[tokio::test]
async fn the_inbox_sorts_the_most_dissatisfied_first_across_pages() {
    let Clinic { app, .. } = clinic().await;
    for (user, name) in [(OTHER, "鈴木 一郎"), (THIRD, "高橋 次郎")] {
        app.sandbox.add_user(
            ACCESS_TOKEN,
            UserProfile {
                user_id: user.into(),
                display_name: name.into(),
                picture_url: None,
                status_message: None,
                language: Some("ja".into()),
            },
        );
    }
    says(&app, PATIENT, "対応が遅くて本当に困っています。ひどいです").await;
    minutes(&app, 1);
    says(&app, OTHER, "駐車場はありますか").await;
    minutes(&app, 1);
    says(&app, THIRD, "ありがとうございました、とても助かりました").await;
    app.run_jobs().await;
    let unhappy = conversation_of(&app, PATIENT).await;
    let neutral = conversation_of(&app, OTHER).await;
    let happy = conversation_of(&app, THIRD).await;
    let mut seen = Vec::new();
    let mut url = "/api/v1/conversations?sort=dissatisfied&limit=1".to_string();
    loop {
        let (status, page) = app.api_get(&url).await;
        assert_eq!(status, 200, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_str().unwrap().to_string()),
        );
        match page["next_cursor"].as_str() {
            Some(c) => url = format!("/api/v1/conversations?sort=dissatisfied&limit=1&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(seen, vec![unhappy, neutral, happy]);
}
