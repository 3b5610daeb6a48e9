//! Automatic assignment end to end: a LINE patient writes, the `inbound.dispatch` job puts the
//! new conversation in its channel's team and gives it to the available member; a later
//! message to an unassigned conversation is routed again; one already someone's is left alone.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use tsunagu_core::Role;
use tsunagu_inbox::routing::availability::{self, Availability};
use tsunagu_inbox::routing::teams::{self, AssignMode};

async fn patient_says(app: &TestApp, text: &str) {
    let event = app.sandbox.user_text(PATIENT, text);
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await;
}

async fn assignment(app: &TestApp) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT assignee_id, team_id FROM conversations")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_new_conversation_joins_the_channel_team_and_goes_to_the_available_member() {
    let app = spawn_app().await;
    let desk = app
        .staff_session(&app.clinic, Role::Receptionist, "受付 田中")
        .await;
    let desk = desk.staff_id.to_string();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let now = app.now_ms();
    let team = teams::create(&mut conn, &app.clinic, "受付", AssignMode::RoundRobin, now)
        .await
        .unwrap()
        .unwrap();
    teams::add_member(&mut conn, &app.clinic, &team, &desk)
        .await
        .unwrap();
    availability::set(&mut conn, &app.clinic, &desk, Availability::Online, now)
        .await
        .unwrap();
    let channel = app.channel.to_string();
    teams::set_channel_team(&mut conn, &app.clinic, &channel, Some(&team))
        .await
        .unwrap();
    drop(conn);

    patient_says(&app, "発熱があります").await;
    assert_eq!(
        assignment(&app).await,
        (Some(desk.clone()), Some(team.clone()))
    );
    let line: String = sqlx::query_scalar("SELECT body FROM messages WHERE direction = 'system'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        line,
        "チーム「受付」から受付 田中さんに自動で割り当てました"
    );

    // Taken back by hand, then the patient writes again: routed again.
    sqlx::query("UPDATE conversations SET assignee_id = NULL")
        .execute(app.db.pool())
        .await
        .unwrap();
    patient_says(&app, "まだ熱があります").await;
    assert_eq!(
        assignment(&app).await,
        (Some(desk.clone()), Some(team.clone()))
    );
    // Already someone's: no new line.
    patient_says(&app, "よろしくお願いします").await;
    let lines: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM messages WHERE direction = 'system'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(lines, 2);
}

#[tokio::test]
async fn with_nobody_available_the_conversation_waits_in_the_team() {
    let app = spawn_app().await;
    let desk = app
        .staff_session(&app.clinic, Role::Receptionist, "受付 田中")
        .await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let now = app.now_ms();
    let team = teams::create(&mut conn, &app.clinic, "受付", AssignMode::LeastBusy, now)
        .await
        .unwrap()
        .unwrap();
    teams::add_member(&mut conn, &app.clinic, &team, desk.staff_id.as_str())
        .await
        .unwrap();
    availability::set(
        &mut conn,
        &app.clinic,
        desk.staff_id.as_str(),
        Availability::Away,
        now,
    )
    .await
    .unwrap();
    let channel = app.channel.to_string();
    teams::set_channel_team(&mut conn, &app.clinic, &channel, Some(&team))
        .await
        .unwrap();
    drop(conn);
    patient_says(&app, "予約したいです").await;
    assert_eq!(assignment(&app).await, (None, Some(team)));
}
