//! The app with the sample clinic's LINE channel, patients who write through the LINE
//! emulator, the search API, and the oracle: every message's search form scanned in Rust.
#![allow(dead_code)]

use std::collections::BTreeSet;

use axum::http::StatusCode;
use serde_json::Value;
use tsunagu_channels::ChannelKind;
use tsunagu_core::text::search_form;
use tsunagu_sandbox::line::UserProfile;
use tsunagu_testkit::app::line::{ACCESS_TOKEN, PATIENT};
use tsunagu_testkit::TestApp;

pub use super::inbox_support::T0;

/// Two more friends of the sample LINE account besides 山田 花子 (`PATIENT`).
pub const SATO: &str = "U1111111111111111111111111111111a";
pub const SUZUKI: &str = "U2222222222222222222222222222222b";

pub async fn start() -> TestApp {
    let app = TestApp::builder()
        .with_channels(&[ChannelKind::Line])
        .clock_ms(T0)
        .start()
        .await;
    for (id, name) in [(SATO, "佐藤 一郎"), (SUZUKI, "ｽｽﾞｷ ｹﾝ")] {
        app.line().sandbox.add_user(
            ACCESS_TOKEN,
            UserProfile {
                user_id: id.into(),
                display_name: name.into(),
                picture_url: None,
                status_message: None,
                language: Some("ja".into()),
            },
        );
    }
    app
}

/// `user` writes `text` on LINE; LINE's id of the message.
pub async fn say(app: &TestApp, user: &str, text: &str) -> String {
    let sandbox = &app.line().sandbox;
    let ev = sandbox.user_text(user, text);
    let id = ev["message"]["id"].as_str().unwrap().to_string();
    assert_eq!(sandbox.send_event(ACCESS_TOKEN, ev).await.unwrap(), 200);
    // The profile (the patient's name) and "who answers" run as jobs, as in production.
    app.run_jobs().await;
    id
}

/// What patients and staff wrote in the oracle's clinic: half-width katakana, hiragana and
/// katakana, full-width digits, emoji, English, phone numbers, 1- and 2-char words.
pub const PATIENT_LINES: &[(&str, &str)] = &[
    (PATIENT, "昨日から熱があります。38度です"),
    (PATIENT, "発熱外来の予約をしたいです"),
    (SATO, "予約の変更をお願いします"),
    (SATO, "ﾖﾔｸ の確認です"),
    (SUZUKI, "よやく取れますか？"),
    (SUZUKI, "インフルエンザの予防接種はいつからですか"),
    (PATIENT, "予防接種の予約をお願いします🙏"),
    (SATO, "体温は３８．５度でした"),
    (SUZUKI, "Fever since yesterday, can I book an appointment?"),
    (PATIENT, "APPOINTMENT for tomorrow"),
    (SATO, "電話番号は０９０-1234-5678です"),
    (SUZUKI, "ヤマダ ハナコです"),
    (PATIENT, "やまだはなこ の母です"),
    (SATO, "熱"),
    (SUZUKI, "お大事に😀"),
    (PATIENT, "ありがとうございました"),
    (SATO, "予"),
    (SUZUKI, "<script>alert('熱')</script> & 予約"),
];

pub const QUERIES: &[&str] = &[
    "熱",
    "予約",
    "予防接種",
    "ヤマダ",
    "やまだはなこ",
    "ﾔﾏﾀﾞ",
    "よやく",
    "ヨヤク",
    "38",
    "３８",
    "appointment",
    "APPOINT",
    "090-1234",
    "😀",
    "🙏",
    "予",
    "ご",
    "度で",
    "お大事に😀",
    "not-there",
    "ン",
    "予 約",
    "<script>",
    "&",
];

/// `GET /api/v1/search` with the sample clinic's admin token.
pub async fn api(app: &TestApp, query: &[(&str, &str)]) -> (StatusCode, Value) {
    let qs = serde_urlencoded::to_string(query).unwrap();
    app.api_get(&format!("/api/v1/search?{qs}")).await
}

/// Every message id the API finds for `q`, following the cursor with small pages.
pub async fn found(app: &TestApp, q: &str) -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut query = vec![("q", q), ("limit", "3")];
        if let Some(c) = &cursor {
            query.push(("cursor", c));
        }
        let (status, body) = api(app, &query).await;
        assert_eq!(status, StatusCode::OK, "{q}: {body}");
        for m in body["messages"].as_array().unwrap() {
            assert!(ids.insert(m["message_id"].as_str().unwrap().to_string()));
        }
        match body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => return ids,
        }
    }
}

/// The oracle: the clinic's text messages whose search form contains `q`'s.
pub async fn scanned(app: &TestApp, q: &str) -> BTreeSet<String> {
    let rows: Vec<(String, Option<String>)> =
        sqlx::query_as("SELECT id, body FROM messages WHERE clinic_id = $1 AND kind = 'text'")
            .bind(app.clinic().as_str())
            .fetch_all(app.db.pool())
            .await
            .unwrap();
    let needle = search_form(q);
    rows.into_iter()
        .filter(|(_, b)| {
            b.as_deref()
                .is_some_and(|b| search_form(b).contains(&needle))
        })
        .map(|(id, _)| id)
        .collect()
}
