//! The "done when": search finds exactly what a plain substring scan of every message's
//! search form finds, for 1-, 2- and longer Japanese terms, kana names, English, digits, emoji.
use serde_json::json;

use super::inbox_support::App;
use super::support::*;

#[tokio::test]
async fn search_finds_every_message_a_substring_scan_finds_and_no_other() {
    let app = start().await;
    for (user, text) in PATIENT_LINES {
        say(&app, user, text).await;
    }
    // Staff replies are found too (the reply path indexes them).
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let conv = list["items"][0]["id"].as_str().unwrap().to_string();
    for text in [
        "ご予約を承りました。明日10時にお越しください",
        "熱が続く場合はご連絡ください",
    ] {
        let (status, body) = app
            .api_post(
                &format!("/api/v1/conversations/{conv}/messages"),
                json!({ "text": text }),
            )
            .await;
        assert!(status.is_success(), "{body}");
    }
    // Another clinic's words are never found here.
    let other = App { app };
    let b = other.clinic("kaede", "かえでクリニック").await;
    other
        .conversation(
            &b,
            "Uother",
            "別院 太郎",
            "熱と予約と予防接種 ヤマダ appointment 😀",
            T0,
        )
        .await;
    let app = other.app;

    for q in QUERIES {
        let want = scanned(&app, q).await;
        let got = found(&app, q).await;
        assert_eq!(got, want, "query {q:?}");
    }
    // The oracle is not vacuous: the short terms find several lines each.
    assert!(scanned(&app, "熱").await.len() >= 5);
    assert!(scanned(&app, "予約").await.len() >= 5);
    assert_eq!(scanned(&app, "予防接種").await.len(), 2);
    assert_eq!(scanned(&app, "ヤマダ").await.len(), 2);
}

#[tokio::test]
async fn hits_come_newest_first_with_the_match_highlighted_on_the_original_text() {
    let app = start().await;
    say(&app, SATO, "ﾖﾔｸ の確認です").await;
    app.clock.advance(chrono::Duration::minutes(1));
    say(&app, SUZUKI, "明日の予約と、来週の予約").await;
    let (status, body) = api(&app, &[("q", "よやく")]).await;
    assert_eq!(status, 200);
    let hits = body["messages"].as_array().unwrap();
    assert_eq!(hits.len(), 1, "{body}");
    assert_eq!(hits[0]["snippet"], "ﾖﾔｸ の確認です");
    assert_eq!(hits[0]["highlights"], json!([[0, 3]]));
    assert_eq!(hits[0]["patient_name"], "佐藤 一郎");

    let (_, body) = api(&app, &[("q", "予約")]).await;
    let hits = body["messages"].as_array().unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0]["highlights"], json!([[3, 5], [10, 12]]));
    let (_, body) = api(&app, &[("q", "の")]).await;
    let names: Vec<&str> = body["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["patient_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["ｽｽﾞｷ ｹﾝ", "佐藤 一郎"], "newest first");
}

/// PostgreSQL looks through the newest documents first and asks its index only for what lies
/// below them: whatever the window, every page holds exactly the matches, newest first, with
/// the facets applied (on SQLite both calls take the one path).
#[tokio::test]
async fn the_newest_window_and_the_index_below_it_give_the_same_pages() {
    use tsunagu_core::text::search_form;
    use tsunagu_store::search::find::{messages_walking, Facets};
    use tsunagu_store::search::grams::Needle;
    let app = start().await;
    for (user, text) in PATIENT_LINES {
        say(&app, user, text).await;
    }
    let (_, list) = app.api_get("/api/v1/conversations").await;
    let some_channel = list["items"][0]["channel_id"].as_str().unwrap().to_string();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let clinic = app.clinic().clone();
    for q in ["熱", "予約", "よやく", "です"] {
        let needle = Needle::of(&search_form(q)).unwrap();
        for facets in [
            Facets::default(),
            Facets {
                channel_id: Some(some_channel.clone()),
                ..Facets::default()
            },
        ] {
            let all = messages_walking(&mut conn, &clinic, &needle, &facets, None, 200, 100_000)
                .await
                .unwrap();
            let all: Vec<i64> = all.iter().map(|h| h.seq).collect();
            assert!(!all.is_empty(), "{q}");
            for walk in [1, 2, 3] {
                for page in [1, 2, 50] {
                    let mut got = Vec::new();
                    let mut before = None;
                    loop {
                        let hits = messages_walking(
                            &mut conn, &clinic, &needle, &facets, before, page, walk,
                        )
                        .await
                        .unwrap();
                        got.extend(hits.iter().map(|h| h.seq));
                        if i64::try_from(hits.len()).unwrap() < page {
                            break;
                        }
                        before = hits.last().map(|h| h.seq);
                    }
                    assert_eq!(got, all, "{q} walk {walk} page {page}");
                }
            }
        }
    }
}
