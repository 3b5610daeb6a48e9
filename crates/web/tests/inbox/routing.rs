//! Teams and assignment through the pages and the API: a receptionist gives a conversation to a
//! colleague (a Japanese line in the conversation, audited), ids of another clinic change
//! nothing, a deleted team leaves its conversations whole, the availability switch.
use axum::http::{Method, StatusCode};
use serde_json::json;
use tsunagu_core::{ClinicId, Role};
use tsunagu_inbox::routing::teams::{self, AssignMode};

use super::support::{app, App, T0};

async fn row(app: &App, conversation: &str) -> (Option<String>, Option<String>) {
    sqlx::query_as("SELECT assignee_id, team_id FROM conversations WHERE id = $1")
        .bind(conversation)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn system_lines(app: &App, conversation: &str) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT body FROM messages WHERE conversation_id = $1 AND direction = 'system' ORDER BY created_at, id",
    )
    .bind(conversation)
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn token(app: &App, clinic: &ClinicId) -> String {
    let mut tx = app.db.begin().await.unwrap();
    let scopes = [tsunagu_core::TokenScope::Admin];
    let (_, t) = tsunagu_accounts::tokens::create_token(tx.conn(), clinic, "t", &scopes, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    t
}

async fn team(app: &App, clinic: &ClinicId, name: &str) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    teams::create(&mut conn, clinic, name, AssignMode::Off, T0)
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn a_receptionist_gives_a_conversation_to_a_colleague_and_a_team() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "熱があります", T0)
        .await;
    let id = c.id.to_string();
    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let nurse = app.sign_in(&s.clinic, Role::Clinician, "看護師 田中").await;
    let nursing = team(&app, &s.clinic, "看護").await;
    let preview_before: Option<String> =
        sqlx::query_scalar("SELECT last_message_preview FROM conversations WHERE id = $1")
            .bind(&id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();

    let page = app
        .get(&format!("/app/conversations/{id}"), &desk)
        .await
        .text;
    assert!(page.contains(r#"data-testid="team-select""#) && page.contains(">看護</option>"));
    let res = app
        .post_form(
            &format!("/app/conversations/{id}/assign"),
            &desk,
            &[
                ("csrf_token", &desk.csrf),
                ("assignee", nurse.staff_id.as_str()),
                ("team", &nursing),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        row(&app, &id).await,
        (Some(nurse.staff_id.to_string()), Some(nursing.clone()))
    );
    assert_eq!(
        system_lines(&app, &id).await,
        ["受付 佐藤さんが看護師 田中さん（チーム「看護」）に割り当てました"]
    );
    let audits = app.audits("conversation.assign").await;
    assert_eq!(audits.len(), 1);
    assert!(audits[0].1.contains(nurse.staff_id.as_str()) && audits[0].1.contains(&nursing));
    let preview_after: Option<String> =
        sqlx::query_scalar("SELECT last_message_preview FROM conversations WHERE id = $1")
            .bind(&id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        preview_before, preview_after,
        "the line does not become the preview"
    );

    // The nurse sees it as theirs, and the line in the thread.
    let theirs = app.get("/app/inbox?view=mine", &nurse).await.text;
    assert!(theirs.contains(&format!(r#"data-conversation-id="{id}""#)));
    let page = app
        .get(&format!("/app/conversations/{id}"), &nurse)
        .await
        .text;
    assert!(page.contains("受付 佐藤さんが看護師 田中さん（チーム「看護」）に割り当てました"));
    assert!(page.contains(r#"data-testid="team-name">看護<"#));

    // The same again changes nothing; taking it back says so.
    let again = [
        ("csrf_token", desk.csrf.as_str()),
        ("assignee", nurse.staff_id.as_str()),
    ];
    let res = app
        .post_form(&format!("/app/conversations/{id}/assign"), &desk, &again)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(system_lines(&app, &id).await.len(), 1);
    let mine = [
        ("csrf_token", desk.csrf.as_str()),
        ("assignee", desk.staff_id.as_str()),
    ];
    app.post_form(&format!("/app/conversations/{id}/assign"), &desk, &mine)
        .await;
    let release = [
        ("csrf_token", desk.csrf.as_str()),
        ("assignee", ""),
        ("team", ""),
    ];
    app.post_form(&format!("/app/conversations/{id}/assign"), &desk, &release)
        .await;
    assert_eq!(row(&app, &id).await, (None, None));
    assert_eq!(
        system_lines(&app, &id).await[1..],
        [
            "受付 佐藤さんが担当になりました",
            "受付 佐藤さんが担当を外しました、チームの割り当てを外しました"
        ]
    );
}

#[tokio::test]
async fn a_staff_member_or_team_of_another_clinic_is_404_and_nothing_changes() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let other = app.clinic("momiji", "もみじ皮膚科").await;
    let c = app.conversation(&s, "U1", "山田 花子", "予約", T0).await;
    let id = c.id.to_string();
    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let stranger = app
        .sign_in(&other.clinic, Role::Receptionist, "他院 受付")
        .await;
    let their_team = team(&app, &other.clinic, "受付").await;
    let token = token(&app, &s.clinic).await;
    for (field, value) in [
        ("assignee", stranger.staff_id.as_str()),
        ("team", their_team.as_str()),
    ] {
        let form = [("csrf_token", desk.csrf.as_str()), (field, value)];
        let res = app
            .post_form(&format!("/app/conversations/{id}/assign"), &desk, &form)
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{field}");
    }
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/conversations/{id}/assignment"),
        )
        .bearer(&token)
        .json(&json!({"staff_id": stranger.staff_id.as_str()}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(row(&app, &id).await, (None, None));
    assert!(system_lines(&app, &id).await.is_empty());
    assert!(app.audits("conversation.assign").await.is_empty());
}

#[tokio::test]
async fn the_api_assigns_lists_teams_and_availability() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app.conversation(&s, "U1", "山田 花子", "予約", T0).await;
    let id = c.id.to_string();
    let nurse = app.sign_in(&s.clinic, Role::Clinician, "看護師 田中").await;
    let nursing = team(&app, &s.clinic, "看護").await;
    let token = token(&app, &s.clinic).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    teams::add_member(&mut conn, &s.clinic, &nursing, nurse.staff_id.as_str())
        .await
        .unwrap();
    drop(conn);
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/conversations/{id}/assignment"),
        )
        .bearer(&token)
        .json(&json!({"staff_id": nurse.staff_id.as_str(), "team_id": nursing}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text());
    let body = res.json();
    assert_eq!(body["assignee_id"], nurse.staff_id.as_str());
    assert_eq!(body["changed"], true);
    assert_eq!(
        system_lines(&app, &id).await,
        ["API連携から看護師 田中さん（チーム「看護」）に割り当てました"]
    );
    // Only the team cleared: the assignee stays.
    let res = app
        .request(
            Method::POST,
            &format!("/api/v1/conversations/{id}/assignment"),
        )
        .bearer(&token)
        .json(&json!({"team_id": null}))
        .send()
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(
        row(&app, &id).await,
        (Some(nurse.staff_id.to_string()), None)
    );

    let teams = app
        .request(Method::GET, "/api/v1/teams")
        .bearer(&token)
        .send()
        .await
        .json();
    assert_eq!(teams["items"][0]["name"], "看護");
    assert_eq!(
        teams["items"][0]["members"][0]["display_name"],
        "看護師 田中"
    );
    assert_eq!(teams["items"][0]["members"][0]["availability"], "offline");
    assert_eq!(teams["items"][0]["members"][0]["open_assigned"], 1);
    let people = app
        .request(Method::GET, "/api/v1/availability")
        .bearer(&token)
        .send()
        .await
        .json();
    assert!(people["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|p| p["staff_id"] == nurse.staff_id.as_str()));
}

#[tokio::test]
async fn deleting_a_team_leaves_its_conversations_whole_and_out_of_the_team() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app.conversation(&s, "U1", "山田 花子", "予約", T0).await;
    let id = c.id.to_string();
    let owner = app.sign_in(&s.clinic, Role::Owner, "院長 鈴木").await;
    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;

    let create = [
        ("csrf_token", owner.csrf.as_str()),
        ("name", "受付"),
        ("mode", "round_robin"),
    ];
    let res = app.post_form("/app/settings/teams", &owner, &create).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let dup = app.post_form("/app/settings/teams", &owner, &create).await;
    assert_eq!(dup.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(dup.text.contains("同じ名前のチームがあります"));
    let mut conn = app.db.pool().acquire().await.unwrap();
    let t = teams::list(&mut conn, &s.clinic).await.unwrap().remove(0);
    drop(conn);
    assert_eq!(t.mode(), AssignMode::RoundRobin);
    let add = [
        ("csrf_token", owner.csrf.as_str()),
        ("staff_id", desk.staff_id.as_str()),
    ];
    let res = app
        .post_form(
            &format!("/app/settings/teams/{}/members", t.id),
            &owner,
            &add,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let route = [
        ("csrf_token", owner.csrf.as_str()),
        ("team_id", t.id.as_str()),
    ];
    let res = app
        .post_form(
            &format!("/app/settings/channels/{}/team", s.channel),
            &owner,
            &route,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = app.get("/app/settings/teams", &owner).await.text;
    assert!(page.contains(r#"data-testid="team-member""#) && page.contains("受付 佐藤"));

    let form = [
        ("csrf_token", desk.csrf.as_str()),
        ("assignee", desk.staff_id.as_str()),
        ("team", t.id.as_str()),
    ];
    app.post_form(&format!("/app/conversations/{id}/assign"), &desk, &form)
        .await;
    assert_eq!(
        row(&app, &id).await,
        (Some(desk.staff_id.to_string()), Some(t.id.clone()))
    );

    // A receptionist cannot delete teams.
    let del = [("csrf_token", desk.csrf.as_str())];
    let res = app
        .post_form(&format!("/app/settings/teams/{}/delete", t.id), &desk, &del)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let del = [("csrf_token", owner.csrf.as_str())];
    let res = app
        .post_form(
            &format!("/app/settings/teams/{}/delete", t.id),
            &owner,
            &del,
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(
        row(&app, &id).await,
        (Some(desk.staff_id.to_string()), None)
    );
    let left: i64 = app
        .count(
            "SELECT COUNT(*) FROM channels WHERE default_team_id = $1",
            &t.id,
        )
        .await;
    assert_eq!(left, 0);
    let page = app.get(&format!("/app/conversations/{id}"), &desk).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains(r#"data-testid="team-name""#));
    assert!(app.get("/app/inbox", &desk).await.text.contains(&id));
}

#[tokio::test]
async fn the_availability_switch_is_in_every_page_header() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let page = app.get("/app/inbox", &desk).await.text;
    assert!(page.contains(r#"data-testid="availability-select""#));
    assert!(page.contains(r#"<option value="offline" selected>オフライン</option>"#));
    let res = app
        .request(Method::POST, "/app/availability")
        .session(&desk)
        .header("referer", "http://localhost/app/inbox?view=mine")
        .form(&[
            ("csrf_token", desk.csrf.as_str()),
            ("availability", "online"),
        ])
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.headers["location"], "/app/inbox?view=mine");
    let page = app.get("/app/inbox", &desk).await.text;
    assert!(page.contains(r#"<option value="online" selected>対応可能</option>"#));
    let bad = [
        ("csrf_token", desk.csrf.as_str()),
        ("availability", "asleep"),
    ];
    assert_ne!(
        app.post_form("/app/availability", &desk, &bad).await.status,
        StatusCode::SEE_OTHER
    );
    let analyst = app.sign_in(&s.clinic, Role::Analyst, "分析 山本").await;
    assert!(!app
        .get("/app/inbox", &analyst)
        .await
        .text
        .contains("availability-select"));
}
