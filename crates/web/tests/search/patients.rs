//! Patients are found by any part of their name, kana, phone (with or without separators),
//! e-mail or card number, through the same index: the same set a substring scan of their
//! search keys finds; an erased patient is no longer found.
use std::collections::BTreeSet;

use serde_json::json;

use tsunagu_testkit::app::line::PATIENT;

use super::support::*;

async fn patient_ids(app: &tsunagu_testkit::TestApp, q: &str) -> BTreeSet<String> {
    let (status, body) = api(app, &[("q", q)]).await;
    assert_eq!(status, 200, "{q}: {body}");
    body["patients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_string())
        .collect()
}

/// The oracle: patients whose key contains the term as `contacts::search::search_term` reads it.
async fn keys_containing(app: &tsunagu_testkit::TestApp, q: &str) -> BTreeSet<String> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, search_key FROM patients WHERE clinic_id = $1")
            .bind(app.clinic().as_str())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let term = tsunagu_contacts::search::search_term(q);
    rows.into_iter()
        .filter(|(_, k)| k.as_deref().is_some_and(|k| k.contains(&term)))
        .map(|(id, _)| id)
        .collect()
}

#[tokio::test]
async fn patients_are_found_by_any_part_of_their_record_as_a_scan_finds_them() {
    let app = start().await;
    say(&app, PATIENT, "こんにちは").await;
    let records = [
        json!({"name": "山田 太郎", "kana": "ヤマダ タロウ", "phone": "090-1234-5678", "email": "taro@example.jp", "card_number": "A-1001"}),
        json!({"name": "佐々木 恵", "kana": "ササキ メグミ", "phone": "03-5555-0101", "card_number": "B-2002"}),
        json!({"name": "Yamada Emily", "email": "emily@example.com"}),
    ];
    for r in &records {
        let (status, body) = app.api_post("/api/v1/patients", r.clone()).await;
        assert!(status.is_success(), "{body}");
    }
    let queries = [
        "山田",
        "やまだ",
        "ﾔﾏﾀﾞ",
        "ヤマダタロウ",
        "タ",
        "090-1234",
        "09012345678",
        "1234",
        "+8190",
        "example",
        "EXAMPLE.JP",
        "a-1001",
        "メグミ",
        "田",
        "花子",
        "0355550101",
        "zzz",
        "ダ タ",
    ];
    for q in queries {
        let want = keys_containing(&app, q).await;
        assert_eq!(patient_ids(&app, q).await, want, "query {q:?}");
    }
    assert_eq!(
        keys_containing(&app, "山田").await.len(),
        2,
        "山田 花子 (LINE) too"
    );
    assert_eq!(keys_containing(&app, "09012345678").await.len(), 1);

    let taro = patient_ids(&app, "タロウ")
        .await
        .into_iter()
        .next()
        .unwrap();
    let res = app
        .request(
            axum::http::Method::DELETE,
            &format!("/api/v1/patients/{taro}"),
        )
        .bearer(app.api_token())
        .json(&json!({ "reason": "ご本人の申出" }))
        .send()
        .await;
    assert!(res.status.is_success(), "{}", res.text());
    assert!(patient_ids(&app, "タロウ").await.is_empty());
    assert_eq!(patient_ids(&app, "山田").await.len(), 1);
}
