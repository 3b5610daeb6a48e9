//! The whole app for one test, built the way `tsunagu serve` builds it (`tsunagu::Services` over a
//! fresh database, the real router): a fake clock, jobs run step by step (`run_jobs`) instead
//! of by background workers, requests in process (`request`) or over HTTP when the app listens
//! on 127.0.0.1:0, and each requested provider's sandbox emulator with a channel of that kind
//! connected to it in a sample clinic. Start from [`TestApp::builder`].
#![allow(clippy::unwrap_used, clippy::expect_used)] // test support: fail loudly

mod builder;
pub mod line;
pub mod messenger;
mod providers;
mod request;
mod session;
pub mod sms;
pub mod whatsapp;

use std::net::SocketAddr;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use serde_json::Value;
use tsunagu::Services;
use tsunagu_core::config::Settings;
use tsunagu_core::{ClinicId, Clock, FakeClock};
use tsunagu_inbox::live::LiveHub;
use tsunagu_sandbox::line::LineSandbox;
use tsunagu_sandbox::messenger::MessengerSandbox;
use tsunagu_sandbox::twilio::TwilioSandbox;
use tsunagu_sandbox::whatsapp::WhatsAppSandbox;
use tsunagu_store::Db;

use crate::TestDb;

pub use builder::Builder;
pub use providers::{Connected, Provider};
pub use request::{Call, Response};
pub use session::StaffSession;

/// The default clock: 2026-11-23T09:00:00+09:00, a Monday morning in Tokyo.
pub const T0: i64 = 1_795_392_000_000;
/// The encryption key the app runs with.
pub const KEY: [u8; 32] = [9; 32];
/// The sample clinic's slug (name さくら内科, Asia/Tokyo, ja).
pub const CLINIC_SLUG: &str = "sakura";

pub struct TestApp {
    pub db: Db,
    pub clock: FakeClock,
    /// Web state and the worker, as `tsunagu serve` wires them.
    pub services: Services,
    /// The real router over `services.state`, for in-process requests.
    pub router: Router,
    /// Where live inbox events are published (`subscribe` to see them).
    pub live: LiveHub,
    /// A plain client for requests over HTTP.
    pub http: reqwest::Client,
    pub(crate) peer: Option<SocketAddr>,
    pub(crate) base: Option<String>,
    pub(crate) sample: Option<Sample>,
    pub(crate) line: Option<Connected<LineSandbox>>,
    pub(crate) whatsapp: Option<Connected<WhatsAppSandbox>>,
    pub(crate) messenger: Option<Connected<MessengerSandbox>>,
    pub(crate) sms: Option<Connected<TwilioSandbox>>,
    pub(crate) _db: TestDb,
    pub(crate) _stop: Option<tokio::sync::watch::Sender<bool>>,
}

/// The sample clinic and an `admin` API token of it.
pub(crate) struct Sample {
    pub clinic: ClinicId,
    pub api_token: String,
}

impl TestApp {
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Where the app listens (`http://127.0.0.1:<port>`); `public_url` unless a test set another.
    pub fn base(&self) -> &str {
        self.base
            .as_deref()
            .expect("the app does not listen: start it with .listen()")
    }

    /// The sample clinic.
    pub fn clinic(&self) -> &ClinicId {
        &self.sample().clinic
    }

    /// An `admin` API token of the sample clinic.
    pub fn api_token(&self) -> &str {
        &self.sample().api_token
    }

    fn sample(&self) -> &Sample {
        self.sample
            .as_ref()
            .expect("no sample clinic: start the app with .sample_clinic() or .with_channels(..)")
    }

    pub fn line(&self) -> &Connected<LineSandbox> {
        connected(&self.line, "LINE")
    }

    pub fn whatsapp(&self) -> &Connected<WhatsAppSandbox> {
        connected(&self.whatsapp, "WhatsApp")
    }

    pub fn messenger(&self) -> &Connected<MessengerSandbox> {
        connected(&self.messenger, "Messenger")
    }

    pub fn sms(&self) -> &Connected<TwilioSandbox> {
        connected(&self.sms, "SMS")
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Runs every due job, as the worker would, until none is left; how many ran.
    pub async fn run_jobs(&self) -> usize {
        self.services.worker.run_until_idle().await.unwrap()
    }

    /// Another tsunagu on this app's database and clock, as a second process started with
    /// `settings` and `key` would be (its worker is driven by the test).
    pub fn another_instance(&self, settings: Settings, key: &[u8; 32]) -> Services {
        let clock = std::sync::Arc::new(self.clock.clone());
        Services::with_db(self.db.clone(), settings, clock, key)
    }

    /// One number from the database (`SELECT COUNT(*) …`).
    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar::<_, i64>(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// An in-process request to the router, from the builder's client address if one was set.
    pub fn request(&self, method: Method, path: &str) -> Call<'_> {
        Call::new(self, method, path)
    }

    /// Sends a request built by the test to the router as it is.
    pub async fn send(&self, req: Request<Body>) -> Response {
        request::oneshot(&self.router, req).await
    }

    /// `GET` over HTTP with the sample clinic's `admin` token: the status and the JSON body
    /// (`Null` when there is none).
    pub async fn api_get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base()))
            .bearer_auth(self.api_token())
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }

    /// `POST` of a JSON body over HTTP with the sample clinic's `admin` token.
    pub async fn api_post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base()))
            .bearer_auth(self.api_token())
            .json(&body)
            .send()
            .await
            .unwrap();
        let s = r.status();
        (s, r.json().await.unwrap_or(Value::Null))
    }
}

fn connected<'a, S>(c: &'a Option<Connected<S>>, name: &str) -> &'a Connected<S> {
    c.as_ref()
        .unwrap_or_else(|| panic!("no {name} channel: start the app .with_channels(..) of it"))
}
