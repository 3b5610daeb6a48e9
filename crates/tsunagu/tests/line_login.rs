//! LINE Login's add-friend option for inflow sources (流入経路) end to end through HTTP, against
//! the LINE sandbox's LINE Login: a source's link (`/s/{source}`) → LINE's authorize (the
//! add-friend screen, the follow webhook) → our callback → the patient attributed, tagged and
//! counted once (a reloaded callback counts once), the source's welcome sent once whichever of
//! the follow webhook and the callback comes first, never to someone who did not add the
//! friend; a forged, expired or cancelled login and an ID token with a bad signature change
//! nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use axum::http::Method;
use common::{spawn_app_with, TestApp, ACCESS_TOKEN};
use tsunagu_automation::{greetings, line_login, source_edits, sources};
use tsunagu_core::Role;
use tsunagu_sandbox::line::{LoginChannelConfig, UserProfile};

const LOGIN_CHANNEL: &str = "1660000000";
const LOGIN_SECRET: &str = "0123456789abcdef0123456789abcdef";
/// A new patient, not yet a friend of the clinic's account.
const NEWCOMER: &str = "U1111111111111111111111111111111a";
const WELCOME: &str = "ポスターからのご登録ありがとうございます。";
const GREETING: &str = "友だち追加ありがとうございます。";

/// The clinic's LINE channel with a Login channel linked (in the sandbox and in tsunagu, the
/// latter through the sources page), a greeting, and a source that welcomes the first time.
async fn setup() -> (TestApp, sources::Source) {
    setup_with(|_| {}).await
}

async fn setup_with(
    change: impl FnOnce(&mut tsunagu_core::config::Settings),
) -> (TestApp, sources::Source) {
    let app = spawn_app_with(change).await;
    app.sandbox.add_login_channel(LoginChannelConfig {
        channel_id: LOGIN_CHANNEL.into(),
        channel_secret: LOGIN_SECRET.into(),
        linked_access_token: ACCESS_TOKEN.into(),
    });
    app.sandbox.set_login_user(Some(UserProfile {
        user_id: NEWCOMER.into(),
        display_name: "佐藤 一郎".into(),
        ..Default::default()
    }));
    let admin = app
        .staff_session(&app.clinic, Role::Admin, "管理 高橋")
        .await;
    let res = app
        .request(
            Method::POST,
            &format!("/app/settings/sources/channels/{}/line-login", app.channel),
        )
        .session(&admin)
        .form(&[
            ("csrf_token", admin.csrf.as_str()),
            ("login_channel_id", LOGIN_CHANNEL),
            ("login_channel_secret", LOGIN_SECRET),
        ])
        .send()
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let mut conn = app.db.pool().acquire().await.unwrap();
    let g = greetings::Draft {
        enabled: true,
        greeting_text: GREETING.into(),
        ask_consent: false,
        offer_verification: false,
    };
    let (clinic, channel) = (&app.clinic, app.channel.as_str());
    greetings::save(&mut conn, clinic, channel, &g, app.now_ms())
        .await
        .unwrap()
        .unwrap();
    let id = sources::create(
        &mut conn,
        clinic,
        channel,
        "待合室ポスター",
        "流入:待合室",
        app.now_ms(),
    )
    .await
    .unwrap();
    let w = source_edits::check_welcome(&mut conn, clinic, WELCOME, None, false)
        .await
        .unwrap()
        .unwrap();
    source_edits::set_welcome(&mut conn, clinic, &id, &w)
        .await
        .unwrap();
    let source = sources::get(&mut conn, clinic, &id).await.unwrap().unwrap();
    drop(conn);
    (app, source)
}

/// A browser that does not follow redirects (each hop is checked).
fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Reads the source's QR link and goes through LINE's authorize: the callback URL LINE sends
/// the browser back to (a path of ours, with its query).
async fn scan(app: &TestApp, source: &sources::Source) -> String {
    let res = app
        .request(Method::GET, &format!("/s/{}", source.id))
        .send()
        .await;
    assert_eq!(res.status, 303, "{}", res.text());
    let authorize = res.location().to_string();
    assert!(
        authorize.contains("/oauth2/v2.1/authorize?response_type=code&client_id=1660000000")
            && authorize.contains("bot_prompt=aggressive")
            && authorize.contains("scope=openid%20profile"),
        "{authorize}"
    );
    let back = browser().get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), 302);
    let to = back.headers()["location"].to_str().unwrap().to_string();
    let path = to.strip_prefix(&app.base).unwrap_or(&to).to_string();
    assert!(path.starts_with("/line-login/callback?code="), "{path}");
    path
}

async fn callback(app: &TestApp, path: &str) -> (u16, String) {
    let res = app.request(Method::GET, path).send().await;
    (res.status.as_u16(), res.text())
}

fn texts(app: &TestApp, user: &str) -> Vec<String> {
    app.sandbox
        .delivered_to(user)
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_string))
        .collect()
}

async fn counts(app: &TestApp) -> (i64, i64, i64) {
    (
        app.count("SELECT COUNT(*) FROM inflow_scans").await,
        app.count("SELECT COUNT(*) FROM patient_tags WHERE tag = '流入:待合室'")
            .await,
        app.count("SELECT COUNT(*) FROM inflow_source_patients WHERE counted = 1")
            .await,
    )
}

#[tokio::test]
async fn a_login_from_a_source_attributes_tags_and_counts_the_patient_once() {
    let (app, source) = setup().await;
    // The sources page shows the QR link through LINE Login.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let link = line_login::source_link(&mut conn, &app.clinic, &source, "line", &app.base)
        .await
        .unwrap();
    drop(conn);
    assert_eq!(link, Some(format!("{}/s/{}", app.base, source.id)));

    let path = scan(&app, &source).await;
    assert!(path.contains("friendship_status_changed=true"), "{path}");
    let (status, html) = callback(&app, &path).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("ありがとうございました"), "{html}");
    // Reloading the thank-you page changes nothing.
    let (status, html) = callback(&app, &path).await;
    assert_eq!(status, 200);
    assert!(html.contains("すでに受け付けています"), "{html}");
    app.run_jobs().await;

    assert_eq!(counts(&app).await, (1, 1, 1));
    let lines = app
        .count("SELECT COUNT(*) FROM messages WHERE direction = 'system' AND payload LIKE '%\"source\"%'")
        .await;
    assert_eq!(lines, 1, "staff see where the patient came from");
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM channel_identities WHERE external_id = '{NEWCOMER}' AND follow_state = 'following'"
        ))
        .await,
        1
    );
    assert_eq!(
        texts(&app, NEWCOMER),
        vec![WELCOME.to_string()],
        "the welcome once, instead of the channel greeting"
    );

    // A second visit through the same source: a scan more, counted and welcomed no more.
    let again = scan(&app, &source).await;
    assert!(again.contains("friendship_status_changed=false"));
    assert_eq!(callback(&app, &again).await.0, 200);
    app.run_jobs().await;
    assert_eq!(counts(&app).await, (2, 1, 1));
    assert_eq!(texts(&app, NEWCOMER).len(), 1);
    let mut conn = app.db.pool().acquire().await.unwrap();
    let c = sources::counted(&mut conn, &app.clinic).await.unwrap();
    assert_eq!((c[0].added, c[0].messages, c[0].following), (1, 2, 1));
}

#[tokio::test]
async fn the_welcome_goes_once_when_the_follow_webhook_comes_after_the_callback() {
    let (app, source) = setup().await;
    app.sandbox.hold_login_follows(true);
    let path = scan(&app, &source).await;
    assert_eq!(callback(&app, &path).await.0, 200);
    app.run_jobs().await;
    assert_eq!(
        counts(&app).await,
        (1, 1, 1),
        "attributed before the follow"
    );
    assert!(
        texts(&app, NEWCOMER).is_empty(),
        "nothing before LINE says they are a friend"
    );
    assert_eq!(
        app.sandbox.release_login_follows().await.unwrap(),
        vec![200]
    );
    app.run_jobs().await;
    assert_eq!(texts(&app, NEWCOMER), vec![WELCOME.to_string()]);
    // The follow answered with its reply token; a reload later sends nothing more.
    assert_eq!(callback(&app, &path).await.0, 200);
    app.run_jobs().await;
    assert_eq!(texts(&app, NEWCOMER).len(), 1);
    assert_eq!(counts(&app).await, (1, 1, 1));
}

#[tokio::test]
async fn the_welcome_follows_the_greeting_when_the_follow_was_answered_first() {
    let (app, source) = setup().await;
    let path = scan(&app, &source).await;
    // The follow's dispatch runs before the patient's browser comes back.
    app.run_jobs().await;
    assert_eq!(texts(&app, NEWCOMER), vec![GREETING.to_string()]);
    assert_eq!(callback(&app, &path).await.0, 200);
    app.run_jobs().await;
    assert_eq!(
        texts(&app, NEWCOMER),
        vec![GREETING.to_string(), WELCOME.to_string()]
    );
    assert_eq!(counts(&app).await, (1, 1, 1));
}

#[tokio::test]
async fn a_patient_who_does_not_add_the_friend_is_counted_but_gets_nothing() {
    let (app, source) = setup().await;
    app.sandbox.login_declines_friend(true);
    let path = scan(&app, &source).await;
    assert!(path.contains("friendship_status_changed=false"));
    assert_eq!(callback(&app, &path).await.0, 200);
    app.run_jobs().await;
    assert_eq!(counts(&app).await, (1, 1, 1));
    assert!(texts(&app, NEWCOMER).is_empty());
    assert_eq!(
        app.count("SELECT COUNT(*) FROM line_login_welcomes WHERE sent_at IS NULL")
            .await,
        1,
        "owed until they add the friend"
    );
}

#[tokio::test]
async fn a_forged_expired_or_cancelled_login_changes_nothing() {
    let (app, source) = setup().await;
    let forged = "/line-login/callback?code=abc&state=0000000000000000000000000000000000000000000000000000000000000000&friendship_status_changed=true";
    let (status, html) = callback(&app, forged).await;
    assert_eq!(status, 400);
    assert!(
        html.contains("もう一度QRコードを読み取ってください"),
        "{html}"
    );
    assert_eq!(callback(&app, "/line-login/callback").await.0, 400);

    // Cancelled on LINE's screen.
    let res = app
        .request(Method::GET, &format!("/s/{}", source.id))
        .send()
        .await;
    let state = res
        .location()
        .split("state=")
        .nth(1)
        .unwrap()
        .split('&')
        .next()
        .unwrap()
        .to_string();
    let (status, html) = callback(
        &app,
        &format!("/line-login/callback?error=access_denied&error_description=x&state={state}"),
    )
    .await;
    assert_eq!(status, 400);
    assert!(html.contains("キャンセル"), "{html}");

    // Opening the public link wrote nothing (the state is signed, not stored).
    assert_eq!(app.count("SELECT COUNT(*) FROM line_login_states").await, 0);

    // A state moved onto another source (of the same channel) fails its signature.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let (clinic, channel) = (&app.clinic, app.channel.as_str());
    let other = sources::create(&mut conn, clinic, channel, "受付", "流入:受付", 0)
        .await
        .unwrap();
    drop(conn);
    let path = scan(&app, &source).await;
    let moved = path.replace(&source.id, &other);
    assert_ne!(moved, path);
    let (status, _) = callback(&app, &moved).await;
    assert_eq!(status, 400);

    // Back after the state's ten minutes.
    let path = scan(&app, &source).await;
    app.clock.advance(chrono::Duration::minutes(11));
    let (status, html) = callback(&app, &path).await;
    assert_eq!(status, 400);
    assert!(html.contains("期限"), "{html}");
    app.run_jobs().await;

    assert_eq!(counts(&app).await, (0, 0, 0));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'system' AND payload LIKE '%\"source\"%'")
            .await,
        0
    );
    // The follow (the sandbox added the friend) got the channel greeting only.
    assert!(texts(&app, NEWCOMER).iter().all(|t| t == GREETING));
}

#[tokio::test]
async fn an_id_token_with_a_bad_signature_is_refused() {
    let (app, source) = setup().await;
    app.sandbox
        .forge_login_id_tokens(Some("not-the-channel-secret"));
    let path = scan(&app, &source).await;
    let (status, html) = callback(&app, &path).await;
    assert_eq!(status, 400);
    assert!(html.contains("確認できませんでした"), "{html}");
    app.run_jobs().await;
    assert_eq!(counts(&app).await, (0, 0, 0));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM line_login_states WHERE used_at IS NOT NULL")
            .await,
        0
    );
}

#[tokio::test]
async fn without_a_login_link_the_source_link_is_the_prefilled_message() {
    let (app, source) = setup().await;
    let admin = app
        .staff_session(&app.clinic, Role::Admin, "管理 高橋")
        .await;
    let res = app
        .request(
            Method::POST,
            &format!(
                "/app/settings/sources/channels/{}/line-login/remove",
                app.channel
            ),
        )
        .session(&admin)
        .form(&[("csrf_token", admin.csrf.as_str())])
        .send()
        .await;
    assert_eq!(res.status, 303);
    // A printed poster's /s/ link keeps working once the channel has its basic id.
    let res = app
        .request(Method::GET, &format!("/s/{}", source.id))
        .send()
        .await;
    assert_eq!(res.status, 404);
    assert!(res.text().contains("受付"), "a calm page: {}", res.text());
    let mut conn = app.db.pool().acquire().await.unwrap();
    sources::set_address(&mut conn, &app.clinic, app.channel.as_str(), "@sakura", 0)
        .await
        .unwrap();
    drop(conn);
    let res = app
        .request(Method::GET, &format!("/s/{}", source.id))
        .send()
        .await;
    assert_eq!(res.status, 303);
    assert!(res
        .location()
        .starts_with("https://line.me/R/oaMessage/%40sakura/?"));
    // An unknown source is a calm 404; a malformed secret is refused on the page.
    let res = app.request(Method::GET, "/s/no-such-source").send().await;
    assert_eq!(res.status, 404);
    let res = app
        .request(
            Method::POST,
            &format!("/app/settings/sources/channels/{}/line-login", app.channel),
        )
        .session(&admin)
        .form(&[
            ("csrf_token", admin.csrf.as_str()),
            ("login_channel_id", "abc"),
            ("login_channel_secret", "x"),
        ])
        .send()
        .await;
    assert_eq!(res.status, 422);
    assert!(res.text().contains("チャネルシークレット"));
    assert_eq!(app.count("SELECT COUNT(*) FROM line_login_links").await, 0);
    // The audit trail has both changes.
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'inflow_source.line_login%'"
        )
        .await,
        2
    );
}

/// A callback whose code LINE refuses, from address `ip`.
async fn failed_exchange(app: &TestApp, source: &sources::Source, ip: &str) -> u16 {
    let path = scan(app, source).await;
    let (head, rest) = path.split_once("code=").unwrap();
    let rest = rest.split_once('&').map_or("", |(_, r)| r);
    let bogus = format!("{head}code=not-a-code&{rest}");
    let res = app
        .request(Method::GET, &bogus)
        .peer(Some(format!("{ip}:40000").parse().unwrap()))
        .send()
        .await;
    res.status.as_u16()
}

#[tokio::test]
async fn failed_exchanges_are_limited_per_address_even_at_once_and_others_still_register() {
    let (app, source) = setup_with(|s| s.security.login_max_failures_per_address = 3).await;
    // Six at once from one address: three reach LINE and are refused, three are not let through.
    let paths: Vec<String> = futures::future::join_all((0..6).map(|_| scan(&app, &source))).await;
    let tries = paths.iter().map(|path| {
        let (head, rest) = path.split_once("code=").unwrap();
        let rest = rest.split_once('&').map_or("", |(_, r)| r);
        let bogus = format!("{head}code=not-a-code&{rest}");
        let req = app
            .request(Method::GET, &bogus)
            .peer(Some("198.51.100.7:40000".parse().unwrap()));
        async move { req.send().await.status.as_u16() }
    });
    let mut statuses: Vec<u16> = futures::future::join_all(tries).await;
    statuses.sort_unstable();
    assert_eq!(statuses, vec![400, 400, 400, 429, 429, 429]);
    // Even a good code waits now, and says so calmly.
    let good = scan(&app, &source).await;
    let res = app
        .request(Method::GET, &good)
        .peer(Some("198.51.100.7:40000".parse().unwrap()))
        .send()
        .await;
    assert_eq!(res.status.as_u16(), 429);
    assert!(res.text().contains("時間をおいてから"), "{}", res.text());
    assert_eq!(counts(&app).await.0, 0);

    // Another address is not held up: a failure, then a completed login, whose place is given
    // back (two more failures still pass).
    assert_eq!(failed_exchange(&app, &source, "203.0.113.9").await, 400);
    let good = scan(&app, &source).await;
    let res = app
        .request(Method::GET, &good)
        .peer(Some("203.0.113.9:40000".parse().unwrap()))
        .send()
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text());
    assert_eq!(counts(&app).await.0, 1);
    assert_eq!(failed_exchange(&app, &source, "203.0.113.9").await, 400);
    assert_eq!(failed_exchange(&app, &source, "203.0.113.9").await, 400);
    assert_eq!(failed_exchange(&app, &source, "203.0.113.9").await, 429);
    // Staff sign-in from that address is counted apart and unaffected.
    let staff: i64 = app
        .count("SELECT COUNT(*) FROM sign_in_throttle WHERE key NOT LIKE 'line-login:%'")
        .await;
    assert_eq!(staff, 0);
}
