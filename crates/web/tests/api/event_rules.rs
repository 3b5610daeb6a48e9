//! `/api/v1/automation/event-rules`: create, read, replace, reorder and delete, refusals with
//! their stable code, audited; another clinic's token sees none of it and changes nothing, and
//! a rule naming another clinic's team is refused.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::TokenScope;

use super::support::{app, App};

const URL: &str = "/api/v1/automation/event-rules";

async fn put(app: &App, path: &str, token: &str, body: Value) -> super::support::Res {
    app.call(Method::PUT, path, Some(token), Some(&body), &[])
        .await
}

fn fever(team: Option<&str>) -> Value {
    let mut actions = vec![json!({"type": "priority", "priority": "high"})];
    if let Some(t) = team {
        actions.push(json!({"type": "assign", "team_id": t}));
    }
    json!({"name": "発熱は看護へ", "trigger": {"kind": "patient_tagged", "tag": "発熱"},
           "conditions": [{"type": "open", "open": true}], "actions": actions})
}

#[tokio::test]
async fn event_rules_are_written_ordered_and_kept_to_their_clinic() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let b = app.clinic("momiji").await;
    let token = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let other = app.token(&b.clinic, &[TokenScope::Admin]).await;
    let other_team = {
        let mut conn = app.db.pool().acquire().await.unwrap();
        tsunagu_inbox::routing::teams::create(
            &mut conn,
            &b.clinic,
            "看護",
            tsunagu_inbox::routing::AssignMode::Off,
            0,
        )
        .await
        .unwrap()
        .unwrap()
    };

    let made = app.post(URL, &token, fever(None)).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(
        made.body["trigger"],
        json!({"kind": "patient_tagged", "tag": "発熱"})
    );
    assert_eq!(
        (
            made.body["position"].as_i64(),
            made.body["enabled"].as_bool()
        ),
        (Some(1), Some(true))
    );
    let first = made.body["id"].as_str().unwrap().to_string();
    let second = app
        .post(
            URL,
            &token,
            json!({"name": "解決", "trigger": {"kind": "conversation_resolved"},
            "actions": [{"type": "tag", "tag": "対応済み"}]}),
        )
        .await
        .body["id"]
        .as_str()
        .unwrap()
        .to_string();

    // Refused with the stable code; another clinic's team is not this clinic's.
    let bad = app.post(URL, &token, fever(Some(&other_team))).await;
    assert_eq!(bad.status, StatusCode::NOT_FOUND, "{}", bad.body);
    let bad = app
        .post(
            URL,
            &token,
            json!({"name": "x", "trigger": {"kind": "friend_added"},
            "conditions": [{"type": "text", "mode": "contains", "value": "熱"}],
            "actions": [{"type": "tag", "tag": "x"}]}),
        )
        .await;
    assert_eq!(
        (bad.status, bad.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "invalid_event_rule")
    );
    assert!(bad.body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("text_needs_message"));
    let none = app
        .post(
            URL,
            &token,
            json!({"name": "x", "trigger": {"kind": "friend_added"}, "actions": []}),
        )
        .await;
    assert_eq!(none.code(), "invalid_event_rule");

    // Reordered: every rule once, else refused.
    let order = format!("{URL}/order");
    let r = put(&app, &order, &token, json!({"ids": [second, first]})).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    let names: Vec<&str> = r.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, vec!["解決", "発熱は看護へ"]);
    let r = put(&app, &order, &token, json!({"ids": [first]})).await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Another clinic: sees nothing, changes nothing.
    let one = format!("{URL}/{first}");
    assert_eq!(app.get(URL, &other).await.body["items"], json!([]));
    assert_eq!(app.get(&one, &other).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        put(&app, &one, &other, fever(None)).await.status,
        StatusCode::NOT_FOUND
    );
    let r = app
        .call(Method::DELETE, &one, Some(&other), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = put(&app, &order, &other, json!({"ids": [first, second]})).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);

    // Replaced (its place kept), then removed.
    let mut changed = fever(None);
    changed["enabled"] = json!(false);
    changed["stop_later"] = json!(true);
    let r = put(&app, &one, &token, changed).await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.body);
    assert_eq!(
        (
            r.body["enabled"].as_bool(),
            r.body["stop_later"].as_bool(),
            r.body["position"].as_i64()
        ),
        (Some(false), Some(true), Some(2))
    );
    let r = app
        .call(Method::DELETE, &one, Some(&token), None, &[])
        .await;
    assert_eq!(r.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&one, &token).await.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.audits("api.automation.event_rule.create").await.len(),
        2
    );
    assert_eq!(
        app.audits("api.automation.event_rule.reorder").await.len(),
        1
    );
    assert_eq!(
        app.audits("api.automation.event_rule.update").await.len(),
        1
    );
    assert_eq!(
        app.audits("api.automation.event_rule.delete").await.len(),
        1
    );
}
