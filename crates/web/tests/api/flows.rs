//! `/api/v1/automation/flows`: a draft with problems is saved but not published; publishing
//! makes versions; the preview plays the draft like chat; another clinic's flow is not found.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::TokenScope;

use super::support::{app, App, Res};

const URL: &str = "/api/v1/automation/flows";

async fn call(app: &App, m: Method, path: &str, token: &str, body: Option<Value>) -> Res {
    app.call(m, path, Some(token), body.as_ref(), &[]).await
}

fn definition() -> Value {
    json!({"steps": [
        {"id": "symptom", "type": "ask", "text": "症状を選んでください。", "key": "症状",
         "answer": {"kind": "choice", "options": [{"label": "発熱", "next": "fever"}, {"label": "せき"}]}},
        {"id": "thanks", "type": "end", "text": "ありがとうございました。"},
        {"id": "fever", "type": "tag", "tag": "発熱", "next": "handover"},
        {"id": "handover", "type": "handover", "text": "スタッフにおつなぎします。"}
    ]})
}

#[tokio::test]
async fn a_flow_is_drafted_published_previewed_switched_and_removed() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let reply = app.token(&a.clinic, &[TokenScope::Reply]).await;

    let empty = app.post(URL, &admin, json!({"name": "問診"})).await;
    assert_eq!(empty.status, StatusCode::CREATED, "{}", empty.body);
    assert_eq!(empty.body["problems"][0]["problem"], "no_steps");
    let id = empty.body["id"].as_str().unwrap().to_string();
    let one = format!("{URL}/{id}");
    let publish = format!("{one}/publish");
    let refused = app.post(&publish, &admin, json!({})).await;
    assert_eq!(refused.code(), "flow_has_problems", "{}", refused.body);
    assert_eq!(
        app.get(&one, &reply).await.body["published_version"],
        Value::Null
    );

    for (body, code) in [
        (json!({"name": " "}), "invalid_flow_name"),
        (
            json!({"definition": {"steps": "none"}}),
            "invalid_flow_definition",
        ),
        (json!({"definition": null}), "invalid_flow_definition"),
    ] {
        let res = call(&app, Method::PATCH, &one, &admin, Some(body)).await;
        assert_eq!(
            (res.status, res.code()),
            (StatusCode::UNPROCESSABLE_ENTITY, code)
        );
    }
    let res = call(
        &app,
        Method::PATCH,
        &one,
        &reply,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let patch = json!({"name": "初診問診", "definition": definition()});
    let saved = call(&app, Method::PATCH, &one, &admin, Some(patch)).await;
    assert_eq!(saved.status, StatusCode::OK, "{}", saved.body);
    assert_eq!(saved.body["problems"], json!([]));
    assert_eq!(saved.body["draft"]["steps"][0]["key"], "症状");
    let published = app.post(&publish, &admin, json!({})).await;
    assert_eq!(published.status, StatusCode::OK, "{}", published.body);
    assert_eq!(published.body["published_version"], 1);
    let again = app.post(&publish, &admin, json!({})).await;
    assert_eq!(again.body["published_version"], 2);
    assert_eq!(again.body["versions"][0]["version"], 2, "newest first");
    assert!(again.body["versions"][1]["published_by"]
        .as_str()
        .unwrap()
        .starts_with("token:"));

    let preview = format!("{one}/preview");
    let played = app
        .post(&preview, &reply, json!({"answers": ["発熱"]}))
        .await;
    assert_eq!(played.status, StatusCode::OK, "{}", played.body);
    let turns = played.body["turns"].as_array().unwrap();
    assert_eq!(turns[0]["actions"][0]["options"], json!(["発熱", "せき"]));
    assert_eq!(turns[1]["answer"], "発熱");
    let kinds: Vec<&str> = turns[1]["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["tag", "say", "hand_over"], "{}", played.body);
    assert_eq!(played.body["state"], "handed_over");
    assert_eq!(app.jobs().await, 0, "a preview sends nothing");

    let on = call(
        &app,
        Method::PATCH,
        &one,
        &admin,
        Some(json!({"enabled": true})),
    )
    .await;
    assert_eq!(
        (on.status, &on.body["enabled"]),
        (StatusCode::OK, &json!(true))
    );
    let listed = app.get(URL, &reply).await;
    assert_eq!(listed.body["items"][0]["steps"], 4);
    assert_eq!(listed.body["items"][0]["published_version"], 2);

    for action in [
        "api.automation.flow.create",
        "api.automation.flow.update",
        "api.automation.flow.publish",
        "api.automation.flow.enable",
    ] {
        assert!(!app.audits(action).await.is_empty(), "{action}");
    }
    let gone = call(&app, Method::DELETE, &one, &admin, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&one, &reply).await.status, StatusCode::NOT_FOUND);
    let versions = app
        .scalar(
            "SELECT COUNT(*) FROM automation_flow_versions WHERE flow_id = $1",
            &id,
        )
        .await;
    assert_eq!(versions, 0);
    assert_eq!(app.audits("api.automation.flow.delete").await.len(), 1);
}

#[tokio::test]
async fn another_clinics_flow_or_team_is_not_found_and_a_key_creates_once() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let b = app.clinic("other").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let theirs = app.token(&b.clinic, &[TokenScope::Admin]).await;
    let made = app
        .post(
            URL,
            &theirs,
            json!({"name": "B", "definition": definition()}),
        )
        .await;
    let b_one = format!("{URL}/{}", made.body["id"].as_str().unwrap());
    assert_eq!(app.get(&b_one, &admin).await.status, StatusCode::NOT_FOUND);
    for (m, path, body) in [
        (
            Method::PATCH,
            b_one.clone(),
            Some(json!({"name": "乗っ取り", "enabled": true})),
        ),
        (Method::POST, format!("{b_one}/publish"), Some(json!({}))),
        (Method::POST, format!("{b_one}/preview"), Some(json!({}))),
        (Method::DELETE, b_one.clone(), None),
    ] {
        let res = call(&app, m.clone(), &path, &admin, body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{m} {path}");
    }
    let still = app.get(&b_one, &theirs).await.body;
    assert_eq!(
        (still["name"].as_str(), &still["enabled"]),
        (Some("B"), &json!(false))
    );
    assert_eq!(still["versions"], json!([]));

    // A step may not assign B's team.
    let team: String = {
        let mut tx = app.db.begin().await.unwrap();
        use tsunagu_inbox::routing::teams;
        let t = teams::create(tx.conn(), &b.clinic, "看護", teams::AssignMode::Off, 0)
            .await
            .unwrap()
            .unwrap();
        tx.commit().await.unwrap();
        t
    };
    let mut def = definition();
    def["steps"][2] =
        json!({"id": "fever", "type": "assign_team", "team": team, "next": "handover"});
    let res = app
        .post(URL, &admin, json!({"name": "X", "definition": def}))
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND, "{}", res.body);
    let count = "SELECT COUNT(*) FROM automation_flows WHERE clinic_id = $1";
    assert_eq!(app.scalar(count, a.clinic.as_str()).await, 0);

    let key = [("idempotency-key", "flow-create-1")];
    let body = json!({"name": "問診"});
    let first = app
        .call(Method::POST, URL, Some(&admin), Some(&body), &key)
        .await;
    let second = app
        .call(Method::POST, URL, Some(&admin), Some(&body), &key)
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(first.body["id"], second.body["id"], "the same answer again");
    assert_eq!(app.scalar(count, a.clinic.as_str()).await, 1);
}
