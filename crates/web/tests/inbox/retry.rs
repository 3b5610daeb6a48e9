//! 再送: a failed or in-doubt reply goes back on the queue from the conversation view.
use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, App, Conv, Seeded, Session, T0};

/// A reply queued through the page, as staff send them: its message id.
async fn reply(app: &App, me: &Session, c: &Conv, text: &str) -> String {
    let res = app
        .post_form(
            &format!("/app/conversations/{}/reply", c.id),
            me,
            &[("csrf_token", &me.csrf), ("text", text)],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    sqlx::query_scalar(
        "SELECT id FROM messages WHERE conversation_id = $1 AND direction = 'out' ORDER BY created_at DESC, id DESC",
    )
    .bind(c.id.as_str())
    .fetch_one(app.db.pool())
    .await
    .unwrap()
}

/// What the worker leaves behind when it gives up: the job `job_state`, the message `status`
/// with its code and the worker's English `reason`.
async fn give_up(app: &App, message: &str, job_state: &str, status: &str, reason: &str) {
    let code = if status == "in_doubt" {
        "in_doubt"
    } else {
        "rejected_by_provider"
    };
    sqlx::query(
        "UPDATE outbox_jobs SET state = $1, attempts = 5, last_error = $2 WHERE idempotency_key = $3",
    )
    .bind(job_state)
    .bind(reason)
    .bind(format!("send:{message}"))
    .execute(app.db.pool())
    .await
    .unwrap();
    sqlx::query(
        "UPDATE messages SET status = $1, failure_code = $2, failure_reason = $3 WHERE id = $4",
    )
    .bind(status)
    .bind(code)
    .bind(reason)
    .bind(message)
    .execute(app.db.pool())
    .await
    .unwrap();
}

async fn job_state(app: &App, message: &str) -> (String, i64) {
    sqlx::query_as("SELECT state, attempts FROM outbox_jobs WHERE idempotency_key = $1")
        .bind(format!("send:{message}"))
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn message_status(app: &App, message: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, failure_reason FROM messages WHERE id = $1")
        .bind(message)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn setup(app: &App) -> (Seeded, Conv, Session) {
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "駐車場はありますか", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    (s, c, me)
}

#[tokio::test]
async fn a_dead_reply_is_queued_again_and_shows_as_waiting() {
    let app = app().await;
    let (_s, c, me) = setup(&app).await;
    let msg = reply(&app, &me, &c, "裏手に3台ございます。").await;
    give_up(&app, &msg, "dead", "failed", "LINE answered 400").await;
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    // In the staff's words; the worker's English stays in the API.
    assert!(
        page.text.contains("事業者が送信を受け付けませんでした。") && page.text.contains("失敗")
    );
    assert!(!page.text.contains("LINE answered 400"));
    let mut live = app.live.subscribe();

    let res = app
        .post_form(
            &format!("/app/messages/{msg}/retry"),
            &me,
            &[("csrf_token", &me.csrf), ("view", "all")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        res.location(),
        format!("/app/conversations/{}?view=all", c.id)
    );
    assert_eq!(job_state(&app, &msg).await, ("queued".into(), 0));
    assert_eq!(message_status(&app, &msg).await, ("queued".into(), None));
    let audits = app.audits("message.retry").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].0.as_deref(), Some(me.staff_id.as_str()));
    assert_eq!(audits[0].1, format!("[\"{msg}\",\"{}\"]", c.id));
    let ev = live.try_recv().unwrap();
    assert_eq!(
        (ev.kind, ev.conversation_id.as_str()),
        ("message.updated", c.id.as_str())
    );

    let page = app.get(res.location(), &me).await.text;
    assert!(page.contains("送信待ち"));
    assert!(!page.contains("/retry\""), "no retry button any more");
    assert!(!page.contains("LINE が 400 を返しました"));
}

#[tokio::test]
async fn a_sent_or_inbound_message_cannot_be_retried_and_the_page_says_so() {
    let app = app().await;
    let (s, c, me) = setup(&app).await;
    let msg = reply(&app, &me, &c, "承知しました。").await;
    sqlx::query("UPDATE outbox_jobs SET state = 'done' WHERE idempotency_key = $1")
        .bind(format!("send:{msg}"))
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("UPDATE messages SET status = 'sent' WHERE id = $1")
        .bind(&msg)
        .execute(app.db.pool())
        .await
        .unwrap();
    let inbound = app
        .message(&s, &c, "in", "text", Some("ありがとう"), "{}", T0 + 1)
        .await;
    for id in [msg.clone(), inbound.to_string()] {
        let res = app
            .post_form(
                &format!("/app/messages/{id}/retry"),
                &me,
                &[("csrf_token", &me.csrf)],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{id}");
        assert!(res.text.contains("このメッセージは再送できません"), "{id}");
        assert!(res.text.contains(r#"data-testid="conversation-view""#));
    }
    assert_eq!(job_state(&app, &msg).await.0, "done");
    assert_eq!(message_status(&app, &msg).await.0, "sent");
    assert!(app.audits("message.retry").await.is_empty());
}

#[tokio::test]
async fn an_in_doubt_reply_is_resent_only_after_a_confirmed_second_submit() {
    let app = app().await;
    let (_s, c, me) = setup(&app).await;
    let msg = reply(&app, &me, &c, "明日10時でお待ちしております。").await;
    let reason = "no answer from LINE within the retry window";
    give_up(&app, &msg, "in_doubt", "in_doubt", reason).await;
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    let html = &page.text;
    assert!(html.contains("送達不明") && html.contains("事業者に届いたかどうか分かりません。"));
    assert!(!html.contains(reason));
    assert!(html.contains(r#"data-testid="in-doubt-warning""#) && html.contains("二重に届く"));
    assert!(html.contains("確認して再送"));

    let path = format!("/app/messages/{msg}/retry");
    let ask = app
        .post_form(&path, &me, &[("csrf_token", &me.csrf), ("view", "all")])
        .await;
    assert_eq!(ask.status, StatusCode::OK, "{}", ask.text);
    assert!(ask.text.contains(r#"data-testid="retry-confirm""#));
    assert!(ask.text.contains(r#"name="confirm" value="1""#));
    assert!(ask.text.contains("明日10時でお待ちしております。"));
    assert_eq!(job_state(&app, &msg).await.0, "in_doubt", "not yet");
    assert!(app.audits("message.retry").await.is_empty());

    let res = app
        .post_form(
            &path,
            &me,
            &[("csrf_token", &me.csrf), ("confirm", "1"), ("view", "all")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(job_state(&app, &msg).await, ("queued".into(), 0));
    assert_eq!(message_status(&app, &msg).await.0, "queued");
    assert_eq!(app.audits("message.retry").await.len(), 1);
}

#[tokio::test]
async fn another_clinics_message_is_not_found_and_the_form_token_is_required() {
    let app = app().await;
    let (s, c, me) = setup(&app).await;
    let theirs = app.clinic("momiji", "もみじ皮膚科").await;
    let tc = app
        .conversation(&theirs, "U9", "他院 患者", "他院のメッセージ", T0)
        .await;
    let them = app
        .sign_in(&theirs.clinic, Role::Receptionist, "他院 受付")
        .await;
    let their_msg = reply(&app, &them, &tc, "他院の返信").await;
    give_up(&app, &their_msg, "dead", "failed", "x").await;
    let mine = reply(&app, &me, &c, "こちらの返信").await;
    give_up(&app, &mine, "dead", "failed", "x").await;

    for id in [their_msg.as_str(), "not-a-uuid"] {
        let res = app
            .post_form(
                &format!("/app/messages/{id}/retry"),
                &me,
                &[("csrf_token", &me.csrf)],
            )
            .await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{id}");
        assert!(!res.text.contains("他院"));
    }
    assert_eq!(job_state(&app, &their_msg).await.0, "dead");

    let path = format!("/app/messages/{mine}/retry");
    for fields in [vec![], vec![("csrf_token", "forged")]] {
        let res = app.post_form(&path, &me, &fields).await;
        assert_eq!(res.status, StatusCode::FORBIDDEN);
    }
    let viewer = app.sign_in(&s.clinic, Role::Broadcaster, "配信 担当").await;
    let res = app
        .post_form(&path, &viewer, &[("csrf_token", &viewer.csrf)])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "no Reply permission");
    assert_eq!(job_state(&app, &mine).await.0, "dead");
    assert!(app.audits("message.retry").await.is_empty());
}
