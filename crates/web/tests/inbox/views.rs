//! The list's facets, saved views per person, labels on the settings page and on a
//! conversation, and priority through the page.
use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, T0};

#[tokio::test]
async fn a_saved_view_is_its_owners_alone() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let colleague = app.sign_in(&s.clinic, Role::Receptionist, "佐藤").await;
    let r = app
        .post_form(
            "/app/inbox/views",
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("name", "緊急の保留"),
                ("query", "view=pending&priority=urgent&junk=1"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert_eq!(
        r.location(),
        "/app/inbox?view=pending&priority=urgent",
        "only the filter is kept"
    );
    let mine = app.get("/app/inbox", &me).await.urls();
    assert!(
        mine.contains(
            r#"href="/app/inbox?view=pending&priority=urgent" data-testid="saved-view">緊急の保留"#
        ),
        "{mine}"
    );
    let theirs = app.get("/app/inbox", &colleague).await.text;
    assert!(
        !theirs.contains("緊急の保留"),
        "another person does not see it"
    );

    let id: String = sqlx::query_scalar("SELECT id FROM saved_views")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let r = app
        .post_form(
            &format!("/app/inbox/views/{id}/delete"),
            &colleague,
            &[("csrf_token", &colleague.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "nor delete it");
    let r = app
        .post_form(
            &format!("/app/inbox/views/{id}/rename"),
            &colleague,
            &[("csrf_token", &colleague.csrf), ("name", "x")],
        )
        .await;
    assert_eq!(r.status, StatusCode::NOT_FOUND, "nor rename it");
    let r = app
        .post_form(
            &format!("/app/inbox/views/{id}/rename"),
            &me,
            &[("csrf_token", &me.csrf), ("name", "至急")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert!(app.get("/app/inbox", &me).await.text.contains("至急"));
    let r = app
        .post_form(
            &format!("/app/inbox/views/{id}/delete"),
            &me,
            &[("csrf_token", &me.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM saved_views WHERE id = $1",
            &id
        )
        .await,
        0
    );
}

#[tokio::test]
async fn labels_are_made_in_settings_put_on_a_conversation_and_filter_the_list() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let owner = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let a = app
        .conversation(&s, "U1", "患者 一", "請求書について", T0 - 10)
        .await;
    let b = app.conversation(&s, "U2", "患者 二", "予約", T0).await;
    let r = app
        .post_form(
            "/app/settings/labels",
            &owner,
            &[
                ("csrf_token", &owner.csrf),
                ("name", "請求"),
                ("color", "blue"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    let r = app
        .post_form(
            "/app/settings/labels",
            &owner,
            &[
                ("csrf_token", &owner.csrf),
                ("name", "請求"),
                ("color", "blue"),
            ],
        )
        .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY, "one name once");
    let r = app
        .post_form(
            "/app/settings/labels",
            &me,
            &[("csrf_token", &me.csrf), ("name", "x"), ("color", "red")],
        )
        .await;
    assert_eq!(
        r.status,
        StatusCode::FORBIDDEN,
        "administrators manage labels"
    );
    let label: String = sqlx::query_scalar("SELECT id FROM labels WHERE name = '請求'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let path = format!("/app/conversations/{}/labels", a.id);
    let r = app
        .post_form(
            &path,
            &me,
            &[("csrf_token", &me.csrf), ("label", &label), ("op", "add")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(app.audits("conversation.label_add").await.len(), 1);
    let page = app
        .get(&format!("/app/conversations/{}", a.id), &me)
        .await
        .text;
    assert!(page.contains(r#"data-testid="conv-label">請求"#), "{page}");

    let filtered = app
        .get(&format!("/app/inbox?view=open&label={label}"), &me)
        .await
        .text;
    assert!(filtered.contains(a.id.as_str()) && !filtered.contains(b.id.as_str()));

    // Urgent first on the default view, whatever the time.
    let r = app
        .post_form(
            &format!("/app/conversations/{}/priority", a.id),
            &me,
            &[("csrf_token", &me.csrf), ("priority", "urgent")],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let list = app.get("/app/inbox", &me).await.text;
    assert!(
        list.find(a.id.as_str()).unwrap() < list.find(b.id.as_str()).unwrap(),
        "urgent first"
    );
    assert!(list.contains(r#"data-testid="priority-badge">緊急"#));
    assert!(
        list.contains(r#"data-testid="inbox-tab-open" aria-current="page">"#)
            && list.contains(r#"<span class="tab-count">2</span><span class="tab-unread" data-testid="tab-unread" title="未読のある会話">1</span>"#),
        "two open, one unread (the other was opened): {list}"
    );
    assert!(app
        .get(&format!("/app/conversations/{}", a.id), &me)
        .await
        .text
        .contains("山田さんが優先度を「緊急」にしました"));
    let newest = app.get("/app/inbox?sort=newest", &me).await.text;
    assert!(
        newest.find(b.id.as_str()).unwrap() < newest.find(a.id.as_str()).unwrap(),
        "newest only"
    );

    let r = app
        .post_form(
            &format!("/app/settings/labels/{label}/delete"),
            &owner,
            &[("csrf_token", &owner.csrf)],
        )
        .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    assert_eq!(
        app.count(
            "SELECT CAST(COUNT(*) AS BIGINT) FROM conversation_labels WHERE label_id = $1",
            &label
        )
        .await,
        0
    );
}
