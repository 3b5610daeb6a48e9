//! Event rules (自動ルール) on the settings tab: an empty state with an example, a rule made
//! with the form (when / if / then) and listed in plain Japanese, a refused form keeps what was
//! typed, moved up and down, switched off, deleted; administrators only, every change audited.
use axum::http::StatusCode;
use tsunagu_core::Role;
use tsunagu_inbox::routing::{teams, AssignMode};

use super::support::{app, App, Session};

async fn form(app: &App, s: &Session, path: &str, fields: &[(&str, &str)]) -> super::support::Res {
    let mut all = vec![("csrf_token", s.csrf.as_str())];
    all.extend_from_slice(fields);
    app.post_form(path, s, &all).await
}

async fn names(app: &App) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM event_rules ORDER BY position")
        .fetch_all(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn administrators_write_event_rules_in_japanese_on_the_settings_tab() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let admin = app.sign_in(&s.clinic, Role::Admin, "事務長 田中").await;
    let nurses = {
        let mut conn = app.db.pool().acquire().await.unwrap();
        teams::create(&mut conn, &s.clinic, "看護チーム", AssignMode::Off, 0)
            .await
            .unwrap()
            .unwrap()
    };
    let page = app.get("/app/settings/event-rules", &admin).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.text.contains(r#"data-testid="event-rules-empty""#));
    assert!(page
        .text
        .contains("『発熱』タグが付いたら看護チームに割り当て"));
    assert!(page
        .text
        .contains(r#"data-testid="settings-nav-event-rules""#));

    let form_page = app.get("/app/settings/event-rules/new", &admin).await;
    assert!(form_page.text.contains("患者さんにタグが付いたとき"));
    assert!(form_page.text.contains("看護チーム"), "teams offered");

    let team = format!("team:{nurses}");
    let mut fever = vec![
        ("name", "発熱は看護へ"),
        ("trigger", "patient_tagged"),
        ("trigger_tag", "発熱"),
        ("enabled", "1"),
        ("cond_kind_0", "time"),
        ("cond_value_0", "25:00-9:00"),
        ("act_kind_0", "assign"),
        ("act_choice_0", team.as_str()),
        ("act_kind_1", "priority"),
        ("act_choice_1", "priority:high"),
    ];
    let res = form(&app, &admin, "/app/settings/event-rules", &fever).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        res.text
            .contains("時間帯の始まりと終わりを正しく入力してください"),
        "{}",
        res.text
    );
    assert!(res.text.contains("25:00-9:00"), "typed text kept");

    fever[5] = ("cond_value_0", "１８：００〜９：００");
    let res = form(&app, &admin, "/app/settings/event-rules", &fever).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let list = app.get(res.location(), &admin).await.text;
    assert!(list.contains("自動ルールを作成しました。"));
    assert!(
        list.contains("患者さんにタグが付いたとき（タグ「発熱」）"),
        "{list}"
    );
    assert!(list.contains("時間帯 18:00〜09:00"));
    assert!(list.contains("チームに割り当てる: 看護チーム、優先度を変える: 高"));
    assert!(list.contains("これまでに0回実行"));

    let resolved = [
        ("name", "解決したらタグ"),
        ("trigger", "conversation_resolved"),
        ("enabled", "1"),
        ("act_kind_0", "tag"),
        ("act_value_0", "対応済み"),
    ];
    let res = form(&app, &admin, "/app/settings/event-rules", &resolved).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(names(&app).await, vec!["発熱は看護へ", "解決したらタグ"]);

    let second: String =
        sqlx::query_scalar("SELECT id FROM event_rules WHERE name = '解決したらタグ'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    let res = form(
        &app,
        &admin,
        &format!("/app/settings/event-rules/{second}/move"),
        &[("value", "up")],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(names(&app).await, vec!["解決したらタグ", "発熱は看護へ"]);

    // Edited: the form shows what is stored.
    let edit = app
        .get(&format!("/app/settings/event-rules/{second}"), &admin)
        .await
        .text;
    assert!(edit.contains("対応済み") && edit.contains("← 自動ルールの一覧へ戻る"));
    let res = form(
        &app,
        &admin,
        &format!("/app/settings/event-rules/{second}/enabled"),
        &[("value", "0")],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let on: i64 = sqlx::query_scalar("SELECT enabled FROM event_rules WHERE id = $1")
        .bind(&second)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(on, 0);

    let clerk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert_eq!(
        app.get("/app/settings/event-rules", &clerk).await.status,
        StatusCode::FORBIDDEN
    );
    let res = form(
        &app,
        &clerk,
        &format!("/app/settings/event-rules/{second}/delete"),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = form(
        &app,
        &admin,
        &format!("/app/settings/event-rules/{second}/delete"),
        &[],
    )
    .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(names(&app).await, vec!["発熱は看護へ"]);
    for action in [
        "event_rule.create",
        "event_rule.reorder",
        "event_rule.disable",
        "event_rule.delete",
    ] {
        assert!(!app.audits(action).await.is_empty(), "{action} audited");
    }
}
