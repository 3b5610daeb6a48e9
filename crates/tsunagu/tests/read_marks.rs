//! Read state that tells the truth (LINE `markAsRead`): a patient's messages show 既読 only once
//! a person at the clinic opens the conversation, and only on a channel set to show it. Through
//! the whole app and the LINE emulator, on SQLite and (with TEST_DATABASE_URL) PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use axum::http::{Method, StatusCode};
use tsunagu_channels::ChannelKind;
use tsunagu_core::Role;
use tsunagu_testkit::app::line::{ACCESS_TOKEN, PATIENT};
use tsunagu_testkit::app::StaffSession;
use tsunagu_testkit::TestApp;

const MARK: &str = "/v2/bot/chat/markAsRead";

async fn app() -> TestApp {
    TestApp::builder()
        .with_channels(&[ChannelKind::Line, ChannelKind::WhatsApp])
        .start()
        .await
}

/// The patient writes; their LINE message id.
async fn patient_writes(app: &TestApp, text: &str) -> String {
    let l = app.line();
    let event = l.sandbox.user_text(PATIENT, text);
    let id = event["message"]["id"].as_str().unwrap().to_owned();
    assert_eq!(
        l.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
    id
}

async fn conversation(app: &TestApp) -> String {
    sqlx::query_scalar("SELECT id FROM conversations WHERE channel_id = $1")
        .bind(app.line().channel.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn open(app: &TestApp, staff: &StaffSession, conv: &str) {
    let res = app
        .request(Method::GET, &format!("/app/conversations/{conv}"))
        .session(staff)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    app.run_jobs().await;
}

async fn switch(app: &TestApp, staff: &StaffSession, channel: &str, on: bool) -> StatusCode {
    let on = if on { "1" } else { "0" };
    app.request(
        Method::POST,
        &format!("/app/settings/channels/{channel}/mark-read"),
    )
    .session(staff)
    .form(&[("csrf_token", staff.csrf.as_str()), ("on", on)])
    .send()
    .await
    .status
}

#[tokio::test]
async fn messages_are_marked_read_when_a_person_opens_the_conversation_not_on_arrival() {
    let app = app().await;
    let admin = app
        .staff_session(app.clinic(), Role::Admin, "管理 高橋")
        .await;
    let staff = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 佐藤")
        .await;
    let line = app.line();
    assert_eq!(
        switch(&app, &admin, line.channel.as_str(), true).await,
        StatusCode::SEE_OTHER
    );

    let first = patient_writes(&app, "予約の変更をしたいです").await;
    let second = patient_writes(&app, "明日の午後は空いていますか").await;
    assert!(
        line.sandbox.read_messages(PATIENT).is_empty(),
        "read on arrival"
    );
    assert_eq!(line.sandbox.calls_to(MARK), 0);

    let conv = conversation(&app).await;
    open(&app, &staff, &conv).await;
    assert_eq!(
        line.sandbox.read_messages(PATIENT),
        vec![first, second.clone()]
    );
    assert_eq!(line.sandbox.calls_to(MARK), 1);

    // Nothing new: opening again tells LINE nothing.
    open(&app, &staff, &conv).await;
    assert_eq!(line.sandbox.calls_to(MARK), 1);

    // A new message stays unread for the patient until someone looks.
    let third = patient_writes(&app, "よろしくお願いします").await;
    assert_eq!(line.sandbox.read_messages(PATIENT).len(), 2);
    open(&app, &staff, &conv).await;
    assert_eq!(line.sandbox.read_messages(PATIENT).last(), Some(&third));
    assert_eq!(line.sandbox.calls_to(MARK), 2);
}

#[tokio::test]
async fn a_channel_not_set_to_mark_read_never_tells_line() {
    let app = app().await;
    let staff = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 佐藤")
        .await;
    patient_writes(&app, "駐車場はありますか").await;
    let conv = conversation(&app).await;
    open(&app, &staff, &conv).await;
    assert_eq!(app.line().sandbox.calls_to(MARK), 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'channel.mark_read'")
            .await,
        0
    );
}

#[tokio::test]
async fn switched_off_after_queueing_the_job_tells_line_nothing() {
    let app = app().await;
    let admin = app
        .staff_session(app.clinic(), Role::Admin, "管理 高橋")
        .await;
    let channel = app.line().channel.as_str().to_owned();
    assert_eq!(
        switch(&app, &admin, &channel, true).await,
        StatusCode::SEE_OTHER
    );
    let l = app.line();
    let event = l.sandbox.user_text(PATIENT, "こんにちは");
    assert_eq!(
        l.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
    let conv = conversation(&app).await;
    // Opened, then switched off before the worker ran the job.
    let res = app
        .request(Method::GET, &format!("/app/conversations/{conv}"))
        .session(&admin)
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        switch(&app, &admin, &channel, false).await,
        StatusCode::SEE_OTHER
    );
    app.run_jobs().await;
    assert_eq!(l.sandbox.calls_to(MARK), 0);
}

#[tokio::test]
async fn only_administrators_switch_it_and_only_where_the_provider_can_mark_read() {
    let app = app().await;
    let admin = app
        .staff_session(app.clinic(), Role::Admin, "管理 高橋")
        .await;
    let staff = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 佐藤")
        .await;
    let line = app.line().channel.as_str().to_owned();
    assert_eq!(
        switch(&app, &staff, &line, true).await,
        StatusCode::FORBIDDEN
    );
    // WhatsApp has no such setting here: nothing changes.
    let wa = app.whatsapp().channel.as_str().to_owned();
    assert_eq!(switch(&app, &admin, &wa, true).await, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM channels WHERE mark_read_on_open <> 0")
            .await,
        0
    );
    let page = app
        .request(Method::GET, "/app/settings/channels")
        .session(&admin)
        .send()
        .await;
    assert_eq!(
        page.text()
            .matches("data-testid=\"channel-mark-read\"")
            .count(),
        1
    );
}
