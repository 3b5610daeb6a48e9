//! Webhooks use a channel loaded moments ago (`web::channel_cache`): a channel switched off on
//! this instance is refused at once; a change made elsewhere (another instance, straight in
//! the database) is seen once the copy is older than its TTL.
use axum::http::{Method, StatusCode};
use tsunagu_channels::line::signature;

use super::ui_support::{app, App, Session};

const SECRET: &str = "cache-line-secret";

/// A LINE channel connected through the settings page; its id.
async fn line_channel(app: &App, me: &Session) -> String {
    let res = app
        .post_form(
            "/app/settings/channels",
            me,
            &[
                ("csrf_token", me.csrf.as_str()),
                ("kind", "line"),
                ("name", "LINE キャッシュ"),
                ("channel_secret", SECRET),
                ("channel_access_token", "cache-line-token"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
    sqlx::query_scalar("SELECT id FROM channels WHERE name = 'LINE キャッシュ'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

/// LINE's connectivity check (no events), signed: 200 once the channel is loaded and verified.
async fn post_webhook(app: &App, channel: &str) -> StatusCode {
    let body = br#"{"destination":"U0123456789abcdef0123456789abcdef","events":[]}"#;
    app.request(Method::POST, &format!("/webhooks/line/{channel}"))
        .header("content-type", "application/json")
        .header("x-line-signature", signature::sign(SECRET, body))
        .body(body.to_vec())
        .send()
        .await
        .status
}

async fn switch(app: &App, me: &Session, channel: &str, on: bool) {
    let path = format!("/app/settings/channels/{channel}/enabled");
    let enabled = if on { "1" } else { "0" };
    let res = app
        .post_form(&path, me, &[("csrf_token", &me.csrf), ("enabled", enabled)])
        .await;
    assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
}

#[tokio::test]
async fn a_channel_switched_off_here_is_refused_at_once_though_its_copy_is_fresh() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&s.clinic, tsunagu_core::Role::Admin, "院長 鈴木")
        .await;
    let channel = line_channel(&app, &me).await;
    assert_eq!(post_webhook(&app, &channel).await, StatusCode::OK);

    // Switched off in the database behind this instance's back (as another instance would):
    // the copy loaded a moment ago still serves, for at most its TTL.
    sqlx::query("UPDATE channels SET enabled = 0 WHERE id = $1")
        .bind(&channel)
        .execute(app.db.pool())
        .await
        .unwrap();
    assert_eq!(
        post_webhook(&app, &channel).await,
        StatusCode::OK,
        "served from the copy (so what follows proves the page drops it)"
    );
    sqlx::query("UPDATE channels SET enabled = 1 WHERE id = $1")
        .bind(&channel)
        .execute(app.db.pool())
        .await
        .unwrap();

    // Switched off on the settings page of this instance: refused at the next delivery.
    switch(&app, &me, &channel, false).await;
    assert_eq!(post_webhook(&app, &channel).await, StatusCode::NOT_FOUND);
    switch(&app, &me, &channel, true).await;
    assert_eq!(post_webhook(&app, &channel).await, StatusCode::OK);
}
