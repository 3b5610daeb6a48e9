//! Bulk actions from the list: several conversations resolved, assigned, labelled or snoozed in
//! one post, one audit entry and live event each; a foreign id anywhere is 404 and changes none.
use axum::http::StatusCode;
use tsunagu_core::Role;
use tsunagu_store::labels;

use super::support::{app, App, Res, Session, T0};

async fn bulk(app: &App, me: &Session, ids: &[&str], fields: &[(&str, &str)]) -> Res {
    let mut f = vec![("csrf_token", me.csrf.as_str()), ("view", "open")];
    f.extend(ids.iter().map(|id| ("ids", *id)));
    f.extend_from_slice(fields);
    app.post_form("/app/conversations/bulk", me, &f).await
}

async fn column(app: &App, col: &str, id: &str) -> Option<String> {
    sqlx::query_scalar(&format!(
        "SELECT CAST({col} AS TEXT) FROM conversations WHERE id = $1"
    ))
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

#[tokio::test]
async fn checked_conversations_change_together_each_audited_and_published() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let nurse = app.sign_in(&s.clinic, Role::Clinician, "看護師 鈴木").await;
    let a = app
        .conversation(&s, "U1", "患者 一", "予約", T0)
        .await
        .id
        .to_string();
    let b = app
        .conversation(&s, "U2", "患者 二", "薬", T0)
        .await
        .id
        .to_string();
    let c = app
        .conversation(&s, "U3", "患者 三", "駐車場", T0)
        .await
        .id
        .to_string();
    // The list offers the bar and a checkbox per row to whoever may change conversations.
    let page = app.get("/app/inbox?view=open", &me).await.text;
    assert!(page.contains(r#"data-testid="bulk-bar""#), "{page}");
    assert!(
        page.contains(&format!(r#"name="ids" value="{a}""#)),
        "{page}"
    );
    // A broadcaster reads the list but may not change conversations: no bar, and refused.
    let sender = app.sign_in(&s.clinic, Role::Broadcaster, "配信 担当").await;
    let page = app.get("/app/inbox?view=open", &sender).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page
        .text
        .contains(&format!(r#"data-conversation-id="{a}""#)));
    assert!(!page.text.contains(r#"data-testid="bulk-bar""#));
    let r = bulk(&app, &sender, &[&a], &[("action", "resolve")]).await;
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    let mut live = app.live.subscribe();

    let r = bulk(&app, &me, &[&a, &b], &[("action", "resolve")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(r.location(), "/app/inbox?view=open");
    assert_eq!(
        column(&app, "status", &a).await.as_deref(),
        Some("resolved")
    );
    assert_eq!(
        column(&app, "status", &b).await.as_deref(),
        Some("resolved")
    );
    assert_eq!(column(&app, "status", &c).await.as_deref(), Some("open"));
    assert_eq!(app.audits("conversation.status").await.len(), 2);
    let mut seen = [live.try_recv().unwrap(), live.try_recv().unwrap()];
    seen.sort_by(|x, y| x.conversation_id.cmp(&y.conversation_id));
    let mut want = vec![a.clone(), b.clone()];
    want.sort();
    assert_eq!(
        seen.iter()
            .map(|e| e.conversation_id.clone())
            .collect::<Vec<_>>(),
        want
    );

    let who = nurse.staff_id.to_string();
    let r = bulk(
        &app,
        &me,
        &[&b, &c],
        &[("action", "assign"), ("assignee", &who)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(column(&app, "assignee_id", &b).await, Some(who.clone()));
    assert_eq!(column(&app, "assignee_id", &c).await, Some(who.clone()));
    assert_eq!(app.audits("conversation.assign").await.len(), 2);

    // The button pressed without choosing anyone changes nothing; unassigning is a choice.
    let r = bulk(&app, &me, &[&b], &[("action", "assign"), ("assignee", "")]).await;
    assert_eq!(r.status, StatusCode::BAD_REQUEST, "{}", r.text);
    assert_eq!(column(&app, "assignee_id", &b).await, Some(who.clone()));
    let r = bulk(
        &app,
        &me,
        &[&b],
        &[("action", "assign"), ("assignee", "none")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(column(&app, "assignee_id", &b).await, None);

    let label = {
        let mut conn = app.db.pool().acquire().await.unwrap();
        labels::create(&mut conn, &s.clinic, "請求", "blue", T0)
            .await
            .unwrap()
            .unwrap()
    };
    let r = bulk(
        &app,
        &me,
        &[&a, &c],
        &[("action", "label"), ("label", &label.id)],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(app.audits("conversation.label_add").await.len(), 2);

    let r = bulk(&app, &me, &[&c], &[("action", "snooze")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(column(&app, "status", &c).await.as_deref(), Some("snoozed"));
    let until: Option<i64> =
        sqlx::query_scalar("SELECT snoozed_until FROM conversations WHERE id = $1")
            .bind(&c)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(until, Some(app.now() + 3_600_000));
}

#[tokio::test]
async fn a_foreign_id_among_them_is_404_and_nothing_changes() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let other = app.clinic("momiji", "もみじ皮膚科").await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let mine = app
        .conversation(&s, "U1", "患者 一", "予約", T0)
        .await
        .id
        .to_string();
    let theirs = app
        .conversation(&other, "U9", "他院 患者", "こんにちは", T0)
        .await
        .id
        .to_string();
    let their_staff = app
        .sign_in(&other.clinic, Role::Receptionist, "受付 田中")
        .await;

    let r = bulk(&app, &me, &[&mine, &theirs], &[("action", "resolve")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(column(&app, "status", &mine).await.as_deref(), Some("open"));
    assert_eq!(
        column(&app, "status", &theirs).await.as_deref(),
        Some("open")
    );
    assert!(app.audits("conversation.status").await.is_empty());

    // Another clinic's staff member as assignee: the same, all or nothing.
    let them = their_staff.staff_id.to_string();
    let r = bulk(
        &app,
        &me,
        &[&mine],
        &[("action", "assign"), ("assignee", &them)],
    )
    .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(column(&app, "assignee_id", &mine).await, None);
    assert!(app.audits("conversation.assign").await.is_empty());

    // A malformed id, no ids, an unknown action, no token: refused, nothing written.
    let r = bulk(&app, &me, &["x' OR 1=1"], &[("action", "resolve")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    let r = bulk(&app, &me, &[], &[("action", "resolve")]).await;
    assert!(r.status.is_client_error());
    let r = bulk(&app, &me, &[&mine], &[("action", "delete")]).await;
    assert!(r.status.is_client_error());
    let r = app
        .post_form(
            "/app/conversations/bulk",
            &me,
            &[("ids", mine.as_str()), ("action", "resolve")],
        )
        .await;
    assert!(r.status.is_client_error());
    assert_eq!(column(&app, "status", &mine).await.as_deref(), Some("open"));
    assert!(app.audits("conversation.status").await.is_empty());
}
