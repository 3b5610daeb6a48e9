//! The whole app on port 0 against the LINE sandbox (`tsunagu_testkit::app`), with a fake clock
//! and workers driven step by step (`app.run_jobs()`) instead of sleeps; the LINE channel and
//! its sandbox under short names for the LINE tests.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
pub mod smtp;

use std::ops::Deref;

use tsunagu_channels::ChannelKind;
use tsunagu_core::config::Settings;
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_sandbox::line::LineSandbox;
use tsunagu_testkit::app::Builder;

#[allow(unused_imports)] // not every test binary uses every name
pub use tsunagu_testkit::app::line::{sign, ACCESS_TOKEN, PATIENT, SECRET};

pub struct TestApp {
    pub app: tsunagu_testkit::TestApp,
    pub base: String,
    pub clinic: ClinicId,
    /// The LINE channel.
    pub channel: ChannelId,
    pub sandbox: LineSandbox,
    pub api_token: String,
}

impl Deref for TestApp {
    type Target = tsunagu_testkit::TestApp;
    fn deref(&self) -> &tsunagu_testkit::TestApp {
        &self.app
    }
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// As [`spawn_app`], with settings changed first (e.g. `[smtp]`).
pub async fn spawn_app_with(change: impl FnOnce(&mut Settings)) -> TestApp {
    start(builder().settings(change)).await
}

/// The app with its LINE channel, for suites that connect more providers.
pub fn builder() -> Builder {
    tsunagu_testkit::TestApp::builder().with_channels(&[ChannelKind::Line])
}

pub async fn start(builder: Builder) -> TestApp {
    let app = builder.start().await;
    let line = app.line();
    TestApp {
        base: app.base().to_string(),
        clinic: app.clinic().clone(),
        channel: line.channel.clone(),
        sandbox: line.sandbox.clone(),
        api_token: app.api_token().to_string(),
        app,
    }
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
}
