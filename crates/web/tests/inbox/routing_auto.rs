//! Automatic assignment (`inbox::routing::route_inbound`, what `inbound.dispatch` runs for a
//! conversation nobody has): the channel's team, round-robin order, least-busy, away and
//! offline members skipped, and capacity and round-robin held under concurrent dispatches.
use std::collections::HashMap;

use tsunagu_core::{ClinicId, Role};
use tsunagu_inbox::routing::availability::{self, Availability};
use tsunagu_inbox::routing::teams::{self, AssignMode};
use tsunagu_inbox::routing::{route_inbound, Routed};

use super::support::{app, App, Seeded, T0};

struct Team {
    id: String,
    members: Vec<String>,
}

/// A team of `n` receptionists, all online with `capacity`, receiving the channel's
/// conversations.
async fn team(app: &App, s: &Seeded, mode: AssignMode, n: usize, capacity: i64) -> Team {
    let mut members = Vec::new();
    for i in 0..n {
        let who = app
            .sign_in(&s.clinic, Role::Receptionist, &format!("受付 {i}"))
            .await;
        members.push(who.staff_id.to_string());
    }
    let mut conn = app.db.pool().acquire().await.unwrap();
    let id = teams::create(&mut conn, &s.clinic, "受付", mode, T0)
        .await
        .unwrap()
        .unwrap();
    for m in &members {
        assert!(teams::add_member(&mut conn, &s.clinic, &id, m)
            .await
            .unwrap());
        availability::set(&mut conn, &s.clinic, m, Availability::Online, T0)
            .await
            .unwrap();
        availability::set_capacity(&mut conn, &s.clinic, m, capacity, T0)
            .await
            .unwrap();
    }
    let ch = s.channel.as_str();
    assert!(teams::set_channel_team(&mut conn, &s.clinic, ch, Some(&id))
        .await
        .unwrap());
    Team { id, members }
}

async fn conversations(app: &App, s: &Seeded, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for i in 0..n {
        let c = app
            .conversation(s, &format!("U{i}"), &format!("患者 {i}"), "こんにちは", T0)
            .await;
        out.push(c.id.to_string());
    }
    out
}

async fn route(app: &App, clinic: &ClinicId, conv: &str) -> Routed {
    route_inbound(&app.db, clinic, conv, T0).await.unwrap()
}

fn assigned(r: &Routed) -> Option<&str> {
    match r {
        Routed::Assigned { staff_id, .. } => Some(staff_id),
        _ => None,
    }
}

#[tokio::test]
async fn round_robin_gives_each_member_one_in_turn() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let t = team(&app, &s, AssignMode::RoundRobin, 3, 10).await;
    let mut order = Vec::new();
    for c in conversations(&app, &s, 6).await {
        order.push(
            assigned(&route(&app, &s.clinic, &c).await)
                .unwrap()
                .to_string(),
        );
    }
    let m = &t.members;
    assert_eq!(
        order,
        [&m[0], &m[1], &m[2], &m[0], &m[1], &m[2]].map(String::clone)
    );
    let line: String = sqlx::query_scalar(
        "SELECT body FROM messages WHERE direction = 'system' ORDER BY created_at, id LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(line, "チーム「受付」から受付 0さんに自動で割り当てました");
    assert_eq!(app.audits("conversation.assign").await.len(), 6);
}

#[tokio::test]
async fn least_busy_picks_the_member_with_fewest_open_conversations() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let t = team(&app, &s, AssignMode::LeastBusy, 3, 10).await;
    let convs = conversations(&app, &s, 5).await;
    // By hand: two for member 0, one for member 2.
    for (c, m) in [(&convs[0], 0), (&convs[1], 0), (&convs[2], 2)] {
        sqlx::query("UPDATE conversations SET assignee_id = $1 WHERE id = $2")
            .bind(&t.members[m])
            .bind(c)
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    let r = route(&app, &s.clinic, &convs[3]).await;
    assert_eq!(assigned(&r), Some(t.members[1].as_str()));
    // Now 1 and 2 have one each: the one given one least recently (2, never) goes first.
    let r = route(&app, &s.clinic, &convs[4]).await;
    assert_eq!(assigned(&r), Some(t.members[2].as_str()));
}

#[tokio::test]
async fn away_offline_and_full_members_are_skipped_and_the_conversation_waits_in_the_team() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let t = team(&app, &s, AssignMode::RoundRobin, 3, 1).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    availability::set(&mut conn, &s.clinic, &t.members[0], Availability::Away, T0)
        .await
        .unwrap();
    availability::set(
        &mut conn,
        &s.clinic,
        &t.members[1],
        Availability::Offline,
        T0,
    )
    .await
    .unwrap();
    drop(conn);
    let convs = conversations(&app, &s, 2).await;
    let r = route(&app, &s.clinic, &convs[0]).await;
    assert_eq!(assigned(&r), Some(t.members[2].as_str()));
    // Member 2 is at capacity (1): nobody left.
    let r = route(&app, &s.clinic, &convs[1]).await;
    assert_eq!(
        r,
        Routed::Queued {
            team_id: t.id.clone()
        }
    );
    let row: (Option<String>, Option<String>) =
        sqlx::query_as("SELECT assignee_id, team_id FROM conversations WHERE id = $1")
            .bind(&convs[1])
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(row, (None, Some(t.id.clone())));
    // Already someone's: untouched.
    assert_eq!(route(&app, &s.clinic, &convs[0]).await, Routed::Untouched);
    // A team that does not assign: the queue.
    let mut conn = app.db.pool().acquire().await.unwrap();
    teams::update(&mut conn, &s.clinic, &t.id, "受付", AssignMode::Off)
        .await
        .unwrap();
    availability::set(
        &mut conn,
        &s.clinic,
        &t.members[0],
        Availability::Online,
        T0,
    )
    .await
    .unwrap();
    drop(conn);
    let r = route(&app, &s.clinic, &convs[1]).await;
    assert_eq!(
        r,
        Routed::Queued {
            team_id: t.id.clone()
        }
    );
}

/// Per member: what `results` assigned, and what the database holds now.
async fn tally(app: &App, results: &[Routed]) -> (HashMap<String, usize>, HashMap<String, usize>) {
    let mut per = HashMap::new();
    for r in results {
        if let Some(s) = assigned(r) {
            *per.entry(s.to_string()).or_insert(0) += 1;
        }
    }
    let rows: Vec<(String, i64)> = sqlx::query_as(
        "SELECT assignee_id, COUNT(*) FROM conversations WHERE assignee_id IS NOT NULL GROUP BY assignee_id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    (
        per,
        rows.into_iter().map(|(s, n)| (s, n as usize)).collect(),
    )
}

async fn route_all_at_once(app: &App, clinic: &ClinicId, convs: Vec<String>) -> Vec<Routed> {
    let tasks: Vec<_> = convs
        .into_iter()
        .map(|c| {
            let (db, clinic) = (app.db.clone(), clinic.clone());
            tokio::spawn(async move { route_inbound(&db, &clinic, &c, T0).await.unwrap() })
        })
        .collect();
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_dispatches_never_push_a_member_over_capacity() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let t = team(&app, &s, AssignMode::LeastBusy, 3, 2).await;
    let convs = conversations(&app, &s, 10).await;
    let results = route_all_at_once(&app, &s.clinic, convs).await;
    let (per, db) = tally(&app, &results).await;
    assert_eq!(
        per, db,
        "what the dispatches reported is what the database holds"
    );
    assert_eq!(per.len(), 3, "{per:?}");
    assert!(t.members.iter().all(|m| per[m] == 2), "{per:?}");
    let queued = results
        .iter()
        .filter(|r| matches!(r, Routed::Queued { .. }))
        .count();
    assert_eq!(queued, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_round_robin_gives_one_each_while_others_are_free() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let t = team(&app, &s, AssignMode::RoundRobin, 4, 10).await;
    let convs = conversations(&app, &s, 8).await;
    let (first, second) = convs.split_at(4);
    let (per, db) = tally(
        &app,
        &route_all_at_once(&app, &s.clinic, first.to_vec()).await,
    )
    .await;
    assert_eq!(per, db);
    assert!(t.members.iter().all(|m| per.get(m) == Some(&1)), "{per:?}");
    let (per, db) = tally(
        &app,
        &route_all_at_once(&app, &s.clinic, second.to_vec()).await,
    )
    .await;
    assert!(t.members.iter().all(|m| per.get(m) == Some(&1)), "{per:?}");
    assert!(t.members.iter().all(|m| db.get(m) == Some(&2)), "{db:?}");
}
