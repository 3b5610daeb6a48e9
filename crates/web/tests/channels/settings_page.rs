//! `/app/settings/channels`: listing, connecting each kind, switching off, and who may.
use axum::http::StatusCode;
use tsunagu_core::{ChannelId, Role};
use tsunagu_store::webhooks;

use super::seed::whatsapp_channel;
use super::ui_support::{app, app_with, test_settings, App, Session};

const PAGE: &str = "/app/settings/channels";

async fn admin(app: &App) -> (super::ui_support::Seeded, Session) {
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app.sign_in(&s.clinic, Role::Admin, "院長 鈴木").await;
    (s, me)
}

async fn connect(app: &App, me: &Session, fields: &[(&str, &str)]) -> super::ui_support::Res {
    let mut all = vec![("csrf_token", me.csrf.as_str())];
    all.extend_from_slice(fields);
    app.post_form(PAGE, me, &all).await
}

#[tokio::test]
async fn the_page_lists_channels_with_their_webhook_url_endpoints_and_unrouted_events() {
    let app = app().await;
    let (s, me) = admin(&app).await;
    let wa = whatsapp_channel(&app.db, &s.clinic).await;
    let mut tx = app.db.begin().await.unwrap();
    let e = webhooks::NewEvent {
        clinic_id: &s.clinic,
        channel_id: &wa,
        provider_event_id: "wamid.unrouted1",
        event_type: "message",
        mode: None,
        body: "{}",
    };
    webhooks::insert_once(tx.conn(), e, 5).await.unwrap();
    webhooks::flag(tx.conn(), &wa, "wamid.unrouted1", "unrouted")
        .await
        .unwrap();
    tx.commit().await.unwrap();

    let res = app.get(PAGE, &me).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.text);
    let page = res.urls();
    assert!(page.contains(&format!("/webhooks/whatsapp/{wa}")), "{page}");
    assert!(page.contains(&format!("/webhooks/line/{}", s.channel)));
    assert!(page.contains("106540352242922 (+81 3-1234-5678)"));
    assert!(page.contains("LINE公式アカウント") && page.contains("WhatsApp 受付"));
    assert!(page.contains("SMS (Twilio)"), "every kind has a form");
    let warning = page
        .split("data-testid=\"channel-unrouted\"")
        .nth(1)
        .unwrap();
    assert!(warning.contains(": 1"), "{warning}");
    assert_eq!(page.matches("data-testid=\"channel-unrouted\"").count(), 1);
    assert!(page.contains(&format!("{PAGE}/{wa}/templates")));
}

#[tokio::test]
async fn each_kind_connects_and_no_secret_ever_reaches_the_page() {
    let app = app().await;
    let (s, me) = admin(&app).await;
    let forms: [&[(&str, &str)]; 4] = [
        &[
            ("kind", "line"),
            ("name", "LINE 本院"),
            ("channel_secret", "line-secret-XYZ"),
            ("channel_access_token", "line-token-XYZ"),
        ],
        &[
            ("kind", "whatsapp"),
            ("name", "WhatsApp 本院"),
            ("app_secret", "wa-secret-XYZ"),
            ("verify_token", "wa-verify-XYZ"),
            ("access_token", "wa-token-XYZ"),
            ("waba_id", "102290129340398"),
            (
                "phone_numbers",
                "106540352242922 +81 3-1234-5678\n106540352242923",
            ),
            ("api_base_url", "http://127.0.0.1:9/graph/"),
        ],
        &[
            ("kind", "messenger"),
            ("name", "Facebook ページ"),
            ("app_secret", "fb-secret-XYZ"),
            ("verify_token", "fb-verify-XYZ"),
            ("pages", "1234567890 fb-page-token-XYZ さくら内科"),
        ],
        &[
            ("kind", "sms"),
            ("name", "SMS"),
            ("account_sid", "AC0123456789abcdef0123456789abcdef"),
            ("auth_token", "sms-token-XYZ"),
            ("numbers", "+15005550006\n+15005550007"),
        ],
    ];
    for f in forms {
        let res = connect(&app, &me, f).await;
        assert_eq!(res.status, StatusCode::SEE_OTHER, "{}", res.text);
        assert_eq!(res.location(), format!("{PAGE}?saved=created"));
    }
    assert_eq!(app.audits("ui.channel.create").await.len(), 4);
    let kinds: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT kind, api_base_url, settings, credentials_enc FROM channels WHERE clinic_id = $1 ORDER BY id",
    )
    .bind(s.clinic.as_str())
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(kinds.len(), 5);
    for (_, _, settings, enc) in &kinds {
        assert!(
            !enc.contains("XYZ") && !settings.contains("XYZ"),
            "{enc} {settings}"
        );
    }
    let wa = kinds.iter().find(|k| k.0 == "whatsapp").unwrap();
    assert_eq!(wa.1, "http://127.0.0.1:9/graph");
    assert!(wa.2.contains("106540352242923") && wa.2.contains("102290129340398"));
    let fb = kinds.iter().find(|k| k.0 == "messenger").unwrap();
    assert_eq!(fb.1, "https://graph.facebook.com/v23.0");

    let page = app.get(&format!("{PAGE}?saved=created"), &me).await;
    assert!(page.text.contains("data-testid=\"channels-notice\""));
    assert!(!page.text.contains("XYZ"), "a secret was rendered");
    assert!(page.text.contains("+15005550007") && page.text.contains("1234567890 (さくら内科)"));
}

#[tokio::test]
async fn a_refused_form_comes_back_with_what_was_typed_except_secrets() {
    let app = app().await;
    let (_, me) = admin(&app).await;
    let res = connect(
        &app,
        &me,
        &[
            ("kind", "sms"),
            ("name", "SMS 本院"),
            ("account_sid", "AC0123"),
            ("auth_token", "sms-token-XYZ"),
            ("numbers", "090-1234-5678"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(res.text.contains("data-testid=\"channels-error\""));
    assert!(res.text.contains("SMS 本院") && res.text.contains("090-1234-5678"));
    assert!(!res.text.contains("sms-token-XYZ"));
    let base = connect(
        &app,
        &me,
        &[
            ("kind", "line"),
            ("name", "LINE"),
            ("channel_secret", "s"),
            ("channel_access_token", "t"),
            ("api_base_url", "ftp://example.com"),
        ],
    )
    .await;
    assert_eq!(base.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(base.text.contains("http(s) の URL"));
    assert!(app.audits("ui.channel.create").await.is_empty());
}

#[tokio::test]
async fn a_non_public_base_url_is_refused_with_the_reason() {
    let mut settings = test_settings();
    settings.outbound.allow_private_addresses = false;
    let app = app_with(settings).await;
    let (_, me) = admin(&app).await;
    for base in [
        "http://127.0.0.1:9/graph",
        "https://169.254.169.254/",
        "https://[::1]/",
    ] {
        let res = connect(
            &app,
            &me,
            &[
                ("kind", "line"),
                ("name", "LINE"),
                ("channel_secret", "s"),
                ("channel_access_token", "t"),
                ("api_base_url", base),
            ],
        )
        .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{base}");
        assert!(res.text.contains("data-testid=\"channels-error\""));
        assert!(
            res.text.contains("公開されていないアドレス"),
            "{}",
            res.text
        );
    }
    assert!(app.audits("ui.channel.create").await.is_empty());
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM channels")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "only the seeded channel");
}

#[tokio::test]
async fn a_channel_is_switched_off_and_on_with_audit_entries() {
    let app = app().await;
    let (s, me) = admin(&app).await;
    let path = format!("{PAGE}/{}/enabled", s.channel);
    let off = app
        .post_form(&path, &me, &[("csrf_token", &me.csrf), ("enabled", "0")])
        .await;
    assert_eq!(off.status, StatusCode::SEE_OTHER);
    let enabled = || {
        app.count(
            "SELECT enabled FROM channels WHERE id = $1",
            s.channel.as_str(),
        )
    };
    assert_eq!(enabled().await, 0);
    let page = app.get(off.location(), &me).await;
    assert!(page.text.contains("data-enabled=\"false\""));
    app.post_form(&path, &me, &[("csrf_token", &me.csrf), ("enabled", "1")])
        .await;
    assert_eq!(enabled().await, 1);
    assert_eq!(app.audits("ui.channel.disable").await.len(), 1);
    assert_eq!(app.audits("ui.channel.enable").await.len(), 1);

    // Another clinic's channel is not found.
    let other = app.clinic("momiji", "もみじ眼科").await;
    let foreign = format!("{PAGE}/{}/enabled", other.channel);
    let res = app
        .post_form(&foreign, &me, &[("csrf_token", &me.csrf), ("enabled", "0")])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let garbage = format!("{PAGE}/{}/enabled", ChannelId::new());
    let res = app
        .post_form(&garbage, &me, &[("csrf_token", &me.csrf), ("enabled", "0")])
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn forms_without_the_token_are_refused() {
    let app = app().await;
    let (s, me) = admin(&app).await;
    let res = app
        .post_form(
            PAGE,
            &me,
            &[
                ("kind", "line"),
                ("name", "LINE"),
                ("channel_secret", "s"),
                ("channel_access_token", "t"),
            ],
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let path = format!("{PAGE}/{}/enabled", s.channel);
    let res = app
        .post_form(&path, &me, &[("csrf_token", "wrong"), ("enabled", "0")])
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM channels WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        1
    );
}

#[tokio::test]
async fn staff_who_do_not_administer_get_403() {
    let app = app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    assert_eq!(app.get(PAGE, &me).await.status, StatusCode::FORBIDDEN);
    let res = connect(
        &app,
        &me,
        &[
            ("kind", "line"),
            ("name", "LINE"),
            ("channel_secret", "s"),
            ("channel_access_token", "t"),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let path = format!("{PAGE}/{}/templates", s.channel);
    assert_eq!(app.get(&path, &me).await.status, StatusCode::FORBIDDEN);
}
