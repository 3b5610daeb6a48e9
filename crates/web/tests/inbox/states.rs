//! Conversation states through the pages: the buttons, a system line naming who, reopening on
//! the patient's next message from every state, a staff reply making it pending, and a snooze
//! waking at query time (fake clock) and by the `conversation.wake` job.
use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, App, Conv, Seeded, Session, T0};

async fn status(app: &App, id: &str) -> String {
    sqlx::query_scalar("SELECT status FROM conversations WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn set(app: &App, me: &Session, id: &str, fields: &[(&str, &str)]) -> super::support::Res {
    let mut f = vec![("csrf_token", me.csrf.as_str()), ("view", "open")];
    f.extend_from_slice(fields);
    app.post_form(&format!("/app/conversations/{id}/status"), me, &f)
        .await
}

async fn patient_writes(app: &App, s: &Seeded, c: &Conv) {
    app.message(s, c, "in", "text", Some("もう一度"), "{}", app.now())
        .await;
}

#[tokio::test]
async fn the_patient_writing_again_reopens_every_state() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let c = app
        .conversation(&s, "U1", "患者 一", "予約の変更", T0)
        .await;
    let id = c.id.to_string();
    let mut live = app.live.subscribe();
    for (fields, want) in [
        (vec![("status", "resolved")], "resolved"),
        (vec![("status", "pending")], "pending"),
        (vec![("status", "snoozed"), ("snooze", "hour")], "snoozed"),
    ] {
        let r = set(&app, &me, &id, &fields).await;
        assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
        assert_eq!(status(&app, &id).await, want);
        assert_eq!(live.try_recv().unwrap().kind, "conversation.updated");
        patient_writes(&app, &s, &c).await;
        assert_eq!(status(&app, &id).await, "open", "reopened from {want}");
    }
    let page = app.get(&format!("/app/conversations/{id}"), &me).await.text;
    assert!(page.contains("山田さんが解決済みにしました"), "{page}");
    assert!(page.contains("山田さんが保留にしました"));
    assert_eq!(app.audits("conversation.status").await.len(), 3);
    let snoozed_until: Option<i64> =
        sqlx::query_scalar("SELECT snoozed_until FROM conversations WHERE id = $1")
            .bind(&id)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(
        snoozed_until, None,
        "a reopened conversation is no longer snoozed"
    );
}

#[tokio::test]
async fn a_staff_reply_leaves_an_open_conversation_pending_on_the_patient() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "患者 一", "予約の変更", T0)
        .await;
    let id = c.id.to_string();
    app.message(&s, &c, "out", "text", Some("承知しました"), "{}", T0 + 1)
        .await;
    assert_eq!(status(&app, &id).await, "pending");
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let open = app.get("/app/inbox", &me).await.text;
    assert!(!open.contains(&id), "answered: not in 対応中");
    let pending = app.get("/app/inbox?view=pending", &me).await.text;
    assert!(pending.contains(&id));
    // A resolved conversation stays resolved when staff write once more.
    set(&app, &me, &id, &[("status", "resolved")]).await;
    app.message(&s, &c, "out", "text", Some("お大事に"), "{}", T0 + 2)
        .await;
    assert_eq!(status(&app, &id).await, "resolved");
}

#[tokio::test]
async fn a_snooze_counts_as_open_when_due_and_the_job_wakes_it() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let c = app
        .conversation(&s, "U1", "患者 一", "予約の変更", T0)
        .await;
    let id = c.id.to_string();
    let r = set(&app, &me, &id, &[("status", "snoozed"), ("snooze", "hour")]).await;
    assert_eq!(r.status, StatusCode::SEE_OTHER, "{}", r.text);
    assert!(!app.get("/app/inbox", &me).await.text.contains(&id));
    assert!(app
        .get("/app/inbox?view=snoozed", &me)
        .await
        .text
        .contains(&id));
    app.run_jobs().await;
    assert_eq!(
        status(&app, &id).await,
        "snoozed",
        "not due yet: the job waits"
    );

    app.clock.advance(chrono::Duration::minutes(61));
    // An hour idle ends a session: sign in again.
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田 二").await;
    assert_eq!(
        status(&app, &id).await,
        "snoozed",
        "the row still says snoozed…"
    );
    let open = app.get("/app/inbox", &me).await.text;
    assert!(
        open.contains(&id),
        "…but every query counts it as open: {open}"
    );
    assert!(!app
        .get("/app/inbox?view=snoozed", &me)
        .await
        .text
        .contains(&id));

    let mut live = app.live.subscribe();
    app.run_jobs().await;
    assert_eq!(status(&app, &id).await, "open");
    let ev = live.try_recv().unwrap();
    assert_eq!(ev.conversation_id, id);
}

#[tokio::test]
async fn a_snooze_in_the_past_is_refused_and_changes_nothing() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let c = app
        .conversation(&s, "U1", "患者 一", "予約の変更", T0)
        .await;
    let id = c.id.to_string();
    let r = set(
        &app,
        &me,
        &id,
        &[
            ("status", "snoozed"),
            ("snooze", "at"),
            ("at", "2020-01-01T09:00"),
        ],
    )
    .await;
    assert_eq!(r.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text.contains("スヌーズの終わりは今より後"));
    assert_eq!(status(&app, &id).await, "open");
    let r = set(
        &app,
        &me,
        &id,
        &[("status", "snoozed"), ("snooze", "tomorrow")],
    )
    .await;
    assert_eq!(r.status, StatusCode::SEE_OTHER);
    let until: i64 = sqlx::query_scalar("SELECT snoozed_until FROM conversations WHERE id = $1")
        .bind(&id)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    // Tomorrow 09:00 in Tokyo = 2026-11-24T00:00Z.
    assert_eq!(until, 1_795_478_400_000);
}

#[tokio::test]
async fn another_clinics_conversation_cannot_be_changed() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let other = app.clinic("ume", "うめ歯科").await;
    let me = app.sign_in(&s.clinic, Role::Receptionist, "山田").await;
    let c = app
        .conversation(&other, "U1", "患者 一", "予約の変更", T0)
        .await;
    let id = c.id.to_string();
    let r = set(&app, &me, &id, &[("status", "resolved")]).await;
    assert_eq!(r.status, StatusCode::NOT_FOUND);
    assert_eq!(status(&app, &id).await, "open");
}
