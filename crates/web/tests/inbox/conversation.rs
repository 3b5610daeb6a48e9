use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, T0};

#[tokio::test]
async fn opening_a_conversation_shows_each_kind_marks_it_read_and_audits() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(
            &s,
            "U1",
            "山田 花子",
            "明日の予約を\n変更したいです",
            T0 - 300_000,
        )
        .await;
    let img = app
        .message(
            &s,
            &c,
            "in",
            "image",
            None,
            r#"{"type":"image"}"#,
            T0 - 240_000,
        )
        .await;
    let att = app
        .attachment(&s, &img, "image/jpeg", b"\xff\xd8jpeg")
        .await;
    app.message(
        &s,
        &c,
        "in",
        "sticker",
        None,
        r#"{"type":"sticker","packageId":"446","stickerId":"1988"}"#,
        T0 - 230_000,
    )
    .await;
    let loc = r#"{"type":"location","title":"さくら内科","address":"東京都千代田区1-1","latitude":35.681236,"longitude":139.767125}"#;
    app.message(
        &s,
        &c,
        "in",
        "location",
        Some("さくら内科"),
        loc,
        T0 - 220_000,
    )
    .await;
    app.message(
        &s,
        &c,
        "in",
        "postback",
        None,
        r#"{"data":"action=reserve&slot=42"}"#,
        T0 - 210_000,
    )
    .await;
    let gone = app
        .message(
            &s,
            &c,
            "in",
            "text",
            Some("まちがえました"),
            "{}",
            T0 - 200_000,
        )
        .await;
    sqlx::query("UPDATE messages SET body = NULL, unsent_at = $1 WHERE id = $2")
        .bind(T0)
        .bind(gone.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    app.message(&s, &c, "in", "beacon", None, "{}", T0 - 190_000)
        .await;
    let failed = app
        .message(
            &s,
            &c,
            "out",
            "text",
            Some("承知しました"),
            "{}",
            T0 - 180_000,
        )
        .await;
    sqlx::query("UPDATE messages SET status = 'failed', failure_reason = 'LINE が 429 を返しました' WHERE id = $1").bind(failed.as_str()).execute(app.db.pool()).await.unwrap();
    app.message(
        &s,
        &c,
        "out",
        "text",
        Some("お待ちしております"),
        "{}",
        T0 - 170_000,
    )
    .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert!(
        app.count(
            "SELECT unread_count FROM conversations WHERE id = $1",
            c.id.as_str()
        )
        .await
            > 0
    );

    let res = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let html = &res.urls();
    assert!(html.contains(r#"data-testid="conversation-view""#));
    assert!(
        html.contains("明日の予約を\n変更したいです"),
        "newlines are kept for pre-wrap"
    );
    assert!(html.contains(&format!(r#"src="/app/attachments/{att}""#)));
    assert!(html.contains("スタンプ") && html.contains("446 / 1988"));
    assert!(html.contains("東京都千代田区1-1") && html.contains("query=35.681236,139.767125"));
    assert!(res.text.contains("action=reserve&amp;slot=42"));
    assert!(html.contains("送信取消されました") && !html.contains("まちがえました"));
    assert!(html.contains("未対応のメッセージ"));
    // The stored text stays in the API; the page says it in the staff's words.
    assert!(
        html.contains("失敗")
            && html.contains("送信できませんでした。時間をおいて再送してください。")
    );
    assert!(!html.contains("LINE が 429 を返しました"));
    assert!(html.contains(&format!(r#"action="/app/messages/{failed}/retry""#)));
    assert_eq!(
        html.matches("/retry\"").count(),
        1,
        "only the failed reply offers a retry"
    );
    assert!(html.contains("送信待ち"));
    assert!(html.contains(r#"src="https://profile.line-scdn.net/test""#));
    assert!(html.contains("よろしくお願いします") && html.contains("友だち"));
    assert_eq!(html.matches(r#"data-direction="in""#).count(), 7);
    assert_eq!(html.matches(r#"data-direction="out""#).count(), 2);
    assert!(
        html.contains(r#"data-testid="reply-text""#)
            && html.contains(r#"data-testid="reply-send""#)
    );
    let pane = &html[html.find(r#"data-testid="conversation-view""#).unwrap()..];
    assert!(
        pane.find("明日の予約を").unwrap() < pane.find("お待ちしております").unwrap(),
        "oldest first"
    );

    assert_eq!(
        app.count(
            "SELECT unread_count FROM conversations WHERE id = $1",
            c.id.as_str()
        )
        .await,
        0
    );
    let reads = app.audits("conversation.read").await;
    assert_eq!(reads.len(), 1);
    assert_eq!(reads[0].1, format!("[\"{}\",\"{}\"]", c.id, c.patient_id));
    assert!(!reads[0].1.contains("予約"), "ids only, never bodies");
}

#[tokio::test]
async fn another_clinics_conversation_and_attachment_are_not_found() {
    let app = app().await;
    let mine = app.clinic("sakura", "さくら内科").await;
    let theirs = app.clinic("momiji", "もみじ皮膚科").await;
    let c = app
        .conversation(&theirs, "U9", "他院 患者", "他院のメッセージ", T0)
        .await;
    let img = app
        .message(&theirs, &c, "in", "image", None, "{}", T0)
        .await;
    let att = app.attachment(&theirs, &img, "image/png", b"png").await;
    let me = app.sign_in(&mine.clinic, Role::Owner, "院長").await;
    for path in [
        format!("/app/conversations/{}", c.id),
        format!("/app/conversations/{}/fragment", c.id),
        format!("/app/attachments/{att}"),
        "/app/conversations/not-a-uuid".to_string(),
    ] {
        let res = app.get(&path, &me).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!res.text.contains("他院"), "{path}");
    }
    let res = app
        .post_form(
            &format!("/app/conversations/{}/reply", c.id),
            &me,
            &[("csrf_token", &me.csrf), ("text", "x")],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind <> $1", "")
            .await,
        0
    );
}

#[tokio::test]
async fn attachments_are_served_safely_and_audited() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "写真です", T0)
        .await;
    let img = app.message(&s, &c, "in", "image", None, "{}", T0).await;
    let png = app.attachment(&s, &img, "image/png", b"\x89PNG").await;
    let file = app
        .message(
            &s,
            &c,
            "in",
            "file",
            Some("問診票.svg"),
            r#"{"fileName":"問診票.svg"}"#,
            T0,
        )
        .await;
    let svg = app
        .attachment(&s, &file, "image/svg+xml", b"<svg onload=alert(1)>")
        .await;
    let me = app.sign_in(&s.clinic, Role::Clinician, "看護師 田中").await;

    let res = app.get(&format!("/app/attachments/{png}"), &me).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers["content-type"], "image/png");
    let res = app.get(&format!("/app/attachments/{svg}"), &me).await;
    assert_eq!(res.headers["content-type"], "application/octet-stream");
    let disposition = res.headers["content-disposition"].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment;") && disposition.contains("%E5%95%8F"),
        "{disposition}"
    );
    app.get(&format!("/app/attachments/{png}"), &me).await;
    assert_eq!(
        app.audits("attachment.read").await.len(),
        2,
        "a repeat within a minute is one entry"
    );

    let analyst = app.sign_in(&s.clinic, Role::Analyst, "分析").await;
    assert_eq!(
        app.get(&format!("/app/attachments/{png}"), &analyst)
            .await
            .status,
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn a_live_refresh_of_the_open_conversation_is_audited_at_most_once_a_minute() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let path = format!("/app/conversations/{}/fragment", c.id);

    let res = app.get(&path, &me).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.text.contains(r#"data-fragment-root="messages""#) && res.text.contains("こんにちは")
    );
    assert!(!res.text.contains("<html"), "a fragment, not a page");
    app.get(&path, &me).await;
    assert_eq!(app.audits("conversation.read").await.len(), 1);
    app.clock.advance(chrono::Duration::seconds(61));
    app.get(&path, &me).await;
    assert_eq!(app.audits("conversation.read").await.len(), 2);
    let other = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 伊藤")
        .await;
    app.get(&path, &other).await;
    assert_eq!(
        app.audits("conversation.read").await.len(),
        3,
        "the limit is per staff member"
    );

    let list = app.get("/app/inbox/fragment?view=all", &me).await;
    assert!(list.text.contains(r#"data-fragment-root="list""#) && list.text.contains("山田 花子"));
    app.get("/app/inbox/fragment?view=all", &me).await;
    assert_eq!(app.audits("inbox.list").await.len(), 1);
}
