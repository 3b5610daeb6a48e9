//! What staff see when a page cannot be shown or a send is refused: whole sentences in the
//! session's language (the clinic's; the browser's before sign-in), what to do, and a way
//! back to the inbox — never an English line, a raw code or a stored English detail.
use axum::http::{Method, StatusCode};
use tsunagu_channels::ChannelKind;
use tsunagu_core::Role;
use tsunagu_store::clinics;
use tsunagu_testkit::app::line::PATIENT;
use tsunagu_testkit::TestApp;

use super::support::*;

/// The words a reader sees: the page without its tags, entities and the script's source.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    // Entities (`&#x2f;`, `&amp;`) are markup, not words.
    let mut words = String::new();
    let mut rest = out.as_str();
    while let Some(i) = rest.find('&') {
        words.push_str(&rest[..i]);
        rest = &rest[i..];
        rest = match rest.find(';') {
            Some(j) if j < 10 => &rest[j + 1..],
            _ => &rest[1..],
        };
    }
    words.push_str(rest);
    words
}

fn no_latin_words(page: &str) {
    let text = visible(page);
    assert!(
        !text.chars().any(|c| c.is_ascii_alphabetic()),
        "English on a Japanese page: {text:?}"
    );
}

#[tokio::test]
async fn a_receptionist_opening_a_manager_page_reads_why_in_japanese_with_the_way_back() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;

    let res = app.get("/app/settings/teams", &me).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(res.text.contains("<html lang=\"ja\">"), "{}", res.text);
    assert!(res.text.contains("このページを開く権限がありません。"));
    assert!(res.text.contains("管理者"));
    let t = res.text.replace("&#x2f;", "/");
    assert!(
        t.contains(r#"href="/app/inbox" data-testid="error-to-inbox">受信箱に戻る"#),
        "{t}"
    );
    assert!(t.contains("前のページに戻る"));
    no_latin_words(&res.text);

    // Not found, whether the route or the record is missing.
    for path in ["/app/no-such-page", "/app/conversations/not-an-id"] {
        let res = app.get(path, &me).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert!(
            res.text.contains("お探しのページは見つかりませんでした"),
            "{path}: {}",
            res.text
        );
        no_latin_words(&res.text);
    }
    // A refusal shown as a whole page (nothing chosen): its code's own words.
    let res = app
        .post_form(
            "/app/conversations/bulk",
            &me,
            &[("csrf_token", &me.csrf), ("action", "nonsense")],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert!(
        res.text.contains("この操作はできませんでした"),
        "{}",
        res.text
    );
    no_latin_words(&res.text);

    // Signed out, a form post: sign in again, in the browser's language.
    let res = app
        .request(Method::POST, "/app/settings/teams")
        .header("accept-language", "ja-JP,ja;q=0.9")
        .form(&[("name", "x")])
        .send()
        .await;
    assert_eq!(res.status, StatusCode::UNAUTHORIZED);
    assert!(res.text().contains("サインインが必要です"));
    assert!(res.text().contains(r#"href="/login""#) || res.text().contains("&#x2f;login"));
    no_latin_words(&res.text());

    // The API and the webhooks keep their plain answers.
    let res = app
        .request(Method::GET, "/api/v1/no-such-thing")
        .send()
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert!(!res.text().contains("error-page"));
}

#[tokio::test]
async fn an_english_clinic_reads_its_error_pages_in_english() {
    let app = app().await;
    let mut tx = app.db.begin().await.unwrap();
    let org = clinics::create_organization(tx.conn(), "Maple Health", T0)
        .await
        .unwrap();
    let clinic = clinics::create_clinic(
        tx.conn(),
        clinics::NewClinic {
            organization_id: &org,
            slug: "maple",
            name: "Maple Clinic",
            timezone: "Asia/Tokyo",
            locale: "en",
        },
        T0,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let me = app.sign_in(&clinic, Role::Receptionist, "Amy").await;
    let res = app.get("/app/settings/teams", &me).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.text.contains("<html lang=\"en\">"));
    assert!(res
        .text
        .contains("You do not have permission to open this page."));
    assert!(res.text.contains("Back to the inbox"));
    let text = visible(&res.text);
    assert!(
        !text.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c)),
        "{text}"
    );
}

#[tokio::test]
async fn a_send_the_provider_refused_reads_in_japanese_not_as_the_stored_english() {
    let app = TestApp::builder()
        .with_channels(&[ChannelKind::Line])
        .clock_ms(T0)
        .start()
        .await;
    let sandbox = &app.line().sandbox;
    let ev = sandbox.user_text(PATIENT, "明日の予約を変更できますか");
    assert_eq!(
        sandbox
            .send_event(tsunagu_testkit::app::line::ACCESS_TOKEN, ev)
            .await
            .unwrap(),
        200
    );
    app.run_jobs().await;
    let me = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 佐藤")
        .await;
    let conv: String = sqlx::query_scalar("SELECT id FROM conversations WHERE clinic_id = $1")
        .bind(app.clinic().as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    // LINE refuses the push: the send is dead with our code and LINE's English beside it.
    sandbox.fail_next("/message/push", 400, 1);
    sandbox.fail_next("/message/reply", 400, 1);
    let res = app
        .request(Method::POST, &format!("/app/conversations/{conv}/reply"))
        .session(&me)
        .form(&[
            ("csrf_token", me.csrf.as_str()),
            ("text", "はい、変更できます"),
        ])
        .send()
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text());
    app.run_jobs().await;
    let (status, code, stored): (String, Option<String>, Option<String>) = sqlx::query_as(
        "SELECT status, failure_code, failure_reason FROM messages WHERE direction = 'out'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(status, "failed");
    assert_eq!(code.as_deref(), Some("rejected_by_provider"));
    let stored = stored.expect("the worker's English is kept for the API");
    assert!(stored.chars().any(|c| c.is_ascii_alphabetic()), "{stored}");

    let page = app
        .request(Method::GET, &format!("/app/conversations/{conv}"))
        .session(&me)
        .send()
        .await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(
        html.contains("事業者が送信を受け付けませんでした。"),
        "{html}"
    );
    assert!(!html.contains(&stored), "stored English shown: {stored}");
    assert!(!html.contains("rejected_by_provider"));

    // The API still gives integrators the detail.
    let (_, body) = app
        .api_get(&format!("/api/v1/conversations/{conv}/messages"))
        .await;
    assert!(body.to_string().contains("rejected_by_provider"), "{body}");
}
