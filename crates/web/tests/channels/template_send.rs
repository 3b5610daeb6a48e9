//! Sending an approved WhatsApp template from a conversation (page and API), and the service
//! window that makes it necessary.
use axum::http::{Method, StatusCode};
use serde_json::json;
use tsunagu_core::{Role, TokenScope};

use super::seed::{approved_template, send_jobs, whatsapp_channel, HOUR_MS};
use super::{api_support, ui_support};

const BODY: &str = "{{1}}様、{{2}}にご予約があります。";

fn hours(h: i64) -> chrono::Duration {
    chrono::Duration::milliseconds(h * HOUR_MS)
}

#[tokio::test]
async fn inside_the_window_the_hours_left_are_shown() {
    let app = ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let wa = ui_support::Seeded {
        channel: whatsapp_channel(&app.db, &s.clinic).await,
        clinic: s.clinic.clone(),
    };
    let c = app
        .conversation(
            &wa,
            "819012345678",
            "山田 花子",
            "予約できますか",
            app.now(),
        )
        .await;
    // Sessions idle out: sign in once the time has passed.
    app.clock
        .advance(chrono::Duration::milliseconds(HOUR_MS * 3 / 2));
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("data-testid=\"service-window\" data-open=\"true\""),
        "{}",
        page.text
    );
    assert!(
        page.text.contains("24時間以内の返信期間: あと 23 時間"),
        "{}",
        page.text
    );
    assert!(page.text.contains("data-testid=\"no-templates\""));
}

#[tokio::test]
async fn outside_the_window_a_text_is_refused_and_a_template_is_queued_with_its_payload() {
    let app = ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let wa = ui_support::Seeded {
        channel: whatsapp_channel(&app.db, &s.clinic).await,
        clinic: s.clinic.clone(),
    };
    let t = approved_template(&app.db, &s.clinic, &wa.channel, "reminder", BODY).await;
    let c = app
        .conversation(
            &wa,
            "819012345678",
            "山田 花子",
            "予約できますか",
            app.now(),
        )
        .await;
    app.clock.advance(hours(25));
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let conv = format!("/app/conversations/{}", c.id);

    let page = app.get(&conv, &me).await.text;
    assert!(page.contains("返信期間外: 承認済みテンプレートのみ送信できます"));
    assert!(page.contains(&format!("data-template-id=\"{t}\"")));

    let text = app
        .post_form(
            &format!("{conv}/reply"),
            &me,
            &[("csrf_token", &me.csrf), ("text", "明日お待ちしています")],
        )
        .await;
    assert_eq!(text.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(text.text.contains("24時間を過ぎています"), "{}", text.text);
    assert!(send_jobs(&app.db).await.is_empty());

    let short = app
        .post_form(
            &format!("{conv}/template"),
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("template_id", &t),
                ("param", "山田"),
            ],
        )
        .await;
    assert_eq!(short.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(short.text.contains("このテンプレートは送信できません"));

    let res = app
        .post_form(
            &format!("{conv}/template"),
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("template_id", &t),
                ("param", "山田"),
                ("param", "3月1日 10:00"),
                ("view", "all"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(res.location(), format!("{conv}?view=all"));
    let jobs = send_jobs(&app.db).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0]["messages"][0],
        json!({"type": "template", "name": "reminder", "language": "ja", "params": ["山田", "3月1日 10:00"]})
    );
    assert_eq!(jobs[0]["channel_kind"], "whatsapp");
    assert_eq!(app.audits("message.template").await.len(), 1);
    let shown = app.get(&conv, &me).await.text;
    assert!(shown.contains("data-testid=\"template-badge\""));
    assert!(shown.contains("山田様、3月1日 10:00にご予約があります。"));
    assert!(shown.contains("data-status=\"queued\""));

    let csrf = app
        .post_form(
            &format!("{conv}/template"),
            &me,
            &[("template_id", &t), ("param", "a"), ("param", "b")],
        )
        .await;
    assert_eq!(csrf.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_delivered_reply_says_so() {
    let app = ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let wa = ui_support::Seeded {
        channel: whatsapp_channel(&app.db, &s.clinic).await,
        clinic: s.clinic.clone(),
    };
    let c = app
        .conversation(&wa, "819012345678", "山田 花子", "こんにちは", app.now())
        .await;
    let m = app
        .message(&wa, &c, "out", "text", Some("どうぞ"), "{}", app.now())
        .await;
    sqlx::query("UPDATE messages SET status = 'delivered' WHERE id = $1")
        .bind(m.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert!(page.text.contains("data-status=\"delivered\"") && page.text.contains("配達済み"));
}

#[tokio::test]
async fn the_api_sends_a_template_once_per_idempotency_key_and_refuses_text_outside_the_window() {
    let app = api_support::app().await;
    let s = app.clinic("sakura").await;
    let wa = api_support::Seeded {
        channel: whatsapp_channel(&app.db, &s.clinic).await,
        clinic: s.clinic.clone(),
    };
    let t = approved_template(&app.db, &s.clinic, &wa.channel, "reminder", BODY).await;
    let c = app
        .conversation(&wa, "819012345678", "予約できますか", api_support::T0)
        .await;
    let token = app.token(&s.clinic, &[TokenScope::Reply]).await;
    app.clock.advance(hours(25));

    let res = app.reply(&c.id, &token, "明日お待ちしています", None).await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "outside_service_window")
    );

    let path = format!("/api/v1/conversations/{}/messages", c.id);
    let body = json!({"template": {"id": t, "params": ["山田", "3月1日 10:00"]}});
    let key = [("idempotency-key", "tmpl-1")];
    let first = app
        .call(Method::POST, &path, Some(&token), Some(&body), &key)
        .await;
    assert_eq!(first.status, StatusCode::CREATED, "{}", first.body);
    assert_eq!(first.body["kind"], "template");
    assert_eq!(
        first.body["text"],
        "山田様、3月1日 10:00にご予約があります。"
    );
    let again = app
        .call(Method::POST, &path, Some(&token), Some(&body), &key)
        .await;
    assert_eq!(again.status, StatusCode::CREATED);
    assert_eq!(again.headers["idempotent-replayed"], "true");
    let jobs = send_jobs(&app.db).await;
    assert_eq!(jobs.len(), 1);
    assert_eq!(
        jobs[0]["messages"][0]["params"],
        json!(["山田", "3月1日 10:00"])
    );

    let bad = json!({"template": {"id": t, "params": ["山田"]}});
    let res = app
        .call(Method::POST, &path, Some(&token), Some(&bad), &[])
        .await;
    assert_eq!(res.code(), "template_invalid");
    let both = json!({"text": "x", "template": {"id": t, "params": []}});
    let res = app
        .call(Method::POST, &path, Some(&token), Some(&both), &[])
        .await;
    assert_eq!(res.code(), "invalid_request");
    let unknown = json!({"template": {"id": "00000000-0000-7000-8000-000000000000", "params": []}});
    let res = app
        .call(Method::POST, &path, Some(&token), Some(&unknown), &[])
        .await;
    assert_eq!(res.code(), "template_invalid");
    assert_eq!(send_jobs(&app.db).await.len(), 1);
}

#[tokio::test]
async fn a_closed_messenger_window_says_staff_may_still_answer_and_offers_no_templates() {
    let app = ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let mut tx = app.db.begin().await.unwrap();
    let fb = tsunagu_store::channels::create(
        tx.conn(),
        tsunagu_store::channels::NewChannel {
            clinic_id: &s.clinic,
            kind: "messenger",
            name: "Facebook ページ",
            credentials_enc: "v1:seed",
            api_base_url: "http://127.0.0.1:1",
            api_data_base_url: None,
            settings: r#"{"pages":[{"page_id":"1234567890","name":null}]}"#,
        },
        1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let fb = ui_support::Seeded {
        channel: fb,
        clinic: s.clinic.clone(),
    };
    let c = app
        .conversation(
            &fb,
            "6004418196305742",
            "山田 花子",
            "予約できますか",
            app.now(),
        )
        .await;
    app.clock.advance(hours(25));
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let page = app.get(&format!("/app/conversations/{}", c.id), &me).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.text
            .contains("data-testid=\"service-window\" data-open=\"false\""),
        "{}",
        page.text
    );
    assert!(
        page.text.contains(
            "返信期間外: スタッフの返信は患者さんの最後のメッセージから7日間まで送れます"
        ),
        "{}",
        page.text
    );
    assert!(!page.text.contains("data-testid=\"no-templates\""));
}
