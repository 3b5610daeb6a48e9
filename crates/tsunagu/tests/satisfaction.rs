//! The satisfaction survey (満足度アンケート) end to end through the real LINE webhook, with the
//! sandbox as the patient's phone and a fake clock: sent once the delay after the resolve has
//! passed and only while the conversation stays resolved, for patients who consented to
//! `care` and have not blocked the account, at most once in the clinic's days; answered by a
//! quick reply tap or a typed digit, the comment after it; a redelivered answer is recorded
//! once; anything else goes on normally. Results through the API and the page, per clinic.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;
#[allow(dead_code)] // the WhatsApp suite's helpers, only some used here
#[path = "whatsapp/harness.rs"]
mod harness;

use chrono::{DateTime, Duration, Utc};
use common::{builder, start, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_automation::satisfaction::settings::{self, Settings};
use tsunagu_core::{ConversationId, ConversationStatus, PatientId};
use tsunagu_inbox::state::{self, By, Change};
use tsunagu_privacy::audit::Actor;
use tsunagu_privacy::consent::{self, ConsentActor, NewConsent, Purpose, Source};

const QUESTION: &str = "本日の対応はいかがでしたか？";
const PROMPT: &str = "よろしければご意見をお聞かせください。";
const THANKS: &str = "ご回答ありがとうございました。";

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

async fn turn_on(app: &TestApp) {
    let s = Settings {
        enabled: true,
        question: QUESTION.into(),
        thanks: THANKS.into(),
        comment_prompt: PROMPT.into(),
        ..Settings::default()
    };
    let mut conn = app.db.pool().acquire().await.unwrap();
    settings::save(&mut conn, &app.clinic, &s.check().unwrap(), app.now_ms())
        .await
        .unwrap();
}

/// Monday 2026-12-07 15:30 in Tokyo; the survey on, 30 minutes after the resolve, once in 30
/// days; the patient has written once.
async fn app() -> TestApp {
    let app = start(builder().clock_ms(at("2026-12-07T06:30:00Z").timestamp_millis())).await;
    turn_on(&app).await;
    says(&app, "予約の時間を変えたいです").await;
    app
}

async fn send(app: &TestApp, event: &Value) {
    assert_eq!(
        app.sandbox
            .send_event(ACCESS_TOKEN, event.clone())
            .await
            .unwrap(),
        200
    );
    app.run_jobs().await;
}

async fn says(app: &TestApp, text: &str) -> Value {
    let e = app.sandbox.user_text(PATIENT, text);
    send(app, &e).await;
    e
}

fn delivered(app: &TestApp) -> Vec<Value> {
    app.sandbox.delivered_to(PATIENT)
}

fn texts(app: &TestApp) -> Vec<String> {
    delivered(app)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

async fn conversation(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM conversations WHERE kind = 'direct'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn status(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT status FROM conversations WHERE kind = 'direct'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn consent_to_care(app: &TestApp) {
    care(app, true).await;
}

/// Care is implied once the patient writes; the ledger records a grant or a withdrawal.
async fn care(app: &TestApp, granted: bool) {
    let id: String =
        sqlx::query_scalar("SELECT patient_id FROM channel_identities WHERE external_id = $1")
            .bind(PATIENT)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let p = PatientId::from_db(id);
    let mut conn = app.db.pool().acquire().await.unwrap();
    let entry = NewConsent {
        clinic: &app.clinic,
        patient: &p,
        purpose: Purpose::Care,
        channel: Some(&app.channel),
        granted,
        source: Source::WebForm,
        wording: "診療に関する連絡を受け取りますか？",
        reason: None,
        actor: ConsentActor::System,
        source_ip: None,
    };
    consent::record(&mut conn, app.db.backend(), entry, app.now_ms())
        .await
        .unwrap()
        .unwrap();
}

async fn resolve(app: &TestApp) {
    let id = ConversationId::from_db(conversation(app).await);
    let by = By {
        actor: &Actor::System,
        staff_id: None,
        ip: None,
    };
    let change = Change::Status(ConversationStatus::Resolved, None);
    assert!(
        state::change(&app.db, &app.clinic, &id, change, by, app.now_ms())
            .await
            .unwrap()
    );
    app.run_jobs().await;
}

async fn later(app: &TestApp, minutes: i64) {
    app.clock.advance(Duration::minutes(minutes));
    app.run_jobs().await;
}

/// (state, score, comment, skip reason) of every survey, oldest first.
async fn surveys(app: &TestApp) -> Vec<(String, Option<i64>, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT state, score, comment, skip_reason FROM satisfaction_surveys ORDER BY created_at",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

fn question_sent(app: &TestApp) -> Option<Value> {
    delivered(app).into_iter().find(|m| m["text"] == QUESTION)
}

#[tokio::test]
async fn asked_after_the_delay_answered_by_a_tap_then_a_comment_each_recorded_once() {
    let app = app().await;
    consent_to_care(&app).await;
    resolve(&app).await;
    later(&app, 29).await;
    assert!(question_sent(&app).is_none(), "not before the delay");
    later(&app, 1).await;
    let q = question_sent(&app).expect("the question, 30 minutes after the resolve");
    let labels: Vec<&str> = q["quickReply"]["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["action"]["label"].as_str().unwrap())
        .collect();
    assert_eq!(labels, ["不満", "やや不満", "ふつう", "やや満足", "満足"]);
    assert_eq!(status(&app).await, "resolved", "asking leaves it resolved");

    // The tap comes back as the label; the answer needs nobody: resolved again.
    let tap = says(&app, "満足").await;
    assert_eq!(texts(&app).last().unwrap(), PROMPT);
    assert_eq!(status(&app).await, "resolved");
    // LINE redelivers the tap: recorded once, answered once.
    let n = delivered(&app).len();
    assert_eq!(
        app.sandbox.redeliver(ACCESS_TOKEN, &tap).await.unwrap(),
        200
    );
    app.run_jobs().await;
    assert_eq!(delivered(&app).len(), n);

    says(&app, "とても丁寧でした").await;
    assert_eq!(texts(&app).last().unwrap(), THANKS);
    assert_eq!(
        surveys(&app).await,
        vec![(
            "done".into(),
            Some(5),
            Some("とても丁寧でした".into()),
            None
        )]
    );
    assert_eq!(status(&app).await, "resolved");

    // The job run again (a retry, a second worker): nothing is asked twice.
    sqlx::query(
        "UPDATE outbox_jobs SET state = 'queued', run_at = $1 WHERE kind = 'satisfaction.ask'",
    )
    .bind(app.now_ms())
    .execute(app.db.pool())
    .await
    .unwrap();
    app.run_jobs().await;
    assert_eq!(
        delivered(&app)
            .iter()
            .filter(|m| m["text"] == QUESTION)
            .count(),
        1
    );

    // Resolved again the next day: within 30 days the patient is not asked again.
    says(&app, "もうひとつ質問です").await;
    resolve(&app).await;
    later(&app, 24 * 60).await;
    assert_eq!(
        delivered(&app)
            .iter()
            .filter(|m| m["text"] == QUESTION)
            .count(),
        1
    );
    let reasons: Vec<_> = surveys(&app).await.into_iter().map(|s| s.3).collect();
    assert_eq!(reasons, [None, Some("asked_recently".into())]);
}

#[tokio::test]
async fn a_typed_low_score_keeps_the_conversation_open_with_a_line_for_staff() {
    let app = app().await;
    consent_to_care(&app).await;
    resolve(&app).await;
    later(&app, 30).await;
    assert!(question_sent(&app).is_some());
    says(&app, "「２」").await;
    assert_eq!(surveys(&app).await[0].1, Some(2));
    assert_eq!(
        status(&app).await,
        "open",
        "a low score is for staff to see"
    );
    let lines = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'system' AND payload LIKE '%survey_low%'")
        .await;
    assert_eq!(lines, 1);
}

#[tokio::test]
async fn a_full_width_digit_is_a_score_and_anything_else_goes_on_normally() {
    let app = app().await;
    consent_to_care(&app).await;
    resolve(&app).await;
    later(&app, 30).await;
    // Not an answer: the question closes and the message waits for staff as usual.
    says(&app, "薬の飲み方を教えてください").await;
    assert_eq!(surveys(&app).await[0].0, "expired");
    assert_eq!(status(&app).await, "open");
    let n = delivered(&app).len();
    says(&app, "５").await;
    assert_eq!(
        delivered(&app).len(),
        n,
        "a later digit is not taken as a score"
    );
    assert_eq!(surveys(&app).await[0].1, None);

    // Another resolve (the patient may be asked every time): ５ is a score.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let s = Settings {
        min_days: 0,
        ..settings::load(&mut conn, &app.clinic).await.unwrap()
    };
    settings::save(&mut conn, &app.clinic, &s, app.now_ms())
        .await
        .unwrap();
    drop(conn);
    resolve(&app).await;
    later(&app, 30).await;
    says(&app, "５").await;
    assert_eq!(surveys(&app).await[1].1, Some(5));
}

#[tokio::test]
async fn not_sent_when_the_conversation_is_reopened_before_the_delay() {
    let app = app().await;
    consent_to_care(&app).await;
    resolve(&app).await;
    later(&app, 10).await;
    says(&app, "すみません、もう一つ").await;
    later(&app, 60).await;
    assert!(question_sent(&app).is_none());
    assert!(surveys(&app).await.is_empty());
}

#[tokio::test]
async fn not_sent_when_care_consent_is_withdrawn_and_the_reason_is_kept() {
    let app = app().await;
    consent_to_care(&app).await;
    care(&app, false).await;
    resolve(&app).await;
    later(&app, 30).await;
    assert!(question_sent(&app).is_none());
    assert_eq!(
        surveys(&app).await[0].3.as_deref(),
        Some("consent_withdrawn")
    );
}

#[tokio::test]
async fn not_sent_to_a_patient_who_blocked_the_account() {
    let app = app().await;
    consent_to_care(&app).await;
    let e = app.sandbox.unfollow(PATIENT);
    send(&app, &e).await;
    resolve(&app).await;
    later(&app, 30).await;
    assert!(question_sent(&app).is_none());
    assert_eq!(surveys(&app).await[0].0, "skipped");
    assert_eq!(
        surveys(&app).await[0].3.as_deref(),
        Some("recipient_blocked")
    );
}

#[tokio::test]
async fn not_sent_while_the_survey_is_off() {
    let app = app().await;
    consent_to_care(&app).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let off = Settings {
        enabled: false,
        ..Settings::default()
    };
    settings::save(&mut conn, &app.clinic, &off, app.now_ms())
        .await
        .unwrap();
    drop(conn);
    resolve(&app).await;
    later(&app, 60).await;
    assert!(question_sent(&app).is_none());
    assert!(surveys(&app).await.is_empty());
}

#[tokio::test]
async fn on_whatsapp_the_five_answers_are_a_list_and_a_row_is_the_score() {
    let wa = harness::spawn().await;
    turn_on(&wa.app).await;
    wa.patient_says("領収書を再発行できますか").await;
    resolve(&wa.app).await;
    later(&wa.app, 30).await;
    let sends = wa.sends();
    let list = sends
        .iter()
        .find(|r| r.body["type"] == "interactive")
        .expect("the question as an interactive message");
    // Reply buttons stop at three: five answers are a list.
    assert_eq!(list.body["interactive"]["type"], "list");
    let rows = list.body["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap();
    let titles: Vec<_> = rows.iter().map(|r| r["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["不満", "やや不満", "ふつう", "やや満足", "満足"]);
    let row = &rows[3];
    let p = wa
        .sb
        .user_list_reply(
            harness::PHONE_ID,
            harness::PATIENT,
            harness::PATIENT_NAME,
            list.wamid.as_deref().unwrap(),
            row["id"].as_str().unwrap(),
            row["title"].as_str().unwrap(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(p.status, 200);
    wa.app.run_jobs().await;
    assert_eq!(surveys(&wa.app).await[0].1, Some(4));
    let last = wa.sends().last().unwrap().body.clone();
    assert_eq!(last["text"]["body"], PROMPT);
}

#[tokio::test]
async fn on_whatsapp_past_the_24_hour_window_nothing_is_sent_and_the_reason_is_kept() {
    let wa = harness::spawn().await;
    turn_on(&wa.app).await;
    let mut conn = wa.app.db.pool().acquire().await.unwrap();
    let later_day = Settings {
        delay_minutes: 25 * 60,
        ..settings::load(&mut conn, &wa.app.clinic).await.unwrap()
    };
    settings::save(&mut conn, &wa.app.clinic, &later_day, wa.app.now_ms())
        .await
        .unwrap();
    drop(conn);
    wa.patient_says("ありがとうございました").await;
    resolve(&wa.app).await;
    let n = wa.sends().len();
    later(&wa.app, 25 * 60).await;
    assert_eq!(wa.sends().len(), n, "no template: nothing is sent");
    assert_eq!(
        surveys(&wa.app).await[0].3.as_deref(),
        Some("outside_service_window")
    );
}
