//! The consent ledger end to end, with the LINE sandbox as the patient's phone: messages the
//! clinic starts are refused without consent while replies to the patient go out; 配信停止 and
//! 配信設定 typed in chat change the ledger, with time, source and the words shown.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::{json, Value};
use tsunagu_core::Clock;

const REPLY: &str = "/v2/bot/message/reply";

async fn patient_says(app: &TestApp, text: &str) {
    let event = app.sandbox.user_text(PATIENT, text);
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await; // profile fetch, dispatch, and whatever the dispatcher queued
}

async fn patient_id(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT patient_id FROM channel_identities WHERE external_id = $1")
        .bind(PATIENT)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn conversation_id(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM conversations WHERE thread_key = $1")
        .bind(PATIENT)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The texts the patient's phone received, in order.
fn texts(app: &TestApp) -> Vec<String> {
    app.sandbox
        .delivered_to(PATIENT)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

async fn send_for(
    app: &TestApp,
    patient: &str,
    purpose: &str,
    text: &str,
) -> (reqwest::StatusCode, Value) {
    app.api_post(
        &format!("/api/v1/patients/{patient}/messages"),
        json!({"text": text, "purpose": purpose}),
    )
    .await
}

/// (purpose, channel_id, granted, source, wording, at) of every ledger row, in order.
async fn ledger(app: &TestApp) -> Vec<(String, Option<String>, i64, String, String, i64)> {
    sqlx::query_as("SELECT purpose, channel_id, granted, source, wording, at FROM consent_events ORDER BY at, seq")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn marketing_is_refused_with_the_reason_while_a_staff_reply_to_the_patient_goes_out() {
    let app = spawn_app().await;
    patient_says(&app, "来週の予約を変更できますか").await;
    let patient = patient_id(&app).await;

    let (status, body) = send_for(
        &app,
        &patient,
        "marketing",
        "秋の健康診断キャンペーンのお知らせ",
    )
    .await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["error"]["code"], "consent_required");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("news and offers"),
        "{body}"
    );

    let conv = conversation_id(&app).await;
    let (status, body) = app
        .api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"text": "はい、変更できます。ご希望の日時をお知らせください。"}),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    app.run_jobs().await;
    assert_eq!(
        texts(&app),
        vec!["はい、変更できます。ご希望の日時をお知らせください。".to_string()]
    );
    let basis: Option<String> =
        sqlx::query_scalar("SELECT send_basis FROM messages WHERE direction = 'out'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(basis.as_deref(), Some("reply_to_patient"));

    // A week and more later the same reply is no longer a reply; a care message still goes out,
    // since the patient wrote to the clinic about their care.
    app.clock.advance(chrono::Duration::days(8));
    let (status, body) = app
        .api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"text": "その後いかがですか"}),
        )
        .await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (422, Some("outside_reply_window")),
        "{body}"
    );
    let (status, body) = send_for(
        &app,
        &patient,
        "care",
        "検査結果が出ました。次回ご来院時にご説明します。",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    app.run_jobs().await;
    assert_eq!(texts(&app).len(), 2);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.message.send'")
            .await,
        1
    );
}

#[tokio::test]
async fn typing_haishin_teishi_withdraws_with_time_and_source_and_confirms() {
    let app = spawn_app().await;
    patient_says(&app, "こんにちは").await;
    let now = app.clock.now_ms();
    patient_says(&app, "配信停止").await;

    let rows = ledger(&app).await;
    let purposes: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        purposes,
        vec!["reminders", "health_information", "marketing"]
    );
    let confirmation = texts(&app)
        .pop()
        .expect("the confirmation reached the patient");
    assert!(
        confirmation.contains("配信を停止しました") && confirmation.contains("「配信設定」"),
        "{confirmation}"
    );
    for (_, channel, granted, source, wording, at) in &rows {
        assert_eq!(channel.as_deref(), Some(app.channel.as_str()));
        assert_eq!((*granted, source.as_str(), *at), (0, "chat", now));
        assert_eq!(wording, &confirmation, "the words shown are recorded");
    }
    assert!(
        app.sandbox.calls_to(REPLY) >= 1,
        "answered with the event's reply token"
    );
    let audited: Vec<(String, String)> = sqlx::query_as(
        "SELECT actor_kind, subject_ids FROM audit_events WHERE action = 'consent.withdraw'",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let patient = patient_id(&app).await;
    assert_eq!(audited.len(), 3);
    assert!(audited
        .iter()
        .all(|(k, s)| k == "system" && s == &format!("[\"{patient}\"]")));

    let (status, body) = send_for(&app, &patient, "reminders", "明日10時のご予約です").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (422, Some("consent_withdrawn")),
        "{body}"
    );
    let (status, _) = send_for(&app, &patient, "care", "お薬の準備ができました").await;
    assert_eq!(status, 201, "care is not stopped by 配信停止");
}

#[tokio::test]
async fn haishin_settei_shows_numbered_choices_and_the_number_regrants() {
    let app = spawn_app().await;
    patient_says(&app, "ていし").await;
    assert_eq!(ledger(&app).await.len(), 3, "ていし is 配信停止 too");
    patient_says(&app, "配信設定").await;
    let menu = texts(&app).pop().unwrap();
    assert!(
        menu.contains("・健康情報:停止中") && menu.contains("2 健康情報を受け取る"),
        "{menu}"
    );

    app.clock.advance(chrono::Duration::minutes(2));
    let now = app.clock.now_ms();
    patient_says(&app, "２").await; // full width, as phones often type it
    let last = ledger(&app).await.pop().unwrap();
    assert_eq!(
        last,
        (
            "health_information".into(),
            Some(app.channel.to_string()),
            1,
            "chat".into(),
            "2 健康情報を受け取る".into(),
            now
        )
    );
    assert!(texts(&app).pop().unwrap().contains("設定を変更しました"));

    let patient = patient_id(&app).await;
    let (status, body) = send_for(
        &app,
        &patient,
        "health_information",
        "インフルエンザの流行が始まりました",
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, _) = send_for(&app, &patient, "marketing", "キャンペーンのお知らせ").await;
    assert_eq!(status, 422);

    // The question was answered: a later "1" is an ordinary message for staff.
    patient_says(&app, "1").await;
    assert_eq!(ledger(&app).await.len(), 4);
    let (status, body) = app
        .api_get(&format!("/api/v1/patients/{patient}/consents"))
        .await;
    assert_eq!(status, 200);
    let on_line = |purpose: &str| {
        body["current"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["purpose"] == purpose && s["channel_id"] == app.channel.as_str())
            .map(|s| s["status"].as_str().unwrap().to_string())
    };
    assert_eq!(on_line("health_information").as_deref(), Some("granted"));
    assert_eq!(on_line("reminders").as_deref(), Some("withdrawn"));
    assert_eq!(on_line("care").as_deref(), Some("implicit"));
}

#[tokio::test]
async fn a_channel_withdrawal_in_chat_beats_an_all_channels_grant_and_history_stays_in_order() {
    let app = spawn_app().await;
    patient_says(&app, "お世話になっております").await;
    let patient = patient_id(&app).await;
    let path = format!("/api/v1/patients/{patient}/consents");
    let paper = json!({"purpose": "marketing", "granted": true, "source": "web_form",
                       "wording": "お知らせ・キャンペーン情報を受け取ります(問診票)"});
    let (status, body) = app.api_post(&path, paper).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["channel_id"], Value::Null);
    let (status, _) = send_for(&app, &patient, "marketing", "今月のお知らせ").await;
    assert_eq!(status, 201, "granted on every channel");

    app.clock.advance(chrono::Duration::minutes(5));
    patient_says(&app, "ＳＴＯＰ").await;
    let (status, body) = send_for(&app, &patient, "marketing", "来月のお知らせ").await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (422, Some("consent_withdrawn"))
    );

    let (_, body) = app.api_get(&path).await;
    let history: Vec<(String, bool, String)> = body["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["purpose"].as_str().unwrap().into(),
                e["granted"].as_bool().unwrap(),
                e["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        history,
        vec![
            ("marketing".into(), true, "web_form".into()),
            ("reminders".into(), false, "chat".into()),
            ("health_information".into(), false, "chat".into()),
            ("marketing".into(), false, "chat".into()),
        ]
    );
    let all = body["current"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["purpose"] == "marketing" && s["channel_id"].is_null());
    assert_eq!(
        all.unwrap()["status"],
        "granted",
        "the all-channels entry itself is unchanged"
    );

    // A staff entry needs its reason.
    let staff = json!({"purpose": "marketing", "granted": true, "source": "staff", "wording": "受け取ります"});
    let (status, body) = app.api_post(&path, staff).await;
    assert_eq!(
        (status.as_u16(), body["error"]["code"].as_str()),
        (422, Some("reason_required"))
    );
}
