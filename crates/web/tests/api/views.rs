//! Conversation states, priority, labels and the views' filter through the API: PATCH, label
//! endpoints, every filter, and cursor pagination across pages for both sorts with ties.
use axum::http::{Method, StatusCode};
use serde_json::json;
use tsunagu_core::TokenScope;

use super::support::{app, ids, App, Seeded, T0};

async fn patch(app: &App, token: &str, id: &str, body: serde_json::Value) -> super::support::Res {
    let path = format!("/api/v1/conversations/{id}");
    app.call(Method::PATCH, &path, Some(token), Some(&body), &[])
        .await
}

/// Every page of `query`, following `next_cursor`, two at a time.
async fn all_pages(app: &App, token: &str, query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cursor = String::new();
    loop {
        let r = app
            .get(
                &format!("/api/v1/conversations?limit=2&{query}{cursor}"),
                token,
            )
            .await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        out.extend(ids(&r.body));
        match r.body["next_cursor"].as_str() {
            Some(c) => cursor = format!("&cursor={c}"),
            None => return out,
        }
    }
}

async fn seed(app: &App, s: &Seeded, n: usize) -> Vec<String> {
    let mut v = Vec::new();
    for i in 0..n {
        // Pairs share a time: ties are broken by id.
        let at = T0 - 10_000 + (i as i64 / 2) * 1000;
        v.push(
            app.conversation(s, &format!("U{i}"), "こんにちは", at)
                .await
                .id
                .to_string(),
        );
    }
    v
}

#[tokio::test]
async fn pages_follow_priority_then_newest_and_newest_only_without_gaps_or_repeats() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let c = seed(&app, &s, 7).await;
    for (i, p) in [(0, "urgent"), (1, "urgent"), (3, "high"), (5, "low")] {
        let r = patch(&app, &token, &c[i], json!({ "priority": p })).await;
        assert_eq!(r.status, StatusCode::OK, "{}", r.body);
        assert_eq!(r.body["priority"], p);
    }
    // Urgent first (0 and 1 share a time: the larger id first), then high, normal newest
    // first, low last.
    let mut urgent = vec![c[0].clone(), c[1].clone()];
    urgent.sort_by(|a, b| b.cmp(a));
    let mut normal = vec![c[2].clone(), c[4].clone(), c[6].clone()];
    normal.sort_by(|a, b| {
        let at = |x: &String| c.iter().position(|y| y == x).unwrap() / 2;
        at(b).cmp(&at(a)).then(b.cmp(a))
    });
    let expected: Vec<String> = urgent
        .into_iter()
        .chain([c[3].clone()])
        .chain(normal)
        .chain([c[5].clone()])
        .collect();
    assert_eq!(all_pages(&app, &token, "").await, expected);
    // A date range reads one priority at a time (and open ones beside the woken snoozed):
    // the same pages.
    for q in [
        "from=2025-12-01&to=2026-12-31",
        "status=open&from=2025-12-01",
    ] {
        assert_eq!(all_pages(&app, &token, q).await, expected, "{q}");
    }

    let mut newest = c.clone();
    newest.sort_by(|a, b| {
        let at = |x: &String| c.iter().position(|y| y == x).unwrap() / 2;
        at(b).cmp(&at(a)).then(b.cmp(a))
    });
    assert_eq!(all_pages(&app, &token, "sort=newest").await, newest);
}

#[tokio::test]
async fn each_filter_narrows_the_list() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let c = seed(&app, &s, 4).await;
    let staff = tsunagu_core::new_id();
    sqlx::query("UPDATE conversations SET assignee_id = $1, team_id = $1 WHERE id = $2")
        .bind(&staff)
        .bind(&c[0])
        .execute(app.db.pool())
        .await
        .unwrap();
    patch(&app, &token, &c[1], json!({"status": "resolved"})).await;
    patch(&app, &token, &c[2], json!({"priority": "high"})).await;
    let label = tsunagu_store::labels::create(
        &mut app.db.pool().acquire().await.unwrap(),
        &s.clinic,
        "請求",
        "blue",
        T0,
    )
    .await
    .unwrap()
    .unwrap();
    let r = app
        .post(
            &format!("/api/v1/conversations/{}/labels", c[3]),
            &token,
            json!({"label_id": label.id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(r.body["labels"][0]["name"], "請求");

    let q = |query: &str| {
        let (app, token) = (&app, &token);
        let query = query.to_owned();
        async move {
            let mut v = all_pages(app, token, &query).await;
            v.sort();
            v
        }
    };
    let sorted = |mut v: Vec<&String>| {
        v.sort();
        v.into_iter().cloned().collect::<Vec<_>>()
    };
    assert_eq!(q("status=resolved").await, vec![c[1].clone()]);
    assert_eq!(q("status=open").await, sorted(vec![&c[0], &c[2], &c[3]]));
    assert_eq!(q("").await.len(), 4, "every state unless asked");
    assert_eq!(q(&format!("assignee={staff}")).await, vec![c[0].clone()]);
    assert_eq!(
        q("assignee=none&status=open").await,
        sorted(vec![&c[2], &c[3]])
    );
    assert_eq!(q(&format!("team={staff}")).await, vec![c[0].clone()]);
    assert_eq!(q("priority=high").await, vec![c[2].clone()]);
    assert_eq!(q(&format!("label={}", label.id)).await, vec![c[3].clone()]);
    assert_eq!(
        q(&format!("channel={}&status=open", s.channel)).await.len(),
        3
    );
    assert_eq!(
        q(&format!("channel={}", tsunagu_core::new_id()))
            .await
            .len(),
        0
    );
    // T0 is 2026-01-01 09:00 in Tokyo (00:00 UTC); the seeded times are seconds before it.
    assert_eq!(q("from=2026-01-01&to=2026-01-01").await.len(), 4);
    assert_eq!(q("to=2025-12-31").await.len(), 0);
    assert_eq!(q("from=2026-01-02").await.len(), 0);
    let bad = app.get("/api/v1/conversations?priority=3", &token).await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_request")
    );
}

#[tokio::test]
async fn labels_and_changes_stay_in_their_clinic() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let other = app.clinic("ume").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let mine = seed(&app, &s, 1).await;
    let theirs = app
        .conversation(&other, "X1", "こんにちは", T0)
        .await
        .id
        .to_string();
    let their_label = tsunagu_store::labels::create(
        &mut app.db.pool().acquire().await.unwrap(),
        &other.clinic,
        "請求",
        "red",
        T0,
    )
    .await
    .unwrap()
    .unwrap();
    let r = app
        .post(
            &format!("/api/v1/conversations/{}/labels", mine[0]),
            &token,
            json!({"label_id": their_label.id}),
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "another clinic's label");
    let r = patch(&app, &token, &theirs, json!({"status": "resolved"})).await;
    assert_eq!(
        r.status,
        StatusCode::NOT_FOUND,
        "another clinic's conversation"
    );
    let status: String = sqlx::query_scalar("SELECT status FROM conversations WHERE id = $1")
        .bind(&theirs)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(status, "open");
    let labels = app.get("/api/v1/labels", &token).await;
    assert_eq!(labels.body, json!([]));
    let r = patch(&app, &token, &mine[0], json!({"status": "snoozed"})).await;
    assert_eq!(
        r.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "a snooze needs its time"
    );
    let read_only = app.token(&s.clinic, &[TokenScope::Read]).await;
    let r = patch(&app, &read_only, &mine[0], json!({"status": "resolved"})).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
}
