//! Flows end to end through the real webhooks, with the sandboxes as the patient's phone: 問診
//! starts the sample intake, a choice is answered by LINE quick reply, a WhatsApp list row or
//! by number on SMS, the
//! answers tag the patient, set the priority and route fever to the nursing team; スタッフ
//! mid-flow hands over; a redelivered webhook advances nothing; a fake clock times a run out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;
#[allow(dead_code)] // the WhatsApp suite's helpers, only some used here
#[path = "whatsapp/harness.rs"]
mod harness;
#[allow(dead_code)] // the SMS suite's helpers, only some used here
#[path = "sms/support.rs"]
mod support;

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_automation::flows::{sample, store, Run, State};
use tsunagu_automation::rules;
use tsunagu_core::{ClinicId, Clock};
use tsunagu_inbox::routing::teams::{self, AssignMode};
use tsunagu_store::Db;

/// The sample intake (fever → 看護), published and on, started by 問診; the team's id.
async fn intake(db: &Db, clinic: &ClinicId, cipher: &tsunagu_privacy::Cipher, now: i64) -> String {
    let mut conn = db.pool().acquire().await.unwrap();
    let team = teams::create(&mut conn, clinic, "看護", AssignMode::Off, now)
        .await
        .unwrap()
        .unwrap();
    let def = sample::intake(Some(&team));
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
    let draft = rules::Draft {
        name: sample::NAME.into(),
        keywords: vec![sample::KEYWORD.into()],
        match_mode: "exact".into(),
        reply_text: String::new(),
        channel_id: None,
        active_hours: "always".into(),
        team_id: None,
        flow_id: Some(id),
        enabled: true,
    };
    rules::create(&mut conn, clinic, &draft, now)
        .await
        .unwrap()
        .unwrap();
    team
}

async fn line_app() -> (TestApp, String) {
    let app = spawn_app().await;
    let team = intake(
        &app.db,
        &app.clinic,
        &app.services.state.cipher,
        app.now_ms(),
    )
    .await;
    (app, team)
}

async fn send(app: &TestApp, event: Value) {
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
}

async fn patient_says(app: &TestApp, text: &str) -> Value {
    let event = app.sandbox.user_text(PATIENT, text);
    send(app, event.clone()).await;
    event
}

/// What the patient's LINE received, in order.
fn delivered(app: &TestApp) -> Vec<Value> {
    app.sandbox.delivered_to(PATIENT)
}

fn last_text(app: &TestApp) -> String {
    delivered(app).last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The one run of the clinic, as stored.
async fn run(db: &Db) -> (Run, String) {
    let (state, step, answers, version): (String, Option<String>, String, i64) = sqlx::query_as(
        "SELECT state, step, answers, version FROM automation_flow_runs ORDER BY started_at DESC LIMIT 1",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let run = Run {
        version,
        step,
        answers: serde_json::from_str(&answers).unwrap(),
        tries: 0,
        state: State::parse(&state).unwrap(),
    };
    (run, state)
}

async fn tags(db: &Db) -> Vec<String> {
    sqlx::query_scalar("SELECT tag FROM patient_tags ORDER BY tag")
        .fetch_all(db.pool())
        .await
        .unwrap()
}

/// (priority, team) of the patient's only conversation.
async fn conversation(db: &Db) -> (i64, Option<String>, String) {
    sqlx::query_as("SELECT priority, team_id, id FROM conversations")
        .fetch_one(db.pool())
        .await
        .unwrap()
}

async fn flow_lines(db: &Db) -> Vec<String> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM messages WHERE direction = 'system' AND payload LIKE '%flow_%' ORDER BY created_at, id",
    )
    .fetch_all(db.pool())
    .await
    .unwrap();
    rows.iter()
        .map(|p| {
            serde_json::from_str::<Value>(p).unwrap()["what"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

#[tokio::test]
async fn on_line_the_intake_walks_by_quick_reply_tags_sets_priority_and_routes_fever() {
    let (app, team) = line_app().await;
    patient_says(&app, "問診").await;
    let got = delivered(&app);
    assert_eq!(got.len(), 2, "{got:?}");
    assert!(got[0]["text"]
        .as_str()
        .unwrap()
        .starts_with("初診の問診を始めます"));
    let items = got[1]["quickReply"]["items"].as_array().unwrap();
    assert_eq!(items.len(), 4, "the choice as LINE quick reply buttons");
    assert!(
        app.sandbox.calls_to("/v2/bot/message/reply") >= 1,
        "with the reply token"
    );

    // A tap sends the button's text, as LINE does for a message action.
    let tap = items[0]["action"]["text"].as_str().unwrap().to_string();
    assert_eq!(tap, "発熱");
    patient_says(&app, &tap).await;
    assert_eq!(last_text(&app), "今の体温を教えてください（例: 38.5）。");

    patient_says(&app, "99").await;
    assert_eq!(
        delivered(&app).iter().rev().nth(1).unwrap()["text"],
        "すみません、34から43までの数字でお答えください。"
    );
    let answer = patient_says(&app, "３８．５度").await;
    assert!(last_text(&app).starts_with("いつ頃からですか"));
    let (priority, team_id, _) = conversation(&app.db).await;
    assert_eq!(priority, 1, "fever sets the priority high");
    assert_eq!(
        team_id.as_deref(),
        Some(team.as_str()),
        "fever goes to 看護"
    );
    assert_eq!(tags(&app.db).await, vec!["発熱"]);

    // The same webhook again advances nothing and says nothing.
    let before = delivered(&app).len();
    assert_eq!(
        app.sandbox.redeliver(ACCESS_TOKEN, &answer).await.unwrap(),
        200
    );
    app.run_jobs().await;
    assert_eq!(delivered(&app).len(), before);
    assert_eq!(run(&app.db).await.0.step.as_deref(), Some("onset"));

    patient_says(&app, "昨日").await;
    assert!(last_text(&app).starts_with("ありがとうございました"));
    let (r, state) = run(&app.db).await;
    assert_eq!(state, "completed");
    assert_eq!(r.answers["症状"], "発熱");
    assert_eq!(r.answers["体温"], "38.5");
    assert_eq!(r.answers["発症日"].len(), 10, "an ISO date");
    assert_eq!(tags(&app.db).await, vec!["初診", "発熱"]);
    assert_eq!(
        flow_lines(&app.db).await,
        vec![
            "flow_started",
            "flow_tagged",
            "flow_tagged",
            "flow_completed"
        ]
    );

    // Done: 問診 again starts a new run; other words go to the keyword rules and staff.
    patient_says(&app, "ありがとう").await;
    assert!(
        last_text(&app).starts_with("ありがとうございました"),
        "no answer from a finished flow"
    );
}

#[tokio::test]
async fn staff_mid_flow_hands_over_and_the_flow_stops() {
    let (app, _) = line_app().await;
    patient_says(&app, "問診").await;
    patient_says(&app, "スタッフ").await;
    assert!(last_text(&app).contains("スタッフにおつなぎします"));
    assert_eq!(run(&app.db).await.1, "cancelled");
    let n = delivered(&app).len();
    patient_says(&app, "1").await;
    assert_eq!(delivered(&app).len(), n, "the flow no longer answers");
    let lines = flow_lines(&app.db).await;
    assert_eq!(lines, vec!["flow_started", "flow_cancelled"]);
}

#[tokio::test]
async fn a_flow_nobody_answers_times_out_politely() {
    let (app, _) = line_app().await;
    patient_says(&app, "問診").await;
    app.clock.advance(chrono::Duration::minutes(29));
    app.run_jobs().await;
    assert_eq!(run(&app.db).await.1, "running");
    app.clock.advance(chrono::Duration::minutes(2));
    app.run_jobs().await;
    assert_eq!(run(&app.db).await.1, "timed_out");
    assert!(last_text(&app).starts_with("お返事がなかったため"));
    assert_eq!(
        flow_lines(&app.db).await,
        vec!["flow_started", "flow_timed_out"]
    );
    // An answer after the end starts nothing.
    let n = delivered(&app).len();
    patient_says(&app, "1").await;
    assert_eq!(delivered(&app).len(), n);
}

#[tokio::test]
async fn an_answer_moves_a_run_once_however_many_workers_claim_it() {
    let (app, _) = line_app().await;
    patient_says(&app, "問診").await;
    let (_, _, conv) = conversation(&app.db).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let row = store::running(&mut conn, &app.clinic, &conv)
        .await
        .unwrap()
        .unwrap();
    let moved = Run {
        step: Some("onset".into()),
        ..row.run()
    };
    let now = app.clock.now_ms();
    let first = store::claim(&mut conn, &row, &moved, Some("m1"), now, now)
        .await
        .unwrap();
    let second = store::claim(&mut conn, &row, &moved, Some("m1"), now, now)
        .await
        .unwrap();
    assert!(first && !second, "one claim per read of the run");
    // A second run cannot start while one is running.
    let (r, _) = tsunagu_automation::flows::start(&sample::intake(None), 1, Default::default());
    let new = store::NewRun {
        clinic: &app.clinic,
        conversation_id: &conv,
        patient_id: None,
        flow_id: &row.flow_id,
        caller: None,
    };
    assert!(store::insert_run(&mut conn, new, &r, now, now)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn on_sms_the_choice_is_numbered_and_answered_by_number() {
    let app = support::spawn_sms_app().await;
    intake(
        &app.db,
        &app.clinic,
        &app.services.state.cipher,
        app.now_ms(),
    )
    .await;
    app.patient_says("問診").await;
    let sent = app.sent();
    assert_eq!(sent.len(), 2, "{sent:?}");
    assert_eq!(
        sent[1].body,
        "今日はどのような症状でご来院の予定ですか？\n1. 発熱\n2. せき・のどの痛み\n3. おなかの痛み\n4. その他\n番号でお答えください"
    );
    app.patient_says("２").await;
    assert!(app
        .sent()
        .last()
        .unwrap()
        .body
        .starts_with("いつ頃からですか"));
    app.patient_says("12月1日").await;
    assert!(app
        .sent()
        .last()
        .unwrap()
        .body
        .starts_with("ありがとうございました"));
    assert_eq!(tags(&app.db).await, vec!["初診"]);
    let (r, state) = run(&app.db).await;
    assert_eq!(state, "completed");
    assert_eq!(r.answers["症状"], "せき・のどの痛み");
    assert!(r.answers["発症日"].ends_with("-12-01"));
}

#[tokio::test]
async fn on_whatsapp_four_choices_are_a_list_answered_by_its_row() {
    let wa = harness::spawn().await;
    intake(
        &wa.app.db,
        &wa.app.clinic,
        &wa.app.services.state.cipher,
        wa.app.now_ms(),
    )
    .await;
    wa.patient_says("問診").await;
    let sends = wa.sends();
    let list = sends
        .iter()
        .find(|r| r.body["type"] == "interactive")
        .expect("the question as an interactive message");
    assert_eq!(
        list.body["interactive"]["type"], "list",
        "4 choices: a list"
    );
    let rows = list.body["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 4);
    assert_eq!(rows[0]["title"], "発熱");
    let wamid = list.wamid.clone().unwrap();
    let row = &rows[0];
    let p = wa
        .sb
        .user_list_reply(
            harness::PHONE_ID,
            harness::PATIENT,
            harness::PATIENT_NAME,
            &wamid,
            row["id"].as_str().unwrap(),
            row["title"].as_str().unwrap(),
            None,
        )
        .await
        .unwrap();
    assert_eq!(p.status, 200);
    wa.app.run_jobs().await;
    let last = wa.sends().last().unwrap().body.clone();
    assert_eq!(
        last["text"]["body"],
        "今の体温を教えてください（例: 38.5）。"
    );
    assert_eq!(run(&wa.app.db).await.0.answers["症状"], "発熱");
}
