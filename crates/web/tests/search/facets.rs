//! The search's facets are the views': a label narrows message and note hits to the
//! conversations carrying it, another clinic's label finds nothing, and the page offers
//! labels and teams by name and keeps the chosen ones on the next page.
use std::collections::BTreeSet;

use axum::http::StatusCode;
use tsunagu_core::Role;
use tsunagu_inbox::routing::teams;
use tsunagu_testkit::TestApp;

use super::inbox_support::{App, Session};
use super::support::*;

async fn conversations(app: &TestApp) -> Vec<String> {
    let (_, list) = app.api_get("/api/v1/conversations").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn post(app: &App, who: &Session, path: &str, fields: &[(&str, &str)]) {
    let mut all = vec![("csrf_token", who.csrf.as_str())];
    all.extend_from_slice(fields);
    let res = app.post_form(path, who, &all).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{path}: {}", res.text);
}

/// `name`'s id among the labels of `clinic`.
async fn label_id(app: &App, clinic: &str, name: &str) -> String {
    sqlx::query_scalar("SELECT id FROM labels WHERE clinic_id = $1 AND name = $2")
        .bind(clinic)
        .bind(name)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// The oracle for a label: message ids of the clinic's text messages containing `q` in the
/// conversations carrying it.
async fn scanned_in(app: &App, q: &str, convs: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for id in scanned(app, q).await {
        let conv: String = sqlx::query_scalar("SELECT conversation_id FROM messages WHERE id = $1")
            .bind(&id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
        if convs.contains(&conv.as_str()) {
            out.insert(id);
        }
    }
    out
}

fn ids(body: &serde_json::Value, key: &str, field: &str) -> BTreeSet<String> {
    body[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m[field].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_label_narrows_message_and_note_hits_and_another_clinics_label_finds_nothing() {
    let app = App { app: start().await };
    for (user, text) in PATIENT_LINES {
        say(&app, user, text).await;
    }
    let clinic = app.app.clinic().clone();
    let owner = app.sign_in(&clinic, Role::Owner, "院長 田中").await;
    let me = app.sign_in(&clinic, Role::Receptionist, "受付 佐藤").await;
    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 3);
    post(
        &app,
        &owner,
        "/app/settings/labels",
        &[("name", "要折り返し"), ("color", "red")],
    )
    .await;
    let label = label_id(&app, clinic.as_str(), "要折り返し").await;
    post(
        &app,
        &me,
        &format!("/app/conversations/{}/labels", convs[1]),
        &[("label", &label), ("op", "add")],
    )
    .await;
    for (i, c) in convs.iter().enumerate() {
        post(
            &app,
            &me,
            &format!("/app/conversations/{c}/notes"),
            &[("text", &format!("予約の件 {i} 熱"))],
        )
        .await;
    }
    let labelled_note: String =
        sqlx::query_scalar("SELECT id FROM conversation_notes WHERE conversation_id = $1")
            .bind(&convs[1])
            .fetch_one(app.db.pool())
            .await
            .unwrap();

    // Another clinic with its own label on its own conversation, every word in it.
    let b = app.clinic("kaede", "かえでクリニック").await;
    let other = app
        .conversation(&b, "Uother", "別院 太郎", "熱 予約 予防接種 38", T0)
        .await;
    let b_owner = app.sign_in(&b.clinic, Role::Owner, "別院 院長").await;
    post(
        &app,
        &b_owner,
        "/app/settings/labels",
        &[("name", "要折り返し"), ("color", "red")],
    )
    .await;
    let b_label = label_id(&app, b.clinic.as_str(), "要折り返し").await;
    post(
        &app,
        &b_owner,
        &format!("/app/conversations/{}/labels", other.id),
        &[("label", &b_label), ("op", "add")],
    )
    .await;
    post(
        &app,
        &b_owner,
        &format!("/app/conversations/{}/notes", other.id),
        &[("text", "予約の件 熱")],
    )
    .await;

    for q in ["熱", "予約", "予", "38"] {
        let (status, all) = api(&app, &[("q", q), ("limit", "100")]).await;
        assert_eq!(status, StatusCode::OK, "{all}");
        let (status, body) = api(&app, &[("q", q), ("limit", "100"), ("label", &label)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        let want = scanned_in(&app, q, &[convs[1].as_str()]).await;
        assert_eq!(
            ids(&body, "messages", "message_id"),
            want,
            "messages for {q}"
        );
        // Not vacuous: the label left out hits the search finds without it.
        assert!(
            ids(&all, "messages", "message_id").len() > want.len(),
            "{q}: {all}"
        );
        let notes = ids(&body, "notes", "id");
        if q != "38" {
            assert_eq!(notes, BTreeSet::from([labelled_note.clone()]), "{q}");
            assert_eq!(ids(&all, "notes", "id").len(), 3, "{q}");
        } else {
            assert!(notes.is_empty());
        }

        // Another clinic's label id: nothing, though its clinic has matching text.
        let (status, body) = api(&app, &[("q", q), ("label", &b_label)]).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["messages"].as_array().unwrap().len(), 0, "{body}");
        assert_eq!(body["notes"].as_array().unwrap().len(), 0, "{body}");
    }
    assert!(!scanned_in(&app, "熱", &[convs[1].as_str()])
        .await
        .is_empty());
}

#[tokio::test]
async fn the_page_offers_labels_and_teams_by_name_and_keeps_them_on_the_next_page() {
    let app = App { app: start().await };
    say(&app, tsunagu_testkit::app::line::PATIENT, "予約したいです").await;
    let clinic = app.app.clinic().clone();
    let owner = app.sign_in(&clinic, Role::Owner, "院長 田中").await;
    let me = app.sign_in(&clinic, Role::Receptionist, "受付 佐藤").await;
    let conv = conversations(&app).await.remove(0);
    post(
        &app,
        &owner,
        "/app/settings/labels",
        &[("name", "請求"), ("color", "blue")],
    )
    .await;
    post(
        &app,
        &owner,
        "/app/settings/teams",
        &[("name", "受付チーム"), ("mode", "off")],
    )
    .await;
    let label = label_id(&app, clinic.as_str(), "請求").await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let team = teams::list(&mut conn, &clinic).await.unwrap().remove(0).id;
    drop(conn);
    post(
        &app,
        &me,
        &format!("/app/conversations/{conv}/labels"),
        &[("label", &label), ("op", "add")],
    )
    .await;
    // More notes than a page holds, so the page links to older ones.
    for i in 0..31 {
        post(
            &app,
            &me,
            &format!("/app/conversations/{conv}/notes"),
            &[("text", &format!("予約メモ {i}"))],
        )
        .await;
    }

    let page = app
        .get(
            &format!("/app/search?q=%E4%BA%88%E7%B4%84&label={label}"),
            &me,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let t = page.text.replace("&#x2f;", "/");
    assert!(t.contains("data-testid=\"search-label\""), "{t}");
    assert!(t.contains(&format!("<option value=\"{label}\" selected>請求</option>")));
    assert!(t.contains("data-testid=\"search-team\""));
    assert!(t.contains(&format!("<option value=\"{team}\">受付チーム</option>")));
    assert!(t.contains(">ラベル") && t.contains(">チーム"));
    assert_eq!(t.matches("data-testid=\"search-note\"").count(), 30);
    let older = t
        .split("href=\"")
        .map(|s| s.split('"').next().unwrap().replace("&amp;", "&"))
        .find(|h| h.contains("cursor="))
        .expect("a link to older hits");
    assert!(older.contains(&format!("label={label}")), "{older}");
    let next = app.get(&older, &me).await;
    assert_eq!(next.status, StatusCode::OK);
    let n = next.text.replace("&#x2f;", "/");
    let rest = n.matches("data-testid=\"search-note\"").count()
        + n.matches("data-testid=\"search-hit\"").count();
    assert_eq!(rest, 2, "31 notes and 1 message, 30 a page");
    assert!(n.contains(&format!("<option value=\"{label}\" selected>請求</option>")));

    // A team chosen with the label: kept on the form; this conversation is in no team.
    let page = app
        .get(
            &format!("/app/search?q=%E4%BA%88%E7%B4%84&label={label}&team={team}"),
            &me,
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let t = page.text.replace("&#x2f;", "/");
    assert!(t.contains(&format!(
        "<option value=\"{team}\" selected>受付チーム</option>"
    )));
    assert!(t.contains("data-testid=\"search-empty\""));
}
