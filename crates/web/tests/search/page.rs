//! `/app/search` as reception uses it: the box in the inbox leads there, hits are marked and
//! escaped and open their conversation, the empty state says what to do, bad input is a 422
//! in words, and who may not read message text sees patients only.
use axum::http::Method;
use tsunagu_core::Role;
use tsunagu_testkit::app::line::PATIENT;

use super::support::*;

async fn page(
    app: &tsunagu_testkit::TestApp,
    s: &tsunagu_testkit::app::StaffSession,
    path: &str,
) -> (u16, String) {
    let r = app.request(Method::GET, path).session(s).send().await;
    (r.status.as_u16(), r.text())
}

#[tokio::test]
async fn the_inbox_box_leads_to_marked_escaped_hits_that_open_their_conversation() {
    let app = start().await;
    say(&app, PATIENT, "発熱外来の予約をしたいです").await;
    say(&app, SUZUKI, "<script>alert('熱')</script> & 予約").await;
    let s = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 さくら")
        .await;
    let (status, inbox) = page(&app, &s, "/app/inbox").await;
    assert_eq!(status, 200);
    assert!(
        inbox.contains("action=\"/app/search\""),
        "search box in the inbox"
    );

    let (status, html) = page(&app, &s, "/app/search?q=%E7%86%B1").await; // 熱
    assert_eq!(status, 200);
    assert_eq!(html.matches("data-testid=\"search-hit\"").count(), 2);
    assert!(
        html.contains("発<mark>熱</mark>外来の予約をしたいです"),
        "{html}"
    );
    assert!(
        html.contains(
            "&lt;script&gt;alert(&#x27;<mark>熱</mark>&#x27;)&lt;&#x2f;script&gt; &amp; 予約"
        ),
        "{html}"
    );
    assert!(!html.contains("<script>alert"));
    let (_, list) = app.api_get("/api/v1/conversations").await;
    for c in list["items"].as_array().unwrap() {
        let href = format!("/app/conversations/{}", c["id"].as_str().unwrap());
        assert!(html.replace("&#x2f;", "/").contains(&href));
    }
    assert!(html.contains("受信箱に戻る"));
    assert!(html.contains("山田 花子"), "hits name the patient");
}

#[tokio::test]
async fn the_empty_state_and_bad_input_speak_japanese() {
    let app = start().await;
    say(&app, PATIENT, "予約したいです").await;
    let s = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 さくら")
        .await;
    let (status, html) = page(&app, &s, "/app/search").await;
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"search-hint\""));
    let (status, html) = page(&app, &s, "/app/search?q=%E3%80%80").await; // an ideographic space
    assert_eq!(status, 422);
    assert!(html.contains("検索する言葉を入力してください。"), "{html}");
    let long = "%E3%81%82".repeat(101);
    let (status, html) = page(&app, &s, &format!("/app/search?q={long}")).await;
    assert_eq!(status, 422);
    assert!(html.contains("100文字以内"), "{html}");
    let (status, html) = page(&app, &s, "/app/search?q=%E5%A4%89%E6%9B%B4").await; // 変更
    assert_eq!(status, 200);
    assert!(html.contains("data-testid=\"search-empty\""));
    let (status, html) = page(&app, &s, "/app/search?q=x&status=closed").await;
    assert_eq!(status, 422);
    assert!(html.contains("絞り込みの条件（状態）"), "{html}");
}

#[tokio::test]
async fn staff_who_may_not_read_messages_see_patients_only() {
    let app = start().await;
    say(&app, PATIENT, "山田です、予約したいです").await;
    let s = app
        .staff_session(app.clinic(), Role::Broadcaster, "配信 担当")
        .await;
    let (status, html) = page(&app, &s, "/app/search?q=%E5%B1%B1%E7%94%B0").await; // 山田
    assert_eq!(status, 200);
    assert_eq!(html.matches("data-testid=\"search-hit\"").count(), 0);
    assert!(!html.contains("予約したいです"));
    assert_eq!(html.matches("data-testid=\"search-patient\"").count(), 1);
    let a = app
        .staff_session(app.clinic(), Role::Analyst, "分析 担当")
        .await;
    let (status, _) = page(&app, &a, "/app/search?q=%E5%B1%B1%E7%94%B0").await;
    assert_eq!(status, 403);
}
