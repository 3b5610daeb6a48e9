//! The FAQ menu (よくある質問メニュー) end to end through the real webhooks, with the sandboxes
//! as the patient's phone: メニュー brings it as LINE quick replies, a WhatsApp list or numbered
//! SMS; a tap, a list row or a typed number (２ too) answers with the clinic's text; a number
//! counts only while the menu waits; a rich menu postback answers directly; a redelivered
//! webhook answers nothing twice; a channel it is off on gets nothing; it can follow the
//! greeting.
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
use tsunagu_automation::faq::{self, Draft, ItemDraft, Menu};
use tsunagu_automation::greetings;
use tsunagu_core::ClinicId;
use tsunagu_store::Db;

const ITEMS: [(&str, &str); 4] = [
    ("駐車場", "駐車場は建物の裏に5台分ございます。"),
    ("診療時間", "平日9:00〜18:00です。"),
    ("予約の変更は?", "お電話でご連絡ください。"),
    ("持ち物", "保険証と診察券をお持ちください。"),
];

async fn menu(db: &Db, clinic: &ClinicId, channels: &[&str], in_greeting: bool) -> Menu {
    let mut conn = db.pool().acquire().await.unwrap();
    let d = Draft {
        intro_text: "よくあるご質問です。".into(),
        channels: channels.iter().map(|c| c.to_string()).collect(),
        in_greeting,
        items: ITEMS
            .iter()
            .map(|(q, a)| ItemDraft {
                id: None,
                question: q.to_string(),
                answer: a.to_string(),
            })
            .collect(),
    };
    faq::save(&mut conn, clinic, &d, 0).await.unwrap().unwrap()
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

fn delivered(app: &TestApp) -> Vec<Value> {
    app.sandbox.delivered_to(PATIENT)
}

fn last_text(app: &TestApp) -> String {
    delivered(app).last().unwrap()["text"]
        .as_str()
        .unwrap()
        .to_string()
}

/// The `what` of the FAQ lines on conversations, in order.
async fn faq_lines(db: &Db) -> Vec<String> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM messages WHERE direction = 'system' AND payload LIKE '%faq_%' ORDER BY created_at, id",
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
async fn on_line_the_menu_is_quick_replies_answered_by_tap_number_or_postback_once() {
    let app = spawn_app().await;
    let saved = menu(&app.db, &app.clinic, &["line"], false).await;
    patient_says(&app, "ﾒﾆｭｰ").await;
    let got = delivered(&app);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["text"], "よくあるご質問です。");
    let items = got[0]["quickReply"]["items"].as_array().unwrap();
    let labels: Vec<&str> = items
        .iter()
        .map(|i| i["action"]["label"].as_str().unwrap())
        .collect();
    assert_eq!(
        labels,
        vec!["駐車場", "診療時間", "予約の変更は?", "持ち物"]
    );
    assert!(
        app.sandbox.calls_to("/v2/bot/message/reply") >= 1,
        "with the reply token"
    );

    // A tap sends the label's text, as LINE's message action does.
    patient_says(&app, items[1]["action"]["text"].as_str().unwrap()).await;
    let answer = last_text(&app);
    assert!(answer.starts_with("平日9:00〜18:00です。"), "{answer}");
    assert!(
        answer.contains("「スタッフ」"),
        "the way to a person: {answer}"
    );

    // While it waits, a typed number (full-width too) answers; the same webhook again does not.
    let two = patient_says(&app, "４").await;
    assert!(last_text(&app).starts_with("保険証と診察券"));
    let n = delivered(&app).len();
    assert_eq!(
        app.sandbox.redeliver(ACCESS_TOKEN, &two).await.unwrap(),
        200
    );
    app.run_jobs().await;
    assert_eq!(delivered(&app).len(), n, "no second answer to a redelivery");

    // Something else ends the wait: a number then means nothing to the menu.
    patient_says(&app, "ありがとうございます").await;
    patient_says(&app, "1").await;
    assert!(
        delivered(&app)[n..]
            .iter()
            .all(|m| !m["text"].as_str().unwrap_or("").starts_with("駐車場は")),
        "a number after the menu is gone is not an FAQ answer"
    );

    // A rich menu area's postback answers one item directly.
    let parking = &saved.items[0].id;
    send(
        &app,
        app.sandbox.postback(PATIENT, &format!("faq:{parking}")),
    )
    .await;
    assert!(last_text(&app).starts_with("駐車場は建物の裏"));
    assert_eq!(
        faq_lines(&app.db).await,
        vec!["faq_menu", "faq_answer", "faq_answer", "faq_answer"]
    );
}

#[tokio::test]
async fn staff_still_reaches_a_person_while_the_menu_waits() {
    let app = spawn_app().await;
    menu(&app.db, &app.clinic, &["line"], false).await;
    patient_says(&app, "メニュー").await;
    patient_says(&app, "スタッフ").await;
    assert!(last_text(&app).contains("スタッフにおつなぎします"));
}

#[tokio::test]
async fn on_sms_the_menu_is_numbered_and_answered_by_a_typed_number() {
    let app = support::spawn_sms_app().await;
    menu(&app.db, &app.clinic, &["sms"], false).await;
    app.patient_says("よくある質問").await;
    let sent = app.sent();
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(
        sent[0].body,
        "よくあるご質問です。\n1. 駐車場\n2. 診療時間\n3. 予約の変更は?\n4. 持ち物\n番号でお答えください"
    );
    app.patient_says("２").await;
    assert!(app
        .sent()
        .last()
        .unwrap()
        .body
        .starts_with("平日9:00〜18:00です。"));
    app.patient_says("3").await;
    assert!(app
        .sent()
        .last()
        .unwrap()
        .body
        .starts_with("お電話でご連絡ください。"));
}

#[tokio::test]
async fn on_whatsapp_the_menu_is_a_list_answered_by_its_row() {
    let wa = harness::spawn().await;
    menu(&wa.app.db, &wa.app.clinic, &["whatsapp"], false).await;
    wa.patient_says("FAQ").await;
    let sends = wa.sends();
    let list = sends
        .iter()
        .find(|r| r.body["type"] == "interactive")
        .expect("the menu as an interactive message");
    assert_eq!(
        list.body["interactive"]["type"], "list",
        "4 questions: a list"
    );
    let rows = list.body["interactive"]["action"]["sections"][0]["rows"]
        .as_array()
        .unwrap();
    assert_eq!(rows.len(), 4);
    let row = &rows[3];
    assert_eq!(row["title"], "持ち物");
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
    let last = wa.sends().last().unwrap().body.clone();
    assert!(
        last["text"]["body"]
            .as_str()
            .unwrap()
            .starts_with("保険証と診察券"),
        "{last}"
    );
}

#[tokio::test]
async fn a_channel_the_menu_is_off_on_gets_nothing_from_it() {
    let app = support::spawn_sms_app().await;
    menu(&app.db, &app.clinic, &["line"], false).await;
    app.patient_says("メニュー").await;
    assert!(
        app.sent().iter().all(|m| !m.body.contains("1. 駐車場")),
        "{:?}",
        app.sent()
    );
    assert!(faq_lines(&app.db).await.is_empty());
}

#[tokio::test]
async fn the_menu_can_follow_the_greeting_on_friend_add() {
    let app = spawn_app().await;
    menu(&app.db, &app.clinic, &["line"], true).await;
    let channel: String = sqlx::query_scalar("SELECT id FROM channels WHERE kind = 'line'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let g = greetings::Draft {
        enabled: true,
        greeting_text: "友だち追加ありがとうございます。".into(),
        ask_consent: false,
        offer_verification: false,
    };
    greetings::save(&mut conn, &app.clinic, &channel, &g, 0)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    send(&app, app.sandbox.follow(PATIENT)).await;
    let got = delivered(&app);
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!(got[0]["text"], "友だち追加ありがとうございます。");
    assert_eq!(got[1]["quickReply"]["items"].as_array().unwrap().len(), 4);
    // The menu waits: a number answers it.
    patient_says(&app, "1").await;
    assert!(last_text(&app).starts_with("駐車場は建物の裏"));
}
