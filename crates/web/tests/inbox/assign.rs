//! Assignment: 自分が担当, 担当を外す, and giving a conversation to a colleague.
use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, App, Session, T0};

async fn assignee(app: &App, conversation: &str) -> Option<String> {
    sqlx::query_scalar("SELECT assignee_id FROM conversations WHERE id = $1")
        .bind(conversation)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn assign(app: &App, me: &Session, conversation: &str, to: &str) -> super::support::Res {
    app.post_form(
        &format!("/app/conversations/{conversation}/assign"),
        me,
        &[("csrf_token", &me.csrf), ("assignee", to), ("view", "mine")],
    )
    .await
}

#[tokio::test]
async fn taking_a_conversation_moves_it_from_unassigned_to_mine_and_back() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "予約の変更", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let id = c.id.to_string();
    let page = app.get(&format!("/app/conversations/{id}"), &me).await.text;
    assert!(page.contains("未割り当て") && page.contains(r#"data-testid="assign-me""#));
    assert!(
        page.contains(r#"data-testid="assignee-select""#),
        "anyone who may reply gives conversations to colleagues"
    );
    let mut live = app.live.subscribe();

    let res = assign(&app, &me, &id, me.staff_id.as_str()).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(res.location(), format!("/app/conversations/{id}?view=mine"));
    assert_eq!(
        assignee(&app, &id).await.as_deref(),
        Some(me.staff_id.as_str())
    );
    let ev = live.try_recv().unwrap();
    assert_eq!(
        (ev.kind, ev.conversation_id.as_str()),
        ("conversation.updated", id.as_str())
    );
    let audits = app.audits("conversation.assign").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].0.as_deref(), Some(me.staff_id.as_str()));
    assert_eq!(audits[0].1, format!("[\"{id}\",\"{}\"]", me.staff_id));

    let mine = app.get("/app/inbox?view=mine", &me).await.text;
    assert!(mine.contains(&format!(r#"data-conversation-id="{id}""#)));
    assert!(mine.contains(r#"data-testid="assignee-badge""#) && mine.contains("担当: 受付 佐藤"));
    let unassigned = app.get("/app/inbox?view=unassigned", &me).await.text;
    assert!(!unassigned.contains(&format!(r#"data-conversation-id="{id}""#)));
    let page = app.get(res.location(), &me).await.text;
    assert!(page.contains(r#"data-testid="assignee-name">受付 佐藤<"#));
    assert!(
        !page.contains(r#"data-testid="assign-me""#) && page.contains(r#"data-testid="unassign""#)
    );

    let res = assign(&app, &me, &id, "").await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(assignee(&app, &id).await, None);
    assert_eq!(
        app.audits("conversation.assign").await[1].1,
        format!("[\"{id}\"]")
    );
    let unassigned = app.get("/app/inbox?view=unassigned", &me).await.text;
    assert!(unassigned.contains(&format!(r#"data-conversation-id="{id}""#)));
}

#[tokio::test]
async fn an_administrator_gives_a_conversation_to_a_colleague_of_this_clinic_only() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let other = app.clinic("momiji", "もみじ皮膚科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "予約の変更", T0)
        .await;
    let id = c.id.to_string();
    let owner = app.sign_in(&s.clinic, Role::Owner, "院長 鈴木").await;
    let nurse = app.sign_in(&s.clinic, Role::Clinician, "看護師 田中").await;
    let analyst = app.sign_in(&s.clinic, Role::Analyst, "分析 山本").await;
    let stranger = app
        .sign_in(&other.clinic, Role::Receptionist, "他院 受付")
        .await;

    let page = app
        .get(&format!("/app/conversations/{id}"), &owner)
        .await
        .text;
    assert!(page.contains(r#"data-testid="assignee-select""#));
    assert!(page.contains(&format!(
        r#"<option value="{}">看護師 田中（オフライン）</option>"#,
        nurse.staff_id
    )));
    assert!(
        !page.contains("他院 受付") && !page.contains("分析 山本"),
        "only staff here who may reply"
    );

    for who in [
        stranger.staff_id.as_str(),
        analyst.staff_id.as_str(),
        "nobody",
    ] {
        let res = assign(&app, &owner, &id, who).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{who}");
        assert_eq!(assignee(&app, &id).await, None, "{who}");
    }
    assert!(app.audits("conversation.assign").await.is_empty());

    let res = assign(&app, &owner, &id, nurse.staff_id.as_str()).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        assignee(&app, &id).await.as_deref(),
        Some(nurse.staff_id.as_str())
    );
    let theirs = app.get("/app/inbox?view=mine", &nurse).await.text;
    assert!(theirs.contains(&format!(r#"data-conversation-id="{id}""#)));
}

#[tokio::test]
async fn an_analyst_may_not_assign_and_the_form_token_is_required() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "予約の変更", T0)
        .await;
    let id = c.id.to_string();
    let analyst = app.sign_in(&s.clinic, Role::Analyst, "分析 山本").await;
    let res = assign(&app, &analyst, &id, analyst.staff_id.as_str()).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let res = app
        .post_form(
            &format!("/app/conversations/{id}/assign"),
            &me,
            &[("assignee", me.staff_id.as_str())],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let other = app.clinic("momiji", "もみじ皮膚科").await;
    let tc = app.conversation(&other, "U9", "他院 患者", "x", T0).await;
    let res = assign(&app, &me, tc.id.as_str(), me.staff_id.as_str()).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(assignee(&app, tc.id.as_str()).await, None);
    assert_eq!(assignee(&app, &id).await, None);
    assert!(app.audits("conversation.assign").await.is_empty());
}
