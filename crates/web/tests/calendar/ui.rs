//! `/app/settings/calendar`: admins edit the calendar, everyone else is refused.
use axum::http::StatusCode;
use tsunagu_core::Role;

use super::support::app;

const PAGE: &str = "/app/settings/calendar";

#[tokio::test]
async fn an_admin_sees_the_status_line_and_adds_a_closure() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let admin = app.sign_in(&c, Role::Admin).await;

    let res = app.page(PAGE, &admin).await;
    assert_eq!(res.status, StatusCode::OK);
    // Saturday 13:00 before 成人の日 (Monday 2027-01-11).
    assert!(
        res.text
            .contains("現在: <strong>休診中</strong> — 次の診療開始: 1月12日(火) 9:00"),
        "{}",
        res.text
    );
    assert!(res
        .text
        .contains(r#"href="/app/settings/calendar" aria-current="page">設定</a>"#));
    assert!(res.text.contains("成人の日"));

    let res = app
        .form(
            &format!("{PAGE}/closures"),
            &admin,
            &[
                ("date", "2027-01-12"),
                ("until", ""),
                ("reason", "臨時休診 院長学会出張"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    assert_eq!(res.location, format!("{PAGE}?saved=closure"));
    assert_eq!(app.closures(&c).await, 1);
    assert_eq!(app.audits("calendar.closure.create").await, 1);

    let res = app.page(&res.location, &admin).await;
    assert!(res.text.contains("休診日を追加しました。"));
    assert!(res.text.contains("臨時休診 院長学会出張"));
    assert!(
        res.text.contains("次の診療開始: 1月13日(水) 9:00"),
        "{}",
        res.text
    );

    // The same day again is refused with the typed reason kept.
    let res = app
        .form(
            &format!("{PAGE}/closures"),
            &admin,
            &[("date", "2027-01-12"), ("reason", "重複")],
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    assert!(res
        .text
        .contains("その日はすでに休診日に登録されています。"));
    assert!(res.text.contains(r#"value="重複""#));
}

#[tokio::test]
async fn an_admin_deletes_a_closure_and_opens_on_a_holiday() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let admin = app.sign_in(&c, Role::Owner).await;
    let fields = [("date", "2027-01-12"), ("reason", "院内研修")];
    app.form(&format!("{PAGE}/closures"), &admin, &fields).await;
    let id: String = sqlx::query_scalar("SELECT id FROM calendar_closures")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let res = app
        .form(&format!("{PAGE}/closures/{id}/delete"), &admin, &[])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    assert_eq!(app.closures(&c).await, 0);

    let res = app
        .form(
            &format!("{PAGE}/holidays/2027-01-11"),
            &admin,
            &[("open", "1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER);
    let page = app.page(PAGE, &admin).await;
    assert!(
        page.text.contains("次の診療開始: 1月11日(月) 9:00"),
        "{}",
        page.text
    );
    assert!(
        page.text
            .contains(r#"data-date="2027-01-11" data-open="true""#),
        "{}",
        page.text
    );
    assert_eq!(app.audits("calendar.holiday.update").await, 1);
}

#[tokio::test]
async fn saving_hours_replaces_the_week_and_a_bad_time_is_shown_again() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let admin = app.sign_in(&c, Role::Admin).await;
    let bad = [
        ("mon_0_start", "9:00"),
        ("mon_0_end", "12:00"),
        ("holidays_closed", "1"),
    ];
    let res = app.form(&format!("{PAGE}/hours"), &admin, &bad).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("HH:MM"));
    assert!(res.text.contains(r#"value="9:00""#));

    // Saturday only, 14:00–17:00: at Saturday 13:00 it opens later today.
    let week = [
        ("sat_0_start", "14:00"),
        ("sat_0_end", "17:00"),
        ("holidays_closed", "1"),
        ("timezone", "Asia/Tokyo"),
    ];
    let res = app.form(&format!("{PAGE}/hours"), &admin, &week).await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    let page = app.page(PAGE, &admin).await;
    assert!(
        page.text.contains("次の診療開始: 1月9日(土) 14:00"),
        "{}",
        page.text
    );
    assert_eq!(app.audits("calendar.hours.update").await, 1);
}

#[tokio::test]
async fn a_receptionist_is_refused_and_sees_no_settings_link() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let reception = app.sign_in(&c, Role::Receptionist).await;
    assert_eq!(
        app.page(PAGE, &reception).await.status,
        StatusCode::FORBIDDEN
    );
    let fields = [("date", "2027-01-12"), ("reason", "臨時休診")];
    let res = app
        .form(&format!("{PAGE}/closures"), &reception, &fields)
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = app
        .form(
            &format!("{PAGE}/holidays/2027-01-11"),
            &reception,
            &[("open", "1")],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.closures(&c).await, 0);
    let inbox = app.page("/app/inbox", &reception).await;
    assert!(!inbox.text.contains("/app/settings/calendar"));
}

#[tokio::test]
async fn a_form_without_the_csrf_token_is_refused() {
    let app = app().await;
    let c = app.clinic("sakura").await;
    let mut admin = app.sign_in(&c, Role::Admin).await;
    admin.csrf = "forged".into();
    let fields = [("date", "2027-01-12"), ("reason", "臨時休診")];
    let res = app.form(&format!("{PAGE}/closures"), &admin, &fields).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(app.closures(&c).await, 0);
}
