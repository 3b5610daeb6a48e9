//! The whole app on port 0 against the LINE sandbox, with a fake clock and workers driven step
//! by step (`app.run_jobs()`) instead of sleeps.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use std::sync::Arc;

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tsunagu::Services;
use tsunagu_core::config::Settings;
use tsunagu_core::{ChannelId, ClinicId, FakeClock};
use tsunagu_sandbox::line::{ChannelConfig, LineSandbox, UserProfile};
use tsunagu_store::{channels, Db};
use tsunagu_testkit::{test_db, TestDb};

pub const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
pub const ACCESS_TOKEN: &str = "test-access-token-0123456789";
pub const PATIENT: &str = "U4af4980629a1b2c3d4e5f60718293a4b";

pub struct TestApp {
    pub base: String,
    pub services: Services,
    pub db: Db,
    pub clock: FakeClock,
    pub clinic: ClinicId,
    pub channel: ChannelId,
    pub sandbox: LineSandbox,
    pub http: reqwest::Client,
    pub api_token: String,
    _db: TestDb,
    _stop: tokio::sync::watch::Sender<bool>,
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// As [`spawn_app`], with settings changed first (e.g. `[smtp]`).
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    let t = test_db().await;
    let db = t.db.clone();
    let clock = FakeClock::new(
        chrono::DateTime::parse_from_rfc3339("2026-11-23T09:00:00+09:00")
            .unwrap()
            .to_utc(),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut settings = Settings {
        public_url: Some(format!("http://{addr}")),
        ..Settings::default()
    };
    settings.outbox.workers = false; // tests drive the queue themselves

    // The provider emulators listen on 127.0.0.1; tests of the outbound rule turn this off.
    settings.outbound.allow_private_addresses = true;
    change(&mut settings);
    let key = [9u8; 32];
    let services = Services::with_db(db.clone(), settings, Arc::new(clock.clone()), &key);
    let now = tsunagu_core::Clock::now_ms(&clock);
    let clinic = tsunagu::admin::create_clinic(
        &db,
        tsunagu::admin::ClinicSpec {
            slug: "sakura",
            name: "さくら内科",
            timezone: "Asia/Tokyo",
            locale: "ja",
            org: None,
        },
        now,
    )
    .await
    .unwrap();
    let (_, api_token) = tsunagu::admin::create_token(
        &db,
        "sakura",
        "tests",
        &[tsunagu_core::TokenScope::Admin],
        now,
    )
    .await
    .unwrap();

    // The sandbox shares the app's clock, so reply-token lifetimes line up with the worker's.
    let sandbox = LineSandbox::with_clock(Arc::new(clock.clone()));
    let sb_addr = sandbox.spawn("127.0.0.1:0").await.unwrap();
    let sb_url = format!("http://{sb_addr}");
    let creds = services.state.cipher.encrypt_json(
        &serde_json::json!({"channel_secret": SECRET, "channel_access_token": ACCESS_TOKEN}),
    );
    let mut tx = db.begin().await.unwrap();
    let channel = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: &clinic,
            kind: "line",
            name: "LINE",
            credentials_enc: &creds,
            api_base_url: &sb_url,
            api_data_base_url: Some(&sb_url),
            settings: "{}",
        },
        now,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    sandbox.add_channel(ChannelConfig {
        channel_secret: SECRET.into(),
        access_token: ACCESS_TOKEN.into(),
        bot_user_id: "U0123456789abcdef0123456789abcdef".into(),
        webhook_url: Some(format!("http://{addr}/webhooks/line/{channel}")),
        quota: None,
    });
    sandbox.add_user(
        ACCESS_TOKEN,
        UserProfile {
            user_id: PATIENT.into(),
            display_name: "山田 花子".into(),
            picture_url: Some("https://profile.line-scdn.net/hanako".into()),
            status_message: Some("よろしくお願いします".into()),
            language: Some("ja".into()),
        },
    );
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(services.clone().run(listener, rx));
    TestApp {
        base: format!("http://{addr}"),
        services,
        db,
        clock,
        clinic,
        channel,
        sandbox,
        http: reqwest::Client::new(),
        api_token,
        _db: t,
        _stop: stop,
    }
}

pub fn sign(body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
    mac.update(body);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

impl TestApp {
    pub fn webhook_url(&self) -> String {
        format!("{}/webhooks/line/{}", self.base, self.channel)
    }

    /// Posts raw bytes as LINE would, with the given signature header (None: no header).
    pub async fn post_webhook(&self, body: &[u8], signature: Option<&str>) -> reqwest::StatusCode {
        let mut req = self
            .http
            .post(self.webhook_url())
            .header("content-type", "application/json; charset=utf-8");
        if let Some(s) = signature {
            req = req.header("x-line-signature", s);
        }
        req.body(body.to_vec()).send().await.unwrap().status()
    }

    pub async fn run_jobs(&self) -> usize {
        self.services.worker.run_until_idle().await.unwrap()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    pub async fn api_get(&self, path: &str) -> (reqwest::StatusCode, serde_json::Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.api_token)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }

    pub async fn api_post(
        &self,
        path: &str,
        body: serde_json::Value,
    ) -> (reqwest::StatusCode, serde_json::Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.api_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(serde_json::Value::Null))
    }
}
