//! Staff's private notes are searched with the messages: the oracle (a plain substring scan of
//! every note's search form), another clinic's notes never found, pages that mix messages and
//! notes neither repeat nor skip, only staff who may read messages see them, and erasure,
//! retention and the one-time backfill keep the index true.
use std::collections::BTreeSet;

use axum::http::{Method, StatusCode};
use serde_json::json;
use tsunagu_core::text::search_form;
use tsunagu_core::Role;
use tsunagu_testkit::app::line::PATIENT;
use tsunagu_testkit::TestApp;

use super::inbox_support::{App, Session};
use super::support::*;

/// What staff wrote about the patients: 1- and 2-char terms, kana and width variants.
const NOTE_LINES: &[&str] = &[
    "熱が続くので明日の再診予約を提案した",
    "予防接種の問診票を渡した",
    "ﾖﾔｸ変更の電話あり(ご本人)",
    "よやく済み。@受付 佐藤 確認お願いします",
    "ヤマダさんのお母様から電話、体温３８度",
    "発熱外来へ案内",
    "予",
    "熱",
    "特記事項なし",
    "<b>熱</b> & 予約",
];

const NOTE_QUERIES: &[&str] = &[
    "熱",
    "予約",
    "予防接種",
    "よやく",
    "ヨヤク",
    "ﾖﾔｸ",
    "やまだ",
    "38",
    "予",
    "電話",
    "<b>",
    "&",
    "not-there",
];

/// The sample clinic's conversations (one per patient who wrote).
async fn conversations(app: &TestApp) -> Vec<String> {
    let (_, list) = app.api_get("/api/v1/conversations").await;
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect()
}

async fn note(app: &App, who: &Session, conv: &str, text: &str) {
    let res = app
        .post_form(
            &format!("/app/conversations/{conv}/notes"),
            who,
            &[("csrf_token", &who.csrf), ("text", text)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
}

/// Every note and message id the API finds for `q`, following the cursor with small pages.
async fn found_both(app: &TestApp, q: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let (mut messages, mut notes) = (BTreeSet::new(), BTreeSet::new());
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", q), ("limit", "2")];
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let (status, body) = api(app, &query).await;
        assert_eq!(status, StatusCode::OK, "{q}: {body}");
        let page =
            body["messages"].as_array().unwrap().len() + body["notes"].as_array().unwrap().len();
        assert!(
            page <= 2,
            "limit counts messages and notes together: {body}"
        );
        for m in body["messages"].as_array().unwrap() {
            assert!(messages.insert(m["message_id"].as_str().unwrap().to_string()));
        }
        for n in body["notes"].as_array().unwrap() {
            assert!(
                notes.insert(n["id"].as_str().unwrap().to_string()),
                "{q}: repeated"
            );
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return (messages, notes),
        }
    }
}

/// The oracle: the clinic's notes whose search form contains `q`'s.
async fn scanned_notes(app: &TestApp, q: &str) -> BTreeSet<String> {
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT id, body FROM conversation_notes WHERE clinic_id = $1")
            .bind(app.clinic().as_str())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let needle = search_form(q);
    rows.into_iter()
        .filter(|(_, b)| search_form(b).contains(&needle))
        .map(|(id, _)| id)
        .collect()
}

async fn seeded() -> (App, Session, Vec<String>) {
    let app = App { app: start().await };
    for (user, text) in PATIENT_LINES.iter().take(8) {
        say(&app, user, text).await;
    }
    let me = app
        .sign_in(app.app.clinic(), Role::Receptionist, "受付 佐藤")
        .await;
    let convs = conversations(&app).await;
    assert_eq!(convs.len(), 3);
    (app, me, convs)
}

#[tokio::test]
async fn search_finds_every_note_a_substring_scan_finds_and_no_other_clinics() {
    let (app, me, convs) = seeded().await;
    let nurse = app
        .sign_in(app.app.clinic(), Role::Clinician, "看護師 鈴木")
        .await;
    for (i, text) in NOTE_LINES.iter().enumerate() {
        let who = if i % 2 == 0 { &me } else { &nurse };
        note(&app, who, &convs[i % convs.len()], text).await;
        app.clock.advance(chrono::Duration::seconds(30));
    }
    // Another clinic's notes, with every word searched for.
    let b = app.clinic("kaede", "かえでクリニック").await;
    let other = app
        .conversation(&b, "Uother", "別院 太郎", "こんにちは", T0)
        .await;
    let b_staff = app
        .sign_in(&b.clinic, Role::Receptionist, "別院 受付")
        .await;
    note(
        &app,
        &b_staff,
        other.id.as_str(),
        "熱 予約 予防接種 ﾖﾔｸ ヤマダ 38 電話 <b> & 予",
    )
    .await;

    for q in NOTE_QUERIES.iter().chain(QUERIES) {
        let (messages, notes) = found_both(&app, q).await;
        assert_eq!(notes, scanned_notes(&app, q).await, "notes for {q:?}");
        assert_eq!(messages, scanned(&app, q).await, "messages for {q:?}");
    }
    // Not vacuous: short terms find several notes each.
    assert!(scanned_notes(&app, "熱").await.len() >= 4);
    assert!(scanned_notes(&app, "予約").await.len() >= 2);
    assert!(scanned_notes(&app, "ヨヤク").await.len() >= 2);
    assert_eq!(scanned_notes(&app, "予防接種").await.len(), 1);

    // A hit says who wrote it, where, and where the match is.
    let (status, body) = api(&app, &[("q", "ﾖﾔｸ変更")]).await;
    assert_eq!(status, 200);
    let n = &body["notes"][0];
    assert_eq!(body["notes"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(n["author_name"], "受付 佐藤");
    assert_eq!(n["conversation_id"], convs[2].as_str());
    assert_eq!(n["snippet"], "ﾖﾔｸ変更の電話あり(ご本人)");
    assert_eq!(n["highlights"], json!([[0, 5]]));
    assert_eq!(n["channel_kind"], "line");
    // Audited with the notes it returned.
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT subject_ids FROM audit_events WHERE action = 'search.notes' ORDER BY seq DESC",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert!(rows[0].contains(n["id"].as_str().unwrap()), "{rows:?}");
}

#[tokio::test]
async fn notes_come_newest_first_with_messages_and_only_for_staff_who_read_messages() {
    let (app, me, convs) = seeded().await;
    note(&app, &me, &convs[0], "予約の件、折り返し済み").await;
    app.clock.advance(chrono::Duration::minutes(1));
    say(&app, PATIENT, "予約の時間を教えてください").await;
    app.clock.advance(chrono::Duration::minutes(1));
    note(&app, &me, &convs[1], "明日の予約を確認").await;

    let (_, body) = api(&app, &[("q", "予約の"), ("limit", "10")]).await;
    let notes = body["notes"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "{body}");
    assert_eq!(notes[0]["snippet"], "予約の件、折り返し済み");

    // The page: one list, newest first, notes marked as メモ with their author.
    let page = app.get("/app/search?q=%E4%BA%88%E7%B4%84", &me).await;
    assert_eq!(page.status, StatusCode::OK);
    let t = &page.text.replace("&#x2f;", "/");
    let newest = t.find("明日の").unwrap();
    let message = t.find("時間を教えて").unwrap();
    let older = t.find("折り返し済み").unwrap();
    assert!(newest < message && message < older, "newest first");
    assert_eq!(t.matches("data-testid=\"search-note\"").count(), 2);
    assert!(t.contains("受付 佐藤 さんのメモ"));
    assert!(t.contains(&format!("href=\"/app/conversations/{}\"", convs[1])));

    // Status facet: a note is narrowed by its conversation like a message.
    let (_, body) = api(&app, &[("q", "予約"), ("status", "resolved")]).await;
    assert_eq!(body["notes"].as_array().unwrap().len(), 0, "{body}");
    assert_eq!(body["messages"].as_array().unwrap().len(), 0, "{body}");

    // A broadcaster reads patients, not messages: no notes either.
    let caster = app
        .sign_in(app.app.clinic(), Role::Broadcaster, "配信 担当")
        .await;
    let page = app.get("/app/search?q=%E4%BA%88%E7%B4%84", &caster).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(!page.text.contains("search-note"));
    assert!(!page.text.contains("折り返し済み"));
}

#[tokio::test]
async fn erasure_retention_and_the_backfill_keep_notes_in_the_index_true() {
    let (app, me, convs) = seeded().await;
    for c in &convs {
        note(&app, &me, c, "持病あり、薬の相談").await;
    }
    assert_eq!(found_both(&app, "持病").await.1.len(), 3);

    // Erasing a patient takes the notes on their conversations out of the index.
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let patient = list["items"][0]["patient_id"].as_str().unwrap().to_string();
    let res = app
        .request(Method::DELETE, &format!("/api/v1/patients/{patient}"))
        .bearer(app.api_token())
        .json(&json!({ "reason": "ご本人の申出" }))
        .send()
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    let left = found_both(&app, "持病").await.1;
    assert_eq!(left.len(), 2);
    assert_eq!(left, scanned_notes(&app, "持病").await);
    let docs = "SELECT COUNT(*) FROM search_docs WHERE kind = 'note'";
    assert_eq!(
        app.app.count(docs).await,
        2,
        "no index row outlives its note"
    );

    // Notes written before notes were indexed are indexed once at start.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let ids: Vec<String> = sqlx::query_scalar("SELECT doc_id FROM search_docs WHERE kind = 'note'")
        .fetch_all(&mut *conn)
        .await
        .unwrap();
    tsunagu_store::search::forget(&mut conn, tsunagu_store::search::NOTE, &ids)
        .await
        .unwrap();
    sqlx::query("UPDATE search_backfill_notes SET done = 0")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(found_both(&app, "持病").await.1.len(), 0);
    app.db.migrate().await.unwrap();
    app.db.migrate().await.unwrap();
    assert_eq!(
        found_both(&app, "持病").await.1,
        scanned_notes(&app, "持病").await
    );
    assert_eq!(app.app.count(docs).await, 2);

    // On SQLite, notes indexed in the messages' full-text table (before each kind had its own,
    // migration 0026) are moved once at start, and found again.
    if app.db.backend() == tsunagu_store::Backend::Sqlite {
        let mut conn = app.db.pool().acquire().await.unwrap();
        let notes: Vec<(i64, String)> = sqlx::query_as(
            "SELECT d.seq, n.body FROM search_docs d JOIN conversation_notes n ON n.id = d.doc_id
             WHERE d.kind = 'note'",
        )
        .fetch_all(&mut *conn)
        .await
        .unwrap();
        for (seq, body) in &notes {
            let form = tsunagu_core::text::search_form(body);
            let (bi, uni) = tsunagu_store::search::grams::fts_columns(&form);
            sqlx::query("DELETE FROM search_note_fts WHERE rowid = $1")
                .bind(seq)
                .execute(&mut *conn)
                .await
                .unwrap();
            sqlx::query("INSERT INTO search_fts (rowid, bi, uni) VALUES ($1, $2, $3)")
                .bind(seq)
                .bind(bi)
                .bind(uni)
                .execute(&mut *conn)
                .await
                .unwrap();
        }
        sqlx::query("UPDATE search_split SET done = 0")
            .execute(&mut *conn)
            .await
            .unwrap();
        drop(conn);
        assert_eq!(found_both(&app, "持病").await.1.len(), 0);
        app.db.migrate().await.unwrap();
        assert_eq!(
            found_both(&app, "持病").await.1,
            scanned_notes(&app, "持病").await
        );
        assert_eq!(found_both(&app, "持病").await.1.len(), 2);
    }

    // Conversations past retention take their notes' words with them.
    let res = app
        .request(Method::PUT, "/api/v1/settings/retention")
        .bearer(app.api_token())
        .json(&json!({"raw_webhook_body_days": 30, "conversation_years": 1}))
        .send()
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    app.clock.advance(chrono::Duration::days(400));
    let report = tsunagu_privacy::retention::apply(&app.db, app.app.clinic(), app.now_ms())
        .await
        .unwrap();
    assert_eq!(report.conversations_deleted, 2);
    assert_eq!(found_both(&app, "持病").await.1.len(), 0);
    assert_eq!(app.app.count(docs).await, 0);
    assert_eq!(scanned_notes(&app, "持病").await.len(), 0);
}
