use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::{app, T0};

#[tokio::test]
async fn a_receptionist_replies_and_exactly_one_send_job_is_queued() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "明日は何時からですか", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let mut live = app.live.subscribe();

    let path = format!("/app/conversations/{}/reply", c.id);
    let res = app
        .post_form(
            &path,
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("text", "9時からです。\nお気をつけてお越しください。"),
                ("view", "all"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        res.location(),
        format!("/app/conversations/{}?view=all", c.id)
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = $1",
            "message.send"
        )
        .await,
        1
    );
    let out = app
        .count(
            "SELECT COUNT(*) FROM messages WHERE direction = 'out' AND conversation_id = $1",
            c.id.as_str(),
        )
        .await;
    assert_eq!(out, 1);
    let ev = live.try_recv().unwrap();
    assert_eq!(
        (ev.kind, ev.conversation_id.as_str()),
        ("message.created", c.id.as_str())
    );
    let audits = app.audits("message.reply").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].0.as_deref(), Some(me.staff_id.as_str()));

    let page = app.get(res.location(), &me).await.text;
    assert!(
        page.contains("9時からです。\nお気をつけてお越しください。") && page.contains("送信待ち")
    );
    assert!(page.contains("受付 佐藤"), "the reply shows who wrote it");
}

#[tokio::test]
async fn a_reply_without_the_form_token_is_refused() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let path = format!("/app/conversations/{}/reply", c.id);
    let res = app
        .post_form(
            &path,
            &me,
            &[("csrf_token", "forged"), ("text", "こんにちは")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = $1",
            "message.send"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_refused_reply_keeps_the_typed_text_and_says_why() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let ident = tsunagu_core::ChannelIdentityId::from_db(c.identity_id.clone());
    let mut conn = app.db.pool().acquire().await.unwrap();
    tsunagu_store::patients::set_follow_state(&mut conn, &ident, "blocked", T0)
        .await
        .unwrap();
    drop(conn);
    let me = app.sign_in(&s.clinic, Role::Clinician, "看護師 田中").await;
    let path = format!("/app/conversations/{}/reply", c.id);
    let res = app
        .post_form(
            &path,
            &me,
            &[("csrf_token", &me.csrf), ("text", "検査結果 <b>正常</b>")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text.contains("ブロックされているため送信できません"),
        "{}",
        res.text
    );
    assert!(
        res.text
            .contains("検査結果 &lt;b&gt;正常&lt;&#x2f;b&gt;</textarea>"),
        "{}",
        res.text
    );
    assert!(res.text.contains("ブロック中"));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = $1",
            "message.send"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_channel_of_a_kind_this_build_does_not_know_sends_nothing() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", T0)
        .await;
    // A row written by a newer version (or by hand): its rules cannot be checked here.
    sqlx::query("UPDATE channels SET kind = 'fax' WHERE id = $1")
        .bind(s.channel.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let path = format!("/app/conversations/{}/reply", c.id);
    let form = [
        ("csrf_token", me.csrf.as_str()),
        ("text", "9時からです。"),
        ("view", "all"),
    ];
    let res = app.post_form(&path, &me, &form).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.text);
    assert!(res
        .text
        .contains("このチャネルの種類はこのバージョンでは扱えない"));
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = $1",
            "message.send"
        )
        .await,
        0
    );
}
