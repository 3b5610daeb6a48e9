//! Automation end to end through the real LINE webhook, with the sandbox as the patient's
//! phone: keyword rules answer (in any width or kana), a redelivered webhook gets no second
//! answer, スタッフ hands the conversation to a person and silences automation, a staff reply
//! within the quiet window silences it too, the away message outside hours names the next
//! opening, and the greeting goes once per identity.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{builder, spawn_app, start, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_automation::{greetings, rules, settings};
use tsunagu_core::{Clock, ConversationId, Role};
use tsunagu_inbox::reply::{queue_staff_reply, ReplyOutcome};
use tsunagu_inbox::routing;
use tsunagu_privacy::audit::Actor;
use tsunagu_store::conversations;

const REPLY: &str = "/v2/bot/message/reply";
const PARKING: &str = "駐車場は建物の裏に5台分ございます。";

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

/// The texts the patient's phone received, in order.
fn texts(app: &TestApp) -> Vec<String> {
    app.sandbox
        .delivered_to(PATIENT)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

async fn add_parking_rule(app: &TestApp) {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = rules::Draft {
        name: "駐車場".into(),
        keywords: vec!["駐車場".into(), "ちゅうしゃじょう".into()],
        match_mode: "exact".into(),
        reply_text: format!("{{{{patient.name}}}}様、{PARKING}"),
        channel_id: None,
        active_hours: "always".into(),
        team_id: None,
        flow_id: None,
        enabled: true,
    };
    rules::create(&mut conn, &app.clinic, &draft, app.clock.now_ms())
        .await
        .unwrap()
        .unwrap();
}

async fn conversation(app: &TestApp) -> conversations::Conversation {
    let id: String = sqlx::query_scalar("SELECT id FROM conversations WHERE thread_key = $1")
        .bind(PATIENT)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let mut conn = app.db.pool().acquire().await.unwrap();
    conversations::by_id(&mut conn, &app.clinic, &ConversationId::from_db(id))
        .await
        .unwrap()
        .unwrap()
}

/// The automation lines on the conversation (payload `what`), in order.
async fn automation_lines(app: &TestApp) -> Vec<(String, String)> {
    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
        "SELECT payload, body FROM messages WHERE direction = 'system' AND payload LIKE '%automation%' ORDER BY created_at, id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    rows.into_iter()
        .map(|(p, b)| {
            let p: Value = serde_json::from_str(&p).unwrap();
            (
                p["what"].as_str().unwrap().to_string(),
                b.unwrap_or_default(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_keyword_in_any_width_or_kana_gets_the_rules_answer_once_with_a_line_for_staff() {
    let app = spawn_app().await;
    add_parking_rule(&app).await;
    patient_says(&app, "こんにちは").await;
    assert!(texts(&app).is_empty(), "nothing matches a greeting");

    patient_says(&app, "駐車場").await;
    let got = texts(&app);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].ends_with(PARKING), "{got:?}");
    assert!(
        app.sandbox.calls_to(REPLY) >= 1,
        "answered with the reply token"
    );

    patient_says(&app, "ﾁｭｳｼｬｼﾞｮｳ").await;
    patient_says(&app, "「ちゅうしゃじょう」？").await;
    assert_eq!(texts(&app).len(), 3, "{:?}", texts(&app));

    let lines = automation_lines(&app).await;
    assert_eq!(lines.len(), 3);
    assert_eq!(
        lines[0],
        ("keyword".into(), "自動応答『駐車場』が返信しました".into())
    );
    // The answers are automation's, and none of them set automation off again.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM messages WHERE direction = 'out' AND author_kind = 'automation'"
        )
        .await,
        3
    );
    // The inbox list keeps showing what the patient wrote, not the automated answer.
    assert_eq!(
        conversation(&app).await.last_message_preview.as_deref(),
        Some("「ちゅうしゃじょう」？")
    );
}

#[tokio::test]
async fn a_redelivered_webhook_gets_no_second_answer() {
    let app = spawn_app().await;
    add_parking_rule(&app).await;
    let event = patient_says(&app, "駐車場").await;
    assert_eq!(texts(&app).len(), 1);

    assert_eq!(
        app.sandbox.redeliver(ACCESS_TOKEN, &event).await.unwrap(),
        200
    );
    app.run_jobs().await;
    assert_eq!(texts(&app).len(), 1, "no second answer");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'inbound.dispatch'")
            .await,
        1,
        "one dispatch job per stored message"
    );
    assert_eq!(automation_lines(&app).await.len(), 1);
}

#[tokio::test]
async fn staff_hands_over_to_a_person_and_automation_keeps_quiet_until_resolved() {
    let app = spawn_app().await;
    add_parking_rule(&app).await;
    patient_says(&app, "スタッフと話したいです").await;
    let got = texts(&app);
    assert_eq!(got.len(), 1);
    assert!(got[0].contains("スタッフにおつなぎします"), "{got:?}");
    let conv = conversation(&app).await;
    assert_eq!(conv.priority, 1, "marked high for staff");
    assert_eq!(automation_lines(&app).await[0].0, "handed_over");

    patient_says(&app, "駐車場").await;
    assert_eq!(
        texts(&app).len(),
        1,
        "no auto-reply while a person is to answer"
    );

    // Staff resolve it: automation answers again.
    app.clock.advance(chrono::Duration::minutes(1));
    sqlx::query("UPDATE conversations SET status = 'resolved', resolved_at = $1 WHERE id = $2")
        .bind(app.clock.now_ms())
        .bind(&conv.id)
        .execute(app.db.pool())
        .await
        .unwrap();
    app.clock.advance(chrono::Duration::minutes(1));
    patient_says(&app, "駐車場").await;
    assert_eq!(texts(&app).len(), 2, "{:?}", texts(&app));
}

#[tokio::test]
async fn a_staff_reply_within_the_quiet_window_silences_automation() {
    let app = spawn_app().await;
    add_parking_rule(&app).await;
    patient_says(&app, "予約の変更をお願いします").await;
    let staff = app
        .staff_session(&app.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let staff_id = staff.staff_id.to_string();
    let conv = conversation(&app).await;
    let target = routing::Target {
        staff: Some(Some(&staff_id)),
        team: None,
    };
    let actor = Actor::Staff(staff_id.clone());
    let by = routing::assign::By {
        actor: &actor,
        source_ip: None,
    };
    let now = app.clock.now_ms();
    assert_eq!(
        routing::assign(&app.db, &app.clinic, &conv.id, target, by, now)
            .await
            .unwrap(),
        routing::Change::Changed
    );
    let out = queue_staff_reply(
        &app.db,
        &app.clinic,
        &conv,
        Some(&staff_id),
        "承知しました",
        now,
    )
    .await
    .unwrap();
    assert!(matches!(out, ReplyOutcome::Queued(_)));
    app.run_jobs().await;

    app.clock.advance(chrono::Duration::minutes(10));
    patient_says(&app, "駐車場").await;
    assert_eq!(
        texts(&app),
        vec!["承知しました".to_string()],
        "quiet while a person handles it"
    );

    app.clock.advance(chrono::Duration::minutes(25));
    patient_says(&app, "駐車場").await;
    assert_eq!(texts(&app).len(), 2, "the window has passed");
    assert!(texts(&app)[1].ends_with(PARKING));
}

/// Monday 2026-11-23 21:00 in Tokyo: the clinic is closed.
const MONDAY_NIGHT: i64 = tsunagu_testkit::app::T0 + 12 * 3_600_000;

#[tokio::test]
async fn outside_hours_the_away_message_names_the_next_opening_once() {
    let app = start(builder().clock_ms(MONDAY_NIGHT)).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let s = settings::Settings {
        away_enabled: true,
        away_text: "{{clinic.name}}です。ただいま時間外です。".into(),
        ..settings::Settings::default()
    };
    settings::save(&mut conn, &app.clinic, &s, app.clock.now_ms())
        .await
        .unwrap();
    drop(conn);

    patient_says(&app, "明日予約できますか").await;
    let got = texts(&app);
    assert_eq!(got.len(), 1, "{got:?}");
    assert!(got[0].contains("ただいま時間外です。"), "{got:?}");
    assert!(
        got[0].ends_with("次の診療開始は 11月24日(火) 9:00 です。"),
        "{got:?}"
    );
    assert_eq!(automation_lines(&app).await[0].0, "away");
    // The message still waits for staff.
    assert_eq!(conversation(&app).await.status, "open");

    app.clock.advance(chrono::Duration::hours(1));
    patient_says(&app, "よろしくお願いします").await;
    assert_eq!(texts(&app).len(), 1, "once per conversation in 12 hours");

    // Tuesday 10:00: open, no away message.
    app.clock.advance(chrono::Duration::hours(12));
    patient_says(&app, "まだですか").await;
    assert_eq!(texts(&app).len(), 1);
}

#[tokio::test]
async fn the_greeting_with_the_consent_question_goes_once_per_identity() {
    let app = spawn_app().await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = greetings::Draft {
        enabled: true,
        greeting_text: "{{clinic.name}}です。友だち追加ありがとうございます。".into(),
        ask_consent: true,
        offer_verification: true,
    };
    greetings::save(
        &mut conn,
        &app.clinic,
        app.channel.as_str(),
        &draft,
        app.clock.now_ms(),
    )
    .await
    .unwrap()
    .unwrap();
    drop(conn);

    send(&app, app.sandbox.follow(PATIENT)).await;
    let got = texts(&app);
    assert_eq!(got.len(), 3, "{got:?}");
    assert!(
        got[0].ends_with("友だち追加ありがとうございます。"),
        "{got:?}"
    );
    assert!(
        got[1].starts_with("お知らせの受け取りについてお伺いします。"),
        "{got:?}"
    );
    assert!(got[1].contains("0 すべて受け取る"), "{got:?}");
    assert!(got[2].contains("「本人確認」"), "{got:?}");
    assert_eq!(
        app.sandbox.calls_to(REPLY),
        1,
        "one reply with the three messages"
    );

    // The number answers the consent question, as 配信設定 would.
    patient_says(&app, "0").await;
    let granted = app
        .count("SELECT COUNT(*) FROM consent_events WHERE granted = 1 AND source = 'chat'")
        .await;
    assert_eq!(granted, 3, "{:?}", texts(&app));

    // Blocked and added again: no second greeting.
    send(&app, app.sandbox.unfollow(PATIENT)).await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    assert_eq!(texts(&app).len(), 4, "{:?}", texts(&app));
    assert_eq!(
        automation_lines(&app)
            .await
            .iter()
            .filter(|l| l.0 == "greeting")
            .count(),
        1
    );
}

#[tokio::test]
async fn a_rule_answers_only_at_its_hours_and_hands_the_conversation_to_its_team() {
    // Monday 21:00 in Tokyo: closed.
    let app = start(builder().clock_ms(MONDAY_NIGHT)).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let now = app.clock.now_ms();
    let nurses = routing::teams::create(
        &mut conn,
        &app.clinic,
        "看護",
        routing::AssignMode::Off,
        now,
    )
    .await
    .unwrap()
    .unwrap();
    let rule = |name: &str, words: &[&str], hours: &str, team: Option<String>| rules::Draft {
        name: name.into(),
        keywords: words.iter().map(|w| w.to_string()).collect(),
        match_mode: "contains".into(),
        reply_text: format!("{name}のご案内です。"),
        channel_id: None,
        active_hours: hours.into(),
        team_id: team,
        flow_id: None,
        enabled: true,
    };
    let daytime = rule("予約変更", &["予約変更"], "open", None);
    rules::create(&mut conn, &app.clinic, &daytime, now)
        .await
        .unwrap()
        .unwrap();
    let vaccine = rule(
        "予防接種",
        &["予防接種", "ワクチン"],
        "always",
        Some(nurses.clone()),
    );
    rules::create(&mut conn, &app.clinic, &vaccine, now)
        .await
        .unwrap()
        .unwrap();
    drop(conn);

    patient_says(&app, "予約変更をお願いしたいです").await;
    assert!(
        texts(&app).is_empty(),
        "an open-hours rule is silent at night"
    );

    patient_says(&app, "ﾜｸﾁﾝの予約はできますか").await;
    assert_eq!(texts(&app), vec!["予防接種のご案内です。".to_string()]);
    let conv = conversation(&app).await;
    assert_eq!(
        conv.team_id.as_deref(),
        Some(nurses.as_str()),
        "handed to the nurses"
    );
    let lines = automation_lines(&app).await;
    assert_eq!(
        lines.last().unwrap(),
        &(
            "keyword_team".to_string(),
            "自動応答『予防接種』が返信し、看護に引き継ぎました".to_string()
        )
    );

    // Tuesday 10:00: open, the daytime rule answers.
    app.clock.advance(chrono::Duration::hours(13));
    patient_says(&app, "予約変更できますか").await;
    assert_eq!(
        texts(&app).last().map(String::as_str),
        Some("予約変更のご案内です。")
    );
}

async fn sms_says(app: &TestApp, body: &str) {
    use tsunagu_testkit::app::sms::{CLINIC, PATIENT};
    let d = app
        .sms()
        .sandbox
        .user_sms(CLINIC, PATIENT, body)
        .await
        .unwrap();
    assert_eq!(d.status, 200, "{d:?}");
    app.run_jobs().await;
}

#[tokio::test]
async fn on_sms_the_first_message_gets_the_greeting_and_its_keyword_answer_by_push() {
    use tsunagu_channels::ChannelKind;
    use tsunagu_testkit::app::sms::PATIENT as SMS_PATIENT;
    let app = start(builder().with_channels(&[ChannelKind::Sms])).await;
    add_parking_rule(&app).await;
    let sms = app.sms();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let draft = greetings::Draft {
        enabled: true,
        greeting_text: "{{clinic.name}}です。はじめてのご連絡ありがとうございます。".into(),
        ask_consent: false,
        offer_verification: false,
    };
    greetings::save(
        &mut conn,
        &app.clinic,
        sms.channel.as_str(),
        &draft,
        app.clock.now_ms(),
    )
    .await
    .unwrap()
    .unwrap();
    drop(conn);

    sms_says(&app, "駐車場").await;
    let bodies: Vec<String> = sms
        .sandbox
        .sent_to(SMS_PATIENT)
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies.len(), 2, "{bodies:?}");
    assert!(
        bodies[0].ends_with("はじめてのご連絡ありがとうございます。"),
        "{bodies:?}"
    );
    assert!(bodies[1].ends_with(PARKING), "{bodies:?}");

    sms_says(&app, "駐車場").await;
    let bodies: Vec<String> = sms
        .sandbox
        .sent_to(SMS_PATIENT)
        .into_iter()
        .map(|m| m.body)
        .collect();
    assert_eq!(bodies.len(), 3, "the greeting only once: {bodies:?}");
}
