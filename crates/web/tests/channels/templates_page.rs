//! `/app/settings/channels/{id}/templates`: add a template, record its review state.
use axum::http::StatusCode;
use tsunagu_core::Role;

use super::seed::whatsapp_channel;
use super::ui_support::app;

#[tokio::test]
async fn an_administrator_adds_a_template_and_records_its_approval() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let wa = whatsapp_channel(&app.db, &s.clinic).await;
    let me = app.sign_in(&s.clinic, Role::Admin, "院長 鈴木").await;
    let page = format!("/app/settings/channels/{wa}/templates");

    let bad = app
        .post_form(
            &page,
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("name", "reminder"),
                ("language", "ja"),
                ("category", "UTILITY"),
                ("body", "{{2}}にご予約"),
            ],
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(bad.text.contains("data-testid=\"templates-error\""));
    assert!(
        bad.text.contains("{{2}}にご予約"),
        "what was typed comes back"
    );

    let res = app
        .post_form(
            &page,
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("name", "reminder"),
                ("language", "ja"),
                ("category", "UTILITY"),
                ("body", "{{1}}様、明日のご予約です。"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let shown = app.get(res.location(), &me).await.text;
    assert!(shown.contains("data-status=\"draft\"") && shown.contains("下書き"));
    let id = shown
        .split("data-template-id=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .to_string();

    let status = format!("{page}/{id}/status");
    let res = app
        .post_form(
            &status,
            &me,
            &[
                ("csrf_token", &me.csrf),
                ("status", "approved"),
                ("reason", ""),
                ("provider_template_id", "594425479261596"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let shown = app.get(res.location(), &me).await.text;
    assert!(shown.contains("data-status=\"approved\"") && shown.contains("承認済み"));
    assert_eq!(app.audits("ui.template.create").await.len(), 1);
    assert_eq!(app.audits("ui.template.status").await.len(), 1);

    // LINE channels have no template page.
    let line = format!("/app/settings/channels/{}/templates", s.channel);
    assert_eq!(app.get(&line, &me).await.status, StatusCode::NOT_FOUND);
    let res = app.post_form(&status, &me, &[("status", "approved")]).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "no form token");
}
