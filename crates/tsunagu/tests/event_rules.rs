//! Event rules (自動ルール) end to end through the real LINE webhook, with the sandbox as the
//! patient's phone: each trigger fires (message, friend added/blocked, tagged, resolved and
//! reopened by staff, consent changed), conditions filter, rules run in order and may stop the
//! later ones, a rule that tags cannot run away, a redelivered webhook fires nothing twice, a
//! reply the consent check refuses is shown and not sent, and each firing leaves its line.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_automation::event_rules::{store, Action, Condition, Draft, Kind, MatchMode, Trigger};
use tsunagu_core::{ConversationId, ConversationStatus, PatientId};
use tsunagu_inbox::routing::{teams, AssignMode};
use tsunagu_inbox::state::{self, By, Change};
use tsunagu_privacy::audit::Actor;
use tsunagu_privacy::consent::{self, ConsentActor, NewConsent, Purpose, Source};

async fn send(app: &TestApp, event: Value) -> Value {
    assert_eq!(
        app.sandbox
            .send_event(ACCESS_TOKEN, event.clone())
            .await
            .unwrap(),
        200
    );
    app.run_jobs().await;
    event
}

fn texts(app: &TestApp) -> Vec<String> {
    app.sandbox
        .delivered_to(PATIENT)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

fn trigger(kind: Kind) -> Trigger {
    Trigger {
        kind,
        tag: None,
        purpose: None,
        granted: None,
    }
}

async fn rule(
    app: &TestApp,
    name: &str,
    trigger: Trigger,
    conditions: Vec<Condition>,
    actions: Vec<Action>,
) -> String {
    rule_stopping(app, name, trigger, conditions, actions, false).await
}

async fn rule_stopping(
    app: &TestApp,
    name: &str,
    trigger: Trigger,
    conditions: Vec<Condition>,
    actions: Vec<Action>,
    stop_later: bool,
) -> String {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let d = Draft {
        name: name.into(),
        enabled: true,
        stop_later,
        trigger,
        conditions,
        actions,
    };
    let cipher = &app.services.state.cipher;
    store::create(&mut conn, &app.clinic, cipher, d, app.now_ms())
        .await
        .unwrap()
        .unwrap()
}

fn tag(t: &str) -> Action {
    Action::Tag { tag: t.into() }
}

async fn patient(app: &TestApp) -> PatientId {
    let id: String =
        sqlx::query_scalar("SELECT patient_id FROM channel_identities WHERE external_id = $1")
            .bind(PATIENT)
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    PatientId::from_db(id)
}

async fn tags(app: &TestApp) -> Vec<String> {
    let p = patient(app).await;
    sqlx::query_scalar("SELECT tag FROM patient_tags WHERE patient_id = $1 ORDER BY tag")
        .bind(p.as_str())
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

async fn conversation(app: &TestApp) -> ConversationId {
    let id: String = sqlx::query_scalar("SELECT id FROM conversations")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    ConversationId::from_db(id)
}

/// The firing lines on the conversation, oldest first.
async fn lines(app: &TestApp) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT body FROM messages WHERE direction = 'system' AND payload LIKE '%\"event_rule\"%' ORDER BY created_at, id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap()
}

async fn staff_tags(app: &TestApp, t: &str) {
    let p = patient(app).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let c = tsunagu_contacts::input::Changes {
        tags: Some(vec![t.into()]),
        tags_add_only: true,
        ..Default::default()
    };
    tsunagu_contacts::patients::apply(&mut conn, &app.clinic, &p, &c, app.now_ms())
        .await
        .unwrap();
    drop(conn);
    app.run_jobs().await;
}

async fn set_status(app: &TestApp, status: ConversationStatus) {
    let conv = conversation(app).await;
    let actor = Actor::System;
    let by = By {
        actor: &actor,
        staff_id: None,
        ip: None,
    };
    let change = Change::Status(status, None);
    assert!(
        state::change(&app.db, &app.clinic, &conv, change, by, app.now_ms())
            .await
            .unwrap()
    );
    app.run_jobs().await;
}

#[tokio::test]
async fn a_message_rule_replies_once_even_when_the_webhook_is_redelivered() {
    let app = spawn_app().await;
    let when = vec![Condition::Text {
        mode: MatchMode::Contains,
        value: "ちゅうしゃじょう".into(),
    }];
    let reply = Action::Reply {
        text: "駐車場は裏に5台あります。".into(),
    };
    rule(
        &app,
        "駐車場の案内",
        trigger(Kind::MessageReceived),
        when,
        vec![reply, tag("駐車場")],
    )
    .await;
    send(&app, app.sandbox.user_text(PATIENT, "こんにちは")).await;
    assert!(texts(&app).is_empty(), "the condition filters");

    let event = send(&app, app.sandbox.user_text(PATIENT, "ﾁｭｳｼｬｼﾞｮｳはありますか")).await;
    assert_eq!(texts(&app), vec!["駐車場は裏に5台あります。".to_string()]);
    // An answer to the patient's message: LINE's reply (free of the monthly quota), not a push.
    assert_eq!(app.sandbox.calls_to("/v2/bot/message/reply"), 1);
    assert_eq!(app.sandbox.calls_to("/v2/bot/message/push"), 0);
    assert_eq!(tags(&app).await, vec!["駐車場".to_string()]);
    assert_eq!(
        lines(&app).await,
        vec!["自動ルール『駐車場の案内』を実行しました: 返信を送りました、タグ「駐車場」を付けました".to_string()]
    );

    assert_eq!(
        app.sandbox.redeliver(ACCESS_TOKEN, &event).await.unwrap(),
        200
    );
    app.run_jobs().await;
    // The dispatch job run again (a crash after the rule): still one firing, one answer.
    sqlx::query(
        "UPDATE outbox_jobs SET state = 'queued', run_at = $1 WHERE kind = 'inbound.dispatch'",
    )
    .bind(app.now_ms())
    .execute(app.db.pool())
    .await
    .unwrap();
    app.run_jobs().await;
    assert_eq!(texts(&app).len(), 1, "no second answer");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM event_rule_firings").await,
        1
    );
    assert_eq!(lines(&app).await.len(), 1);
}

#[tokio::test]
async fn friend_added_and_blocked_fire_their_rules() {
    let app = spawn_app().await;
    rule(
        &app,
        "友だち追加",
        trigger(Kind::FriendAdded),
        vec![],
        vec![tag("LINE友だち")],
    )
    .await;
    rule(
        &app,
        "ブロック",
        trigger(Kind::FriendBlocked),
        vec![],
        vec![tag("ブロック")],
    )
    .await;
    send(&app, app.sandbox.follow(PATIENT)).await;
    assert_eq!(tags(&app).await, vec!["LINE友だち".to_string()]);
    send(&app, app.sandbox.unfollow(PATIENT)).await;
    assert_eq!(
        tags(&app).await,
        vec!["LINE友だち".to_string(), "ブロック".to_string()]
    );
    assert_eq!(lines(&app).await.len(), 2);
}

#[tokio::test]
async fn a_fever_tag_assigns_the_nursing_team_and_raises_the_priority() {
    let app = spawn_app().await;
    let nurses = {
        let mut conn = app.db.pool().acquire().await.unwrap();
        teams::create(
            &mut conn,
            &app.clinic,
            "看護チーム",
            AssignMode::Off,
            app.now_ms(),
        )
        .await
        .unwrap()
        .unwrap()
    };
    let mut fever = trigger(Kind::PatientTagged);
    fever.tag = Some("発熱".into());
    let actions = vec![
        Action::Assign {
            team_id: nurses.clone(),
        },
        Action::Priority {
            priority: "high".into(),
        },
    ];
    rule(&app, "発熱は看護へ", fever, vec![], actions).await;
    send(&app, app.sandbox.user_text(PATIENT, "こんにちは")).await;
    staff_tags(&app, "初診").await;
    assert!(lines(&app).await.is_empty(), "another tag sets nothing off");

    staff_tags(&app, "発熱").await;
    let (team, priority): (Option<String>, i64) =
        sqlx::query_as("SELECT team_id, priority FROM conversations")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!((team.as_deref(), priority), (Some(nurses.as_str()), 1));
    assert_eq!(
        lines(&app).await,
        vec!["自動ルール『発熱は看護へ』を実行しました: 看護チームに割り当てました、優先度を「高」にしました".to_string()]
    );
}

#[tokio::test]
async fn rules_that_tag_each_other_stop_at_the_depth_bound() {
    let app = spawn_app().await;
    for (from, to) in [
        ("a", "b"),
        ("b", "c"),
        ("c", "d"),
        ("d", "e"),
        ("e", "f"),
        ("f", "a"),
    ] {
        let mut t = trigger(Kind::PatientTagged);
        t.tag = Some(from.into());
        rule(&app, &format!("{from}→{to}"), t, vec![], vec![tag(to)]).await;
    }
    // Any tag → tag 「x」: its own tag sets it off again only once (x is then there).
    rule(
        &app,
        "なんでも",
        trigger(Kind::PatientTagged),
        vec![],
        vec![tag("x")],
    )
    .await;
    send(&app, app.sandbox.user_text(PATIENT, "こんにちは")).await;
    staff_tags(&app, "a").await;
    app.run_jobs().await;
    let got = tags(&app).await;
    assert!(
        got.contains(&"e".to_string()) && !got.contains(&"f".to_string()),
        "{got:?}"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'event_rule.fire' AND state <> 'done'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn rules_run_in_order_and_one_may_stop_the_later_ones() {
    let app = spawn_app().await;
    let first = rule_stopping(
        &app,
        "一番目",
        trigger(Kind::ConversationResolved),
        vec![],
        vec![tag("一")],
        true,
    )
    .await;
    rule(
        &app,
        "二番目",
        trigger(Kind::ConversationResolved),
        vec![],
        vec![tag("二")],
    )
    .await;
    rule(
        &app,
        "再開",
        trigger(Kind::ConversationOpened),
        vec![],
        vec![tag("再開")],
    )
    .await;
    send(
        &app,
        app.sandbox.user_text(PATIENT, "ありがとうございました"),
    )
    .await;
    set_status(&app, ConversationStatus::Resolved).await;
    assert_eq!(tags(&app).await, vec!["一".to_string()]);

    // The second moved above the first: both run, the second first.
    {
        let mut conn = app.db.pool().acquire().await.unwrap();
        assert!(
            store::shift(&mut conn, &app.clinic, &first, false, app.now_ms())
                .await
                .unwrap()
        );
    }
    set_status(&app, ConversationStatus::Open).await;
    set_status(&app, ConversationStatus::Resolved).await;
    assert_eq!(
        tags(&app).await,
        vec!["一".to_string(), "二".to_string(), "再開".to_string()]
    );
    let l = lines(&app).await;
    assert!(
        l[l.len() - 2].contains("二番目") && l[l.len() - 1].contains("一番目"),
        "{l:?}"
    );
}

#[tokio::test]
async fn a_reply_the_consent_check_refuses_is_shown_and_not_sent() {
    let app = spawn_app().await;
    let mut withdrawn = trigger(Kind::ConsentChanged);
    withdrawn.purpose = Some("care".into());
    withdrawn.granted = Some(false);
    let reply = Action::Reply {
        text: "ご連絡の停止を承りました。".into(),
    };
    rule(
        &app,
        "同意撤回",
        withdrawn,
        vec![],
        vec![reply, tag("連絡不可")],
    )
    .await;
    send(&app, app.sandbox.user_text(PATIENT, "こんにちは")).await;
    let app = &app;
    let record = |granted: bool| async move {
        let p = patient(app).await;
        let mut conn = app.db.pool().acquire().await.unwrap();
        let entry = NewConsent {
            clinic: &app.clinic,
            patient: &p,
            purpose: Purpose::Care,
            channel: None,
            granted,
            source: Source::WebForm,
            wording: "診療のご連絡を受け取りますか？",
            reason: None,
            actor: ConsentActor::System,
            source_ip: None,
        };
        consent::record(&mut conn, app.db.backend(), entry, app.now_ms())
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        app.run_jobs().await;
    };
    record(true).await;
    assert!(tags(app).await.is_empty(), "a grant is not a withdrawal");

    record(false).await;
    assert_eq!(
        tags(app).await,
        vec!["連絡不可".to_string()],
        "consent changed fired"
    );
    assert!(texts(app).is_empty(), "not sent: {:?}", texts(app));
    assert_eq!(
        lines(app).await,
        vec!["自動ルール『同意撤回』を実行しました: 返信は送りませんでした（患者さんの同意がない、または届かないため）、タグ「連絡不可」を付けました".to_string()]
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_webhook_action_goes_signed_with_the_rule_s_key_once() {
    use std::sync::{Arc, Mutex};
    let app = spawn_app().await;
    let got: Arc<Mutex<Vec<(String, String)>>> = Arc::default();
    let url = {
        let got = got.clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hook = axum::Router::new().route(
            "/hook",
            axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
                let got = got.clone();
                async move {
                    let sig = headers
                        .get("x-tsunagu-signature")
                        .map(|v| v.to_str().unwrap().to_string());
                    got.lock().unwrap().push((sig.unwrap_or_default(), body));
                    axum::http::StatusCode::OK
                }
            }),
        );
        tokio::spawn(async move { axum::serve(listener, hook).await.unwrap() });
        format!("http://{addr}/hook")
    };
    let id = rule(
        &app,
        "解決を連携",
        trigger(Kind::ConversationResolved),
        vec![],
        vec![Action::Webhook { url }],
    )
    .await;
    send(
        &app,
        app.sandbox.user_text(PATIENT, "ありがとうございました"),
    )
    .await;
    set_status(&app, ConversationStatus::Resolved).await;
    app.run_jobs().await;

    let got = got.lock().unwrap().clone();
    assert_eq!(got.len(), 1, "{got:?}");
    let body: Value = serde_json::from_str(&got[0].1).unwrap();
    assert_eq!(
        (body["type"].as_str(), body["data"]["rule"]["name"].as_str()),
        (Some("event_rule.fired"), Some("解決を連携"))
    );
    assert_eq!(body["data"]["event"], "conversation_resolved");
    let secret = {
        let mut conn = app.db.pool().acquire().await.unwrap();
        store::webhook_secret(&mut conn, &app.clinic, &id)
            .await
            .unwrap()
            .unwrap()
    };
    let secret = app.services.state.cipher.decrypt(&secret).unwrap();
    let t: i64 = got[0]
        .0
        .split(',')
        .next()
        .unwrap()
        .trim_start_matches("t=")
        .parse()
        .unwrap();
    let expected = tsunagu_automation::flows::jobs::signature(&secret, t, &got[0].1);
    assert_eq!(got[0].0, expected, "signed with the rule's key");
    assert!(lines(&app).await[0].contains("Webhookを送りました"));
}
