use axum::http::{Method, StatusCode};
use tsunagu_core::Role;

use super::support::{app, request, T0};

#[tokio::test]
async fn the_inbox_lists_a_line_conversation_with_its_text_escaped() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科クリニック").await;
    let c = app
        .conversation(
            &s,
            "U1",
            "山田 花子",
            "<script>alert(1)</script>",
            T0 - 60_000,
        )
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;

    let res = app.get("/app/inbox", &me).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let html = &res.text;
    assert!(html.contains("山田 花子"));
    assert!(
        html.contains("&lt;script&gt;alert(1)&lt;&#x2f;script&gt;")
            || html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{html}"
    );
    assert!(!html.contains("<script>alert(1)"));
    assert!(html.contains(r#"data-testid="inbox-item""#));
    assert!(html.contains(r#"data-testid="unread-badge""#));
    assert!(
        html.contains("本人未確認"),
        "a provisional patient is marked unverified"
    );
    assert!(html.contains(">LINE<"));
    assert!(html.contains("さくら内科クリニック"));
    assert!(html.contains("09:40"), "today's time in Tokyo");
    assert!(res
        .urls()
        .contains(&format!(r#"href="/app/conversations/{}?view=open""#, c.id)));

    let rows = app.audits("inbox.list").await;
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].0.as_deref(), Some(me.staff_id.as_str()));
    assert_eq!(rows[0].1, format!("[\"{}\"]", c.id));
    assert_eq!(rows[0].2.as_deref(), Some(super::support::CLIENT_IP));
}

#[tokio::test]
async fn app_goes_to_the_inbox_and_strangers_go_to_sign_in() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app.sign_in(&s.clinic, Role::Clinician, "看護師 田中").await;
    let res = app.get("/app", &me).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/app/inbox");
    let res = app
        .send(request(Method::GET, "/app/inbox", None, None))
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(res.location(), "/login");
}

#[tokio::test]
async fn an_analyst_may_not_see_the_inbox_or_a_conversation() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "熱があります", T0)
        .await;
    let analyst = app.sign_in(&s.clinic, Role::Analyst, "分析 鈴木").await;
    for path in [
        "/app/inbox".to_string(),
        "/app/inbox/fragment?view=all".to_string(),
        format!("/app/conversations/{}", c.id),
        format!("/app/conversations/{}/fragment", c.id),
        "/app/live".to_string(),
    ] {
        let res = app.get(&path, &analyst).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN, "{path}");
        assert!(
            !res.text.contains("熱があります") && !res.text.contains("山田"),
            "{path}"
        );
    }
    assert!(app.audits("inbox.list").await.is_empty());
    assert!(app.audits("conversation.read").await.is_empty());
}

#[tokio::test]
async fn a_broadcaster_sees_who_wrote_but_not_what() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    app.conversation(&s, "U1", "山田 花子", "薬の副作用について", T0)
        .await;
    let b = app.sign_in(&s.clinic, Role::Broadcaster, "広報 高橋").await;
    let res = app.get("/app/inbox", &b).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text.contains("山田 花子"));
    assert!(!res.text.contains("薬の副作用"));
    assert!(
        !res.urls().contains("/app/conversations/"),
        "no links to bodies they may not read"
    );
}

#[tokio::test]
async fn tabs_count_and_default_to_open_work_urgent_first() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let a = app
        .conversation(&s, "U1", "山田 花子", "予約の変更", T0 - 1000)
        .await;
    let b = app
        .conversation(&s, "U2", "佐々木 一郎", "駐車場は", T0)
        .await;

    let html = app.get("/app/inbox", &me).await.text;
    assert!(
        html.contains(r#"data-testid="inbox-tab-open" aria-current="page""#),
        "{html}"
    );
    assert_eq!(html.matches(r#"data-testid="inbox-item""#).count(), 2);
    let newest = html.find("佐々木 一郎").unwrap();
    assert!(
        newest < html.find("山田 花子").unwrap(),
        "newest first among equals"
    );

    sqlx::query("UPDATE conversations SET assignee_id = $1")
        .bind(me.staff_id.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    let mine = app.get("/app/inbox?view=mine", &me).await.urls();
    assert!(mine.contains(a.id.as_str()) && mine.contains(b.id.as_str()));
    assert!(
        mine.contains(r#"<span class="tab-count">2</span>"#),
        "{mine}"
    );
    let unassigned = app.get("/app/inbox?view=unassigned", &me).await.text;
    assert!(unassigned.contains("担当者のいない対応中の会話はありません"));
    assert!(
        unassigned.contains("未割り当て<span"),
        "the tab says what it holds"
    );
}

#[tokio::test]
async fn older_conversations_are_a_page_away() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let first = app
        .conversation(&s, "U0", "最初の患者", "こんにちは", T0 - 100_000)
        .await;
    for i in 1..=50 {
        app.conversation(
            &s,
            &format!("U{i}"),
            &format!("患者 {i}"),
            "はい",
            T0 - 100_000 + i * 10,
        )
        .await;
    }
    let html = app.get("/app/inbox?view=all", &me).await.urls();
    assert_eq!(html.matches(r#"data-testid="inbox-item""#).count(), 50);
    assert!(!html.contains(first.id.as_str()));
    let start = html
        .find("/app/inbox?view=all&before=")
        .expect("an older link");
    let href = html[start..].split('"').next().unwrap();
    let older = app.get(href, &me).await.text;
    assert!(older.contains(first.id.as_str()));
    assert_eq!(older.matches(r#"data-testid="inbox-item""#).count(), 1);
}
