//! The index stays true: an edit changes what is found, an unsent message and an erased
//! patient's words are no longer found; facets narrow; bad input is refused and changes nothing.
use serde_json::json;
use tsunagu_core::ChannelId;
use tsunagu_testkit::app::line::PATIENT;

use super::support::*;

async fn hit_count(app: &tsunagu_testkit::TestApp, q: &str) -> usize {
    found(app, q).await.len()
}

#[tokio::test]
async fn an_edit_changes_what_is_found_and_an_unsent_message_is_no_longer_found() {
    let app = start().await;
    let first = say(&app, PATIENT, "予約を取り消したいです").await;
    let second = say(&app, SATO, "発熱しています").await;
    assert_eq!(hit_count(&app, "取り消し").await, 1);

    // WhatsApp edits arrive through this store call; LINE's message id stands in here.
    let channel = ChannelId::from_db(app.line().channel.to_string());
    let mut conn = app.db.pool().acquire().await.unwrap();
    let edited = tsunagu_store::edits::edit_inbound(
        &mut conn,
        &channel,
        &first,
        Some("予約を変更したいです"),
        app.now_ms(),
    )
    .await
    .unwrap();
    drop(conn);
    assert!(edited);
    assert_eq!(hit_count(&app, "取り消し").await, 0);
    assert_eq!(hit_count(&app, "変更").await, 1);

    let unsend = app.line().sandbox.unsend(SATO, &second);
    let sandbox = &app.line().sandbox;
    assert_eq!(
        sandbox
            .send_event(tsunagu_testkit::app::line::ACCESS_TOKEN, unsend)
            .await
            .unwrap(),
        200
    );
    assert_eq!(hit_count(&app, "発熱").await, 0);
    assert_eq!(hit_count(&app, "熱").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM search_docs WHERE kind = 'message'")
            .await,
        1
    );
}

#[tokio::test]
async fn an_erased_patients_words_are_no_longer_found() {
    let app = start().await;
    say(&app, PATIENT, "持病の薬について相談です").await;
    say(&app, SATO, "薬の飲み方を教えてください").await;
    let (_, body) = api(&app, &[("q", "持病")]).await;
    let patient = body["messages"][0]["patient_id"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(hit_count(&app, "薬").await, 2);

    let res = app
        .request(
            axum::http::Method::DELETE,
            &format!("/api/v1/patients/{patient}"),
        )
        .bearer(app.api_token())
        .json(&json!({ "reason": "ご本人の申出" }))
        .send()
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    assert_eq!(hit_count(&app, "持病").await, 0);
    assert_eq!(
        hit_count(&app, "薬").await,
        1,
        "the other patient's line stays"
    );
    assert_eq!(scanned(&app, "持病").await.len(), 0);
}

#[tokio::test]
async fn facets_narrow_the_messages_found() {
    let app = start().await;
    say(&app, PATIENT, "予約したいです").await;
    app.clock.advance(chrono::Duration::days(2));
    say(&app, SATO, "予約の確認です").await;
    let channel = app.line().channel.to_string();
    let count = |body: &serde_json::Value| body["messages"].as_array().unwrap().len();

    let (_, all) = api(
        &app,
        &[("q", "予約"), ("channel", &channel), ("status", "open")],
    )
    .await;
    assert_eq!(count(&all), 2);
    let (_, none) = api(&app, &[("q", "予約"), ("status", "resolved")]).await;
    assert_eq!(count(&none), 0);
    let (_, unassigned) = api(&app, &[("q", "予約"), ("assignee", "none")]).await;
    assert_eq!(count(&unassigned), 2);
    let (_, urgent) = api(&app, &[("q", "予約"), ("priority", "3")]).await;
    assert_eq!(count(&urgent), 0);
    // T0 is 2026-11-23 in Tokyo; the second line came two days later.
    let (_, first_day) = api(
        &app,
        &[("q", "予約"), ("from", "2026-11-23"), ("to", "2026-11-23")],
    )
    .await;
    assert_eq!(count(&first_day), 1);
    assert_eq!(first_day["messages"][0]["snippet"], "予約したいです");
    let (_, later) = api(&app, &[("q", "予約"), ("from", "2026-11-24")]).await;
    assert_eq!(count(&later), 1);
    let other = "0190c5d4-0000-7000-8000-000000000000";
    let (_, elsewhere) = api(&app, &[("q", "予約"), ("channel", other)]).await;
    assert_eq!(count(&elsewhere), 0);
}

#[tokio::test]
async fn bad_queries_are_refused_with_stable_codes_and_leave_no_trace() {
    let app = start().await;
    say(&app, PATIENT, "予約したいです").await;
    let audits = "SELECT COUNT(*) FROM audit_events";
    let before = app.count(audits).await;
    let long = "あ".repeat(101);
    let cases: [(&[(&str, &str)], &str); 6] = [
        (&[], "search_query_empty"),
        (&[("q", " 　")], "search_query_empty"),
        (&[("q", long.as_str())], "search_query_too_long"),
        (
            &[("q", "予約"), ("status", "closed")],
            "invalid_search_filter",
        ),
        (
            &[("q", "予約"), ("from", "2026-13-01")],
            "invalid_search_filter",
        ),
        (&[("q", "予約"), ("cursor", "garbage")], "invalid_cursor"),
    ];
    for (query, code) in cases {
        let (status, body) = api(&app, query).await;
        assert_eq!(status, 422, "{query:?}: {body}");
        assert_eq!(body["error"]["code"], code, "{query:?}");
    }
    assert_eq!(app.count(audits).await, before);
    // 100 chars is still a search.
    let (status, _) = api(&app, &[("q", "あ".repeat(100).as_str())]).await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_search_is_audited_with_what_it_returned_and_patients_are_found_by_kana_and_phone() {
    let app = start().await;
    say(&app, PATIENT, "予約したいです").await;
    let (_, body) = api(&app, &[("q", "予約")]).await;
    let id = body["messages"][0]["message_id"].as_str().unwrap();
    let n = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'search.messages' AND subject_ids LIKE '%{id}%'"
        ))
        .await;
    assert_eq!(n, 1);
    // 山田 花子's record, found by the name LINE gave in any script.
    let (_, body) = api(&app, &[("q", "山田")]).await;
    assert_eq!(body["patients"].as_array().unwrap().len(), 1, "{body}");
    assert_eq!(body["patients"][0]["display_name"], "山田 花子");
}

#[tokio::test]
async fn conversations_past_retention_take_their_words_out_of_the_index() {
    let app = start().await;
    say(&app, PATIENT, "去年の健診の結果です").await;
    let res = app
        .request(axum::http::Method::PUT, "/api/v1/settings/retention")
        .bearer(app.api_token())
        .json(&json!({"raw_webhook_body_days": 30, "conversation_years": 1}))
        .send()
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    app.clock.advance(chrono::Duration::days(400));
    say(&app, SATO, "今年の健診の予約です").await;
    assert_eq!(hit_count(&app, "健診").await, 2);
    let report = tsunagu_privacy::retention::apply(&app.db, app.clinic(), app.now_ms())
        .await
        .unwrap();
    assert_eq!(report.conversations_deleted, 1);
    assert_eq!(hit_count(&app, "健診").await, 1);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM search_docs WHERE kind = 'message'")
            .await,
        1
    );
}

#[tokio::test]
async fn messages_stored_before_the_index_are_indexed_once_at_start() {
    let app = start().await;
    say(&app, PATIENT, "予防接種の予約です").await;
    // As a database migrated to 0013 finds it: messages, an empty index, the marker unset.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT doc_id FROM search_docs WHERE kind = 'message'")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    tsunagu_store::search::forget(&mut conn, tsunagu_store::search::MESSAGE, &ids)
        .await
        .unwrap();
    sqlx::query("UPDATE search_backfill SET done = 0")
        .execute(&mut *conn)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(hit_count(&app, "予防接種").await, 0);
    app.db.migrate().await.unwrap();
    assert_eq!(hit_count(&app, "予防接種").await, 1);
    assert_eq!(scanned(&app, "予防接種").await.len(), 1);
    app.db.migrate().await.unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM search_docs WHERE kind = 'message'")
            .await,
        1
    );
}
