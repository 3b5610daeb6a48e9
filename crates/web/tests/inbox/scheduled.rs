//! 予約送信: a message written now leaves at a clinic-local time through the same checks as a
//! reply sent then; until it leaves it can be changed or cancelled; a refusal at its time stays
//! on the conversation in words.
use axum::http::StatusCode;
use tsunagu_core::Role;
use tsunagu_store::patients;

use super::support::{app, App, Conv, Seeded, Session, T0};

async fn setup(app: &App) -> (Seeded, Conv, Session) {
    let s = app.clinic("sakura", "さくら内科").await;
    // 09:41 in Tokyo: the patient asks; staff answer at 10:00.
    let c = app
        .conversation(&s, "U1", "山田 花子", "明日の持ち物を教えてください", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    (s, c, me)
}

async fn schedule(
    app: &App,
    me: &Session,
    c: &Conv,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let mut form = vec![("csrf_token", me.csrf.as_str())];
    form.extend_from_slice(fields);
    let res = app
        .post_form(&format!("/app/conversations/{}/scheduled", c.id), me, &form)
        .await;
    (res.status, res.text)
}

/// (id, state, body, refusal code, message id) of the conversation's scheduled messages.
async fn rows(
    app: &App,
    c: &Conv,
) -> Vec<(String, String, String, Option<String>, Option<String>)> {
    sqlx::query_as(
        "SELECT id, state, body, refusal_code, message_id FROM scheduled_messages WHERE conversation_id = $1 ORDER BY created_at, id",
    )
    .bind(c.id.as_str())
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn sent_texts(app: &App, c: &Conv) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT body FROM messages WHERE conversation_id = $1 AND direction = 'out' ORDER BY created_at, id",
    )
    .bind(c.id.as_str())
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

fn at(app: &App, minutes_after_t0: i64) {
    app.clock.set(tsunagu_core::clock::from_ms(T0));
    app.clock
        .advance(chrono::Duration::minutes(minutes_after_t0));
}

#[tokio::test]
async fn a_reply_leaves_at_its_clinic_local_time_and_not_before() {
    let app = app().await;
    let (_s, c, me) = setup(&app).await;
    let (status, body) = schedule(
        &app,
        &me,
        &c,
        &[
            ("text", "保険証と診察券をお持ちください。"),
            ("date", "2026-11-23"),
            ("time", "10:00"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    let shown = page.text.replace("&#x2f;", "/");
    assert!(
        shown.contains("2026/11/23(月) 10:00"),
        "clinic-local time shown"
    );
    assert!(page.text.contains("予約中"));

    app.run_jobs().await;
    assert!(
        sent_texts(&app, &c).await.is_empty(),
        "left before its time"
    );
    at(&app, 19); // 10:00 Tokyo
    app.run_jobs().await;
    assert_eq!(
        sent_texts(&app, &c).await,
        vec!["保険証と診察券をお持ちください。"]
    );
    let r = rows(&app, &c).await;
    assert_eq!(r[0].1, "sent");
    assert!(r[0].4.is_some(), "the sent message is linked");
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert!(page.text.contains("送信済み"));
}

#[tokio::test]
async fn a_changed_time_and_text_replace_the_first_and_leave_once() {
    let app = app().await;
    let (_s, c, me) = setup(&app).await;
    let fields = [
        ("text", "最初の文"),
        ("date", "2026-11-23"),
        ("time", "10:00"),
    ];
    assert_eq!(
        schedule(&app, &me, &c, &fields).await.0,
        StatusCode::SEE_OTHER
    );
    let id = rows(&app, &c).await[0].0.clone();
    let res = app
        .post_form(
            &format!("/app/conversations/{}/scheduled/{id}", c.id),
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("text", "変更後の文"),
                ("date", "2026-11-23"),
                ("time", "11:00"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    at(&app, 19); // 10:00: the first time's job finds nothing
    app.run_jobs().await;
    assert!(sent_texts(&app, &c).await.is_empty());
    at(&app, 79); // 11:00
    app.run_jobs().await;
    app.run_jobs().await;
    assert_eq!(sent_texts(&app, &c).await, vec!["変更後の文"]);
}

#[tokio::test]
async fn a_cancelled_message_never_leaves_and_cannot_be_changed_afterwards() {
    let app = app().await;
    let (_s, c, me) = setup(&app).await;
    let fields = [
        ("text", "取り消す文"),
        ("date", "2026-11-23"),
        ("time", "10:00"),
    ];
    assert_eq!(
        schedule(&app, &me, &c, &fields).await.0,
        StatusCode::SEE_OTHER
    );
    let id = rows(&app, &c).await[0].0.clone();
    let cancel = format!("/app/conversations/{}/scheduled/{id}/cancel", c.id);
    let res = app
        .post_form(&cancel, &me, &[("csrf_token", &me.csrf)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    at(&app, 30);
    app.run_jobs().await;
    assert!(sent_texts(&app, &c).await.is_empty());
    assert_eq!(rows(&app, &c).await[0].1, "cancelled");
    let res = app
        .post_form(&cancel, &me, &[("csrf_token", &me.csrf)])
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("変更できません"), "said in words");
    let res = app
        .post_form(
            &format!("/app/conversations/{}/scheduled/{id}", c.id),
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("text", "x"),
                ("date", "2026-11-24"),
                ("time", "10:00"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(rows(&app, &c).await[0].2, "取り消す文", "nothing changed");
}

#[tokio::test]
async fn a_refusal_at_its_time_stays_on_the_conversation_in_words() {
    let app = app().await;
    let (_s, c, me) = setup(&app).await;
    let fields = [
        ("text", "明日お待ちしております。"),
        ("date", "2026-11-23"),
        ("time", "10:00"),
    ];
    assert_eq!(
        schedule(&app, &me, &c, &fields).await.0,
        StatusCode::SEE_OTHER
    );
    // The patient blocks the account before it leaves.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let ident = tsunagu_core::ChannelIdentityId::from_db(c.identity_id.clone());
    patients::set_follow_state(&mut conn, &ident, "blocked", T0 + 1)
        .await
        .unwrap();
    drop(conn);
    at(&app, 19);
    app.run_jobs().await;
    assert!(sent_texts(&app, &c).await.is_empty());
    let r = rows(&app, &c).await;
    assert_eq!(
        (r[0].1.as_str(), r[0].3.as_deref()),
        ("refused", Some("recipient_blocked"))
    );
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert!(page.text.contains("送信できませんでした"));
    assert!(
        !page.text.contains("recipient_blocked"),
        "no raw code on the page"
    );
}

#[tokio::test]
async fn a_purpose_message_without_consent_is_refused_at_its_time() {
    let app = app().await;
    let (_s, c, me) = setup(&app).await;
    let fields = [
        ("text", "明日10時のご予約です。"),
        ("date", "2026-11-24"),
        ("time", "09:00"),
        ("purpose", "reminders"),
    ];
    assert_eq!(
        schedule(&app, &me, &c, &fields).await.0,
        StatusCode::SEE_OTHER
    );
    at(&app, 24 * 60);
    app.run_jobs().await;
    let r = rows(&app, &c).await;
    assert_eq!(r[0].1, "refused");
    assert!(
        r[0].3
            .as_deref()
            .is_some_and(|code| code.starts_with("consent")),
        "{r:?}"
    );
}

#[tokio::test]
async fn a_past_or_unreadable_time_is_refused_and_nothing_is_stored() {
    let app = app().await;
    let (_s, c, me) = setup(&app).await;
    let (status, body) = schedule(
        &app,
        &me,
        &c,
        &[("text", "遅い"), ("date", "2026-11-23"), ("time", "09:00")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(body.contains("送信日時が過ぎています"), "said in words");
    assert!(body.contains("遅い"), "what was typed is kept");
    let (status, _) = schedule(
        &app,
        &me,
        &c,
        &[("text", "x"), ("date", "来週"), ("time", "10:00")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = schedule(
        &app,
        &me,
        &c,
        &[("text", "  "), ("date", "2026-11-24"), ("time", "10:00")],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = schedule(
        &app,
        &me,
        &c,
        &[
            ("text", "x"),
            ("date", "2026-11-24"),
            ("time", "10:00"),
            ("purpose", "spam"),
        ],
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(rows(&app, &c).await.is_empty());
}

#[tokio::test]
async fn another_conversations_scheduled_message_is_not_found() {
    let app = app().await;
    let (s, c, me) = setup(&app).await;
    let other = app
        .conversation(&s, "U2", "鈴木 一郎", "こんにちは", T0)
        .await;
    let fields = [("text", "文"), ("date", "2026-11-23"), ("time", "10:00")];
    assert_eq!(
        schedule(&app, &me, &c, &fields).await.0,
        StatusCode::SEE_OTHER
    );
    let id = rows(&app, &c).await[0].0.clone();
    let res = app
        .post_form(
            &format!("/app/conversations/{}/scheduled/{id}/cancel", other.id),
            &me,
            &[("csrf_token", &me.csrf)],
        )
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(rows(&app, &c).await[0].1, "scheduled");
}
