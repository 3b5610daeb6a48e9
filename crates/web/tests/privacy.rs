//! The privacy pages over the real router: exports for owners and admins, erasure only after
//! the patient's name is typed and a reason given, retention settings for admins.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "inbox/support.rs"]
mod support;

use axum::http::StatusCode;
use tsunagu_core::Role;

use support::{app, T0};

#[tokio::test]
async fn an_admin_exports_then_erases_a_patient_after_typing_their_name() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "腰が痛みます", T0)
        .await;
    let page = format!("/app/patients/{}/privacy", c.patient_id);

    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let res = app.get(&page, &desk).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res
        .text
        .contains("書き出しはオーナーと管理者のみ行えます。"));
    let res = app.get(&format!("{page}/export.json"), &desk).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);

    let admin = app.sign_in(&s.clinic, Role::Admin, "管理 鈴木").await;
    let res = app.get(&page, &admin).await;
    assert!(res.text.contains(r#"data-testid="erase-form""#));
    assert!(!res.text.contains("style=") && res.text.matches("<script").count() == 1);
    let res = app.get(&format!("{page}/export.html"), &admin).await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(res.text.contains("腰が痛みます") && res.text.contains("患者さんの情報(開示用)"));
    let res = app.get(&format!("{page}/export.json"), &admin).await;
    assert!(res.text.contains("腰が痛みます"));
    assert_eq!(app.audits("patient.export").await.len(), 2);

    let action = format!("{page}/erase");
    let mut fields = vec![
        ("csrf_token", admin.csrf.as_str()),
        ("confirm_name", "山田"),
        ("reason", "本人からの請求"),
    ];
    let res = app.post_form(&action, &admin, &fields).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("入力された氏名が一致しません。"));
    fields[1] = ("confirm_name", "山田 花子");
    let res = app.post_form(&action, &admin, &fields).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM patients WHERE id = $1", &c.patient_id)
            .await,
        0
    );
    assert_eq!(app.audits("patient.erased").await.len(), 1);
    assert_eq!(app.get(&page, &admin).await.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn admins_set_retention_and_others_may_not() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let desk = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert_eq!(
        app.get("/app/settings/retention", &desk).await.status,
        StatusCode::FORBIDDEN
    );
    let admin = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let res = app.get("/app/settings/retention", &admin).await;
    assert!(res.text.contains(r#"value="30""#) && res.text.contains(r#"value="5""#));
    // A tab among the settings, current here and reachable from the others.
    assert!(
        res.text
            .contains(r#"href="/app/settings/retention" aria-current="page""#),
        "{}",
        res.text
    );
    let calendar = app.get("/app/settings/calendar", &admin).await.text;
    assert!(calendar.contains(r#"data-testid="settings-nav-retention""#));
    let bad = [
        ("csrf_token", admin.csrf.as_str()),
        ("raw_webhook_body_days", "0"),
        ("conversation_years", "5"),
    ];
    let res = app.post_form("/app/settings/retention", &admin, &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res
        .text
        .contains("保存日数は 1〜3650 の整数で入力してください。"));
    let good = [
        ("csrf_token", admin.csrf.as_str()),
        ("raw_webhook_body_days", "14"),
        ("conversation_years", "7"),
    ];
    let res = app
        .post_form("/app/settings/retention", &admin, &good)
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let res = app.get(res.location(), &admin).await;
    assert!(res.text.contains("保存しました。") && res.text.contains(r#"value="14""#));
    assert_eq!(app.audits("retention.updated").await.len(), 1);
}
